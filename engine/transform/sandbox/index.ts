export { TransformSandbox, type SandboxStats, type TaskLabel } from './pool.js';
export { SandboxedTransform, loadSandboxedTransform, pathMapper, type SandboxLoadOptions } from './sandboxed-transform.js';
export { TransformTimeoutError, TransformOutOfMemoryError, SandboxStoppedError, type SandboxLimitOptions } from './errors.js';
export { resolveSandboxOptions, SANDBOX_DEFAULTS, type SandboxOptions, type ResolvedSandboxOptions } from './options.js';
export type { SandboxIsolation } from './runners.js';
export type { TransformSource as SandboxSource, ProvingSample, ProveReply, CompileReply } from './protocol.js';
