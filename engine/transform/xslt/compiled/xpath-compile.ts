import { XNode, ROOT, ELEMENT, ATTRIBUTE, TEXT, PI, COMMENT } from './tree.js';
import { Rtf, isNodeSet, toBool, toNum, compare, type Exec, type Expr, type Value } from './values.js';
import { parseXPath, XPathSyntaxError, type Ast, type NodeTest, type Step } from './xpath-parser.js';
import { callFunction } from './functions.js';
import { unsupported, type Place } from './refuse.js';
import { TransformError } from '../../../errors.js';

/** What an expression may refer to, resolved when it is compiled. */
export interface Scope {
  /** A variable reference: its getter, or undefined when nothing in scope declares it. */
  variable(name: string): ((x: Exec) => Value) | undefined;
  /** Names declared by xsl:key. */
  keys: Set<string>;
  place: Place;
  /** `current()` is refused here (patterns). */
  noCurrent?: boolean;
}

/** Compiles an XPath 1.0 expression (refusing what the engine does not run exactly). */
export function compileXPath(src: string, scope: Scope, where: string): Expr {
  let ast: Ast;
  try {
    ast = parseXPath(src);
  } catch (e) {
    if (e instanceof XPathSyntaxError) throw new TransformError('TRANSFORM_SYNTAX', `${where}: invalid XPath ${JSON.stringify(src)}: ${e.message}`, scope.place);
    throw e;
  }
  return compileParsed(ast, scope, where);
}

/** Compiles an already parsed expression (a pattern's predicate). */
export function compileParsed(ast: Ast, scope: Scope, where: string): Expr {
  const c = new Compiler(scope, where);
  const f = c.expr(ast, false);
  if (!c.usesCurrent) return f;
  return (n, p, s, x) => {
    const saved = x.cur;
    x.cur = n;
    try {
      return f(n, p, s, x);
    } finally {
      x.cur = saved;
    }
  };
}

export function parseOrThrow(src: string, place: Place, where: string): Ast {
  try {
    return parseXPath(src);
  } catch (e) {
    if (e instanceof XPathSyntaxError) throw new TransformError('TRANSFORM_SYNTAX', `${where}: invalid XPath ${JSON.stringify(src)}: ${e.message}`, place);
    throw e;
  }
}

export type NodeTestFn = (n: XNode) => boolean;

/** A node test on an axis whose principal node type is `principal` (attribute or element). */
export function nodeTest(t: NodeTest, principal: number, refuse: (what: string) => never): NodeTestFn {
  switch (t.k) {
    case 'name': {
      if (t.name.includes(':')) refuse('a namespace prefix in an XPath name test');
      const name = t.name;
      return (n) => n.kind === principal && n.name === name;
    }
    case 'any':
      return (n) => n.kind === principal;
    case 'prefix':
      return refuse('a namespace prefix in an XPath name test');
    case 'node':
      return () => true;
    case 'text':
      return (n) => n.kind === TEXT;
    case 'comment':
      return (n) => n.kind === COMMENT;
    case 'pi': {
      const target = t.target;
      return target === undefined ? (n) => n.kind === PI : (n) => n.kind === PI && n.name === target;
    }
  }
}

function sortUnique(nodes: XNode[]): XNode[] {
  let sorted = true;
  for (let i = 1; i < nodes.length; i++) {
    if (nodes[i - 1]!.order >= nodes[i]!.order) {
      sorted = false;
      break;
    }
  }
  if (sorted) return nodes;
  nodes.sort((a, b) => a.order - b.order);
  const out: XNode[] = [];
  let last: XNode | undefined;
  for (const n of nodes) if (n !== last) out.push((last = n));
  return out;
}

function descendants(n: XNode, test: NodeTestFn, out: XNode[]): void {
  for (const k of n.children) {
    if (test(k)) out.push(k);
    if (k.kind === ELEMENT && k.children.length) descendants(k, test, out);
  }
}

/** Nodes on an axis from n, in axis order (reverse axes nearest first), filtered by the test. */
function axisNodes(axis: Step['axis'], n: XNode, test: NodeTestFn): XNode[] {
  const out: XNode[] = [];
  switch (axis) {
    case 'child':
      for (const k of n.children) if (test(k)) out.push(k);
      return out;
    case 'attribute':
      for (const a of n.attrs) if (test(a)) out.push(a);
      return out;
    case 'self':
      if (test(n)) out.push(n);
      return out;
    case 'parent':
      if (n.parent && test(n.parent)) out.push(n.parent);
      return out;
    case 'descendant':
      descendants(n, test, out);
      return out;
    case 'descendant-or-self':
      if (test(n)) out.push(n);
      descendants(n, test, out);
      return out;
    case 'ancestor':
    case 'ancestor-or-self':
      for (let a = axis === 'ancestor' ? n.parent : n; a; a = a.parent) if (test(a)) out.push(a);
      return out;
    case 'following-sibling':
    case 'preceding-sibling': {
      if (!n.parent || n.kind === ATTRIBUTE) return out;
      const sibs = n.parent.children;
      const i = sibs.indexOf(n);
      if (axis === 'following-sibling') for (let j = i + 1; j < sibs.length; j++) test(sibs[j]!) && out.push(sibs[j]!);
      else for (let j = i - 1; j >= 0; j--) test(sibs[j]!) && out.push(sibs[j]!);
      return out;
    }
    case 'following': {
      let start: XNode | null = n.kind === ATTRIBUTE ? n.parent : n;
      for (; start && start.parent; start = start.parent) {
        const sibs = start.parent.children;
        for (let j = sibs.indexOf(start) + 1; j < sibs.length; j++) {
          const s = sibs[j]!;
          if (test(s)) out.push(s);
          descendants(s, test, out);
        }
      }
      // the loop above walks up, so later ancestors' siblings come later: already in document order
      return out;
    }
    case 'preceding': {
      // Every node before n in document order that is not an ancestor (nor an attribute), nearest first.
      const all: XNode[] = [];
      const root = n.root();
      const ancestors = new Set<XNode>();
      for (let a = n.parent; a; a = a.parent) ancestors.add(a);
      const limit = n.kind === ATTRIBUTE ? n.parent!.order : n.order;
      const walk = (k: XNode) => {
        for (const c of k.children) {
          if (c.order >= limit) return;
          if (!ancestors.has(c) && test(c)) all.push(c);
          walk(c);
        }
      };
      walk(root);
      return all.reverse();
    }
    case 'namespace':
      return out;
  }
}

const REVERSE = new Set(['ancestor', 'ancestor-or-self', 'preceding', 'preceding-sibling']);

class Compiler {
  usesCurrent = false;
  constructor(
    private readonly scope: Scope,
    private readonly where: string,
  ) {}

  refuse = (what: string): never => {
    throw unsupported(`${what} (in ${this.where})`, this.scope.place);
  };

  /** `inEquality`: a direct operand of = or != (the only place generate-id() is allowed). */
  expr(a: Ast, inEquality: boolean): Expr {
    switch (a.t) {
      case 'num': {
        const v = a.v;
        return () => v;
      }
      case 'str': {
        const v = a.v;
        return () => v;
      }
      case 'var': {
        const get = this.scope.variable(a.name);
        if (!get) throw new TransformError('TRANSFORM_SYNTAX', `${this.where}: undefined variable $${a.name}`, this.scope.place);
        return (_n, _p, _s, x) => get(x);
      }
      case 'neg': {
        const e = this.expr(a.e, false);
        return (n, p, s, x) => -toNum(e(n, p, s, x));
      }
      case 'bin':
        return this.binary(a.op, a.l, a.r);
      case 'call':
        if (a.name === 'current') {
          if (this.scope.noCurrent) this.refuse('current() in a pattern');
          if (a.args.length) this.refuse('current() with arguments');
          this.usesCurrent = true;
          return (_n, _p, _s, x) => [x.cur];
        }
        if (a.name === 'generate-id' && !inEquality) this.refuse('generate-id() whose value reaches the output (its identifiers differ from libxslt\'s)');
        if (a.name === 'key' && a.args[0]?.t === 'str' && !this.scope.keys.has(a.args[0].v)) this.refuse(`key('${a.args[0].v}') with no xsl:key of that name`);
        return callFunction(a.name, a.args.map((x) => this.expr(x, false)), this.refuse);
      case 'filter': {
        const e = this.expr(a.e, false);
        const preds = a.preds.map((p) => this.predicate(p));
        return (n, p, s, x) => {
          let v = this.nodes(e(n, p, s, x));
          for (const pr of preds) v = pr(v, x);
          return v;
        };
      }
      case 'path':
        return this.path(a);
    }
  }

  private nodes(v: Value): XNode[] {
    if (isNodeSet(v)) return v;
    if (v instanceof Rtf) return this.refuse('a result tree fragment used as a node-set');
    throw new TransformError('TRANSFORM_RUNTIME', `compiled: ${this.where}: a ${typeof v} is used where a node-set is required`, this.scope.place);
  }

  private binary(op: string, l: Ast, r: Ast): Expr {
    const eq = op === '=' || op === '!=';
    const a = this.expr(l, eq);
    const b = this.expr(r, eq);
    switch (op) {
      case 'or':
        return (n, p, s, x) => toBool(a(n, p, s, x)) || toBool(b(n, p, s, x));
      case 'and':
        return (n, p, s, x) => toBool(a(n, p, s, x)) && toBool(b(n, p, s, x));
      case '=':
      case '!=':
      case '<':
      case '<=':
      case '>':
      case '>=':
        return (n, p, s, x) => compare(op, a(n, p, s, x), b(n, p, s, x));
      case '+':
        return (n, p, s, x) => toNum(a(n, p, s, x)) + toNum(b(n, p, s, x));
      case '-':
        return (n, p, s, x) => toNum(a(n, p, s, x)) - toNum(b(n, p, s, x));
      case '*':
        return (n, p, s, x) => toNum(a(n, p, s, x)) * toNum(b(n, p, s, x));
      case 'div':
        return (n, p, s, x) => toNum(a(n, p, s, x)) / toNum(b(n, p, s, x));
      case 'mod':
        return (n, p, s, x) => toNum(a(n, p, s, x)) % toNum(b(n, p, s, x));
      case '|':
        return (n, p, s, x) => {
          const u = this.nodes(a(n, p, s, x));
          const v = this.nodes(b(n, p, s, x));
          if (!u.length) return v;
          if (!v.length) return u;
          return sortUnique([...u, ...v]);
        };
    }
    return this.refuse(`the operator ${op}`);
  }

  /** A predicate over a node list in axis order: a number selects that position, anything else is converted to boolean. */
  private predicate(a: Ast): (nodes: XNode[], x: Exec) => XNode[] {
    if (a.t === 'num') {
      const want = a.v;
      return (nodes) => (Number.isInteger(want) && want >= 1 && want <= nodes.length ? [nodes[want - 1]!] : []);
    }
    const f = this.expr(a, false);
    return (nodes, x) => {
      const out: XNode[] = [];
      const size = nodes.length;
      for (let i = 0; i < size; i++) {
        const v = f(nodes[i]!, i + 1, size, x);
        if (typeof v === 'number' ? v === i + 1 : toBool(v)) out.push(nodes[i]!);
      }
      return out;
    };
  }

  private path(a: Extract<Ast, { t: 'path' }>): Expr {
    const steps = this.optimise(a.steps).map((s) => this.step(s));
    let start: Expr;
    if (a.from === 'root') start = (n) => [n.root()];
    else if (a.from === 'context') start = (n) => [n];
    else {
      const e = this.expr(a.from, false);
      start = (n, p, s, x) => this.nodes(e(n, p, s, x));
    }
    if (steps.length === 1 && a.from === 'context') {
      const only = steps[0]!;
      return (n, _p, _s, x) => only(n, x);
    }
    return (n, p, s, x) => {
      let set = start(n, p, s, x) as XNode[];
      for (const st of steps) {
        if (set.length === 1) {
          set = st(set[0]!, x);
          continue;
        }
        let all: XNode[] = [];
        for (const m of set) {
          const r = st(m, x);
          if (r.length) all = all.length ? all.concat(r) : r;
        }
        set = sortUnique(all);
      }
      return set;
    };
  }

  /** `//name` (descendant-or-self::node()/child::name with no predicates) is descendant::name. */
  private optimise(steps: Step[]): Step[] {
    const out: Step[] = [];
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i]!;
      const next = steps[i + 1];
      if (s.axis === 'descendant-or-self' && s.test.k === 'node' && !s.preds.length && next && next.axis === 'child' && !next.preds.length) {
        out.push({ axis: 'descendant', test: next.test, preds: [] });
        i++;
      } else out.push(s);
    }
    return out;
  }

  /** One step from one context node: the selected nodes in document order. */
  private step(s: Step): (n: XNode, x: Exec) => XNode[] {
    if (s.axis === 'namespace') this.refuse('the namespace axis');
    const test = nodeTest(s.test, s.axis === 'attribute' ? ATTRIBUTE : ELEMENT, this.refuse);
    const preds = s.preds.map((p) => this.predicate(p));
    const axis = s.axis;
    const reverse = REVERSE.has(axis);
    if (axis === 'child' && !preds.length && s.test.k === 'name') {
      const name = s.test.name;
      return (n) => {
        const c = n.children;
        const out: XNode[] = [];
        for (let i = 0; i < c.length; i++) {
          const k = c[i]!;
          if (k.kind === ELEMENT && k.name === name) out.push(k);
        }
        return out;
      };
    }
    if (axis === 'attribute' && !preds.length && s.test.k === 'name') {
      const name = s.test.name;
      return (n) => {
        const a = n.attrs;
        for (let i = 0; i < a.length; i++) if (a[i]!.name === name) return [a[i]!];
        return [];
      };
    }
    if (axis === 'child' && !preds.length) {
      return (n) => {
        const c = n.children;
        const out: XNode[] = [];
        for (let i = 0; i < c.length; i++) if (test(c[i]!)) out.push(c[i]!);
        return out;
      };
    }
    if (axis === 'self' && s.test.k === 'node' && !preds.length) return (n) => [n];
    return (n, x) => {
      let r = axisNodes(axis, n, test);
      for (const p of preds) r = p(r, x);
      return reverse && r.length > 1 ? r.slice().reverse() : r;
    };
  }
}

// Node kinds re-exported for patterns.
export { ROOT, ELEMENT, ATTRIBUTE, TEXT, PI, COMMENT };
