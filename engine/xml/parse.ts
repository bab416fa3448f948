import { DOMParser, type Document, type Node, type Element } from '@xmldom/xmldom';
import { XmlSyntaxError, XmlForbiddenError } from '../errors.js';
import { cacheXmldomGrammar } from './xmldom-grammar-cache.js';
import { codePointName, XML_INVALID_CHARS } from './serialize.js';
import { StrictHandler, type HandlerContext } from './strict-handler.js';
import { firstLongText, outOfStackMessage } from './text-length.js';
import { CDATA_END_IN_TEXT, closeOf, declarationEnd, firstMarkupProblem, markupSuspect, readStartTag, type MarkupProblem } from './markup-check.js';

cacheXmldomGrammar();

export type { Document, Node, Element };

export interface ParseOptions {
  /** File name used in error messages. */
  file?: string;
  /**
   * Refuse any `<!DOCTYPE>` (default true). A DTD is how external entities (XXE) and
   * entity-expansion bombs get in; no instance, stub or stylesheet domforge reads needs one.
   */
  forbidDoctype?: boolean;
}

export const NODE = {
  ELEMENT: 1,
  ATTRIBUTE: 2,
  TEXT: 3,
  CDATA: 4,
  PI: 7,
  COMMENT: 8,
  DOCUMENT: 9,
  DOCTYPE: 10,
} as const;

/**
 * Parses XML strictly with @xmldom/xmldom, refusing what libxml2 refuses: any
 * well-formedness or namespace error, unknown entity, DOCTYPE, element with more than
 * {@link MAX_ATTRIBUTES} attributes or text longer than libxml2 reads (engine/xml/text-length.ts)
 * is an XmlSyntaxError / XmlForbiddenError naming file:line:column. test/xml/well-formed-cases.ts holds both parsers to one table, and
 * lists where they differ and why.
 * Element nodes keep `lineNumber` / `columnNumber` for later messages.
 */
export function parseXml(text: string, options: ParseOptions = {}): Document {
  const file = options.file;
  // A byte order mark read as text (readFile 'utf8' keeps it) is not content.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const { astral } = checkChars(text, file);
  if (options.forbidDoctype !== false) {
    const at = doctypeAt(text);
    if (at >= 0) {
      const { line, column } = lineColOf(text, at);
      throw new XmlForbiddenError('DOCTYPE declarations are not allowed (external entities and entity expansion are refused)', {
        file,
        line,
        column,
      });
    }
  }
  checkAttributeCounts(text, file);
  checkElementCount(text, file);
  let first: Reported | undefined;
  const parser = new DOMParser({
    locator: true,
    normalizeLineEndings: xml10LineEnds,
    domHandler: StrictHandler,
    onError(level, message, context) {
      // xmldom reports recoverable problems (unknown entities, stray text, an attribute with
      // no value) as 'error' or 'warning' and carries on; domforge treats every one of them
      // as fatal, and keeps the first.
      if (first || (level === 'warning' && BENIGN_WARNING.test(message))) return;
      const loc = locatorOf(context);
      first = { message: cleanMessage(message), line: loc?.lineNumber || undefined, column: loc?.columnNumber || undefined, markup: MARKUP_MESSAGE.test(message) };
      if (OUT_OF_STACK.test(message) && first.line && first.column) first.message = outOfStackMessage(text, offsetOf(text, first.line, first.column), first.message);
      const attribute = (context as Partial<HandlerContext> | undefined)?.attribute;
      if (attribute && first.line && first.column) Object.assign(first, attributePlace(text, first.line, first.column, attribute));
    },
  });
  let doc: Document | undefined;
  let thrown: unknown;
  try {
    doc = parser.parseFromString(text, 'text/xml');
  } catch (e) {
    thrown = e;
  }
  // The markup walk runs when xmldom reported a problem it places badly, or when the text
  // shows a sign of one xmldom lets through; what it finds is named unless xmldom's own
  // report, of another kind, comes first.
  const found = first?.markup || markupSuspect(text, astral) ? firstMarkupProblem(text) : undefined;
  if (found && (!first || first.markup || !isBefore(first, found, text))) {
    throw new XmlSyntaxError(found.message, { file, ...lineColOf(text, found.at) });
  }
  if (first) throw new XmlSyntaxError(first.message, { file, line: first.line, column: first.column });
  if (thrown) {
    const err = thrown as Error & { locator?: { lineNumber?: number; columnNumber?: number } };
    throw new XmlSyntaxError(cleanMessage(err.message), {
      file,
      line: err.locator?.lineNumber || undefined,
      column: err.locator?.columnNumber || undefined,
      cause: thrown,
    });
  }
  if (!doc?.documentElement) throw new XmlSyntaxError('no root element', { file, ...lineColOf(text, text.length) });
  checkCdataEnds(text, file);
  // Well-formed, but longer than libxml2 reads: refused here, at its place, before xsltproc or libvirt refuses it naming neither.
  const long = firstLongText(doc, text.length);
  if (long) {
    const owner = long.attribute === undefined ? long.node : long.element;
    let place = { line: lineOf(owner), column: columnOf(owner) };
    if (long.attribute !== undefined && place.line && place.column) place = attributePlace(text, place.line, place.column, long.attribute);
    throw new XmlForbiddenError(long.message, { file, ...place, path: pathOf(long.node) });
  }
  return doc;
}

/** A problem xmldom reported, at the place it gave. */
interface Reported {
  message: string;
  line?: number;
  column?: number;
  /** One {@link firstMarkupProblem} places better (xmldom's place is the start of the tag, or none). */
  markup: boolean;
}

/** xmldom's report of a pattern that ran out of backtracking stack on a long piece of markup (it reads on past it). */
const OUT_OF_STACK = /RangeError: Maximum call stack size exceeded/;

/** The one warning that is not about the document's syntax (a U+FFFD is a character like any other). */
const BENIGN_WARNING = /^Unicode replacement character/;

/**
 * xmldom's reports of a malformed attribute (it warns, and reads the tag anyway), of a
 * malformed reference or end tag, an end tag of another element's name or a document that
 * ends inside an element (its place is that of the text or start tag before it), and of what
 * stands outside the root element (its place is none, or that of the markup before it).
 */
const MARKUP_MESSAGE =
  /^attribute (space is required|value must after)|missed (start )?quot|missed value|^entity not (found|matching)|^EntityRef: expecting|^Unexpected content outside root|^Extra content at the end|^CDATA outside of element|^missing root element|HierarchyRequestError|^end tag name|^Opening and ending tag mismatch|^unclosed xml tag/;

/** Where the attribute `name` of the start tag at line:column starts (the start tag's place if it is not found). */
function attributePlace(text: string, line: number, column: number, name: string): { line: number; column: number } {
  const lt = offsetOf(text, line, column);
  const tag = text.charCodeAt(lt) === 0x3c ? readStartTag(text, lt) : undefined;
  const at = tag && 'attributes' in tag ? tag.attributes.find((a) => a.name === name)?.at : undefined;
  return at === undefined ? { line, column } : lineColOf(text, at);
}

/** Whether xmldom's place for `r` is before the markup problem found at `m`. */
function isBefore(r: Reported, m: MarkupProblem, text: string): boolean {
  if (r.line === undefined || r.column === undefined) return false;
  const at = lineColOf(text, m.at);
  return r.line < at.line || (r.line === at.line && r.column < at.column);
}

/**
 * XML 1.0's line ends (§2.11): CR LF and a lone CR become LF, and nothing else. xmldom's
 * default is XML 1.1's, which also turns NEL (U+0085), LINE SEPARATOR (U+2028) and PARAGRAPH
 * SEPARATOR (U+2029) into LF: the text would differ from libxml2's, and every line number
 * after one of them would be one more than libxml2's and {@link lineColOf}'s. The test for a
 * CR is also what keeps most documents (no CR) from being copied: xmldom's two replacements
 * took about 25 µs of a 25 KB stylesheet's parse.
 */
function xml10LineEnds(text: string): string {
  return text.indexOf('\r') < 0 ? text : text.replace(/\r\n?/g, '\n');
}

function locatorOf(context: unknown): { lineNumber?: number; columnNumber?: number } | undefined {
  const c = context as { locator?: { lineNumber?: number; columnNumber?: number } } | undefined;
  return c?.locator;
}

function cleanMessage(m: string): string {
  // xmldom appends "\n@#[line:..,col:..]" and sometimes a stack of context; keep the first line.
  return m.split('\n')[0]!.replace(/^\[xmldom \w+\]\s*/, '').replace(/@#\[line:.*$/, '').trim();
}

/** 1-based line and column of `index` in `text`; CR LF, LF and a lone CR each end a line (XML's rule). */
export function lineColOf(text: string, index: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < index; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      last = i;
    }
  }
  return { line, column: index - last };
}

/** The offset of 1-based `line` and `column` in `text`, as {@link lineColOf} counts them. */
export function offsetOf(text: string, line: number, column: number): number {
  let start = 0;
  for (let l = 1; l < line; l++) {
    const lf = text.indexOf('\n', start);
    const cr = text.indexOf('\r', start);
    if (lf < 0 && cr < 0) return text.length;
    start = cr >= 0 && (lf < 0 || cr < lf) ? (text.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1) : lf + 1;
  }
  return start + column - 1;
}

// eslint-disable-next-line no-control-regex
const SUSPECT_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;
const CHAR_REF = /&#(?:x([0-9A-Fa-f]+)|([0-9]+));/g;

/** Whether a code point is an XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]. */
export function isXmlChar(cp: number): boolean {
  return cp === 9 || cp === 10 || cp === 13 || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/**
 * Characters XML 1.0 cannot carry, raw or as a character reference (`&#0;`, `&#xD800;`),
 * are refused here with their line and column: xmldom lets them through. One linear
 * search for raw ones; the references are looked at only when the text has `&#`. Tells
 * whether the text has characters past U+FFFF (all of them allowed).
 */
function checkChars(text: string, file: string | undefined): { astral: boolean } {
  // A plain character class is the fast test (about 1 µs per KiB); the precise one, which
  // tells a lone surrogate from half of a pair, runs only when it finds a suspect.
  const suspect = SUSPECT_CHAR.test(text);
  const m = suspect ? XML_INVALID_CHARS.exec(text) : null;
  if (m) {
    const { line, column } = lineColOf(text, m.index);
    const cp = m[0].charCodeAt(0);
    throw new XmlSyntaxError(`character ${codePointName(cp)} is not allowed in XML 1.0`, { file, line, column });
  }
  // What is left of the suspects are surrogate pairs: characters past U+FFFF.
  const astral = { astral: suspect };
  if (text.indexOf('&#') < 0) return astral;
  CHAR_REF.lastIndex = 0;
  for (let r = CHAR_REF.exec(text); r; r = CHAR_REF.exec(text)) {
    // Leading zeros are allowed, and as many as one likes (libxml2 reads &#00000000065; as A).
    const digits = (r[1] ?? r[2]!).replace(/^0+(?=.)/, '');
    const cp = digits.length > 8 ? Infinity : parseInt(digits, r[1] !== undefined ? 16 : 10);
    if (isXmlChar(cp) || insideMarkup(text, r.index)) continue;
    const { line, column } = lineColOf(text, r.index);
    throw new XmlSyntaxError(`character reference ${r[0]} is not an XML 1.0 character`, { file, line, column });
  }
  return astral;
}

/**
 * Where a DOCTYPE declaration starts, or -1. A `<!DOCTYPE` inside a comment, CDATA section
 * or processing instruction is text, not a declaration; anywhere else it is refused (in the
 * prolog it would be one, and after the root element it is not well-formed anyway).
 */
function doctypeAt(text: string): number {
  const re = /<!DOCTYPE/gi;
  for (let m = re.exec(text); m; m = re.exec(text)) if (!insideMarkup(text, m.index)) return m.index;
  return -1;
}

/** Whether `index` is inside a comment, CDATA section or processing instruction (a scan from the start: only for the rare suspect). */
function insideMarkup(text: string, index: number): boolean {
  let i = text.indexOf('<');
  while (i >= 0 && i < index) {
    let end = -1;
    if (text.startsWith('<!--', i)) end = closeOf(text, '-->', i + 4);
    else if (text.startsWith('<![CDATA[', i)) end = closeOf(text, ']]>', i + 9);
    else if (text.startsWith('<?', i)) end = closeOf(text, '?>', i + 2);
    if (end < 0) {
      i = text.indexOf('<', i + 1);
      continue;
    }
    if (index < end) return true;
    i = text.indexOf('<', end);
  }
  return false;
}

/**
 * Refuses a literal `]]>` in character data at its line and column. XML 1.0 §2.4 ([14]
 * CharData) allows the sequence in content only as the end of a CDATA section; libxml2
 * (xmllint, xsltproc) refuses it ("Sequence ']]>' not allowed in content"), xmldom takes it
 * as text. Runs once xmldom has accepted the document, so its tags are well-formed.
 */
function checkCdataEnds(text: string, file: string | undefined): void {
  const at = strayCdataEndAt(text);
  if (at < 0) return;
  const { line, column } = lineColOf(text, at);
  throw new XmlSyntaxError(CDATA_END_IN_TEXT, { file, line, column });
}

/**
 * Where a `]]>` stands in character data, or -1. A text without one (most: no CDATA
 * section) passes at one search. Otherwise one regular-expression pass jumps from one
 * comment, CDATA section, processing instruction or DOCTYPE to the next (the sequence may
 * stand inside them) and stops at each `]]>` outside them: about 15 µs for a 25 KB
 * stylesheet with one CDATA section, under 1 % of its parse. A `]]>` inside a start tag is
 * in an attribute value, where it may stand too; any other is content. A tag holds no `<`
 * (xmldom refuses one in an attribute value), so the last `<` before the `]]>`, if it is
 * past the last comment or section, opens the only tag it can be in.
 */
function strayCdataEndAt(text: string): number {
  if (text.indexOf(']]>') < 0) return -1;
  let after = 0;
  CDATA_END_STOP.lastIndex = 0;
  for (let m = CDATA_END_STOP.exec(text); m; m = CDATA_END_STOP.exec(text)) {
    const at = m.index;
    if (m[0] === '<!--') after = closeOf(text, '-->', at + 4);
    else if (m[0] === '<![CDATA[') after = closeOf(text, ']]>', at + 9);
    else if (m[0] === '<?') after = closeOf(text, '?>', at + 2);
    else if (m[0] === '<!') after = declarationEnd(text, at);
    else {
      const lt = text.lastIndexOf('<', at);
      if (lt < after) return at;
      after = countAttributes(text, lt).end;
      if (after <= at) return at;
    }
    CDATA_END_STOP.lastIndex = after;
  }
  return -1;
}

const CDATA_END_STOP = /<!--|<!\[CDATA\[|<\?|<!|\]\]>/g;

/**
 * Most attributes one element may have, namespace declarations included. Real documents
 * use a handful: the most on one element in domforge's samples, transforms and test
 * documents and in libvirt's schemas and CPU maps is 14 (a `<nic>`). At 1,024 xmldom parses
 * the element in about a millisecond. Far more is only an attack on the parsers: one
 * element with 65,536 takes xmldom about 0.1 s and xsltproc 8 s (libxml2 2.9 compares each
 * attribute with every one before it), enough to run a render into its time limit with the
 * blame on the transform.
 */
export const MAX_ATTRIBUTES = 1024;

/**
 * Refuses an element with more than {@link MAX_ATTRIBUTES} attributes at its line and
 * column, before xmldom builds it. Every attribute has an `=` of its own, so a text with no
 * more `=` than the cap passes at once (every instance.xml and stylesheet domforge ships);
 * otherwise one pass over the markup counts the quoted values of each start tag.
 */
function checkAttributeCounts(text: string, file: string | undefined): void {
  if (!hasMoreThan(text, '=', MAX_ATTRIBUTES)) return;
  eachStartTag(text, (lt) => {
    const tag = countAttributes(text, lt);
    if (tag.count > MAX_ATTRIBUTES) {
      throw new XmlForbiddenError(
        `too many attributes: <${tagName(text, lt)}> has ${tag.count}, more than the ${MAX_ATTRIBUTES} one element may have (namespace declarations included; xsltproc's parse time grows with the square of their number)`,
        { file, ...lineColOf(text, lt) },
      );
    }
    return tag.end;
  });
}

/**
 * Most elements one document may have. xmldom holds about 1 KB for each element and each
 * text between them, so a document of a few tens of MB of small elements (a million
 * `<vbr>`s) would take the parse past Node's heap limit and abort the process. Real
 * documents stay far below: a libvirt domain has a few hundred elements, an instance with
 * 1,000 disks (the benchmark's largest) a few thousand, a stylesheet a few thousand.
 */
export const MAX_ELEMENTS = 100_000;

/** Whether `text` may hold more than {@link MAX_ELEMENTS} elements (it has more `<` than that): only then are they counted. */
export function mayExceedElements(text: string): boolean {
  return hasMoreThan(text, '<', MAX_ELEMENTS);
}

/** Refuses a document of more than {@link MAX_ELEMENTS} elements at the first start tag past the cap, before xmldom builds any. */
function checkElementCount(text: string, file: string | undefined): void {
  if (!mayExceedElements(text)) return;
  let count = 0;
  eachStartTag(text, (lt) => {
    if (++count > MAX_ELEMENTS) {
      throw new XmlForbiddenError(
        `too many elements: <${tagName(text, lt)}> here is element ${MAX_ELEMENTS + 1}, more than the ${MAX_ELEMENTS} one document may have (the parser holds about 1 KB for each; a libvirt domain has a few hundred)`,
        { file, ...lineColOf(text, lt) },
      );
    }
    return countAttributes(text, lt).end;
  });
}

/**
 * Calls `visit` with the offset of each start tag's `<`, skipping comments, CDATA sections,
 * processing instructions, declarations and end tags; `visit` returns where its tag ends.
 */
function eachStartTag(text: string, visit: (lt: number) => number): void {
  for (let lt = text.indexOf('<'); lt >= 0; ) {
    let next: number;
    const c = text.charCodeAt(lt + 1);
    if (text.startsWith('<!--', lt)) next = closeOf(text, '-->', lt + 4);
    else if (text.startsWith('<![CDATA[', lt)) next = closeOf(text, ']]>', lt + 9);
    else if (c === 0x3f /* ? */) next = closeOf(text, '?>', lt + 2);
    else if (c === 0x21 /* ! */ || c === 0x2f /* / */) next = lt + 2;
    else next = visit(lt);
    lt = text.indexOf('<', next);
  }
}

/** The name of the start tag at `lt`, cut at 60 characters, for a message. */
function tagName(text: string, lt: number): string {
  return /^[^\s/>]{1,60}/.exec(text.slice(lt + 1, lt + 61))?.[0] ?? '';
}

/** Whether `text` holds `char` more than `max` times (stops counting there). */
function hasMoreThan(text: string, char: string, max: number): boolean {
  let n = 0;
  for (let i = text.indexOf(char); i >= 0; i = text.indexOf(char, i + 1)) if (++n > max) return true;
  return false;
}

const TAG_STOP = /["'>]/g;

/** The quoted values (one per attribute in a well-formed tag) of the start tag at `lt`, and the offset past its `>`. */
function countAttributes(text: string, lt: number): { count: number; end: number } {
  let count = 0;
  for (let i = lt + 1; ; ) {
    TAG_STOP.lastIndex = i;
    const m = TAG_STOP.exec(text);
    if (!m) return { count, end: text.length };
    if (m[0] === '>') return { count, end: m.index + 1 };
    count++;
    const close = text.indexOf(m[0], m.index + 1);
    if (close < 0) return { count, end: text.length };
    i = close + 1;
  }
}

/** Line of an element as recorded by the parser (undefined for synthetic nodes). */
export function lineOf(node: Node | null | undefined): number | undefined {
  const n = node as unknown as { lineNumber?: number } | null | undefined;
  return n?.lineNumber && n.lineNumber > 0 ? n.lineNumber : undefined;
}
export function columnOf(node: Node | null | undefined): number | undefined {
  const n = node as unknown as { columnNumber?: number } | null | undefined;
  return n?.columnNumber && n.columnNumber > 0 ? n.columnNumber : undefined;
}

/** Child elements of `el` (optionally only those with the given local name). */
export function childElements(el: Element, name?: string): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === NODE.ELEMENT && (name === undefined || (n as Element).localName === name || (n as Element).nodeName === name)) {
      out.push(n as Element);
    }
  }
  return out;
}

export function firstChild(el: Element, name: string): Element | undefined {
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === NODE.ELEMENT && ((n as Element).localName === name || (n as Element).nodeName === name)) return n as Element;
  }
  return undefined;
}

/** Concatenated text content of an element (text and CDATA children only, not descendants' elements). */
export function textOf(el: Element): string {
  return el.textContent ?? '';
}

/**
 * XPath of a node in the style `/domain/devices/disk[2]/target/@dev`: a position
 * predicate is added only where the element has same-named siblings.
 */
export function pathOf(node: Node): string {
  const parts: string[] = [];
  let n: Node | null = node;
  while (n && n.nodeType !== NODE.DOCUMENT) {
    if (n.nodeType === NODE.ATTRIBUTE) {
      parts.push('@' + n.nodeName);
      n = (n as unknown as { ownerElement: Node | null }).ownerElement;
      continue;
    }
    if (n.nodeType === NODE.ELEMENT) {
      const name = n.nodeName;
      let idx = 1;
      let count = 0;
      const parent: Node | null = n.parentNode;
      if (parent) {
        for (let s = parent.firstChild; s; s = s.nextSibling) {
          if (s.nodeType === NODE.ELEMENT && s.nodeName === name) {
            count++;
            if (s === n) idx = count;
          }
        }
      }
      parts.push(count > 1 ? `${name}[${idx}]` : name);
    } else if (n.nodeType === NODE.TEXT || n.nodeType === NODE.CDATA) {
      parts.push('text()');
    }
    n = n.parentNode;
  }
  return '/' + parts.reverse().join('/');
}
