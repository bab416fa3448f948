import { parseXml, NODE, type Document, type Element, type Node } from './parse.js';

/** Placeholder: an attribute value or text equal to this matches anything. */
export const DONTCARE = 'DONTCARE';

export interface CompareOptions {
  /** Compare numeric-looking values by value (`0x10` == `16`, `2.0` == `2`). Default false. */
  numeric?: boolean;
  /** Ignore comments and processing instructions. Default false. */
  ignoreComments?: boolean;
  /** Trim leading/trailing whitespace of text before comparing. Default true. */
  trimText?: boolean;
}

export interface XmlDifference {
  /** XPath-like location, e.g. `/domain/devices/disk[2]/target/@dev`. */
  path: string;
  /** What differs, in words. */
  message: string;
}

/**
 * Compares two XML documents as trees: attribute order and whitespace-only text nodes
 * are insignificant, namespace prefixes are compared by URI. Returns the first
 * difference, or undefined when the trees are equal.
 */
export function diffXml(a: string | Document, b: string | Document, options: CompareOptions = {}, labels: [string, string] = ['left', 'right']): XmlDifference | undefined {
  const da = typeof a === 'string' ? parseXml(a, { forbidDoctype: false }) : a;
  const db = typeof b === 'string' ? parseXml(b, { forbidDoctype: false }) : b;
  return diffElement(da.documentElement!, db.documentElement!, '', options, labels);
}

export function xmlEqual(a: string | Document, b: string | Document, options: CompareOptions = {}): boolean {
  return diffXml(a, b, options) === undefined;
}

function keyOf(n: Node): string {
  const el = n as Element;
  return el.namespaceURI ? `{${el.namespaceURI}}${el.localName}` : (el.localName ?? el.nodeName);
}

function valuesEqual(x: string, y: string, o: CompareOptions): boolean {
  if (x === y || x === DONTCARE || y === DONTCARE) return true;
  if (o.numeric) {
    const nx = toNumber(x);
    const ny = toNumber(y);
    if (nx !== undefined && ny !== undefined) return nx === ny;
  }
  return false;
}

function toNumber(s: string): number | undefined {
  const t = s.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t, 16);
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return Number(t);
  return undefined;
}

function significantChildren(el: Element, o: CompareOptions): Node[] {
  const out: Node[] = [];
  // Merge adjacent text/CDATA so that `a<![CDATA[b]]>` equals `ab`.
  let pendingText: string | undefined;
  const flush = () => {
    if (pendingText !== undefined) {
      if (pendingText.trim() !== '') out.push({ nodeType: NODE.TEXT, nodeValue: pendingText } as unknown as Node);
      pendingText = undefined;
    }
  };
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === NODE.TEXT || n.nodeType === NODE.CDATA) {
      pendingText = (pendingText ?? '') + (n.nodeValue ?? '');
      continue;
    }
    if ((n.nodeType === NODE.COMMENT || n.nodeType === NODE.PI) && o.ignoreComments) continue;
    flush();
    out.push(n);
  }
  flush();
  return out;
}

function describe(n: Node): string {
  switch (n.nodeType) {
    case NODE.ELEMENT:
      return `<${n.nodeName}>`;
    case NODE.TEXT:
      return `text ${JSON.stringify(shorten(n.nodeValue ?? ''))}`;
    case NODE.COMMENT:
      return 'a comment';
    case NODE.PI:
      return `processing instruction ${n.nodeName}`;
    default:
      return n.nodeName;
  }
}

function shorten(s: string): string {
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

function diffElement(a: Element, b: Element, parentPath: string, o: CompareOptions, labels: [string, string], indexSuffix = ''): XmlDifference | undefined {
  const path = `${parentPath}/${a.nodeName}${indexSuffix}`;
  if (keyOf(a) !== keyOf(b)) {
    return { path, message: `element <${a.nodeName}> in ${labels[0]}, <${b.nodeName}> in ${labels[1]}` };
  }
  const attrsA = attributeMap(a);
  const attrsB = attributeMap(b);
  for (const [k, v] of attrsA) {
    const w = attrsB.get(k);
    if (w === undefined) return { path: `${path}/@${k}`, message: `present in ${labels[0]} output, absent in ${labels[1]} output` };
    if (!valuesEqual(v, w, o)) return { path: `${path}/@${k}`, message: `${JSON.stringify(shorten(v))} in ${labels[0]}, ${JSON.stringify(shorten(w))} in ${labels[1]}` };
  }
  for (const k of attrsB.keys()) {
    if (!attrsA.has(k)) return { path: `${path}/@${k}`, message: `absent in ${labels[0]} output, present in ${labels[1]} output` };
  }
  const ca = significantChildren(a, o);
  const cb = significantChildren(b, o);
  const counters = new Map<string, number>();
  const totals = new Map<string, number>();
  for (const n of ca) if (n.nodeType === NODE.ELEMENT) totals.set(n.nodeName, (totals.get(n.nodeName) ?? 0) + 1);
  const n = Math.max(ca.length, cb.length);
  for (let i = 0; i < n; i++) {
    const x = ca[i];
    const y = cb[i];
    if (x && x.nodeType === NODE.ELEMENT) counters.set(x.nodeName, (counters.get(x.nodeName) ?? 0) + 1);
    const suffix = x && x.nodeType === NODE.ELEMENT && (totals.get(x.nodeName) ?? 0) > 1 ? `[${counters.get(x.nodeName)}]` : '';
    if (!x) return { path: `${path}/${y!.nodeName}`, message: `${describe(y!)} absent in ${labels[0]} output, present in ${labels[1]} output` };
    if (!y) return { path: `${path}/${x.nodeName}${suffix}`, message: `${describe(x)} present in ${labels[0]} output, absent in ${labels[1]} output` };
    if (x.nodeType !== y.nodeType) return { path: `${path}/${x.nodeName}${suffix}`, message: `${describe(x)} in ${labels[0]}, ${describe(y)} in ${labels[1]}` };
    if (x.nodeType === NODE.ELEMENT) {
      const d = diffElement(x as Element, y as Element, path, o, labels, suffix);
      if (d) return d;
    } else if (x.nodeType === NODE.TEXT) {
      const tx = o.trimText === false ? x.nodeValue ?? '' : (x.nodeValue ?? '').trim();
      const ty = o.trimText === false ? y.nodeValue ?? '' : (y.nodeValue ?? '').trim();
      if (!valuesEqual(tx, ty, o)) return { path: `${path}/text()`, message: `${JSON.stringify(shorten(tx))} in ${labels[0]}, ${JSON.stringify(shorten(ty))} in ${labels[1]}` };
    } else if (x.nodeType === NODE.COMMENT || x.nodeType === NODE.PI) {
      if (x.nodeName !== y.nodeName || (x.nodeValue ?? '').trim() !== (y.nodeValue ?? '').trim()) {
        return { path: `${path}/${x.nodeType === NODE.COMMENT ? 'comment()' : 'processing-instruction()'}`, message: `differs: ${JSON.stringify(shorten(x.nodeValue ?? ''))} vs ${JSON.stringify(shorten(y.nodeValue ?? ''))}` };
      }
    }
  }
  return undefined;
}

function attributeMap(el: Element): Map<string, string> {
  const m = new Map<string, string>();
  const attrs = el.attributes;
  for (let i = 0; i < attrs.length; i++) {
    const at = attrs.item(i)!;
    if (at.name === 'xmlns' || at.name.startsWith('xmlns:')) continue; // namespaces are compared through element/attribute URIs
    const key = at.namespaceURI ? `{${at.namespaceURI}}${at.localName}` : at.name;
    m.set(key, at.value);
  }
  return m;
}
