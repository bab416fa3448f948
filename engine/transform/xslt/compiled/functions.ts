import { XNode, ELEMENT, ATTRIBUTE, PI, stringValue } from './tree.js';
import { Rtf, isNodeSet, toBool, toNum, toStr, stringToNumber, type Expr, type Value } from './values.js';

/**
 * The XPath 1.0 core function library (§4) and XSLT's key() and generate-id(). Strings
 * are measured and cut by Unicode characters, not UTF-16 units (an astral character is
 * one character, as in libxslt). Functions the engine does not run exactly are refused.
 */
export function callFunction(name: string, args: Expr[], refuse: (what: string) => never): Expr {
  const arity = (min: number, max = min) => {
    if (args.length < min || args.length > max) refuse(`${name}() with ${args.length} argument${args.length === 1 ? '' : 's'}`);
  };
  const [a, b, c] = args as [Expr, Expr, Expr];
  const str1 = (): Expr => (args.length ? a : (n) => [n]);
  switch (name) {
    case 'last':
      arity(0);
      return (_n, _p, s) => s;
    case 'position':
      arity(0);
      return (_n, p) => p;
    case 'count':
      arity(1);
      return (n, p, s, x) => nodeSet(a(n, p, s, x), refuse).length;
    case 'local-name':
    case 'name':
      arity(0, 1);
      return (n, p, s, x) => {
        const set = args.length ? nodeSet(a(n, p, s, x), refuse) : [n];
        const k = set[0];
        return k && (k.kind === ELEMENT || k.kind === ATTRIBUTE || k.kind === PI) ? k.name : '';
      };
    case 'namespace-uri':
      // Documents with namespaces are refused, so every node's namespace URI is empty.
      arity(0, 1);
      return (n, p, s, x) => {
        if (args.length) nodeSet(a(n, p, s, x), refuse);
        return '';
      };
    case 'string':
      arity(0, 1);
      return args.length ? (n, p, s, x) => toStr(a(n, p, s, x)) : (n) => stringValue(n);
    case 'concat':
      if (args.length < 2) refuse(`concat() with ${args.length} argument${args.length === 1 ? '' : 's'}`);
      return (n, p, s, x) => {
        let r = '';
        for (const e of args) r += toStr(e(n, p, s, x));
        return r;
      };
    case 'starts-with':
      arity(2);
      return (n, p, s, x) => toStr(a(n, p, s, x)).startsWith(toStr(b(n, p, s, x)));
    case 'contains':
      arity(2);
      return (n, p, s, x) => toStr(a(n, p, s, x)).includes(toStr(b(n, p, s, x)));
    case 'substring-before':
      arity(2);
      return (n, p, s, x) => {
        const h = toStr(a(n, p, s, x));
        const i = h.indexOf(toStr(b(n, p, s, x)));
        return i < 0 ? '' : h.slice(0, i);
      };
    case 'substring-after':
      arity(2);
      return (n, p, s, x) => {
        const h = toStr(a(n, p, s, x));
        const k = toStr(b(n, p, s, x));
        const i = h.indexOf(k);
        return i < 0 ? '' : h.slice(i + k.length);
      };
    case 'substring':
      arity(2, 3);
      return (n, p, s, x) => substring(toStr(a(n, p, s, x)), toNum(b(n, p, s, x)), args.length === 3 ? toNum(c(n, p, s, x)) : undefined);
    case 'string-length': {
      arity(0, 1);
      const e = str1();
      return (n, p, s, x) => length(toStr(e(n, p, s, x)));
    }
    case 'normalize-space': {
      arity(0, 1);
      const e = str1();
      return (n, p, s, x) => toStr(e(n, p, s, x)).replace(/[ \t\r\n]+/g, ' ').replace(/^ | $/g, '');
    }
    case 'translate':
      arity(3);
      return (n, p, s, x) => translate(toStr(a(n, p, s, x)), toStr(b(n, p, s, x)), toStr(c(n, p, s, x)));
    case 'boolean':
      arity(1);
      return (n, p, s, x) => toBool(a(n, p, s, x));
    case 'not':
      arity(1);
      return (n, p, s, x) => !toBool(a(n, p, s, x));
    case 'true':
      arity(0);
      return () => true;
    case 'false':
      arity(0);
      return () => false;
    case 'number':
      arity(0, 1);
      return args.length ? (n, p, s, x) => toNum(a(n, p, s, x)) : (n) => stringToNumber(stringValue(n));
    case 'sum':
      arity(1);
      return (n, p, s, x) => {
        let t = 0;
        for (const k of nodeSet(a(n, p, s, x), refuse)) t += stringToNumber(stringValue(k));
        return t;
      };
    case 'floor':
      arity(1);
      return (n, p, s, x) => Math.floor(toNum(a(n, p, s, x)));
    case 'ceiling':
      arity(1);
      return (n, p, s, x) => Math.ceil(toNum(a(n, p, s, x)));
    case 'round':
      arity(1);
      return (n, p, s, x) => Math.round(toNum(a(n, p, s, x)));
    case 'key':
      arity(2);
      return (n, p, s, x) => {
        const kn = toStr(a(n, p, s, x));
        const v = b(n, p, s, x);
        const values = isNodeSet(v) ? v.map(stringValue) : [toStr(v)];
        return x.rt.key(kn, values, n);
      };
    case 'generate-id':
      // Allowed only as an operand of = or != (checked by the caller): only identity matters there.
      arity(0, 1);
      return (n, p, s, x) => {
        const k = args.length ? nodeSet(a(n, p, s, x), refuse)[0] : n;
        return k ? `id${k.order}` : '';
      };
  }
  return refuse(`the function ${name}()`);
}

function nodeSet(v: Value, refuse: (what: string) => never): XNode[] {
  if (isNodeSet(v)) return v;
  if (v instanceof Rtf) return refuse('a result tree fragment used as a node-set');
  return refuse(`a ${typeof v} passed where a node-set is required`);
}

const ASTRAL = /[\uD800-\uDFFF]/;

function length(s: string): number {
  if (!ASTRAL.test(s)) return s.length;
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** substring() per XPath 1.0 §4.2: characters at positions p with round(start) <= p < round(start) + round(len). */
function substring(s: string, start: number, len: number | undefined): string {
  const first = Math.round(start);
  const end = len === undefined ? Infinity : first + Math.round(len);
  if (!(end > first)) return '';
  const chars = ASTRAL.test(s) ? Array.from(s) : undefined;
  const n = chars ? chars.length : s.length;
  const from = Math.max(first, 1);
  const to = Math.min(end, n + 1);
  if (!(to > from)) return '';
  return chars ? chars.slice(from - 1, to - 1).join('') : s.slice(from - 1, to - 1);
}

function translate(s: string, from: string, to: string): string {
  const f = Array.from(from);
  const t = Array.from(to);
  const map = new Map<string, string>();
  for (let i = 0; i < f.length; i++) if (!map.has(f[i]!)) map.set(f[i]!, t[i] ?? '');
  let out = '';
  for (const ch of s) {
    const r = map.get(ch);
    out += r === undefined ? ch : r;
  }
  return out;
}
