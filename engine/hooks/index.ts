/** Eucalyptus nc-hooks and XML filter hooks: discovery, process groups, timeouts, logs. */
export { HOOK_EVENTS, NON_CANCELLING_EVENTS, isHookEvent, isCancellingEvent, type HookEvent } from './events.js';
export { HookFailedError, HookTimeoutError, type HookKind } from './errors.js';
export { discoverExecutables, isIgnoredName, FAIL_OPEN_SUFFIX, type DiscoveredExecutable } from './discover.js';
export { hookEnvironment, type HookContext } from './environment.js';
export { formatHookLogEntry, type HookLogEntry, type HookLogSink } from './log-sink.js';
export { runProcess, type ProcessResult, type RunProcessOptions } from './run-process.js';
export {
  runHooks,
  DEFAULT_TIMEOUT_MS as HOOK_DEFAULT_TIMEOUT_MS,
  type RunHooksOptions,
  type HookResult,
  type HooksReport,
  type ProcessLimits,
} from './run-hooks.js';
export { runFilters, type RunFiltersOptions, type FilterResult, type FiltersReport, type XmlValidator } from './run-filters.js';
export { createHookRunner, type HookRunner, type HookRunnerConfig, type HookCallOptions, type FilterCallOptions } from './hook-runner.js';
export { unifiedDiff, diffLines, type DiffOp, type UnifiedDiffOptions } from './line-diff.js';
