import { DomforgeError } from '../errors.js';
import type { ProcessResult } from './run-process.js';

/** Whether the failing program was an nc-hook (`hooks/`) or an XML filter (`hooks/filters.d/`). */
export type HookKind = 'hook' | 'filter';

export interface HookErrorOptions {
  kind: HookKind;
  /** The hook's file name, e.g. `10-memballoon`. */
  hook: string;
  /** The event it ran for. */
  event: string;
  /** How the process ended. */
  result: ProcessResult;
  /** Why the run failed when the process itself succeeded (e.g. a filter's output failed validation). */
  cause?: unknown;
  /** Number of stderr lines kept in `details` (default 10). */
  tailLines?: number;
}

/**
 * Shared base of HookFailedError and HookTimeoutError. The error has the shape of a
 * ProcessResult (exitCode, signal, timedOut, stdout, stderr, durationMs), plus the hook's
 * name, its event and, in `details`, the last lines of its stderr.
 */
abstract class HookErrorBase extends DomforgeError {
  readonly kind: HookKind;
  readonly hook: string;
  readonly event: string;
  readonly command: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;

  constructor(code: 'HOOK_FAILED' | 'HOOK_TIMEOUT', message: string, o: HookErrorOptions) {
    const tail = lastLines(o.result.stderr, o.tailLines ?? 10);
    super(code, message, {
      file: o.result.file,
      cause: o.cause,
      details: tail.length ? ['stderr (last lines):', ...tail.map((l) => `  ${l}`)] : [],
    });
    this.kind = o.kind;
    this.hook = o.hook;
    this.event = o.event;
    this.command = o.result.command;
    this.exitCode = o.result.exitCode;
    this.signal = o.result.signal;
    this.timedOut = o.result.timedOut;
    this.stdout = o.result.stdout;
    this.stderr = o.result.stderr;
    this.durationMs = o.result.durationMs;
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      kind: this.kind,
      hook: this.hook,
      event: this.event,
      exitCode: this.exitCode,
      signal: this.signal,
      timedOut: this.timedOut,
      durationMs: this.durationMs,
    };
  }
}

/** HOOK_FAILED: a hook or filter exited non-zero, died on a signal, or (filters) printed output that failed validation. */
export class HookFailedError extends HookErrorBase {
  constructor(message: string, o: HookErrorOptions) {
    super('HOOK_FAILED', message, o);
  }
}

/** HOOK_TIMEOUT: a hook or filter ran past its timeout; its whole process group was killed. */
export class HookTimeoutError extends HookErrorBase {
  constructor(message: string, o: HookErrorOptions) {
    super('HOOK_TIMEOUT', message, o);
  }
}

/** Characters of one stderr line quoted in a failure's details; a longer line keeps its end. */
export const MAX_QUOTED_LINE = 1000;

/**
 * The last `n` non-empty lines of `text`, each at most MAX_QUOTED_LINE characters: of a longer
 * one (a progress bar redrawn with CR, a dumped blob) its end, after `… (N characters left
 * out)`, so that a failure's message stays a few lines however a hook printed.
 */
export function lastLines(text: string, n: number): string[] {
  if (n <= 0) return [];
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  return lines.slice(-n).map((l) => {
    if (l.length <= MAX_QUOTED_LINE) return l;
    // Counted in characters (code points), not UTF-16 units: an emoji is one, and is never cut in half.
    let at = l.length;
    for (let kept = 0; at > 0 && kept < MAX_QUOTED_LINE; kept++) at -= at > 1 && isLowSurrogate(l.charCodeAt(at - 1)) && isHighSurrogate(l.charCodeAt(at - 2)) ? 2 : 1;
    if (at === 0) return l;
    let left = 0;
    for (let i = 0; i < at; i++) if (!(isLowSurrogate(l.charCodeAt(i)) && i > 0 && isHighSurrogate(l.charCodeAt(i - 1)))) left++;
    return `… (${left} characters left out) ${l.slice(at)}`;
  });
}

const isHighSurrogate = (u: number) => u >= 0xd800 && u <= 0xdbff;
const isLowSurrogate = (u: number) => u >= 0xdc00 && u <= 0xdfff;

/** `exit code 3`, `signal SIGKILL`, `timed out after 30000 ms` — how a process ended, in words. */
export function describeEnd(r: ProcessResult): string {
  if (r.timedOut) return `timed out after ${r.timeoutMs} ms (process group killed)`;
  if (r.signal) return `was killed by ${r.signal}`;
  if (r.spawnError) return `could not be started: ${r.spawnError.message}`;
  return `exited with code ${r.exitCode}`;
}
