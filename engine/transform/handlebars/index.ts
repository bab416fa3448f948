/**
 * Handlebars transforms (`*.hbs`, `*.xml.hbs`): loaded by `loadTransform` when a template
 * is named, behind the same CompiledTransform interface as XSLT. Importing this module
 * registers the compiler.
 */
import { registerTransformCompiler } from '../load.js';
import { compileHandlebars } from './compile.js';

registerTransformCompiler('handlebars', (file, options) => compileHandlebars(file, { root: options.root, text: options.text, trusted: options.trusted, linksOut: options.linksOut, unreadable: options.unreadable }));

export { compileHandlebars, CompiledHandlebars, type CompileHandlebarsOptions } from './compile.js';
export { buildContext, type TemplateContext } from './context.js';
export { HELPERS, KNOWN_HELPERS } from './helpers.js';
export { TRUST_MARK } from './checks.js';
export { xmlEscapeExpression } from './escape.js';
