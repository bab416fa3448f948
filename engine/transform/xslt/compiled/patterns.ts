import { XNode, ROOT, ELEMENT, ATTRIBUTE } from './tree.js';
import { toBool, type Exec } from './values.js';
import { compileParsed, nodeTest, parseOrThrow, type NodeTestFn, type Scope } from './xpath-compile.js';
import type { Ast, NodeTest, Step } from './xpath-parser.js';
import { unsupported } from './refuse.js';

/** One alternative of a pattern (`a | b` has two), with its default priority (XSLT 1.0 §5.5). */
export interface PatternAlt {
  match: (n: XNode, x: Exec) => boolean;
  priority: number;
  /** The element or attribute name the last step requires, when it names one (for indexing rules). */
  name?: string;
  /** The node kind the last step requires when known (ELEMENT, ATTRIBUTE, ROOT), else undefined. */
  kind?: number;
}

/** Compiles a match pattern; anything outside the patterns the engine runs exactly is refused. */
export function compilePattern(src: string, scope: Scope, where: string): PatternAlt[] {
  const ast = parseOrThrow(src, scope.place, where);
  const alts: Ast[] = [];
  const flatten = (a: Ast) => {
    if (a.t === 'bin' && a.op === '|') {
      flatten(a.l);
      flatten(a.r);
    } else alts.push(a);
  };
  flatten(ast);
  const refuse = (what: string): never => {
    throw unsupported(`${what} (in ${where})`, scope.place);
  };
  return alts.map((a) => {
    if (a.t !== 'path' || (a.from !== 'root' && a.from !== 'context')) return refuse(`the pattern ${JSON.stringify(src)} (only location path patterns are run)`);
    for (const s of a.steps) {
      if (s.axis !== 'child' && s.axis !== 'attribute' && !(s.axis === 'descendant-or-self' && s.test.k === 'node' && !s.preds.length)) {
        refuse(`the ${s.axis} axis in a pattern`);
      }
    }
    return compileAlt(a.from === 'root', a.steps, scope, where, refuse);
  });
}

interface StepMatcher {
  test: NodeTestFn;
  attr: boolean;
  /** Predicates as full expressions over the step's sibling list. */
  preds: ((nodes: XNode[], x: Exec) => XNode[])[];
  /** Preceded by `//` (any ancestor may match the previous step). */
  anyAncestor: boolean;
}

function compileAlt(absolute: boolean, steps: Step[], scope: Scope, where: string, refuse: (w: string) => never): PatternAlt {
  const patternScope: Scope = { ...scope, noCurrent: true, variable: () => refuse('a variable reference in a pattern') };
  const ms: StepMatcher[] = [];
  let anyAncestor = false;
  for (const s of steps) {
    if (s.axis === 'descendant-or-self') {
      anyAncestor = true;
      continue;
    }
    const attr = s.axis === 'attribute';
    const preds = s.preds.map((p) => predicateFilter(p, patternScope, where));
    ms.push({ test: nodeTest(s.test, attr ? ATTRIBUTE : ELEMENT, refuse), attr, preds, anyAncestor });
    anyAncestor = false;
  }
  if (!ms.length) {
    // `/` alone (and `//` is not a pattern).
    return { match: (n) => n.kind === ROOT, priority: -0.5, kind: ROOT };
  }
  const matchAt = (n: XNode, i: number, x: Exec): boolean => {
    const m = ms[i]!;
    if (m.attr ? n.kind !== ATTRIBUTE : n.kind === ATTRIBUTE || n.kind === ROOT) return false;
    if (!m.test(n)) return false;
    const parent = n.parent;
    if (!parent) return false;
    if (m.preds.length) {
      let sibs: XNode[] = [];
      for (const k of m.attr ? parent.attrs : parent.children) if (m.test(k)) sibs.push(k);
      for (const p of m.preds) sibs = p(sibs, x);
      if (!sibs.includes(n)) return false;
    }
    if (i === 0) return !absolute || m.anyAncestor || parent.kind === ROOT;
    if (!m.anyAncestor) return matchAt(parent, i - 1, x);
    for (let a: XNode | null = parent; a; a = a.parent) if (matchAt(a, i - 1, x)) return true;
    return false;
  };
  const last = steps[steps.length - 1]!;
  const lastKind = ms[ms.length - 1]!.attr ? ATTRIBUTE : last.test.k === 'name' || last.test.k === 'any' ? ELEMENT : undefined;
  return {
    match: (n, x) => matchAt(n, ms.length - 1, x),
    priority: steps.length === 1 && !absolute ? defaultPriority(last.test, last.preds.length > 0) : 0.5,
    name: last.test.k === 'name' ? last.test.name : undefined,
    kind: lastKind,
  };
}

function defaultPriority(t: NodeTest, predicates: boolean): number {
  if (predicates) return 0.5;
  if (t.k === 'name') return 0;
  if (t.k === 'pi' && t.target !== undefined) return 0;
  if (t.k === 'prefix') return -0.25;
  return -0.5;
}

function predicateFilter(p: Ast, scope: Scope, where: string): (nodes: XNode[], x: Exec) => XNode[] {
  if (p.t === 'num') {
    const want = p.v;
    return (nodes) => (Number.isInteger(want) && want >= 1 && want <= nodes.length ? [nodes[want - 1]!] : []);
  }
  const f = compileParsed(p, scope, where);
  return (nodes, x) => {
    const out: XNode[] = [];
    for (let i = 0; i < nodes.length; i++) {
      const v = f(nodes[i]!, i + 1, nodes.length, x);
      if (typeof v === 'number' ? v === i + 1 : toBool(v)) out.push(nodes[i]!);
    }
    return out;
  };
}
