export * from './model.js';
export { parseInstance, readInstanceFile, type ParseInstanceOptions } from './parse.js';
export { emitInstance } from './emit.js';
export { validateInstance, type ValidateInstanceOptions } from './validate.js';
export { instanceFromJson, readInstanceJsonFile, type InstanceDescription } from './from-json.js';
export { sourceOf, type InstanceSource } from './source.js';
