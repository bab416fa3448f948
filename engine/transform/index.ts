export type { CompiledTransform, RenderResult, TransformInput, TransformParams } from './types.js';
export { loadTransform, registerTransformCompiler, transformKindOf, TransformCache, type LoadTransformOptions, type TransformKind, type TransformCompiler } from './load.js';
export { compileXslt, CompiledXslt, type CompileXsltOptions, type XsltEngineName } from './xslt/compile.js';
