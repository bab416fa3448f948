/**
 * Compile-time checks on a parsed template or partial, so an admin learns about a mistake
 * when the transform loads, with its file and line, rather than from a render:
 * - a helper call (`{{name arg}}`, `(name arg)`, `{{#name arg}}`) must name a known helper;
 * - a partial must be named literally (`{{> disk}}`), never computed;
 * - `{{#if}}`, `{{#unless}}`, `{{#with}}` and `{{#each}}` are blocks and take exactly one value;
 *   `lookup` is not a block and takes exactly two;
 * - `{{#let}}` is a block of name=value pairs that sets none of Handlebars's own `@` names;
 * - a triple-stash (`{{{x}}}` or `{{& x}}`) that reads a value is refused unless the file
 *   is trusted (see TRUST_MARK).
 */
import { TransformError } from '../../errors.js';

type Node = hbs.AST.Node;

/** The comment that marks a file trusted: it must be the first thing in the file. */
export const TRUST_MARK = 'domforge: trusted';

export interface PartialUse {
  name: string;
  line: number;
  column: number;
}

export interface CheckReport {
  /** Partials the file calls, in order of first use (inline partials it defines excluded). */
  partials: PartialUse[];
  /** The file starts with the trust comment. */
  trustedMark: boolean;
}

export interface CheckOptions {
  file: string;
  knownHelpers: ReadonlySet<string>;
  /** Triple-stash allowed (the file is marked trusted or the caller trusts every file). */
  trusted: boolean;
}

/** Whether a template begins (after whitespace) with `{{!-- domforge: trusted --}}`. */
export function hasTrustMark(ast: hbs.AST.Program): boolean {
  for (const st of ast.body) {
    if (st.type === 'ContentStatement' && (st as hbs.AST.ContentStatement).value.trim() === '') continue;
    return st.type === 'CommentStatement' && normalizeMark((st as hbs.AST.CommentStatement).value) === TRUST_MARK;
  }
  return false;
}

function normalizeMark(s: string): string {
  return s.trim().replace(/\s+/g, ' ').replace(/^domforge\s*:\s*/, 'domforge: ');
}

/** Data variable names `{{#let}}` may not set (Handlebars's own). */
const RESERVED_DATA: ReadonlySet<string> = new Set(['root', 'index', 'key', 'first', 'last', 'partial-block', '_parent']);

/**
 * Handlebars's own helpers: whether each is a block, and how many values it takes. Handlebars
 * checks both only when the helper runs, and fails there with a JavaScript message and no line.
 */
const BUILTINS: ReadonlyMap<string, { block: boolean; values: number; usage: string }> = new Map([
  ['if', { block: true, values: 1, usage: '{{#if value}}...{{/if}}' }],
  ['unless', { block: true, values: 1, usage: '{{#unless value}}...{{/unless}}' }],
  ['with', { block: true, values: 1, usage: '{{#with value}}...{{/with}}' }],
  ['each', { block: true, values: 1, usage: '{{#each value}}...{{/each}}' }],
  ['lookup', { block: false, values: 2, usage: '{{lookup object key}}' }],
]);

export function checkTemplate(ast: hbs.AST.Program, options: CheckOptions): CheckReport {
  const trustedMark = hasTrustMark(ast);
  const trusted = options.trusted || trustedMark;
  const partials: PartialUse[] = [];
  const inline = new Set<string>();
  const seen = new Set<string>();

  const fail = (node: Node, message: string): never => {
    throw new TransformError('TRANSFORM_SYNTAX', message, { file: options.file, line: node.loc?.start.line, column: node.loc ? node.loc.start.column + 1 : undefined });
  };

  const helperCall = (node: Node, path: hbs.AST.Expression, kind: string) => {
    const name = (path as hbs.AST.PathExpression).original ?? String((path as hbs.AST.Literal & { value: unknown }).value);
    if (path.type !== 'PathExpression' || (path as hbs.AST.PathExpression).data || (path as hbs.AST.PathExpression).parts.length !== 1 || !options.knownHelpers.has(name)) {
      fail(node, `unknown helper "${name}" in ${kind} (known helpers: ${[...options.knownHelpers].sort().join(', ')})`);
    }
  };

  const readsValue = (n: Node | undefined, isCallee = false): boolean => {
    if (!n) return false;
    switch (n.type) {
      case 'PathExpression':
        return !(isCallee && options.knownHelpers.has((n as hbs.AST.PathExpression).original));
      case 'SubExpression': {
        const s = n as hbs.AST.SubExpression;
        return readsValue(s.path, true) || s.params.some((p) => readsValue(p)) || (s.hash?.pairs ?? []).some((p) => readsValue(p.value));
      }
      default:
        return false; // literals
    }
  };

  /** The entry for Handlebars's own helper that `path` names, if it names one. */
  const builtin = (path: hbs.AST.Expression) => {
    const p = path as hbs.AST.PathExpression;
    return path.type === 'PathExpression' && !p.data && p.parts.length === 1 ? BUILTINS.get(p.original) : undefined;
  };

  /** `{{if x}}` or `(each x)`: Handlebars's block helpers fail at render time when not used as blocks. */
  const notABlock = (node: Node, path: hbs.AST.Expression) => {
    const name = (path as hbs.AST.PathExpression).original;
    const wanted = builtin(path);
    if (wanted?.block) fail(node, `${name} is a block helper: write ${wanted.usage}`);
    if (path.type === 'PathExpression' && name === 'let') fail(node, 'let is a block helper: write {{#let name=value}}...{{/let}}');
  };

  /** `{{#lookup x}}...{{/lookup}}`: Handlebars's other helpers fail at render time when used as blocks. */
  const aBlock = (node: Node, path: hbs.AST.Expression) => {
    const wanted = builtin(path);
    if (wanted && !wanted.block) fail(node, `${(path as hbs.AST.PathExpression).original} is not a block helper: write ${wanted.usage}`);
  };

  /** `{{lookup}}`, `(lookup x)`, `{{#if}}`: a built-in helper given the wrong number of values. */
  const valueCount = (node: Node, path: hbs.AST.Expression, count: number, shown: string) => {
    const wanted = builtin(path);
    if (wanted === undefined || count === wanted.values) return;
    if (wanted.block) fail(node, `${shown} takes exactly one value (it has ${count})`); // every block here takes one
    fail(node, `${shown} takes exactly ${wanted.values} values (it has ${count}): ${wanted.usage}`);
  };

  const expr = (n: Node | undefined): void => {
    if (!n) return;
    if (n.type === 'SubExpression') {
      const s = n as hbs.AST.SubExpression;
      notABlock(s, s.path);
      valueCount(s, s.path, s.params.length, `(${(s.path as hbs.AST.PathExpression).original ?? ''} ...)`);
      helperCall(s, s.path, `(${(s.path as hbs.AST.PathExpression).original ?? ''} ...)`);
      s.params.forEach(expr);
      s.hash?.pairs.forEach((p) => expr(p.value));
    }
  };

  const partialName = (node: Node, name: hbs.AST.Expression | hbs.AST.SubExpression): string => {
    if (name.type === 'PathExpression') return (name as hbs.AST.PathExpression).original;
    if (name.type === 'StringLiteral' || name.type === 'NumberLiteral') return String((name as hbs.AST.StringLiteral).value);
    return fail(node, 'a partial must be named in the template ({{> disk}}), not computed');
  };

  const visit = (n: Node | undefined | null): void => {
    if (!n) return;
    switch (n.type) {
      case 'Program':
        (n as hbs.AST.Program).body.forEach(visit);
        return;
      case 'MustacheStatement': {
        const m = n as hbs.AST.MustacheStatement;
        notABlock(m, m.path);
        valueCount(m, m.path, m.params.length, `{{${(m.path as hbs.AST.PathExpression).original ?? ''}}}`);
        if (m.params.length || m.hash) helperCall(m, m.path, `{{${(m.path as hbs.AST.PathExpression).original ?? ''} ...}}`);
        else expr(m.path);
        m.params.forEach(expr);
        m.hash?.pairs.forEach((p) => expr(p.value));
        if (!m.escaped && !trusted && (readsValue(m.path, true) || m.params.some((p) => readsValue(p)) || (m.hash?.pairs ?? []).some((p) => readsValue(p.value)))) {
          const shown = (m.path as hbs.AST.PathExpression).original ?? '...';
          fail(m, `{{{${shown}}}} writes a value without XML escaping; write {{${shown}}} (escaped for XML), use the xml helper for kept XML, or mark the file trusted with {{!-- ${TRUST_MARK} --}} as its first line`);
        }
        return;
      }
      case 'BlockStatement': {
        const b = n as hbs.AST.BlockStatement;
        const name = (b.path as hbs.AST.PathExpression).original;
        aBlock(b, b.path);
        if (b.params.length || b.hash) helperCall(b, b.path, `{{#${name ?? ''} ...}}`);
        valueCount(b, b.path, b.params.length, `{{#${name}}}`);
        if (name === 'let') {
          if (b.params.length) fail(b, 'let: takes only name=value pairs ({{#let name=value}})');
          for (const pair of b.hash?.pairs ?? []) {
            if (RESERVED_DATA.has(pair.key)) fail(pair, `let: @${pair.key} is Handlebars's own and cannot be set`);
          }
        }
        b.params.forEach(expr);
        b.hash?.pairs.forEach((p) => expr(p.value));
        visit(b.program);
        visit(b.inverse);
        return;
      }
      case 'PartialStatement':
      case 'PartialBlockStatement': {
        const p = n as hbs.AST.PartialStatement & { program?: hbs.AST.Program };
        const name = partialName(p, p.name);
        p.params.forEach(expr);
        p.hash?.pairs.forEach((h) => expr(h.value));
        if (name !== '@partial-block' && !seen.has(name)) {
          seen.add(name);
          partials.push({ name, line: p.loc.start.line, column: p.loc.start.column + 1 });
        }
        visit(p.program);
        return;
      }
      case 'DecoratorBlock': {
        const d = n as hbs.AST.DecoratorBlock;
        const dname = (d.path as hbs.AST.PathExpression).original;
        if (dname !== 'inline') fail(d, `unknown decorator "*${dname}" (only *inline partials are supported)`);
        const first = d.params[0];
        if (first?.type !== 'StringLiteral') fail(d, 'an inline partial needs a quoted name: {{#*inline "name"}}');
        inline.add((first as hbs.AST.StringLiteral).value);
        visit(d.program);
        return;
      }
      case 'Decorator':
        return fail(n, 'decorators are not supported');
      default:
        return; // content, comments
    }
  };
  visit(ast);
  return { partials: partials.filter((p) => !inline.has(p.name)), trustedMark };
}
