import { xsltProcessor } from './processor-module.js';

/**
 * Corrections to xslt-processor's XPath 1.0 evaluation, applied once to the prototypes
 * its parser produces (the classes are not exported; a parsed expression leads to them).
 * Each replaces a method whose result differed from libxslt on a probe:
 *
 * - Comparisons (`=`, `!=`, `<`, ...) used JavaScript's loose `==`: `true() = 'x'` was
 *   false and `'' = 0` true. They now follow XPath 1.0 §3.4: a boolean operand makes it a
 *   boolean comparison (a node-set converts by being non-empty), else a number operand a
 *   numeric one, else strings; relational operators compare numbers.
 * - `string-length()`, `substring()` and `translate()` counted UTF-16 code units, so an
 *   emoji was two characters and `substring()` could cut one in half. XPath counts
 *   characters (code points), as libxslt does.
 *
 * Number conversion from a string is XPath's (digits with an optional point and sign,
 * surrounded by whitespace; anything else is NaN), not JavaScript's (`0x10`, `1e3`).
 */
export function applyProcessorPatches(): void {
  if (applied) return;
  applied = true;
  const xpath = new (xsltProcessor().XPath)();
  const protoOf = (expr: string) => Object.getPrototypeOf((xpath.xPathParse(expr) as unknown as { xpathExpression: object }).xpathExpression) as Record<string, unknown>;

  const binary = protoOf('1 = 1');
  binary.compare = function (this: NodeStrings, left: unknown, right: unknown, op: string): boolean {
    return compareValues(left, right, op, (n) => this.getStringValue(n));
  };

  const call = protoOf("string-length('a')");
  const str = (self: FunctionCallInternals, v: unknown) => self.convertToString(v);
  call.stringLength = function (this: FunctionCallInternals, args: unknown[], context: unknown): number {
    const s = args.length === 0 ? this.stringValue([], context) : str(this, args[0]);
    return codePointLength(s);
  };
  call.substring = function (this: FunctionCallInternals, args: unknown[]): string {
    return xpathSubstring(str(this, args[0]), xpathNumber(args[1], this), args.length > 2 ? xpathNumber(args[2], this) : undefined);
  };
  patchNodeConverter(Object.getPrototypeOf((xpath as unknown as { nodeConverter: object }).nodeConverter) as NodeConverterProto);
  call.translate = function (this: FunctionCallInternals, args: unknown[]): string {
    return xpathTranslate(str(this, args[0]), str(this, args[1]), str(this, args[2]));
  };
}

let applied = false;

interface ExprContextLike {
  parent?: ExprContextLike;
  variables?: Record<string, unknown>;
}

interface NodeConverterProto {
  convertVariables(ctx: ExprContextLike): Record<string, unknown>;
  createCustomFunctions(ctx: ExprContextLike): Record<string, unknown>;
}

/**
 * Speed, same results. Before every XPath evaluation xslt-processor copied every
 * variable of every enclosing context into a fresh object (quadratic in the depth of
 * recursion: probe 01's 500-deep recursion took 25 s) and built some twenty closures for
 * its XSLT functions. Variables are now looked up when an expression reads one (same
 * rule: the innermost context that binds the name), and the function table is made once
 * per context (its closures read the context when called, so sharing it is exact).
 */
function patchNodeConverter(proto: NodeConverterProto): void {
  const eager = proto.convertVariables;
  const own = Object.prototype.hasOwnProperty;
  proto.convertVariables = function (this: NodeConverterProto, exprContext: ExprContextLike) {
    const self = this;
    const holder = (name: string): ExprContextLike | undefined => {
      for (let c: ExprContextLike | undefined = exprContext; c; c = c.parent) if (c.variables && own.call(c.variables, name)) return c;
      return undefined;
    };
    const converted = new Map<string, unknown>();
    let all: Record<string, unknown> | undefined;
    const full = () => (all ??= eager.call(self, exprContext));
    return new Proxy({} as Record<string, unknown>, {
      has: (_t, name) => typeof name === 'string' && holder(name) !== undefined,
      get: (_t, name) => {
        if (typeof name !== 'string') return undefined;
        if (converted.has(name)) return converted.get(name);
        const c = holder(name);
        if (!c) return undefined;
        // The eager conversion of one binding: reuse the original code on a one-variable context.
        const v = eager.call(self, { variables: { [name]: c.variables![name] } })[name];
        converted.set(name, v);
        return v;
      },
      ownKeys: () => Reflect.ownKeys(full()),
      getOwnPropertyDescriptor: (_t, name) => Reflect.getOwnPropertyDescriptor(full(), name),
    });
  };
  const functionsOf = new WeakMap<ExprContextLike, Record<string, unknown>>();
  const makeFunctions = proto.createCustomFunctions;
  proto.createCustomFunctions = function (this: NodeConverterProto, exprContext: ExprContextLike) {
    let f = functionsOf.get(exprContext);
    if (!f) functionsOf.set(exprContext, (f = makeFunctions.call(this, exprContext)));
    return f;
  };
}

interface NodeStrings {
  getStringValue(node: unknown): string;
}

interface FunctionCallInternals {
  convertToString(value: unknown): string;
  stringValue(args: unknown[], context: unknown): string;
}

/** XPath 1.0 `number()` of a string: optional sign, digits and point, XML whitespace around. */
export function stringToNumber(s: string): number {
  return /^[\t\n\r ]*-?(\d+(\.\d*)?|\.\d+)[\t\n\r ]*$/.test(s) ? Number(s) : NaN;
}

function xpathNumber(v: unknown, self?: FunctionCallInternals): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (Array.isArray(v) && self) return stringToNumber(self.convertToString(v));
  return stringToNumber(String(v));
}

function xpathBoolean(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (Array.isArray(v)) return v.length > 0;
  return String(v).length > 0;
}

function comparePrimitive(a: unknown, b: unknown, op: string): boolean {
  if (op === '=' || op === '!=') {
    let eq: boolean;
    if (typeof a === 'boolean' || typeof b === 'boolean') eq = xpathBoolean(a) === xpathBoolean(b);
    else if (typeof a === 'number' || typeof b === 'number') eq = xpathNumber(a) === xpathNumber(b);
    else eq = String(a) === String(b);
    return op === '=' ? eq : !eq;
  }
  const x = xpathNumber(a);
  const y = xpathNumber(b);
  switch (op) {
    case '<':
      return x < y;
    case '>':
      return x > y;
    case '<=':
      return x <= y;
    case '>=':
      return x >= y;
  }
  throw new Error(`Unknown operator: ${op}`);
}

/** XPath 1.0 §3.4 comparison of two values, node-sets being arrays of nodes. */
export function compareValues(left: unknown, right: unknown, op: string, stringOf: (node: unknown) => string): boolean {
  const leftSet = Array.isArray(left);
  const rightSet = Array.isArray(right);
  if (leftSet && rightSet) {
    const rs = (right as unknown[]).map(stringOf);
    for (const a of left as unknown[]) {
      const sa = stringOf(a);
      for (const sb of rs) if (comparePrimitive(sa, sb, op)) return true;
    }
    return false;
  }
  if (leftSet || rightSet) {
    const set = (leftSet ? left : right) as unknown[];
    const value = leftSet ? right : left;
    if (typeof value === 'boolean') return leftSet ? comparePrimitive(set.length > 0, value, op) : comparePrimitive(value, set.length > 0, op);
    for (const n of set) {
      const s = stringOf(n);
      const v = typeof value === 'number' ? stringToNumber(s) : s;
      if (leftSet ? comparePrimitive(v, value, op) : comparePrimitive(value, v, op)) return true;
    }
    return false;
  }
  return comparePrimitive(left, right, op);
}

function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** XPath 1.0 `substring()`: the characters at positions p with round(start) <= p < round(start) + round(len). */
export function xpathSubstring(s: string, start: number, len?: number): string {
  const round = (x: number) => (Number.isFinite(x) ? Math.floor(x + 0.5) : x);
  const first = round(start);
  const end = len === undefined ? Infinity : first + round(len);
  let out = '';
  let p = 1;
  for (const ch of s) {
    if (p >= first && p < end) out += ch;
    p++;
  }
  return out;
}

/** XPath 1.0 `translate()` by characters: the first occurrence in `from` wins; a character past `to`'s end is removed. */
export function xpathTranslate(s: string, from: string, to: string): string {
  const f = [...from];
  const t = [...to];
  const map = new Map<string, string>();
  f.forEach((c, i) => {
    if (!map.has(c)) map.set(c, t[i] ?? '');
  });
  let out = '';
  for (const ch of s) out += map.has(ch) ? map.get(ch)! : ch;
  return out;
}
