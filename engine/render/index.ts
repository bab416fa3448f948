export { renderFile, renderText, parseRenderInput, inputKindOf, OUTPUT_ROOT, type InputKind, type ParsedInput, type RenderOptions, type Rendered } from './render.js';
