/**
 * The markup xmldom lets through and libxml2 refuses, found and placed exactly.
 *
 * xmldom's tokenizer is lenient where XML 1.0 is not: it reads `<r a="1"b="2"/>`, `<r a=1>`,
 * `<r a>` and `<r/ >` (only warning about some), takes U+0080 for a space inside a tag,
 * keeps `a & b` as text, lets U+037E and characters past U+EFFFF into names, and places
 * what it finds outside the root element nowhere or at the markup before it.
 * {@link firstMarkupProblem} walks a document's markup once and names the first such
 * problem by its offset. It is not a parser: it runs only when a parse has reported one of
 * these problems or when a cheap test ({@link markupSuspect}) finds a sign of one, and what
 * it cannot make sense of it leaves to xmldom, whose error then stands.
 */
import { codePointName } from './serialize.js';

// parse.ts imports this module too: lineColOf is called only when a function here runs, after both have loaded.
import { lineColOf } from './parse.js';

export interface MarkupProblem {
  /** Offset in the text of the character the problem starts at. */
  at: number;
  message: string;
}

/**
 * Whether `text` may hold a problem only {@link firstMarkupProblem} finds (xmldom reports
 * nothing): after the last `>` a character that is whitespace to JavaScript but not to XML
 * (U+00A0, U+FEFF, U+2028...: xmldom's test for trailing text is JavaScript's); an `&` that
 * starts no name or number (xmldom keeps `a & b` as text); a `/` and then whitespace or
 * another `/` before a `>` (xmldom reads `<r/ >` and `<r//>` as `<r/>`); a U+0080; or a
 * character xmldom allows in a name and XML 1.0 does not (U+037E, or past U+EFFFF: looked
 * for only when `astral`, the text has characters past U+FFFF). About 7 µs in all for a
 * 25 KB stylesheet with none of them, most of it for its 500 '/'s (one search for each of
 * '/ ', '/\n'... would cost more); 1 µs for a 2 KB instance.xml.
 */
export function markupSuspect(text: string, astral: boolean): boolean {
  let end = text.length;
  while (end > 0 && isSpace(text.charCodeAt(end - 1))) end--;
  if (end > 0 && text.charCodeAt(end - 1) !== 0x3e /* > */) return true;
  for (let i = text.indexOf('&'); i >= 0; i = text.indexOf('&', i + 1)) {
    const c = text.charCodeAt(i + 1);
    if (!isWordChar(c) && !(c === 0x23 /* # */ && isWordChar(text.charCodeAt(i + 2)))) return true;
  }
  for (let i = text.indexOf('/'); i >= 0; i = text.indexOf('/', i + 1)) {
    let c = text.charCodeAt(i + 1);
    if (!isSpace(c) && c !== 0x2f) continue;
    let j = i + 1;
    while (isSpace(c) || c === 0x2f) c = text.charCodeAt(++j);
    if (c === 0x3e /* > */) return true;
    i = j - 1;
  }
  return text.indexOf('\u0080') >= 0 || text.indexOf('\u037e') >= 0 || (astral && PLANES_15_16.test(text));
}

/**
 * The first markup problem in `text` (see the module's comment), or undefined. An end tag
 * that does not match the element open, and a document that ends inside one, are placed at
 * that end tag and at the end: xmldom places both at the last text or start tag before them,
 * which may be many lines up.
 */
export function firstMarkupProblem(text: string): MarkupProblem | undefined {
  const next = new NextOf(text);
  /** The elements open (each start tag's name and offset); the root element's name once it has started; whether it has ended. */
  const open: { name: string; at: number }[] = [];
  let root: string | undefined;
  let ended = false;
  for (let i = 0; ; ) {
    const lt = text.indexOf('<', i);
    const to = lt < 0 ? text.length : lt;
    const found = open.length > 0 ? characterDataProblem(text, next, i, to) : outsideProblem(text, i, to, ended);
    if (found) return found;
    if (lt < 0) {
      const inner = open.at(-1);
      if (inner) return { at: text.length, message: `the document ends inside <${inner.name}> (line ${lineColOf(text, inner.at).line}): its end tag is missing (${END_TAG_RULE})` };
      return root === undefined ? { at: text.length, message: 'no root element (XML 1.0 §2.1: a document is one element, with only comments, processing instructions and whitespace around it)' } : undefined;
    }
    const c = text.charCodeAt(lt + 1);
    if (text.startsWith('<!--', lt)) i = closeOf(text, '-->', lt + 4);
    else if (text.startsWith('<![CDATA[', lt)) {
      if (open.length === 0) return { at: lt, message: `a CDATA section ${outside(ended)}` };
      i = closeOf(text, ']]>', lt + 9);
    } else if (c === 0x3f /* ? */) {
      const bad = badNameChar(text, lt + 2, nameEnd(text, lt + 2));
      if (bad) return bad;
      i = closeOf(text, '?>', lt + 2);
    } else if (c === 0x21 /* ! */) i = declarationEnd(text, lt);
    else if (c === 0x2f /* / */) {
      const end = nameEnd(text, lt + 2);
      if (end === lt + 2) return { at: lt + 2, message: "no name after '</' (XML 1.0 §3.1: an end tag is </name>)" };
      const name = text.slice(lt + 2, end);
      const inner = open.at(-1);
      if (!inner) {
        return { at: lt, message: ended ? `end tag </${name}> after the root element has ended (XML 1.0 §2.1: a document has one root element)` : `end tag </${name}> with no start tag` };
      }
      const gt = skipSpace(text, end);
      if (text.charCodeAt(gt) !== 0x3e /* > */) {
        return gt < text.length ? { at: gt, message: `end tag </${name}> holds more than its name (XML 1.0 §3.1: an end tag is </name>, with at most whitespace before its '>')` } : undefined;
      }
      if (name !== inner.name) {
        return { at: lt, message: `Opening and ending tag mismatch: <${inner.name}> (line ${lineColOf(text, inner.at).line}) ends with </${name}> (${END_TAG_RULE})` };
      }
      open.pop();
      if (open.length === 0) ended = true;
      i = gt + 1;
    } else {
      if (ended) {
        const name = text.slice(lt + 1, nameEnd(text, lt + 1));
        if (!name) return undefined;
        return { at: lt, message: `a second root element <${name}> (XML 1.0 §2.1: a document has one root element, with only comments, processing instructions and whitespace after it)` };
      }
      const tag = readStartTag(text, lt, next);
      if (!tag) return undefined;
      if ('problem' in tag) return tag.problem;
      root ??= tag.name;
      if (!tag.closed) open.push({ name: tag.name, at: lt });
      else if (open.length === 0) ended = true;
      i = tag.end;
    }
  }
}

/** The first character from `from` to `to`, outside the root element, that is not whitespace. */
function outsideProblem(text: string, from: number, to: number, ended: boolean): MarkupProblem | undefined {
  for (let p = from; p < to; p++) {
    const c = text.charCodeAt(p);
    if (isSpace(c)) continue;
    // U+00A0, U+FEFF, U+2028...: whitespace to JavaScript and to the eye, not to XML.
    if (/\s/.test(text[p]!)) return { at: p, message: `character ${codePointName(c)} ${outside(ended).replace('whitespace', 'whitespace (space, tab, CR, LF)')}` };
    return { at: p, message: `text ${outside(ended)}` };
  }
  return undefined;
}

/** `after the root element (XML 1.0 §2.1: only comments, processing instructions and whitespace may follow it)`, or before it. */
function outside(ended: boolean): string {
  return `${ended ? 'after' : 'before'} the root element (XML 1.0 §2.1: only comments, processing instructions and whitespace may ${ended ? 'follow' : 'precede'} it)`;
}

/** The next offset of `&` and of `]]>` at or after a given one, each searched for once per occurrence. */
class NextOf {
  private amp = -2;
  private cdataEnd = -2;
  constructor(private readonly text: string) {}
  ampersand(from: number): number {
    if (this.amp !== -1 && this.amp < from) this.amp = this.text.indexOf('&', from);
    return this.amp;
  }
  sectionEnd(from: number): number {
    if (this.cdataEnd !== -1 && this.cdataEnd < from) this.cdataEnd = this.text.indexOf(']]>', from);
    return this.cdataEnd;
  }
}

/** What XML 1.0 §2.4 says of a literal `]]>` in character data (xmldom reads it as text). */
export const CDATA_END_IN_TEXT = "']]>' is not allowed in character data (XML 1.0 §2.4: it only ends a CDATA section; write ']]&gt;')";

/** The first `]]>` or malformed reference in the character data from `from` to `to`. */
function characterDataProblem(text: string, next: NextOf, from: number, to: number): MarkupProblem | undefined {
  const amp = next.ampersand(from);
  const ref = amp >= 0 && amp < to ? referencesProblem(text, amp, to) : undefined;
  const end = next.sectionEnd(from);
  if (end >= 0 && end < to && !(ref && ref.at < end)) return { at: end, message: CDATA_END_IN_TEXT };
  return ref;
}

const CHAR_REF = /&#(?:x[0-9a-fA-F]+|[0-9]+);/y;
const ENTITY_REF = /&([^\s&;<>"'=/]*)(;?)/y;
const PREDEFINED = new Set(['lt', 'gt', 'amp', 'quot', 'apos']);

/**
 * The first reference from the `&` at `amp` up to `to` that XML 1.0 §4.1 does not allow
 * ([66] CharRef, [68] EntityRef), or undefined. Which characters a reference may name is
 * for parse.ts's checkChars to say; a DTD, which could define more entities, is refused first.
 */
function referencesProblem(text: string, amp: number, to: number): MarkupProblem | undefined {
  for (let i = amp; i >= 0 && i < to; i = text.indexOf('&', i + 1)) {
    if (text.charCodeAt(i + 1) === 0x23 /* # */) {
      CHAR_REF.lastIndex = i;
      if (CHAR_REF.test(text) && CHAR_REF.lastIndex <= to) continue;
      const ref = /^&#[^\s&;<]{0,12};?/.exec(text.slice(i, Math.min(to, i + 16)))![0];
      return { at: i, message: `'${ref}' is not a character reference (XML 1.0 §4.1: &#decimal; or &#xhexadecimal;)` };
    }
    ENTITY_REF.lastIndex = i;
    const m = ENTITY_REF.exec(text)!;
    const name = m[1]!;
    if (!name || i + m[0].length > to) return { at: i, message: "'&' does not start a reference (XML 1.0 §4.1: write '&amp;' for a literal '&')" };
    if (!m[2]) return { at: i, message: `'&${name}' has no ';' (XML 1.0 §4.1: a reference ends with ';'; write '&amp;' for a literal '&')` };
    if (!PREDEFINED.has(name)) {
      return { at: i, message: `entity '&${name};' is not defined (XML 1.0 §4.6: without a DTD only &lt; &gt; &amp; &apos; &quot; are; write '&amp;' for a literal '&')` };
    }
  }
  return undefined;
}

/** [A-Za-z0-9_], what xmldom's `\w` takes for the start of a reference. */
function isWordChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f;
}

export interface StartTag {
  name: string;
  /** Each attribute's name and the offset it starts at. */
  attributes: { name: string; at: number }[];
  /** Whether it ends `/>`. */
  closed: boolean;
  /** The offset past its `>`. */
  end: number;
}

/**
 * The start tag at `lt` as XML 1.0 §3.1 reads it ([40] STag, [44] EmptyElemTag), its first
 * problem, or undefined where it cannot be read (no name, an unclosed value, the end of the
 * text): xmldom refuses those itself.
 */
export function readStartTag(text: string, lt: number, next: NextOf = new NextOf(text)): StartTag | { problem: MarkupProblem } | undefined {
  let p = nameEnd(text, lt + 1);
  if (p === lt + 1) return undefined;
  const bad = badNameChar(text, lt + 1, p);
  if (bad) return { problem: bad };
  const tag: StartTag = { name: text.slice(lt + 1, p), attributes: [], closed: false, end: 0 };
  let spaced = false;
  for (;;) {
    const c = text.charCodeAt(p);
    if (isSpace(c)) {
      p++;
      spaced = true;
      continue;
    }
    if (c === 0x80) return problem(p, 'character U+0080 in a tag is not whitespace (XML 1.0 §2.3: only space, tab, CR and LF separate a name from an attribute)');
    if (c === 0x3e /* > */) return { ...tag, end: p + 1 };
    if (c === 0x2f /* / */) {
      if (text.charCodeAt(p + 1) === 0x3e) return { ...tag, closed: true, end: p + 2 };
      return problem(p, "'/' is not followed by '>' (XML 1.0 §3.1: an empty-element tag ends with '/>', nothing between them)");
    }
    const at = p;
    p = nameEnd(text, at);
    if (p === at) return undefined;
    const name = text.slice(at, p);
    const bad = badNameChar(text, at, p);
    if (bad) return { problem: bad };
    if (!spaced) return problem(at, `no whitespace before attribute '${name}' (XML 1.0 §3.1: a space, tab or line break separates one attribute from the next)`);
    p = skipSpace(text, p);
    const eq = text.charCodeAt(p);
    if (eq !== 0x3d /* = */) {
      return eq === 0x22 || eq === 0x27
        ? problem(p, `'=' is missing between attribute '${name}' and its value (XML 1.0 §3.1: write ${name}="…")`)
        : problem(at, `attribute '${name}' has no value (XML 1.0 §3.1: an attribute is written ${name}="…")`);
    }
    p = skipSpace(text, p + 1);
    const q = text.charCodeAt(p);
    if (q !== 0x22 && q !== 0x27) {
      if (Number.isNaN(q)) return undefined;
      const bare = /^[^\s/>"'<]*/.exec(text.slice(p, p + 80))![0];
      return problem(p, `the value of attribute '${name}' is not quoted (XML 1.0 §3.1: write ${name}="${bare || '…'}")`);
    }
    const close = text.indexOf(text[p]!, p + 1);
    if (close < 0) return undefined;
    const amp = next.ampersand(p + 1);
    const ref = amp >= 0 && amp < close ? referencesProblem(text, amp, close) : undefined;
    if (ref) return { problem: ref };
    tag.attributes.push({ name, at });
    p = close + 1;
    spaced = false;
  }
}

function problem(at: number, message: string): { problem: MarkupProblem } {
  return { problem: { at, message } };
}

/** High surrogates of the characters past U+EFFFF (planes 15 and 16, private use). */
const PLANES_15_16 = /[\uDB80-\uDBFF]/;

/**
 * The first character from `from` to `to` of a name that XML 1.0 §2.3 ([4] NameStartChar,
 * [4a] NameChar) does not allow and xmldom does: xmldom's ranges take U+037E (GREEK QUESTION
 * MARK) in with U+0370-U+1FFF, and run to U+10FFFF where XML's stop at U+EFFFF.
 */
function badNameChar(text: string, from: number, to: number): MarkupProblem | undefined {
  for (let p = from; p < to; p++) {
    const c = text.charCodeAt(p);
    if (c !== 0x37e && !(c >= 0xdb80 && c <= 0xdbff)) continue;
    const cp = text.codePointAt(p)!;
    return { at: p, message: `character ${codePointName(cp)} cannot be part of a name (XML 1.0 §2.3)` };
  }
  return undefined;
}

const END_TAG_RULE = 'XML 1.0 §3: an element ends with an end tag of its own name';

/** XML 1.0 §2.3 [3] S: space, tab, CR, LF. */
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

function skipSpace(text: string, p: number): number {
  while (isSpace(text.charCodeAt(p))) p++;
  return p;
}

/**
 * The offset past a name starting at `p`: at whitespace, U+0080 (which xmldom takes for a
 * space) or a character that ends one in a tag. Which characters a name may hold is left to
 * xmldom.
 */
function nameEnd(text: string, p: number): number {
  for (;;) {
    const c = text.charCodeAt(p);
    if (Number.isNaN(c) || isSpace(c) || c === 0x80 || c === 0x2f || c === 0x3e || c === 0x3d || c === 0x22 || c === 0x27 || c === 0x3c) return p;
    p++;
  }
}

/** The offset just past `close` from `from`, or the text's length when it is unclosed (the parser then refuses it). */
export function closeOf(text: string, close: string, from: number): number {
  const j = text.indexOf(close, from);
  return j < 0 ? text.length : j + close.length;
}

const DECLARATION_STOP = /["'[\]>]|<!--|<\?/g;

/** The offset past a `<!DOCTYPE …>` at `lt`: its quoted literals, comments and processing instructions skipped, and `>` inside its internal subset's brackets. */
export function declarationEnd(text: string, lt: number): number {
  let depth = 0;
  DECLARATION_STOP.lastIndex = lt + 2;
  for (let m = DECLARATION_STOP.exec(text); m; m = DECLARATION_STOP.exec(text)) {
    const s = m[0];
    if (s === '"' || s === "'") DECLARATION_STOP.lastIndex = closeOf(text, s, m.index + 1);
    else if (s === '<!--') DECLARATION_STOP.lastIndex = closeOf(text, '-->', m.index + 4);
    else if (s === '<?') DECLARATION_STOP.lastIndex = closeOf(text, '?>', m.index + 2);
    else if (s === '[') depth++;
    else if (s === ']') depth--;
    else if (depth <= 0) return m.index + 1;
  }
  return text.length;
}
