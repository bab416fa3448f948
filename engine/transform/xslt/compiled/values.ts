import { XNode, stringValue } from './tree.js';

/** A result tree fragment (XSLT 1.0 §11.1): a root node holding what a variable's body made. */
export class Rtf {
  constructor(readonly root: XNode) {}
}

/** XPath 1.0 values: number, string, boolean, node-set (an array in document order, no duplicates), plus XSLT's result tree fragment. */
export type Value = number | string | boolean | XNode[] | Rtf;

/** What an expression sees of the running transform. */
export interface Exec {
  /** Local variables of the template (or global variable body) being instantiated, by slot. */
  frame: Value[];
  /** The XSLT current node, for current(). */
  cur: XNode;
  rt: RuntimeHooks;
}

export interface RuntimeHooks {
  global(index: number): Value;
  key(name: string, values: string[], context: XNode): XNode[];
}

export type Expr = (node: XNode, pos: number, size: number, x: Exec) => Value;

export function isNodeSet(v: Value): v is XNode[] {
  return Array.isArray(v);
}

export function toStr(v: Value): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return numberToString(v);
    case 'boolean':
      return v ? 'true' : 'false';
  }
  if (v instanceof Rtf) return stringValue(v.root);
  return v.length ? stringValue(v[0]!) : '';
}

export function toNum(v: Value): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return stringToNumber(toStr(v));
}

export function toBool(v: Value): boolean {
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'number':
      return v !== 0 && !Number.isNaN(v);
    case 'string':
      return v.length > 0;
  }
  if (v instanceof Rtf) return true;
  return v.length > 0;
}

const NUMBER = /^[ \t\r\n]*(-?(?:\d+(?:\.\d*)?|\.\d+))(?:[eE]([+-]?)(\d*))?[ \t\r\n]*$/;

/**
 * XPath number(): optional whitespace, an optional minus, digits with an optional point;
 * anything else is NaN. Like libxml2, an exponent (`1e3`) is accepted too.
 */
export function stringToNumber(s: string): number {
  const m = NUMBER.exec(s);
  if (!m) return NaN;
  return m[3] ? Number(`${m[1]}e${m[2]}${m[3]}`) : Number(m[1]);
}

/**
 * Number to string. Inside libxslt's plain-notation range (integers between INT_MIN and
 * INT_MAX exclusive, and other values with 1e-5 <= |x| <= 1e9) this is libxslt's output:
 * 15 significant digits, trailing zeros dropped (`0.1 + 0.2` is `0.3`). Outside it
 * libxslt writes exponent notation, which XPath 1.0 §4.2 forbids; there the
 * specification's plain digits are written (as the README's XSLT fidelity section records).
 */
export function numberToString(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return '0';
  if (Number.isInteger(x) && x > -2147483648 && x < 2147483647 + 1) return String(x);
  const a = Math.abs(x);
  if (a >= 1e-5 && a <= 1e9) {
    const ip = Math.trunc(Math.log10(a));
    const frac = ip > 0 ? 15 - ip - 1 : 15 - ip;
    let s = x.toFixed(frac);
    if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
    return s === '-0' ? '0' : s;
  }
  return plainDigits(x);
}

/** The shortest round-tripping digits of x, written without an exponent. */
function plainDigits(x: number): string {
  const s = String(x);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const digits = m[2]! + (m[3] ?? '');
  const exp = Number(m[4]);
  if (exp >= 0) return m[1]! + (digits.length > exp + 1 ? digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1) : digits + '0'.repeat(exp + 1 - digits.length));
  return m[1]! + '0.' + '0'.repeat(-exp - 1) + digits;
}

/** Whether numberToString(x) may differ in more than notation from libxslt (printf ties round to even; toFixed does not). */
export function numberNeedsCare(x: number): boolean {
  return !Number.isInteger(x) && Number.isFinite(x);
}

// ---- comparisons, XPath 1.0 §3.4 ----

function atomEquals(a: Exclude<Value, XNode[] | Rtf>, b: Exclude<Value, XNode[] | Rtf>, ne: boolean): boolean {
  let r: boolean;
  if (typeof a === 'boolean' || typeof b === 'boolean') r = toBool(a) === toBool(b);
  else if (typeof a === 'number' || typeof b === 'number') r = toNum(a) === toNum(b);
  else r = a === b;
  return ne ? !r : r;
}

function relate(op: string, a: number, b: number): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    default:
      return a >= b;
  }
}

function asSet(v: Value): Value {
  return v instanceof Rtf ? [v.root] : v;
}

/** `=`, `!=`, `<`, `<=`, `>`, `>=` with the existential rules for node-sets. */
export function compare(op: string, l: Value, r: Value): boolean {
  l = asSet(l);
  r = asSet(r);
  const eq = op === '=' || op === '!=';
  const ne = op === '!=';
  if (isNodeSet(l) && isNodeSet(r)) {
    if (eq) {
      const rs = r.map(stringValue);
      for (const n of l) {
        const s = stringValue(n);
        for (const t of rs) if (ne ? s !== t : s === t) return true;
      }
      return false;
    }
    const rn = r.map((n) => stringToNumber(stringValue(n)));
    for (const n of l) {
      const a = stringToNumber(stringValue(n));
      for (const b of rn) if (relate(op, a, b)) return true;
    }
    return false;
  }
  if (isNodeSet(l) || isNodeSet(r)) {
    const set = (isNodeSet(l) ? l : r) as XNode[];
    const other = (isNodeSet(l) ? r : l) as Exclude<Value, XNode[] | Rtf>;
    const setLeft = isNodeSet(l);
    if (typeof other === 'boolean') {
      const b = set.length > 0;
      if (eq) return ne ? b !== other : b === other;
      return setLeft ? relate(op, b ? 1 : 0, other ? 1 : 0) : relate(op, other ? 1 : 0, b ? 1 : 0);
    }
    for (const n of set) {
      const s = stringValue(n);
      if (eq) {
        if (typeof other === 'number' ? (ne ? stringToNumber(s) !== other : stringToNumber(s) === other) : ne ? s !== other : s === other) return true;
      } else {
        const a = stringToNumber(s);
        const b = toNum(other);
        if (setLeft ? relate(op, a, b) : relate(op, b, a)) return true;
      }
    }
    return false;
  }
  if (eq) return atomEquals(l as Exclude<Value, XNode[] | Rtf>, r as Exclude<Value, XNode[] | Rtf>, ne);
  return relate(op, toNum(l), toNum(r));
}
