import { parseXml, lineOf, columnOf, MAX_ATTRIBUTES, mayExceedElements, NODE, type Node, type Element } from '../../../xml/parse.js';
import { MAX_DEPTH, firstTooDeep, tooDeepMessage } from '../../../xml/depth.js';
import { XmlSyntaxError } from '../../../errors.js';
import { XML_INVALID_CHARS, XML_NCNAME } from '../../../xml/serialize.js';
import { XNode, ROOT, ELEMENT, ATTRIBUTE, TEXT, PI, COMMENT, appendChild } from './tree.js';
import { unsupportedInput } from './refuse.js';

/** Whether whitespace-only text children of an element of this name are dropped (xsl:strip-space). */
export type StripRule = (elementName: string) => boolean;

class Malformed extends Error {}

const WS_ONLY = /^[ \t\r\n]*$/;

/** A processing instruction's target and data (XML 1.0 §2.6 [16]), in a text whose line ends are LF: only XML's whitespace ends the target. */
const PI_BODY = /^([^ \t\n?]+)(?:[ \t\n]+([\s\S]*))?$/;

/**
 * The XML declaration (XML 1.0 §2.8 [23]-[26] and [32], §4.3.3 [80]-[81]) as the fast parser
 * reads it, in a text whose line ends are LF: a version 1.x, then optionally an encoding name
 * and standalone yes or no, in that order, each after whitespace, in quotes of either kind.
 */
const XML_DECL = /<\?xml[ \t\n]+version[ \t\n]*=[ \t\n]*(?:"1\.[0-9]+"|'1\.[0-9]+')(?:[ \t\n]+encoding[ \t\n]*=[ \t\n]*(?:"[A-Za-z][A-Za-z0-9._-]*"|'[A-Za-z][A-Za-z0-9._-]*'))?(?:[ \t\n]+standalone[ \t\n]*=[ \t\n]*(?:"(?:yes|no)"|'(?:yes|no)'))?[ \t\n]*\?>/y;

/**
 * Parses an input document into the compiled engine's tree. A fast strict parser handles
 * the documents domforge renders (elements, attributes, text, CDATA, comments, PIs, the
 * five predefined entities and character references). Anything it does not accept is
 * handed to the strict @xmldom/xmldom parse, whose error (with line and column) is thrown,
 * or whose tree is converted when it is well-formed after all. DOCTYPEs are refused by
 * that parse, and elements nested more than 256 levels below the root (which libxslt's
 * parser refuses too); namespaces are refused here, once the document is known to be
 * well-formed (the engine does not model namespace nodes). The fast parser hands over
 * whatever it is not certain of, so that it never reads a document the strict parse refuses,
 * nor reads one to another tree (test/xslt-compiled/input-parser.test.ts).
 */
export function parseInput(xml: string, strip: StripRule | undefined, file?: string): XNode {
  return parseInputFast(xml, strip) ?? parseInputStrict(xml, strip, file);
}

/**
 * The fast parser's tree of `xml`, or undefined for a document it does not accept (the
 * strict parse, {@link parseInputStrict}, then decides). Exported for the tests that hold
 * the two to one verdict and one tree.
 */
export function parseInputFast(xml: string, strip: StripRule | undefined): XNode | undefined {
  // Past the strict parser's element cap, or not: it counts them, and refuses the document at its line.
  if (XML_INVALID_CHARS.test(xml) || mayExceedElements(xml)) return undefined;
  try {
    return fastParse(xml.includes('\r') ? xml.replace(/\r\n?/g, '\n') : xml, strip);
  } catch (e) {
    if (!(e instanceof Malformed)) throw e;
    return undefined;
  }
}

const goodNames = new Set<string>();

/**
 * A name the fast parser reads: an XML 1.0 name without a colon (XML_NCNAME, whose ranges
 * are XML 1.0 §2.3's in the Basic Multilingual Plane), and not `xmlns`. Anything else goes
 * to the strict parse: a malformed name is refused there at its line and column, a name
 * past U+FFFF read, and a prefixed name or namespace declaration refused once the document
 * is known to be well-formed (an error in it is named first, as xsltproc names it).
 */
function fastName(name: string): void {
  if (goodNames.has(name)) return;
  if (!XML_NCNAME.test(name) || name === 'xmlns') throw new Malformed(name);
  if (goodNames.size > 10_000) goodNames.clear();
  goodNames.add(name);
}

/** Refuses a name of a well-formed document that is a prefixed name or a namespace declaration: the engine does not model namespaces. */
function noNamespace(name: string): void {
  if (name.includes(':') || name === 'xmlns') throw unsupportedInput('namespaces in the input document');
}

function decode(s: string, attr: boolean): string {
  if (attr && (s.indexOf('\n') >= 0 || s.indexOf('\t') >= 0)) s = s.replace(/[\t\n]/g, ' ');
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&([^;&]*);?/g, (m, ent: string) => {
    if (!m.endsWith(';')) throw new Malformed('&');
    switch (ent) {
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
    }
    const hex = /^#x([0-9a-fA-F]+)$/.exec(ent);
    const dec = /^#([0-9]+)$/.exec(ent);
    if (!hex && !dec) throw new Malformed(ent);
    const cp = hex ? parseInt(hex[1]!, 16) : parseInt(dec![1]!, 10);
    if (!(cp === 9 || cp === 10 || cp === 13 || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff))) throw new Malformed(ent);
    return String.fromCodePoint(cp);
  });
}

function fastParse(s: string, strip: StripRule | undefined): XNode {
  const root = new XNode(ROOT, '', '');
  let cur = root;
  // Elements open around the next one: its level below the root element (which is level 0).
  let open = 0;
  let i = s.charCodeAt(0) === 0xfeff ? 1 : 0;
  let sawRoot = false;
  // An XML declaration it is not certain of is read below as a processing instruction named xml, which it refuses.
  if (s.startsWith('<?xml', i)) {
    XML_DECL.lastIndex = i;
    if (XML_DECL.test(s)) i = XML_DECL.lastIndex;
  }
  const n = s.length;
  while (i < n) {
    const lt = s.indexOf('<', i);
    const stop = lt < 0 ? n : lt;
    if (stop > i) {
      const raw = s.slice(i, stop);
      if (cur === root) {
        if (!WS_ONLY.test(raw)) throw new Malformed('text outside the root');
      } else {
        if (raw.includes(']]>')) throw new Malformed(']]>');
        addText(cur, decode(raw, false));
      }
    }
    if (lt < 0) break;
    const c = s.charCodeAt(lt + 1);
    if (c === 0x21 /* ! */) {
      if (s.startsWith('<!--', lt)) {
        const end = s.indexOf('-->', lt + 4);
        if (end < 0) throw new Malformed('comment');
        const body = s.slice(lt + 4, end);
        if (body.includes('--') || body.endsWith('-')) throw new Malformed('--');
        appendChild(cur, new XNode(COMMENT, '', body));
        i = end + 3;
      } else if (s.startsWith('<![CDATA[', lt) && cur !== root) {
        const end = s.indexOf(']]>', lt + 9);
        if (end < 0) throw new Malformed('cdata');
        const body = s.slice(lt + 9, end);
        addText(cur, body);
        i = end + 3;
      } else throw new Malformed('<!');
    } else if (c === 0x3f /* ? */) {
      const end = s.indexOf('?>', lt + 2);
      if (end < 0) throw new Malformed('pi');
      const m = PI_BODY.exec(s.slice(lt + 2, end));
      if (!m || m[1]!.toLowerCase() === 'xml') throw new Malformed('pi');
      fastName(m[1]!);
      appendChild(cur, new XNode(PI, m[1]!, m[2] ?? ''));
      i = end + 2;
    } else if (c === 0x2f /* / */) {
      const end = s.indexOf('>', lt + 2);
      if (end < 0) throw new Malformed('end tag');
      // Only XML's whitespace may follow the name (trimEnd would take U+00A0, U+3000, U+FEFF... too).
      let last = end;
      while (last > lt + 2 && isSpace(s.charCodeAt(last - 1))) last--;
      const name = s.slice(lt + 2, last);
      if (cur === root || name !== cur.name) throw new Malformed('mismatched end tag');
      if (strip) stripWhitespace(cur, strip);
      cur = cur.parent!;
      open--;
      i = end + 1;
    } else {
      if (cur === root && sawRoot) throw new Malformed('second root');
      // Deeper than libxml2 reads: the strict parse refuses it, with its line.
      if (open > MAX_DEPTH) throw new Malformed('too deep');
      i = startTag(s, lt, cur, (el, empty) => {
        if (cur === root) sawRoot = true;
        if (!empty) {
          cur = el;
          open++;
        }
      });
    }
  }
  if (cur !== root || !sawRoot) throw new Malformed('unclosed');
  return root;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13;
}

function startTag(s: string, lt: number, parent: XNode, done: (el: XNode, empty: boolean) => void): number {
  const n = s.length;
  let i = lt + 1;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (isSpace(c) || c === 47 || c === 62) break;
    i++;
  }
  const name = s.slice(lt + 1, i);
  fastName(name);
  const el = new XNode(ELEMENT, name, '');
  appendChild(parent, el);
  let seen: Set<string> | undefined;
  for (;;) {
    const before = i;
    while (i < n && isSpace(s.charCodeAt(i))) i++;
    const c = s.charCodeAt(i);
    if (c === 62 /* > */) {
      done(el, false);
      return i + 1;
    }
    if (c === 47 /* / */ && s.charCodeAt(i + 1) === 62) {
      done(el, true);
      return i + 2;
    }
    if (i === before || i >= n) throw new Malformed('attribute');
    // More than the strict parser allows: it refuses the element, with its line.
    if (el.attrs.length >= MAX_ATTRIBUTES) throw new Malformed('too many attributes');
    const ns = i;
    while (i < n) {
      const d = s.charCodeAt(i);
      if (isSpace(d) || d === 61 || d === 62 || d === 47) break;
      i++;
    }
    const an = s.slice(ns, i);
    while (i < n && isSpace(s.charCodeAt(i))) i++;
    if (s.charCodeAt(i) !== 61 /* = */) throw new Malformed('attribute');
    i++;
    while (i < n && isSpace(s.charCodeAt(i))) i++;
    const q = s.charCodeAt(i);
    if (q !== 34 && q !== 39) throw new Malformed('attribute');
    const close = s.indexOf(q === 34 ? '"' : "'", i + 1);
    if (close < 0) throw new Malformed('attribute');
    const raw = s.slice(i + 1, close);
    if (raw.indexOf('<') >= 0) throw new Malformed('attribute');
    i = close + 1;
    fastName(an);
    // A short list is searched; past 8 attributes a set is kept, so the checks cost a linear time, not a quadratic one.
    if (seen) {
      if (seen.has(an)) throw new Malformed('duplicate attribute');
      seen.add(an);
    } else {
      for (const x of el.attrs) if (x.name === an) throw new Malformed('duplicate attribute');
      if (el.attrs.length >= 8) seen = new Set([...el.attrs.map((x) => x.name), an]);
    }
    const at = new XNode(ATTRIBUTE, an, decode(raw, true));
    at.parent = el;
    el.attrs.push(at);
  }
}

/** xsl:strip-space on one element: its whitespace-only text children (each already merged with its neighbours) go. */
function stripWhitespace(el: XNode, strip: StripRule): void {
  const c = el.children;
  if (c.length === 0 || !strip(el.name)) return;
  el.children = c.filter((k) => k.kind !== TEXT || !WS_ONLY.test(k.value));
}

function addText(parent: XNode, text: string): void {
  if (text === '') return;
  const last = parent.children[parent.children.length - 1];
  if (last && last.kind === TEXT) last.value += text;
  else appendChild(parent, new XNode(TEXT, '', text));
}

/**
 * The strict xmldom parse (its errors carry line and column), converted to the engine's tree.
 * What {@link parseInput} reads a document the fast parser does not accept with.
 * A document nested deeper than libxml2 reads is refused at the first element too deep, as
 * libxslt refuses it, before the conversion (which recurses) walks it.
 */
export function parseInputStrict(xml: string, strip: StripRule | undefined, file?: string): XNode {
  const doc = parseXml(xml, { file });
  const deep = firstTooDeep(doc.documentElement!);
  if (deep) throw new XmlSyntaxError(tooDeepMessage(deep), { file, line: lineOf(deep), column: columnOf(deep) });
  const root = new XNode(ROOT, '', '');
  const convert = (from: Node, to: XNode) => {
    for (let k = from.firstChild; k; k = k.nextSibling) {
      switch (k.nodeType) {
        case NODE.ELEMENT: {
          const e = k as Element;
          noNamespace(e.nodeName);
          const el = new XNode(ELEMENT, e.nodeName, '');
          appendChild(to, el);
          for (let i = 0; i < e.attributes.length; i++) {
            const a = e.attributes.item(i)!;
            noNamespace(a.name);
            const at = new XNode(ATTRIBUTE, a.name, a.value);
            at.parent = el;
            el.attrs.push(at);
          }
          convert(e, el);
          if (strip) stripWhitespace(el, strip);
          break;
        }
        case NODE.TEXT:
        case NODE.CDATA: {
          const v = k.nodeValue ?? '';
          if (to !== root) addText(to, v);
          break;
        }
        case NODE.COMMENT:
          appendChild(to, new XNode(COMMENT, '', k.nodeValue ?? ''));
          break;
        case NODE.PI:
          // xmldom keeps the XML declaration as a processing instruction named xml; it is not a
          // node of the document (XPath 1.0 §5), and libxslt has no node for it. parseXml refuses
          // a processing instruction named xml anywhere else, so this one is the declaration.
          if (k.nodeName === 'xml' && to === root) break;
          appendChild(to, new XNode(PI, k.nodeName, k.nodeValue ?? ''));
          break;
      }
    }
  };
  convert(doc, root);
  return root;
}
