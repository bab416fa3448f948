/**
 * Partials compiled into the template that calls them.
 *
 * Handlebars calls a partial at render time: it looks the partial up, copies the call's
 * options, sets the partial's runtime up and runs it as a template of its own. For the
 * shipped template that is a dozen calls a render (one per disk and per NIC among them)
 * and about a sixth of its render time. The partials are fixed once the transform is
 * loaded, so a call that means the same thing written in place is replaced here by the
 * partial's body before compiling.
 *
 * A call is written in place only where that cannot change what it renders:
 * - `{{> name}}`: a name written out, no context argument, no `name=value` pairs (those
 *   make Handlebars render the partial over another object);
 * - the partial reads no `../` path. Inside a partial, `../` never reaches past the
 *   partial's own context; written in place it would reach the caller's;
 * - the call is not inside a block with block parameters (`as |x|`): written in place, a
 *   path `x` in the partial would name the block parameter instead of the context's `x`;
 * - no file of the transform uses decorators (`{{#*inline}}`): an inline partial can
 *   take the place of a file partial at render time;
 * - the partial is not already being written in place further out (a partial calling
 *   itself, directly or not, is called at render time from the first repeat on).
 * Every other call stays a Handlebars partial call; the partials such calls name (and
 * those they call in turn) are compiled and registered on their own for them, the
 * others are not compiled twice.
 *
 * Handlebars writes a standalone `{{> name}}` line's indentation once before the
 * partial's output (with `preventIndent`, as domforge compiles); so does the copy. Each
 * node keeps its `loc`, whose `source` names the partial file, so errors in the copy
 * still name the partial and its line.
 */
type Node = hbs.AST.Node;
type Program = hbs.AST.Program;
type Statement = hbs.AST.Statement;

export interface ParsedPartial {
  file: string;
  ast: Program;
}

/** At most this many statements are copied into one template (a guard against a partial tree that grows exponentially). */
const MAX_COPIED_STATEMENTS = 20_000;

export class PartialInliner {
  private readonly enabled: boolean;
  private readonly inlinable = new Map<string, boolean>();
  private readonly sizes = new Map<string, number>();
  private budget = 0;
  /** The partials written in place at one call or more. */
  readonly used = new Set<string>();

  /**
   * `partials`: every partial of the transform, by the name calls use; `main`: the
   * template; `enabled` false copies trees without writing any partial in place.
   */
  constructor(
    private readonly partials: ReadonlyMap<string, ParsedPartial>,
    main: Program,
    enabled = true,
  ) {
    this.enabled = enabled && !usesDecorators(main) && ![...partials.values()].some((p) => usesDecorators(p.ast));
  }

  /**
   * A copy of `ast` (the template, or the partial `self` for its own compile) with every
   * call that qualifies replaced by the partial's body. `ast` itself is left as it was.
   */
  expand(ast: Program, self?: string): Program {
    const copy = cloneTree(ast);
    if (!this.enabled) return copy;
    this.budget = MAX_COPIED_STATEMENTS;
    this.program(copy, self === undefined ? [] : [self], false);
    return copy;
  }

  private program(p: Program | undefined, stack: string[], underBlockParams: boolean): void {
    if (!p) return;
    const inBlockParams = underBlockParams || (p.blockParams?.length ?? 0) > 0;
    const body: Statement[] = [];
    for (const st of p.body) {
      const copied = st.type === 'PartialStatement' ? this.inline(st as hbs.AST.PartialStatement, stack, inBlockParams) : undefined;
      if (copied) {
        body.push(...copied);
        continue;
      }
      if (st.type === 'BlockStatement') {
        const b = st as hbs.AST.BlockStatement;
        this.program(b.program, stack, inBlockParams);
        this.program(b.inverse, stack, inBlockParams);
      }
      // A partial block's body becomes @partial-block, rendered by the partial: left as it is.
      body.push(st);
    }
    p.body = body;
  }

  private inline(call: hbs.AST.PartialStatement, stack: string[], underBlockParams: boolean): Statement[] | undefined {
    if (underBlockParams || call.params.length > 0 || call.hash) return undefined;
    const name = literalName(call);
    if (name === undefined) return undefined;
    const partial = this.partials.get(name);
    if (!partial || stack.includes(name) || !this.canInline(name, partial)) return undefined;
    let size = this.sizes.get(name);
    if (size === undefined) this.sizes.set(name, (size = countStatements(partial.ast)));
    if (size > this.budget) return undefined;
    const body = cloneTree(partial.ast);
    this.budget -= size;
    this.used.add(name);
    this.program(body, [...stack, name], false);
    const indent = (call as { indent?: string }).indent;
    if (!indent) return body.body;
    const content = { type: 'ContentStatement', value: indent, original: indent, loc: call.loc } as unknown as hbs.AST.ContentStatement;
    return [content, ...body.body];
  }

  private canInline(name: string, partial: ParsedPartial): boolean {
    let ok = this.inlinable.get(name);
    if (ok === undefined) {
      ok = !readsParentPath(partial.ast);
      this.inlinable.set(name, ok);
    }
    return ok;
  }
}

/** A deep copy of a parsed tree (plain objects, arrays and primitives, as the parser makes them). */
function cloneTree<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(cloneTree) as T;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = cloneTree((value as Record<string, unknown>)[key]);
  return copy as T;
}

/** Every node below `n`, depth first (programs, statements, expressions, hash pairs). */
function walk(n: unknown, visit: (node: Node) => boolean | void): boolean {
  if (!n || typeof n !== 'object') return false;
  if (Array.isArray(n)) return n.some((x) => walk(x, visit));
  const node = n as Node & Record<string, unknown>;
  if (typeof node.type === 'string' && visit(node)) return true;
  for (const key of ['body', 'program', 'inverse', 'path', 'params', 'hash', 'pairs', 'value', 'name']) {
    const child = node[key];
    if (child && typeof child === 'object' && walk(child, visit)) return true;
  }
  return false;
}

/** The partials `ast` still calls at render time (by name; `@partial-block` included as written). */
export function calledPartials(ast: Program): Set<string> {
  const names = new Set<string>();
  walk(ast, (n) => {
    if (n.type !== 'PartialStatement' && n.type !== 'PartialBlockStatement') return;
    const name = literalName(n as hbs.AST.PartialStatement);
    if (name !== undefined) names.add(name);
  });
  return names;
}

/** The partial a call names when it is written out (`{{> disk}}`, `{{> "disk"}}`), not computed. */
function literalName(call: hbs.AST.PartialStatement | hbs.AST.PartialBlockStatement): string | undefined {
  const n = call.name as Node & { original?: unknown; value?: unknown };
  return n.type === 'PathExpression' || n.type === 'StringLiteral' || n.type === 'NumberLiteral' ? String(n.original ?? n.value) : undefined;
}

function usesDecorators(ast: Program): boolean {
  return walk(ast, (n) => n.type === 'DecoratorBlock' || n.type === 'Decorator');
}

function readsParentPath(ast: Program): boolean {
  return walk(ast, (n) => n.type === 'PathExpression' && ((n as hbs.AST.PathExpression).depth ?? 0) > 0);
}

function countStatements(ast: Program): number {
  let count = 0;
  walk(ast, (n) => {
    if (n.type.endsWith('Statement')) count++;
  });
  return count;
}
