import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { IoError } from '../errors.js';
import type { HookKind } from './errors.js';

/** One line of hook output (or a status line domforge writes about the hook). */
export interface HookLogEntry {
  time: Date;
  kind: HookKind;
  /** The hook's file name; `filters.d` for lines about the whole filter chain (the diff). */
  hook: string;
  event: string;
  /** `info` lines are domforge's own: start, end, exit code, the filter diff. */
  stream: 'stdout' | 'stderr' | 'info';
  text: string;
}

/** Receives log entries as they happen. Must not throw (exceptions are swallowed). */
export type HookLogSink = (entry: HookLogEntry) => void;

/**
 * `2025-05-01T10:00:00.000Z euca-nc-pre-boot hook 10-memballoon[stderr]: text` — the
 * format written to an instance's log file.
 */
export function formatHookLogEntry(e: HookLogEntry): string {
  return `${e.time.toISOString()} ${e.event} ${e.kind} ${e.hook}[${e.stream}]: ${e.text}`;
}

/** An open sink plus the way to release it. */
export interface OpenedSink {
  sink: HookLogSink;
  close(): Promise<void>;
}

/**
 * Resolves the `log` option of the runners: a callback is used as is; a string is a file
 * appended to (created if missing) for the duration of one run; undefined discards.
 */
export function openLogSink(log: HookLogSink | string | undefined): OpenedSink {
  if (log === undefined) return { sink: () => undefined, close: async () => undefined };
  if (typeof log === 'function') {
    return {
      sink: (e) => {
        try {
          log(e);
        } catch {
          // a broken logger must not break a launch
        }
      },
      close: async () => undefined,
    };
  }
  const stream = createWriteStream(log, { flags: 'a' });
  let failure: unknown;
  stream.on('error', (e) => (failure ??= e));
  return {
    sink: (e) => {
      if (!failure) stream.write(formatHookLogEntry(e) + '\n');
    },
    close: async () => {
      stream.end();
      try {
        await finished(stream);
      } catch (e) {
        failure ??= e;
      }
      if (failure) throw new IoError(`cannot write hook log ${log}: ${(failure as Error).message}`, { file: log, cause: failure });
    },
  };
}
