import { UsageError } from '../errors.js';
import { parseXml } from '../xml/parse.js';
import { discoverExecutables, FAIL_OPEN_SUFFIX } from './discover.js';
import { hookEnvironment, type HookContext } from './environment.js';
import { describeEnd, HookFailedError, HookTimeoutError } from './errors.js';
import { isHookEvent, HOOK_EVENTS, type HookEvent } from './events.js';
import { unifiedDiff } from './line-diff.js';
import { openLogSink } from './log-sink.js';
import { DEFAULT_KILL_GRACE_MS, DEFAULT_TIMEOUT_MS, logLimits, validateLimits, type ProcessLimits } from './run-hooks.js';
import { runProcess, succeeded, type ProcessResult } from './run-process.js';
import { expectFunction, expectOneOf, expectPositiveInteger, expectString } from '../option-checks.js';

/**
 * Checks one filter's output before it is passed on; throws (any error) to reject it.
 * domforge's launch passes the libvirt schema validator here.
 */
export type XmlValidator = (xml: string, context: { filter: string; event: HookEvent }) => void | Promise<void>;

export interface RunFiltersOptions extends HookContext, ProcessLimits {
  /** The filters folder (`filters.d/` beside the hooks). A missing folder means no filters. */
  dir: string;
  /** First argument of every filter. */
  instanceId: string;
  /** Second argument: the operation the XML is for (`euca-nc-pre-boot` for a launch, `euca-nc-pre-attach` for a device). */
  event: HookEvent;
  /** Validates each filter's output. Default: well-formedness only (`parseXml`). */
  validate?: XmlValidator;
  /** Largest output accepted from one filter (default 16 MiB); more is a failure. */
  maxOutputBytes?: number;
  /** Names used on the diff's `---` / `+++` lines (default `rendered` / `filtered`). */
  diffLabels?: [string, string];
}

export interface FilterResult extends ProcessResult {
  /** The filter's file name (with its `.fail-open` suffix when it has one). */
  name: string;
  /** Marked fail-open: its failure was logged and its output ignored. */
  failOpen: boolean;
  ok: boolean;
  /** It printed XML different from its input (and that XML was accepted). */
  changed: boolean;
  error?: HookFailedError | HookTimeoutError;
}

export interface FiltersReport {
  /** The XML after the last filter (the input when there are none or none changed it). */
  xml: string;
  changed: boolean;
  /** Unified diff from the input to `xml` ('' when unchanged). */
  diff: string;
  filters: FilterResult[];
  /** Failures of fail-open filters, which were skipped. */
  skipped: (HookFailedError | HookTimeoutError)[];
  durationMs: number;
}

/**
 * Runs the XML filters of `options.dir` in byte-order name order: each receives the
 * current XML on stdin and `INSTANCE_ID EVENT` as arguments, and prints the new XML on
 * stdout (empty output = unchanged). Each output is validated before it is passed on.
 *
 * Fail-closed by default: a filter that exits non-zero, is killed, times out, prints too
 * much or prints XML the validator rejects throws HookFailedError / HookTimeoutError
 * naming it, with its stderr tail. A filter whose file name ends in `.fail-open`
 * (e.g. `50-gpu.fail-open`) is fail-open instead: its failure is logged, reported in
 * `skipped`, and the chain goes on with the XML it was given.
 *
 * The final XML's diff from the input is logged (hook `filters.d`, stream `info`) and returned.
 */
export async function runFilters(xml: string, options: RunFiltersOptions): Promise<FiltersReport> {
  validateRunFiltersOptions(xml, options);
  const { event } = options;
  const validate: XmlValidator = options.validate ?? ((text, { filter }) => void parseXml(text, { file: `output of ${filter}` }));
  const maxOutput = options.maxOutputBytes ?? 16 * 1024 * 1024;
  const started = performance.now();
  const filters = await discoverExecutables(options.dir, 'filters folder');
  const logger = openLogSink(options.log);
  const env = hookEnvironment(event, options, options.env);
  const { maxLogBytes, maxLogLines, droppedLine } = logLimits(options);
  const results: FilterResult[] = [];
  const skipped: (HookFailedError | HookTimeoutError)[] = [];
  let current = xml;
  let diff = '';
  try {
    for (const filter of filters) {
      const failOpen = filter.name.endsWith(FAIL_OPEN_SUFFIX);
      const log = (stream: 'stdout' | 'stderr' | 'info', text: string) =>
        logger.sink({ time: new Date(), kind: 'filter', hook: filter.name, event, stream, text });
      log('info', `running ${filter.path} ${options.instanceId} ${event}`);
      const r = await runProcess(filter.path, {
        args: [options.instanceId, event],
        env,
        cwd: options.dir,
        input: current,
        timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        killGraceMs: options.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
        maxBuffer: maxOutput,
        // stdout is XML, not log material: only stderr is streamed to the log.
        maxLogBytes,
        maxLogLines,
        onLine: (stream, line) => stream === 'stderr' && log('stderr', line),
        onLinesDropped: (stream, bytes) => stream === 'stderr' && log('info', droppedLine(stream, bytes)),
        signal: options.signal,
      });
      const result: FilterResult = { ...r, name: filter.name, failOpen, ok: false, changed: false };
      results.push(result);
      const failure = await checkFilter(r, filter.name, failOpen, event, validate, maxOutput, options.stderrTailLines);
      if (!failure) {
        result.ok = true;
        const out = r.stdout;
        result.changed = out.trim() !== '' && out !== current;
        if (result.changed) current = out;
        log('info', `exited with code 0 in ${r.durationMs} ms, ${result.changed ? 'XML changed' : 'XML unchanged'}`);
        continue;
      }
      result.error = failure;
      log('info', failure.shortMessage);
      if (!failOpen || r.aborted) throw failure;
      skipped.push(failure);
    }
    diff = unifiedDiff(xml, current, { fromFile: options.diffLabels?.[0] ?? 'rendered', toFile: options.diffLabels?.[1] ?? 'filtered' });
    for (const line of diff ? diff.replace(/\n$/, '').split('\n') : []) {
      logger.sink({ time: new Date(), kind: 'filter', hook: 'filters.d', event, stream: 'info', text: line });
    }
  } finally {
    // The log is best-effort: a log file that cannot be written never changes the outcome.
    await logger.close().catch(() => undefined);
  }
  return { xml: current, changed: current !== xml, diff, filters: results, skipped, durationMs: Math.round(performance.now() - started) };
}

async function checkFilter(
  r: ProcessResult,
  name: string,
  failOpen: boolean,
  event: HookEvent,
  validate: XmlValidator,
  maxOutput: number,
  tailLines: number | undefined,
): Promise<HookFailedError | HookTimeoutError | undefined> {
  const o = { kind: 'filter' as const, hook: name, event, result: r, tailLines };
  const outcome = failOpen ? 'ignored (fail-open filter)' : `${event} cancelled`;
  if (r.timedOut) return new HookTimeoutError(`XML filter ${name} ${describeEnd(r)}; ${outcome}`, o);
  if (!succeeded(r)) return new HookFailedError(`XML filter ${name} ${describeEnd(r)}; ${outcome}`, { ...o, cause: r.spawnError });
  if (r.stdoutTruncated) return new HookFailedError(`XML filter ${name} printed more than ${maxOutput} bytes; ${outcome}`, o);
  if (r.stdout.trim() === '') return undefined;
  try {
    await validate(r.stdout, { filter: name, event });
    return undefined;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return new HookFailedError(`XML filter ${name} printed invalid XML: ${why}; ${outcome}`, { ...o, cause: e });
  }
}

function validateRunFiltersOptions(xml: unknown, o: RunFiltersOptions): void {
  expectString('xml', xml, { optional: false, nonEmpty: false });
  if (typeof o !== 'object' || o === null) throw new UsageError('Expected an options object with `dir`, `instanceId` and `event`');
  expectString('dir', o.dir, { optional: false });
  expectString('instanceId', o.instanceId, { optional: false });
  if (!isHookEvent(o.event)) expectOneOf('event', o.event, HOOK_EVENTS);
  expectFunction('validate', o.validate);
  expectPositiveInteger('maxOutputBytes', o.maxOutputBytes);
  validateLimits(o);
}
