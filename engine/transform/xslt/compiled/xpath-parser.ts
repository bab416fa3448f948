/**
 * XPath 1.0 expressions to a syntax tree (grammar of XPath 1.0 §3, with the lexical
 * rules of §3.7: `*` and the names `and or mod div` are operators only after a token
 * that can end an operand).
 */
export type Axis =
  | 'ancestor' | 'ancestor-or-self' | 'attribute' | 'child' | 'descendant' | 'descendant-or-self'
  | 'following' | 'following-sibling' | 'namespace' | 'parent' | 'preceding' | 'preceding-sibling' | 'self';

export type NodeTest =
  | { k: 'name'; name: string }
  | { k: 'any' }
  | { k: 'prefix'; prefix: string }
  | { k: 'node' }
  | { k: 'text' }
  | { k: 'comment' }
  | { k: 'pi'; target?: string };

export interface Step {
  axis: Axis;
  test: NodeTest;
  preds: Ast[];
}

export type Ast =
  | { t: 'num'; v: number }
  | { t: 'str'; v: string }
  | { t: 'var'; name: string }
  | { t: 'call'; name: string; args: Ast[] }
  | { t: 'bin'; op: string; l: Ast; r: Ast }
  | { t: 'neg'; e: Ast }
  /** A filter expression: a primary expression with predicates. */
  | { t: 'filter'; e: Ast; preds: Ast[] }
  /** A location path: from the root, the context node, or a filter expression's nodes. */
  | { t: 'path'; from: 'root' | 'context' | Ast; steps: Step[] };

const AXES = new Set<string>(['ancestor', 'ancestor-or-self', 'attribute', 'child', 'descendant', 'descendant-or-self', 'following', 'following-sibling', 'namespace', 'parent', 'preceding', 'preceding-sibling', 'self']);
const NODE_TYPES = new Set(['node', 'text', 'comment', 'processing-instruction']);

interface Tok {
  k: 'num' | 'str' | 'var' | 'name' | 'op' | 'sym';
  v: string;
}

export class XPathSyntaxError extends Error {}

const NC = '[A-Za-z_\\u00C0-\\uFFFF][\\w.\\u00B7-\\uFFFF-]*';
const TOKEN = new RegExp(
  `\\s*(?:(\\d+(?:\\.\\d*)?|\\.\\d+)|("[^"]*"|'[^']*')|\\$(${NC}(?::${NC})?)|(${NC}:\\*|${NC}(?::${NC})?)|(\\.\\.|::|//|!=|<=|>=|[()[\\]@,|/+=<>*.-]))`,
  'y',
);

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  TOKEN.lastIndex = 0;
  while (i < src.length) {
    if (/^\s*$/.test(src.slice(i))) break;
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(src);
    if (!m) throw new XPathSyntaxError(`unexpected character ${JSON.stringify(src.slice(i).trimStart()[0])}`);
    i = TOKEN.lastIndex;
    const prev = out[out.length - 1];
    // §3.7: after one of these (or at the start), * is a name test and a name is not an operator.
    const operandPossible = !prev || (prev.k === 'sym' && ['@', '::', '(', '[', ','].includes(prev.v)) || prev.k === 'op';
    if (m[1] !== undefined) out.push({ k: 'num', v: m[1] });
    else if (m[2] !== undefined) out.push({ k: 'str', v: m[2].slice(1, -1) });
    else if (m[3] !== undefined) out.push({ k: 'var', v: m[3] });
    else if (m[4] !== undefined) {
      if (!operandPossible && ['and', 'or', 'mod', 'div'].includes(m[4])) out.push({ k: 'op', v: m[4] });
      else if (!operandPossible) throw new XPathSyntaxError(`unexpected name ${m[4]}`);
      else out.push({ k: 'name', v: m[4] });
    } else {
      const s = m[5]!;
      if (s === '*' && operandPossible) out.push({ k: 'name', v: '*' });
      else if (['and', 'or', '*', '/', '//', '|', '+', '-', '=', '!=', '<', '<=', '>', '>='].includes(s) && !(s === '/' || s === '//')) out.push({ k: 'op', v: s });
      else out.push({ k: s === '/' || s === '//' ? 'op' : 'sym', v: s });
    }
  }
  return out;
}

export function parseXPath(src: string): Ast {
  const toks = tokenize(src);
  let p = 0;
  const peek = (o = 0) => toks[p + o];
  const is = (k: Tok['k'], v?: string, o = 0) => {
    const t = toks[p + o];
    return !!t && t.k === k && (v === undefined || t.v === v);
  };
  const expect = (k: Tok['k'], v: string) => {
    if (!is(k, v)) throw new XPathSyntaxError(`expected ${v}${peek() ? ` at ${peek()!.v}` : ' at the end'}`);
    p++;
  };
  const binary = (ops: string[], next: () => Ast) => (): Ast => {
    let l = next();
    while (peek()?.k === 'op' && ops.includes(peek()!.v)) {
      const op = toks[p++]!.v;
      l = { t: 'bin', op, l, r: next() };
    }
    return l;
  };
  const expr = (): Ast => or();
  const unary = (): Ast => {
    if (is('op', '-')) {
      p++;
      return { t: 'neg', e: unary() };
    }
    return union();
  };
  const mult = binary(['*', 'div', 'mod'], unary);
  const add = binary(['+', '-'], mult);
  const rel = binary(['<', '<=', '>', '>='], add);
  const eq = binary(['=', '!='], rel);
  const and = binary(['and'], eq);
  const or = binary(['or'], and);
  function union(): Ast {
    let l = pathExpr();
    while (is('op', '|')) {
      p++;
      l = { t: 'bin', op: '|', l, r: pathExpr() };
    }
    return l;
  }
  function predicates(): Ast[] {
    const preds: Ast[] = [];
    while (is('sym', '[')) {
      p++;
      preds.push(expr());
      expect('sym', ']');
    }
    return preds;
  }
  function startsFilter(): boolean {
    const t = peek();
    if (!t) return false;
    if (t.k === 'num' || t.k === 'str' || t.k === 'var' || (t.k === 'sym' && t.v === '(')) return true;
    return t.k === 'name' && t.v !== '*' && is('sym', '(', 1) && !NODE_TYPES.has(t.v);
  }
  function primary(): Ast {
    const t = toks[p++]!;
    if (t.k === 'num') return { t: 'num', v: Number(t.v) };
    if (t.k === 'str') return { t: 'str', v: t.v };
    if (t.k === 'var') return { t: 'var', name: t.v };
    if (t.k === 'sym' && t.v === '(') {
      const e = expr();
      expect('sym', ')');
      return e;
    }
    // function call
    expect('sym', '(');
    const args: Ast[] = [];
    if (!is('sym', ')')) {
      args.push(expr());
      while (is('sym', ',')) {
        p++;
        args.push(expr());
      }
    }
    expect('sym', ')');
    return { t: 'call', name: t.v, args };
  }
  function pathExpr(): Ast {
    if (startsFilter()) {
      const e = primary();
      const preds = predicates();
      const base: Ast = preds.length ? { t: 'filter', e, preds } : e;
      if (is('op', '/') || is('op', '//')) return { t: 'path', from: base, steps: relative(true) };
      return base;
    }
    if (is('op', '/')) {
      p++;
      const steps = startsStep() ? relative(false) : [];
      return { t: 'path', from: 'root', steps };
    }
    if (is('op', '//')) return { t: 'path', from: 'root', steps: relative(true) };
    return { t: 'path', from: 'context', steps: relative(false) };
  }
  function startsStep(): boolean {
    const t = peek();
    return !!t && (t.k === 'name' || (t.k === 'sym' && (t.v === '@' || t.v === '.' || t.v === '..')));
  }
  /** Steps of a relative path; `leading` when a `/` or `//` comes first. */
  function relative(leading: boolean): Step[] {
    const steps: Step[] = [];
    let sep = leading ? toks[p++]!.v : '/';
    for (;;) {
      if (sep === '//') steps.push({ axis: 'descendant-or-self', test: { k: 'node' }, preds: [] });
      steps.push(step());
      if (is('op', '/') || is('op', '//')) sep = toks[p++]!.v;
      else return steps;
    }
  }
  function step(): Step {
    if (is('sym', '.')) {
      p++;
      return { axis: 'self', test: { k: 'node' }, preds: [] };
    }
    if (is('sym', '..')) {
      p++;
      return { axis: 'parent', test: { k: 'node' }, preds: [] };
    }
    let axis: Axis = 'child';
    if (is('sym', '@')) {
      p++;
      axis = 'attribute';
    } else if (is('name') && is('sym', '::', 1)) {
      const a = toks[p]!.v;
      if (!AXES.has(a)) throw new XPathSyntaxError(`unknown axis ${a}`);
      axis = a as Axis;
      p += 2;
    }
    const t = toks[p++];
    if (!t || t.k !== 'name') throw new XPathSyntaxError(`expected a node test${t ? ` at ${t.v}` : ' at the end'}`);
    let test: NodeTest;
    if (NODE_TYPES.has(t.v) && is('sym', '(')) {
      p++;
      if (t.v === 'processing-instruction' && is('str')) test = { k: 'pi', target: toks[p++]!.v };
      else test = t.v === 'node' ? { k: 'node' } : t.v === 'text' ? { k: 'text' } : t.v === 'comment' ? { k: 'comment' } : { k: 'pi' };
      expect('sym', ')');
    } else if (t.v === '*') test = { k: 'any' };
    else if (t.v.endsWith(':*')) test = { k: 'prefix', prefix: t.v.slice(0, -2) };
    else test = { k: 'name', name: t.v };
    return { axis, test, preds: predicates() };
  }
  if (toks.length === 0) throw new XPathSyntaxError('empty expression');
  const e = expr();
  if (p < toks.length) throw new XPathSyntaxError(`unexpected ${toks[p]!.v}`);
  return e;
}
