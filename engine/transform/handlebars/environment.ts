import type Handlebars from 'handlebars';
import { handlebarsLibrary } from './library.js';
import { xmlEscapeExpression } from './escape.js';
import { PartialCalls } from './recursion.js';

/** The helper slot holding the function compiled code calls for `{{...}}`; `#` keeps templates from naming it. */
export const ESCAPE_SLOT = 'domforge#xmlEscape';

export type HandlebarsEnv = typeof Handlebars;

/** Handlebars's compiler internals this module relies on (documented extension points, untyped). */
interface CompilerInternals {
  Compiler: new () => { compile(ast: hbs.AST.Program, options: object): unknown };
  JavaScriptCompiler: JsCompilerClass;
}
interface JsCompilerClass {
  new (): JsCompiler;
  prototype: JsCompiler;
}
interface JsCompiler {
  compiler: JsCompilerClass;
  compile(environment: unknown, options: object, context: unknown, asObject: boolean): TemplateSpecification;
  appendEscaped(): void;
  invokePartial(isDynamic: boolean, name: string | undefined, indent: string | undefined): void;
  push(expr: unknown): unknown;
  popStack(): unknown;
  source: { currentLocation?: { source?: string; start?: { line: number; column: number } }; wrap(chunk: unknown[]): unknown; functionCall(fn: unknown, type: string, params: unknown[]): unknown };
  pushSource(s: unknown): void;
  appendToBuffer(parts: unknown[]): unknown;
  aliasable(name: string): unknown;
  internalNameLookup(parent: unknown, name: string): unknown;
  objectLiteral(obj: Record<string, unknown>): unknown;
  nameLookup(parent: unknown, name: string, type?: string): unknown;
  options: { constants?: Constants; knownHelpersOnly?: boolean; knownHelpers?: Record<string, boolean> };
}

/**
 * Values compiled code shares instead of building at every helper call: each call's
 * `loc` (file, line and column, read only when a helper fails) and the empty hash of a
 * call without name=value pairs (frozen: no helper writes to its hash).
 */
interface Constants {
  locs: unknown[];
  noHash: Readonly<Record<string, never>>;
  /** Every partial call still made at render time, to name the one that recursed (recursion.ts). */
  partialCalls: PartialCalls;
}

/**
 * A Handlebars environment of its own (helpers and partials registered here do not leak
 * into other users of the library) whose `{{...}}` escapes for XML instead of HTML.
 *
 * Handlebars compiles `{{x}}` to a call of `container.escapeExpression`, which cannot be
 * replaced per environment; its documented extension point is a JavaScriptCompiler
 * subclass, so the escaped append is pointed at our function instead. The same subclass
 * changes how the compiled code reads, never what it writes: own properties and known
 * helpers are read in place (`ownLookup`, `nameLookup`), and each helper call's `loc`
 * and empty hash come from a table built once (`sharedConstants`).
 */
export function createEnvironment(): HandlebarsEnv {
  const env = handlebarsLibrary().create();
  const internals = env as unknown as CompilerInternals;
  const Base = internals.JavaScriptCompiler;
  function XmlJavaScriptCompiler(this: JsCompiler) {
    Base.call(this as never);
  }
  XmlJavaScriptCompiler.prototype = Object.create(Base.prototype) as JsCompiler;
  XmlJavaScriptCompiler.prototype.compiler = XmlJavaScriptCompiler as unknown as JsCompilerClass;
  XmlJavaScriptCompiler.prototype.appendEscaped = function (this: JsCompiler) {
    this.pushSource(this.appendToBuffer([this.aliasable(`container.helpers[${JSON.stringify(ESCAPE_SLOT)}].escape`), '(', this.popStack(), ')']));
  };
  XmlJavaScriptCompiler.prototype.nameLookup = function (this: JsCompiler, parent: unknown, name: string, type?: string) {
    // A known helper is an own property of the helpers object (domforge registers every
    // name it lets templates call, checks.ts refuses the rest): read it in place.
    if (type === 'helper' && parent === 'helpers' && this.options.knownHelpersOnly && this.options.knownHelpers?.[name] === true && name !== 'constructor' && name !== '__proto__') {
      return ['helpers[', JSON.stringify(name), ']'];
    }
    return Base.prototype.nameLookup.call(this, parent, name, type);
  };
  XmlJavaScriptCompiler.prototype.internalNameLookup = function (this: JsCompiler, parent: unknown, name: string) {
    return ownLookup(this, parent, name, Base.prototype.internalNameLookup.call(this, parent, name));
  };
  XmlJavaScriptCompiler.prototype.objectLiteral = function (this: JsCompiler, obj: Record<string, unknown>) {
    return Base.prototype.objectLiteral.call(this, sharedConstants(this, obj));
  };
  XmlJavaScriptCompiler.prototype.invokePartial = function (this: JsCompiler, isDynamic, name, indent) {
    Base.prototype.invokePartial.call(this, isDynamic, name, indent);
    tracePartialCall(this, isDynamic ? undefined : name);
  };
  internals.JavaScriptCompiler = XmlJavaScriptCompiler as unknown as JsCompilerClass;
  // An object, not a function: Handlebars wraps function helpers to add to their last
  // argument (options), which an escape function called with one value does not have.
  env.registerHelper(ESCAPE_SLOT, { escape: xmlEscapeExpression } as unknown as Handlebars.HelperDelegate);
  const constants: Constants = { locs: [], noHash: Object.freeze({}), partialCalls: new PartialCalls() };
  env.registerHelper(CONSTANTS_SLOT, constants as unknown as Handlebars.HelperDelegate);
  return env;
}

/** The helper slot holding the environment's Constants. */
const CONSTANTS_SLOT = 'domforge#constants';

/**
 * A helper call's options object (`{name, hash, data, loc, ...}`, which Handlebars
 * writes as an object literal built at every call) with its `loc` and an empty hash read
 * from the environment's Constants instead: three objects fewer per call. `loc` is the
 * same object at every call from one place in the template, as Handlebars's would be
 * equal.
 */
function sharedConstants(compiler: JsCompiler, obj: Record<string, unknown>): Record<string, unknown> {
  const constants = compiler.options.constants;
  if (!constants || typeof obj.loc !== 'string' || obj.loc === 'undefined') return obj;
  const slot = `container.helpers[${JSON.stringify(CONSTANTS_SLOT)}]`;
  const index = constants.locs.push(Object.freeze(JSON.parse(obj.loc) as object)) - 1;
  const shared: Record<string, unknown> = { ...obj, loc: [compiler.aliasable(`${slot}.locs`), `[${index}]`] };
  if (obj.hash === '{}') shared.hash = compiler.aliasable(`${slot}.noHash`);
  return shared;
}

/**
 * The partial call Handlebars's invokePartial just compiled (`container.invokePartial(…)`,
 * on top of the stack) made to run through the environment's PartialCalls with its place,
 * so that a call that recurses without end is named (recursion.ts). What it renders is the same.
 */
function tracePartialCall(compiler: JsCompiler, name: string | undefined): void {
  const calls = compiler.options.constants?.partialCalls;
  if (!calls) return;
  const loc = compiler.source.currentLocation;
  const index = calls.add({ file: loc?.source, line: loc?.start?.line, column: loc?.start ? loc.start.column + 1 : undefined, what: `{{> ${name ?? '(…)'}}}` });
  const call = compiler.popStack();
  const run = compiler.aliasable(`container.helpers[${JSON.stringify(CONSTANTS_SLOT)}].partialCalls`);
  compiler.push(compiler.source.functionCall(run, 'run', [String(index), compiler.source.wrap(['() => ', call])]));
}

/** The partial calls of the environment `createEnvironment` made. */
export function partialCallsOf(env: HandlebarsEnv): PartialCalls {
  return ((env.helpers as Record<string, unknown>)[CONSTANTS_SLOT] as Constants).partialCalls;
}

/**
 * `a.b` in a template: Handlebars compiles each step to `lookupProperty(a, "b")`, one
 * runtime function that reads the own property `b` and refuses what comes from a
 * prototype. Every step of every template goes through that one function, so V8 sees
 * every shape of object at one property read and keeps none of them in its caches.
 *
 * Compiled here instead to `(hasOwnProperty.call(a, "b") ? a["b"] : lookupProperty(a, "b"))`:
 * an own property is read in place, where V8 caches the read for the objects met at that
 * place; anything else (a missing name, a name from a prototype) still goes to
 * Handlebars's function, so the result and the refusals are the same. `constructor` and
 * `__proto__` always go to Handlebars's function, which has a rule of its own for an own
 * `constructor`. `parent` is what Handlebars passes (a variable or a `container.data(...)`
 * call, which it already evaluates twice), so repeating it evaluates nothing new.
 */
function ownLookup(compiler: JsCompiler, parent: unknown, name: string, viaRuntime: unknown): unknown {
  if (name === 'constructor' || name === '__proto__') return viaRuntime;
  const key = JSON.stringify(name);
  return ['(', compiler.aliasable('Object.prototype.hasOwnProperty'), '.call(', parent, ',', key, ') ? ', parent, '[', key, '] : ', viaRuntime, ')'];
}

/** Handlebars compile options domforge uses for every template and partial. */
export const COMPILE_OPTIONS = {
  data: true,
  // Partial output is not re-indented: indentation inside text content would change values.
  preventIndent: true,
  // Context lookups see own properties only (the default); no prototype access.
} as const;

/**
 * Compiles a parsed template now (Handlebars's own `compile` waits for the first call),
 * so every compile error surfaces at load time.
 *
 * `knownHelpers` are every helper a template may call (checks.ts refuses any other before
 * this runs). Naming them lets Handlebars compile `{{#if (eq a b)}}` to direct calls and
 * `{{name}}` to a plain lookup, instead of asking at every render whether `name` is a
 * helper: the output is the same, since the context is plain data (no functions) and a
 * known helper is still called first, as before.
 *
 * `top` marks the template domforge calls itself (not a partial): see `setUpOnce`.
 */
export function compileAst(env: HandlebarsEnv, ast: hbs.AST.Program, knownHelpers: Iterable<string> = [], top = false): Handlebars.TemplateDelegate {
  const internals = env as unknown as CompilerInternals;
  const known: Record<string, boolean> = {};
  for (const name of knownHelpers) known[name] = true;
  const constants = (env.helpers as Record<string, unknown>)[CONSTANTS_SLOT] as Constants | undefined;
  const options = { ...COMPILE_OPTIONS, knownHelpers: known, knownHelpersOnly: true, constants };
  const environment = new internals.Compiler().compile(ast, options);
  const spec = new internals.JavaScriptCompiler().compile(environment, options, undefined, true);
  const state = streamline(env, spec as unknown as Spec, top);
  const template = env.template(spec);
  if (top) setUpOnce(template, state);
  return template;
}

/*
 * Handlebars's runtime (runtime.js), as used by every render, spends much of its time on
 * work whose result never changes once a transform is loaded. Three pieces are done once
 * here instead; each leaves what templates see and write unchanged.
 *
 * 1. Every block (`{{#if}}`, `{{#each}}`, `{{#let}}`) asks `container.fn(i)` for its
 *    compiled body, which builds the key `i + "_d"` and stores the body's decorator on it
 *    again at every call. The bodies and decorators are fixed: a table built once serves.
 * 2. At each top-level call, `_setup` wraps every helper in a new closure and copies the
 *    partials and decorators. domforge registers helpers and partials only while loading
 *    and passes none at render time, so the first setup serves every later plain call.
 * 3. Those wrappers add `options.lookupProperty` before calling a helper, which only
 *    Handlebars's `lookup` reads; every other helper is called directly.
 * 4. Each block call builds its body's wrapper with `container.program(i, data, ...)`:
 *    a closure that reads its optional argument through `arguments` and runs the body's
 *    decorators. Where the body has no decorator and the template tracks no `../`
 *    contexts and no block parameters (the common case), the wrapper built here is a
 *    plain closure calling the body with the same arguments; the rest goes to Handlebars.
 * The runtime's shape is checked before it is touched; another version is left as it is.
 */

/** Helpers that read `options.lookupProperty` (Handlebars's own `lookup`): they keep the runtime's wrapper. */
const READS_LOOKUP_PROPERTY = new Set(['lookup']);

interface Container {
  fn?: (i: number) => unknown;
  program?: ProgramFactory;
  helpers?: Record<string, unknown>;
  partials?: Record<string, unknown>;
}
type ProgramFactory = (this: Container, i: number, data?: unknown, declaredBlockParams?: number, blockParams?: unknown, depths?: unknown) => unknown;
/** What a block helper gets as `options.fn`: the body, plus three numbers Handlebars sets on it. */
type BlockBody = ((context: unknown, options?: { data?: unknown }) => unknown) & { program: number; depth: number; blockParams: number };
type Program = ((...args: unknown[]) => unknown) & { decorator?: unknown };
type Spec = Record<string, unknown> & { main: Program };

interface RuntimeState {
  /** The last top-level setup merged nothing but the environment's own helpers. */
  plainSetup: boolean;
  /** The helpers the top-level container uses once streamlined. */
  helpers?: Record<string, unknown>;
}

function streamline(env: HandlebarsEnv, spec: Spec, top: boolean): RuntimeState {
  const state: RuntimeState = { plainSetup: false };
  if (typeof spec.main !== 'function') return state;
  const table: Program[] = [];
  for (const key of Object.keys(spec)) {
    if (!/^\d+$/.test(key) || typeof spec[key] !== 'function') continue;
    const program = spec[key] as Program;
    program.decorator = spec[`${key}_d`];
    table[Number(key)] = program;
  }
  const fn = (i: number) => table[i];
  const main = spec.main;
  spec.main = function (this: unknown, container: Container) {
    if (container.fn !== fn && typeof container.fn === 'function') {
      container.fn = fn;
      if (typeof container.program === 'function') container.program = plainBodies(container, table, container.program);
    }
    if (top && state.plainSetup && container.helpers && container.helpers !== state.helpers) {
      container.helpers = state.helpers = directHelpers(env, container.helpers);
    }
    // eslint-disable-next-line prefer-rest-params
    return main.apply(this, arguments as unknown as unknown[]);
  } as Program;
  return state;
}

/**
 * `container.program` (point 4): bodies without decorators, `../` contexts or block
 * parameters get a plain wrapper; every other call goes to Handlebars's own, `runtime`.
 * The wrapper calls the body as Handlebars's does: the container, the context, the
 * container's helpers and partials, and the data passed in the call, else the data the
 * block was built with.
 */
function plainBodies(container: Container, table: Program[], runtime: ProgramFactory): ProgramFactory {
  return function (this: Container, i, data, declaredBlockParams, blockParams, depths) {
    const body = table[i];
    if (!data || depths || blockParams || !body || body.decorator) return runtime.call(this, i, data, declaredBlockParams, blockParams, depths);
    const wrapper = ((context: unknown, options?: { data?: unknown }) =>
      body(container, context, container.helpers, container.partials, (options && options.data) || data)) as BlockBody;
    wrapper.program = i;
    wrapper.depth = 0;
    wrapper.blockParams = declaredBlockParams || 0;
    return wrapper;
  };
}

/** The runtime's wrapped helpers, replaced by the registered functions where none reads `lookupProperty`. */
function directHelpers(env: HandlebarsEnv, wrapped: Record<string, unknown>): Record<string, unknown> {
  const registered = env.helpers as Record<string, unknown>;
  const helpers: Record<string, unknown> = {};
  for (const name of Object.keys(wrapped)) {
    helpers[name] = READS_LOOKUP_PROPERTY.has(name) || !Object.prototype.hasOwnProperty.call(registered, name) ? wrapped[name] : registered[name];
  }
  return helpers;
}

/** The part of a compiled template Handlebars calls at the start of every render. */
interface TemplateSetup {
  _setup(options: { partial?: boolean; helpers?: unknown; partials?: unknown; decorators?: unknown }): void;
}

/**
 * Makes a top-level template set its runtime up once instead of at every render (point 2
 * above). A call that passes runtime helpers, partials or decorators of its own (or a call
 * as a partial) is set up as usual.
 */
function setUpOnce(template: Handlebars.TemplateDelegate, state: RuntimeState): void {
  const t = template as unknown as TemplateSetup;
  const setup = t._setup;
  if (typeof setup !== 'function') return; // another Handlebars runtime: leave it alone
  t._setup = function (this: unknown, options) {
    const plain = !options.partial && !options.helpers && !options.partials && !options.decorators;
    if (plain && state.plainSetup) return;
    setup.call(this, options);
    state.plainSetup = plain;
  };
}
