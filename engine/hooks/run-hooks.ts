import { UsageError } from '../errors.js';
import { discoverExecutables } from './discover.js';
import { hookEnvironment, type HookContext } from './environment.js';
import { describeEnd, HookFailedError, HookTimeoutError } from './errors.js';
import { isCancellingEvent, isHookEvent, HOOK_EVENTS, type HookEvent } from './events.js';
import { openLogSink, type HookLogSink } from './log-sink.js';
import { runProcess, succeeded, type ProcessResult } from './run-process.js';
import { expectNonNegativeInteger, expectOneOf, expectPositiveInteger, expectString, expectStringRecord, expectTimerMs } from '../option-checks.js';

/** Options shared by nc-hooks and XML filters. */
export interface ProcessLimits {
  /** Kill a hook's process group after this many ms (default 30000; 0 = no limit). */
  timeoutMs?: number;
  /** Grace between SIGTERM and SIGKILL to the group after a timeout (default 2000 ms). */
  killGraceMs?: number;
  /** Bytes of each of stdout and stderr kept in the result (the last ones; default 1 MiB). */
  maxBuffer?: number;
  /**
   * Bytes of each of stdout and stderr written to the log: the first half as they come,
   * the last half when the program ends, and a line saying how many bytes were left out
   * between them (default 128 KiB: the first and the last 64 KiB).
   */
  maxLogBytes?: number;
  /** Lines of each of stdout and stderr written to the log, half from each end, within `maxLogBytes` (default 2000). */
  maxLogLines?: number;
  /** Lines of stderr quoted in a failure's `details` (default 10). */
  stderrTailLines?: number;
  /** Extra environment variables, set before the `DOMFORGE_*` ones. */
  env?: Record<string, string | undefined>;
  /** Where output goes, each line prefixed with the hook's name: a callback, or a log file path appended to. */
  log?: HookLogSink | string;
  /** Aborting kills the running hook's process group and cancels the chain. */
  signal?: AbortSignal;
}

export interface RunHooksOptions extends HookContext, ProcessLimits {
  /** The hooks folder. A missing folder means no hooks. */
  dir: string;
  /** Eucalyptus's HOME argument: domforge's home folder. */
  home: string;
  /**
   * The PARAM argument. Defaults: `home` for pre-init, post-init and pre-hyp-check;
   * `instanceDir` for pre-boot, pre-adopt and pre-clean. Required for pre-attach and
   * post-detach (the device XML's path).
   */
  param?: string;
}

/** How one hook ran. */
export interface HookResult extends ProcessResult {
  /** The hook's file name. */
  name: string;
  event: HookEvent;
  ok: boolean;
  /** Why it failed, when it did. */
  error?: HookFailedError | HookTimeoutError;
}

export interface HooksReport {
  event: HookEvent;
  /** Every hook that ran, in order (for a cancelling event the failed one is last). */
  results: HookResult[];
  /** The failures of a non-cancelling event (logged, not thrown). */
  failures: (HookFailedError | HookTimeoutError)[];
  durationMs: number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_KILL_GRACE_MS = 2_000;
export const DEFAULT_MAX_BUFFER = 1024 * 1024;
export const DEFAULT_MAX_LOG_BYTES = 128 * 1024;
export const DEFAULT_MAX_LOG_LINES = 2000;

/** The log limits of one run (ProcessLimits' `maxLogBytes` and `maxLogLines` with their defaults), and the line logged where a stream's middle was left out. */
export function logLimits(o: ProcessLimits): { maxLogBytes: number; maxLogLines: number; droppedLine: (stream: 'stdout' | 'stderr', bytes: number) => string } {
  const maxLogBytes = o.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES;
  const maxLogLines = o.maxLogLines ?? DEFAULT_MAX_LOG_LINES;
  const kept = `the log keeps the first and the last ${Math.floor(maxLogBytes / 2)} bytes, ${Math.max(1, Math.floor(maxLogLines / 2))} lines, of each stream`;
  return { maxLogBytes, maxLogLines, droppedLine: (stream, bytes) => `${bytes} bytes of ${stream} not logged (${kept})` };
}

/**
 * Runs every executable in `options.dir` for `event`, in byte-order name order, as
 * `HOOK EVENT HOME PARAM`, each in its own process group with a timeout. Output is
 * streamed to `options.log` line by line, prefixed with the hook's name, up to
 * `maxLogBytes` of each stream (its start and its end).
 *
 * On a cancelling event (all but `euca-nc-post-detach`) the first hook that exits
 * non-zero, dies on a signal or times out stops the chain: HookFailedError or
 * HookTimeoutError is thrown, naming the hook, its exit code or signal, with the last
 * lines of its stderr in `details`. On `euca-nc-post-detach` every hook runs and the
 * failures are returned in `failures`.
 */
export async function runHooks(event: HookEvent, options: RunHooksOptions): Promise<HooksReport> {
  validateRunHooksOptions(event, options);
  const param = paramFor(event, options);
  const started = performance.now();
  const hooks = await discoverExecutables(options.dir);
  const logger = openLogSink(options.log);
  const results: HookResult[] = [];
  const failures: (HookFailedError | HookTimeoutError)[] = [];
  const env = hookEnvironment(event, options, options.env);
  const { maxLogBytes, maxLogLines, droppedLine } = logLimits(options);
  try {
    for (const hook of hooks) {
      const log = (stream: 'stdout' | 'stderr' | 'info', text: string) =>
        logger.sink({ time: new Date(), kind: 'hook', hook: hook.name, event, stream, text });
      log('info', `running ${hook.path} ${event} ${options.home} ${param}`);
      const r = await runProcess(hook.path, {
        args: [event, options.home, param],
        env,
        cwd: options.dir,
        timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        killGraceMs: options.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
        maxBuffer: options.maxBuffer ?? DEFAULT_MAX_BUFFER,
        maxLogBytes,
        maxLogLines,
        onLine: log,
        onLinesDropped: (stream, bytes) => log('info', droppedLine(stream, bytes)),
        signal: options.signal,
      });
      const ok = succeeded(r);
      const result: HookResult = { ...r, name: hook.name, event, ok };
      results.push(result);
      log('info', ok ? `exited with code 0 in ${r.durationMs} ms` : `${describeEnd(r)} after ${r.durationMs} ms`);
      if (ok) continue;
      const cancelling = isCancellingEvent(event);
      const what = cancelling ? `; ${cancelVerb(event)}` : ' (ignored: this event cannot cancel)';
      const message = `${event} hook ${hook.name} ${describeEnd(r)}${what}`;
      const errOptions = { kind: 'hook' as const, hook: hook.name, event, result: r, cause: r.spawnError, tailLines: options.stderrTailLines };
      result.error = r.timedOut ? new HookTimeoutError(message, errOptions) : new HookFailedError(message, errOptions);
      if (cancelling || r.aborted) throw result.error;
      failures.push(result.error);
    }
  } finally {
    // The log is best-effort: a log file that cannot be written never changes the outcome.
    await logger.close().catch(() => undefined);
  }
  return { event, results, failures, durationMs: Math.round(performance.now() - started) };
}

/** What a failing hook cancels, in the error message. */
function cancelVerb(event: HookEvent): string {
  switch (event) {
    case 'euca-nc-pre-init':
    case 'euca-nc-post-init':
      return 'the controller does not start';
    case 'euca-nc-pre-hyp-check':
      return 'the hypervisor connection is refused';
    case 'euca-nc-pre-boot':
      return 'the launch is cancelled';
    case 'euca-nc-pre-adopt':
      return 'the domain is not adopted';
    case 'euca-nc-pre-clean':
      return "the instance's files are kept";
    case 'euca-nc-pre-attach':
      return 'the attachment is cancelled';
    default:
      return 'the operation is cancelled';
  }
}

function paramFor(event: HookEvent, o: RunHooksOptions): string {
  if (o.param !== undefined) return o.param;
  switch (event) {
    case 'euca-nc-pre-init':
    case 'euca-nc-post-init':
    case 'euca-nc-pre-hyp-check':
      return o.home;
    case 'euca-nc-pre-boot':
    case 'euca-nc-pre-adopt':
    case 'euca-nc-pre-clean':
      if (o.instanceDir !== undefined) return o.instanceDir;
      throw new UsageError(`Expected \`param\` or \`instanceDir\` for ${event} (the instance folder)`);
    default:
      throw new UsageError(`Expected \`param\` for ${event} (the path of the device's XML file)`);
  }
}

export function validateLimits(o: ProcessLimits): void {
  expectTimerMs('timeoutMs', o.timeoutMs);
  expectTimerMs('killGraceMs', o.killGraceMs);
  expectPositiveInteger('maxBuffer', o.maxBuffer);
  expectPositiveInteger('maxLogBytes', o.maxLogBytes);
  expectPositiveInteger('maxLogLines', o.maxLogLines);
  expectNonNegativeInteger('stderrTailLines', o.stderrTailLines);
  expectStringRecord('env', o.env);
  if (o.log !== undefined && typeof o.log !== 'function') expectString('log', o.log);
}

function validateRunHooksOptions(event: HookEvent, o: RunHooksOptions): void {
  if (!isHookEvent(event)) expectOneOf('event', event, HOOK_EVENTS);
  if (typeof o !== 'object' || o === null) throw new UsageError('Expected an options object with `dir` and `home`');
  expectString('dir', o.dir, { optional: false });
  expectString('home', o.home, { optional: false });
  for (const k of ['param', 'instanceId', 'instanceDir', 'libvirtXml', 'uri'] as const) expectString(k, o[k], { nonEmpty: false });
  validateLimits(o);
}
