export { renderFile, renderText, parseRenderInput, inputKindOf, OUTPUT_ROOT, type InputKind, type ParsedInput, type RenderOptions, type Rendered } from './render.js';
export { checkDomainCoversInstance, checkFragmentCoversStub, domainCoverageProblems, VOLUME_STATES_IN_DOMAIN, type CoversOptions } from './covers.js';
