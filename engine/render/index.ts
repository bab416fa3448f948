export { renderFile, renderText, inputKindOf, OUTPUT_ROOT, type InputKind, type RenderOptions, type Rendered } from './render.js';
