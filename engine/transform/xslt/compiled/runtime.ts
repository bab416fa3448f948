import { TransformError } from '../../../errors.js';
import { XNode, ROOT, ELEMENT, ATTRIBUTE, TEXT, COMMENT, PI, appendChild, stringValue } from './tree.js';
import { Rtf, isNodeSet, toStr, type Exec, type RuntimeHooks, type Value } from './values.js';
import type { PatternAlt } from './patterns.js';
import { runtimeError, unsupported, type Place } from './refuse.js';
import { FaultTrace, type Site } from './fault.js';

/** An instruction (or a sequence of them), instantiated for a current node, its position and the size of the current node list. */
export type Body = (n: XNode, pos: number, size: number, x: Run) => void;

/** libxslt's default limit on nested template calls (xsltMaxDepth): deeper is an error there too. */
export const MAX_DEPTH = 3000;

export interface TemplateParam {
  name: string;
  slot: number;
  /** The default value, evaluated in the template's new frame. */
  value: (n: XNode, pos: number, size: number, x: Run) => Value;
  site: Site;
}

export interface Template {
  name?: string;
  mode?: string;
  params: TemplateParam[];
  /** Local variable slots the template's frame needs. */
  slots: number;
  body: Body;
  place: Site;
  precedence: number;
}

export interface Rule {
  alt: PatternAlt;
  template: Template;
  precedence: number;
  priority: number;
  /** Position in the stylesheet (later wins a tie, as in libxslt). */
  index: number;
}

export interface GlobalVar {
  name: string;
  isParam: boolean;
  slots: number;
  value: (n: XNode, pos: number, size: number, x: Run) => Value;
  place: Site;
}

export interface KeyDef {
  name: string;
  match: PatternAlt[];
  use: (n: XNode, pos: number, size: number, x: Exec) => Value;
}

/** What the stylesheet compiles to, shared by every render. */
export interface Program {
  modes: Map<string, Rule[]>;
  named: Map<string, Template>;
  globals: GlobalVar[];
  keys: Map<string, KeyDef[]>;
  /** Rule lists per mode and node kind:name, filled lazily. */
  candidates: Map<string, Rule[]>;
}

/** One render's state: globals, key indexes, messages. */
export class Runtime implements RuntimeHooks {
  private readonly values: (Value | undefined)[];
  private readonly computing: boolean[];
  private keyIndex?: Map<string, Map<string, XNode[]>>;
  readonly warnings: string[] = [];
  /** Where a RangeError escaping the render came from (noted as it unwinds). */
  readonly fault = new FaultTrace();
  depth = 0;

  constructor(
    readonly program: Program,
    readonly input: XNode,
    private readonly params: Record<string, string>,
  ) {
    this.values = new Array(program.globals.length);
    this.computing = new Array(program.globals.length).fill(false);
  }

  global(i: number): Value {
    const v = this.values[i];
    if (v !== undefined) return v;
    const g = this.program.globals[i]!;
    if (g.isParam && Object.prototype.hasOwnProperty.call(this.params, g.name)) return (this.values[i] = this.params[g.name]!);
    if (this.computing[i]) throw runtimeError(`the global variable $${g.name} depends on itself`, g.place);
    this.computing[i] = true;
    const x = new Run(this, new Array(g.slots), this.input);
    let r: Value;
    try {
      r = g.value(this.input, 1, 1, x);
    } catch (e) {
      this.fault.at(e, g.place);
      throw e;
    }
    this.computing[i] = false;
    return (this.values[i] = r);
  }

  key(name: string, values: string[], context: XNode): XNode[] {
    if (context.root() !== this.input) throw unsupported('key() on a node outside the input document', { file: '' });
    const index = this.indexFor(name);
    if (values.length === 1) return index.get(values[0]!) ?? [];
    const seen = new Set<XNode>();
    for (const v of values) for (const n of index.get(v) ?? []) seen.add(n);
    return [...seen].sort((a, b) => a.order - b.order);
  }

  private indexFor(name: string): Map<string, XNode[]> {
    this.keyIndex ??= new Map();
    let idx = this.keyIndex.get(name);
    if (idx) return idx;
    idx = new Map();
    const defs = this.program.keys.get(name) ?? [];
    const x = new Run(this, [], this.input);
    const visit = (n: XNode) => {
      for (const d of defs) {
        if (!d.match.some((m) => m.match(n, x))) continue;
        const v = d.use(n, 1, 1, x);
        const keys = isNodeSet(v) ? v.map(stringValue) : [toStr(v)];
        for (const k of keys) {
          const list = idx!.get(k);
          if (!list) idx!.set(k, [n]);
          else if (list[list.length - 1] !== n) list.push(n);
        }
      }
      for (const a of n.attrs) visit(a);
      for (const c of n.children) visit(c);
    };
    visit(this.input);
    this.keyIndex.set(name, idx);
    return idx;
  }
}

/** The mutable state instructions run with: the frame of locals, the output parent, the current node for current(). */
export class Run implements Exec {
  out: XNode;
  constructor(
    readonly rt: Runtime,
    public frame: Value[],
    public cur: XNode,
  ) {
    this.out = new XNode(ROOT, '', '');
  }
}

// ---- building the result tree ----

export function addText(x: Run, s: string): void {
  if (s === '') return;
  const c = x.out.children;
  const last = c[c.length - 1];
  if (last && last.kind === TEXT) last.value += s;
  else appendChild(x.out, new XNode(TEXT, '', s));
}

export function addAttribute(x: Run, name: string, value: string, place: Place): void {
  const el = x.out;
  if (el.kind !== ELEMENT) throw unsupported('xsl:attribute where there is no element to add it to', place);
  if (el.children.length) throw unsupported('xsl:attribute after children were added to the element', place);
  for (const a of el.attrs) {
    if (a.name === name) {
      a.value = value;
      return;
    }
  }
  const a = new XNode(ATTRIBUTE, name, value);
  a.parent = el;
  el.attrs.push(a);
}

/** xsl:copy-of of one node: a deep copy (attributes are added to the element being built). */
export function copyNode(x: Run, n: XNode, place: Place): void {
  switch (n.kind) {
    case TEXT:
      addText(x, n.value);
      return;
    case ATTRIBUTE:
      addAttribute(x, n.name, n.value, place);
      return;
    case COMMENT:
    case PI:
      appendChild(x.out, new XNode(n.kind, n.name, n.value));
      return;
    case ROOT:
      for (const c of n.children) copyNode(x, c, place);
      return;
    case ELEMENT: {
      const el = new XNode(ELEMENT, n.name, '');
      appendChild(x.out, el);
      for (const a of n.attrs) {
        const c = new XNode(ATTRIBUTE, a.name, a.value);
        c.parent = el;
        el.attrs.push(c);
      }
      const saved = x.out;
      x.out = el;
      for (const c of n.children) copyNode(x, c, place);
      x.out = saved;
    }
  }
}

export function copyValue(x: Run, v: Value, place: Place): void {
  if (isNodeSet(v)) for (const n of v) copyNode(x, n, place);
  else if (v instanceof Rtf) copyNode(x, v.root, place);
  else addText(x, toStr(v));
}

/** Runs a body into a fresh root: a result tree fragment (variables, parameters, messages). */
export function fragment(body: Body, n: XNode, pos: number, size: number, x: Run): Rtf {
  const saved = x.out;
  const root = new XNode(ROOT, '', '');
  x.out = root;
  try {
    body(n, pos, size, x);
  } finally {
    x.out = saved;
  }
  return new Rtf(root);
}

// ---- template rules ----

function candidates(p: Program, mode: string, n: XNode): Rule[] {
  const key = `${mode}\0${n.kind}\0${n.kind === ELEMENT || n.kind === ATTRIBUTE ? n.name : ''}`;
  let list = p.candidates.get(key);
  if (!list) {
    list = (p.modes.get(mode) ?? []).filter((r) => (r.alt.kind === undefined || r.alt.kind === n.kind) && (r.alt.name === undefined || (n.kind === r.alt.kind && r.alt.name === n.name)));
    p.candidates.set(key, list);
  }
  return list;
}

/** The rule with the highest import precedence, then priority, then the last in the stylesheet. */
export function findRule(p: Program, mode: string, n: XNode, x: Run): Rule | undefined {
  for (const r of candidates(p, mode, n)) if (r.alt.match(n, x)) return r;
  return undefined;
}

export function sortRules(rules: Rule[]): void {
  rules.sort((a, b) => b.precedence - a.precedence || b.priority - a.priority || b.index - a.index);
}

/** Instantiates a template: a new frame, parameters bound (passed values first, defaults otherwise). */
export function invoke(t: Template, n: XNode, pos: number, size: number, x: Run, passed: Map<string, Value> | undefined): void {
  const rt = x.rt;
  if (++rt.depth > MAX_DEPTH) {
    throw new TransformError('TRANSFORM_RUNTIME', `compiled: more than ${MAX_DEPTH} nested template calls (infinite recursion?)${t.name ? ` in template ${t.name}` : ''}`, t.place);
  }
  const savedFrame = x.frame;
  const frame: Value[] = t.slots ? new Array(t.slots) : savedFrame;
  x.frame = frame;
  const params = t.params;
  let i = 0;
  try {
    for (; i < params.length; i++) {
      const p = params[i]!;
      frame[p.slot] = passed?.get(p.name) ?? p.value(n, pos, size, x);
    }
    t.body(n, pos, size, x);
  } catch (e) {
    rt.fault.at(e, i < params.length ? params[i]!.site : t.place);
    throw e;
  } finally {
    x.frame = savedFrame;
    rt.depth--;
  }
}

/** xsl:apply-templates over a node list in one mode (built-in rules where no template matches). */
export function applyTemplates(nodes: XNode[], mode: string, x: Run, passed: Map<string, Value> | undefined): void {
  const size = nodes.length;
  const p = x.rt.program;
  for (let i = 0; i < size; i++) {
    const n = nodes[i]!;
    const r = findRule(p, mode, n, x);
    if (r) invoke(r.template, n, i + 1, size, x, passed);
    else builtIn(n, mode, x);
  }
}

function builtIn(n: XNode, mode: string, x: Run): void {
  switch (n.kind) {
    case ROOT:
    case ELEMENT:
      if (++x.rt.depth > MAX_DEPTH) throw new TransformError('TRANSFORM_RUNTIME', `compiled: more than ${MAX_DEPTH} nested template calls`, {});
      try {
        applyTemplates(n.children, mode, x, undefined);
      } finally {
        x.rt.depth--;
      }
      return;
    case TEXT:
    case ATTRIBUTE:
      addText(x, n.value);
  }
}
