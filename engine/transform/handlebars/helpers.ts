/**
 * The helpers every domforge Handlebars template has. Each is a small pure function of its
 * arguments; `registerHelpers` wraps them so any error names the template file and line.
 * the README's Handlebars section lists them with examples.
 */
import type { HelperOptions } from 'handlebars';
import { TransformError } from '../../errors.js';
import { keptXml } from '../../instance/kept-xml.js';
import type { Instance } from '../../instance/model.js';
import { hasPartition, nameOnBus, nextFreeName, suffixOfName } from './device-names.js';
import type { HandlebarsEnv } from './environment.js';
import { eachHelper } from './each.js';
import { isStackOverflow } from './recursion.js';

/** Thrown by a helper on bad input; turned into a TransformError with the template's place. */
class HelperError extends Error {
  constructor(
    message: string,
    readonly code: 'TRANSFORM_MESSAGE' | 'TRANSFORM_RUNTIME' = 'TRANSFORM_RUNTIME',
  ) {
    super(message);
  }
}

/** Handlebars's notion of empty, as in `{{#if}}`: undefined, null, false, '', 0, NaN, []. */
export function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return !!v;
}

/** Missing values compare as '' and numbers compare with their text (`eq bitness "32"`). */
function comparable(v: unknown): string {
  return v == null ? '' : String(v);
}

function text(v: unknown, helper: string, what = 'argument'): string {
  if (v == null) return '';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new HelperError(`${helper}: expected text as ${what}, got ${Array.isArray(v) ? 'a list' : typeof v}`);
}

function num(v: unknown, helper: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new HelperError(`${helper}: expected a number, got ${JSON.stringify(v ?? null)}`);
  return n;
}

/** Helper implementations; the last argument Handlebars passes (options) is already removed. */
export const HELPERS: Record<string, (...args: unknown[]) => unknown> = {
  // equality and logic
  eq: (a, b) => comparable(a) === comparable(b),
  ne: (a, b) => comparable(a) !== comparable(b),
  and: (...xs) => xs.length > 0 && xs.every(truthy),
  or: (...xs) => xs.some(truthy),
  not: (x) => !truthy(x),
  ternary: (c, a, b) => (truthy(c) ? a : b),
  default: (v, fallback) => (v == null || v === '' ? fallback : v),

  // text
  lower: (s) => text(s, 'lower').toLowerCase(),
  upper: (s) => text(s, 'upper').toUpperCase(),
  replace: (s, find, by) => {
    const f = text(find, 'replace', 'the text to find');
    if (f === '') throw new HelperError('replace: the text to find must not be empty');
    return text(s, 'replace').split(f).join(text(by, 'replace', 'the replacement'));
  },
  startsWith: (s, p) => text(s, 'startsWith').startsWith(text(p, 'startsWith')),
  contains: (s, p) => text(s, 'contains').includes(text(p, 'contains')),
  substringAfter: (s, p) => {
    const t = text(s, 'substringAfter');
    const i = t.indexOf(text(p, 'substringAfter'));
    return i < 0 ? '' : t.slice(i + text(p, 'substringAfter').length);
  },
  normalizeSpace: (s) => text(s, 'normalizeSpace').trim().replace(/\s+/g, ' '),
  concat: (...xs) => xs.map((x) => text(x, 'concat')).join(''),

  // numbers (memory units, positions)
  add: (a, b) => num(a, 'add') + num(b, 'add'),
  mul: (a, b) => num(a, 'mul') * num(b, 'mul'),
  div: (a, b) => {
    const d = num(b, 'div');
    if (d === 0) throw new HelperError('div: division by zero');
    return Math.floor(num(a, 'div') / d);
  },

  // device names
  devName: (name, bus) => nameOnBus(text(name, 'devName'), text(bus, 'devName', 'the bus')),
  devLetter: (n) => {
    const i = num(n, 'devLetter');
    return Number.isInteger(i) && i >= 0 && i < 26 ? String.fromCharCode(97 + i) : '';
  },
  devSuffix: (name) => suffixOfName(text(name, 'devSuffix')),
  hasPartition: (name) => hasPartition(text(name, 'hasPartition')),
  nextFreeDev: (instance, prefix) => {
    const i = instance as Partial<Instance> | undefined;
    if (!i || !i.disks || !Array.isArray(i.volumes)) throw new HelperError('nextFreeDev: the first argument must be the instance (e.g. `this` or `@root.instance`)');
    return nextFreeName(i as Instance, text(prefix ?? 'sd', 'nextFreeDev', 'the prefix'));
  },

  // output
  fail: (...parts) => {
    throw new HelperError(parts.map((p) => text(p, 'fail')).join('') || 'the template called fail', 'TRANSFORM_MESSAGE');
  },
};

/** `{{xml value}}`: XML kept verbatim in the instance (a volume's `<disk>`), checked well-formed, written unescaped. */
function xmlHelper(env: HandlebarsEnv) {
  return (value: unknown) => {
    if (value == null || value === '') return '';
    const s = text(value, 'xml');
    let markup;
    try {
      markup = keptXml(s).markup;
    } catch (e) {
      throw new HelperError(`xml: the value is not one well-formed XML element: ${(e as Error).message}`);
    }
    return new env.SafeString(markup);
  };
}

/**
 * `{{#let name=value ...}}...{{/let}}`: the block sees each value as `@name` (and so do
 * partials it calls). Used as a block, with name=value pairs only and none of
 * Handlebars's own data names: checked when the template loads (checks.ts).
 *
 * The frame is made as Handlebars's createFrame makes one (a copy of the enclosing data
 * with `_parent` pointing at it; data lookups see own properties only), copied together
 * with the new values by one Object.assign, several times faster than createFrame's for-in.
 */
function letHelper(this: unknown, options: HelperOptions): unknown {
  const parent = (options.data ?? {}) as Record<string, unknown>;
  const data: Record<string, unknown> = Object.assign({}, parent, options.hash);
  data._parent = parent;
  return options.fn(this, { data });
}

/** Where a helper error is reported: the file being rendered (main template or partial). */
export type CurrentFile = () => string;

/** Registers every helper on an environment, each wrapped to report the template's file and line. */
export function registerHelpers(env: HandlebarsEnv, currentFile: CurrentFile): void {
  const all: Record<string, (...args: unknown[]) => unknown> = { ...HELPERS, xml: xmlHelper(env) };
  for (const [name, fn] of Object.entries(all)) {
    // Called for every helper in every render: the common arities are passed on without
    // building an argument array (options, always last, is dropped).
    env.registerHelper(name, function (this: unknown, a?: unknown, b?: unknown, c?: unknown) {
      const n = arguments.length - 1;
      try {
        switch (n) {
          case 0:
            return fn.call(this);
          case 1:
            return fn.call(this, a);
          case 2:
            return fn.call(this, a, b);
          case 3:
            return fn.call(this, a, b, c);
          default:
            return fn.apply(this, Array.prototype.slice.call(arguments, 0, n));
        }
      } catch (e) {
        const options = arguments[n] as (HelperOptions & { loc?: Loc }) | undefined;
        throw placeError(e, name, options?.loc?.source ?? currentFile(), options?.loc);
      }
    });
  }
  env.registerHelper('each', eachHelper);
  env.registerHelper('let', letHelper);
}

interface Loc {
  /** The file the call is written in (templates are parsed with it; see inline-partials.ts). */
  source?: string;
  start: { line: number; column: number };
}

/** A helper's failure as a TransformError at the helper call; errors already placed, and a stack overflow (placed by the render: recursion.ts), pass through. */
function placeError(e: unknown, helper: string, file: string, loc: Loc | undefined): unknown {
  if (e instanceof TransformError || isStackOverflow(e)) return e;
  const place = { file, line: loc?.start.line, column: loc ? loc.start.column + 1 : undefined, cause: e };
  if (e instanceof HelperError) return new TransformError(e.code, e.message, place);
  return new TransformError('TRANSFORM_RUNTIME', `helper ${helper} failed: ${(e as Error)?.message ?? String(e)}`, place);
}

/** Names of every domforge helper plus Handlebars's built-in ones: what a template may call. */
export const KNOWN_HELPERS: ReadonlySet<string> = new Set([...Object.keys(HELPERS), 'xml', 'let', 'if', 'unless', 'each', 'with', 'lookup', 'log']);
