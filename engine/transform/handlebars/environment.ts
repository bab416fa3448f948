import Handlebars from 'handlebars';
import { xmlEscapeExpression } from './escape.js';

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
  pushSource(s: unknown): void;
  appendToBuffer(parts: unknown[]): unknown;
  aliasable(name: string): unknown;
  popStack(): unknown;
}

/**
 * A Handlebars environment of its own (helpers and partials registered here do not leak
 * into other users of the library) whose `{{...}}` escapes for XML instead of HTML.
 *
 * Handlebars compiles `{{x}}` to a call of `container.escapeExpression`, which cannot be
 * replaced per environment; its documented extension point is a JavaScriptCompiler
 * subclass, so the escaped append is pointed at our function instead.
 */
export function createEnvironment(): HandlebarsEnv {
  const env = Handlebars.create();
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
  internals.JavaScriptCompiler = XmlJavaScriptCompiler as unknown as JsCompilerClass;
  // An object, not a function: Handlebars wraps function helpers to add to their last
  // argument (options), which an escape function called with one value does not have.
  env.registerHelper(ESCAPE_SLOT, { escape: xmlEscapeExpression } as unknown as Handlebars.HelperDelegate);
  return env;
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
 */
export function compileAst(env: HandlebarsEnv, ast: hbs.AST.Program): Handlebars.TemplateDelegate {
  const internals = env as unknown as CompilerInternals;
  const options = { ...COMPILE_OPTIONS };
  const environment = new internals.Compiler().compile(ast, options);
  const spec = new internals.JavaScriptCompiler().compile(environment, options, undefined, true);
  return env.template(spec);
}
