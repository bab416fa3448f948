export type { CompiledTransform, RenderResult, TransformInput, TransformParams } from './types.js';
export { loadTransform, registerTransformCompiler, transformKindOf, TransformCache, type LoadTransformOptions, type TransformKind, type TransformCompiler } from './load.js';
export { compileXslt, CompiledXslt, inputCaveat, type CompileXsltOptions } from './xslt/compile.js';
export type { XsltEngine, XsltEngineName, XsltEngineChoice } from './xslt/engine.js';
export type { GuardReport, GuardDifference, DivergencePolicy } from './xslt/guard.js';
export { defaultTransformPath, shippedTransformsDir } from './defaults.js';
