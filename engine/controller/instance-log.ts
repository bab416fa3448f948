import { appendFile } from 'node:fs/promises';
import { formatHookLogEntry, type HookLogEntry, type HookLogSink } from '../hooks/log-sink.js';
import type { Operation } from './errors.js';

/** One line the controller logs: its own step lines, or a hook's / filter's output line. */
export interface ControllerLogEntry {
  time: Date;
  instanceId: string;
  operation: Operation;
  /** `controller` for domforge's own lines; the hook's entry for hook and filter output. */
  source: 'controller' | HookLogEntry;
  level: 'info' | 'error';
  /** The formatted line, as written to `instance.log`. */
  line: string;
}

/** The longest a line waits in memory before it is appended to `instance.log`. */
export const LOG_DELAY_MS = 50;

/** Receives every log line of every instance (e.g. the controller process's own log). Must not throw. */
export type ControllerLogSink = (entry: ControllerLogEntry) => void;

/**
 * An instance's `instance.log`: appended in order, best-effort (a log that cannot be
 * written never changes an operation's outcome). Lines are gathered and appended together
 * — when the operation flushes (at its end, and after a rollback), or at most
 * `LOG_DELAY_MS` after the first pending line (a hook's output shows while it runs) —
 * rather than one open/append/close per line, which cost a launch more than its writes. Hook and filter output comes
 * through `hookSink()` in the hooks' own format; the controller's lines look alike:
 *
 *     2025-05-01T10:00:00.000Z launch domforge[info]: step define: ok in 3 ms
 *     2025-05-01T10:00:00.000Z euca-nc-pre-boot hook 10-memballoon[stdout]: ...
 */
export class InstanceLog {
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private pending = '';
  private timer?: NodeJS.Timeout;

  constructor(
    readonly file: string,
    readonly instanceId: string,
    readonly operation: Operation,
    private readonly sink?: ControllerLogSink,
  ) {}

  info(text: string): void {
    this.controller('info', text);
  }

  error(text: string): void {
    this.controller('error', text);
  }

  /** The `log` option for runHooks / runFilters: each line goes to this file and the controller's sink. */
  hookSink(): HookLogSink {
    return (entry) => this.write(formatHookLogEntry(entry), entry, entry.stream === 'stderr' ? 'error' : 'info', entry.time);
  }

  /** Writes the pending lines; resolves once every line so far is written. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending) {
      const text = this.pending;
      this.pending = '';
      this.chain = this.chain.then(() => (this.closed ? undefined : appendFile(this.file, text, { mode: 0o600 }).catch(() => undefined)));
    }
    return this.chain;
  }

  /** Flushes, then drops later lines from the file (they still reach the sink): used before the folder is removed or moved. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private controller(level: 'info' | 'error', text: string): void {
    const time = new Date();
    for (const part of text.split('\n')) {
      this.write(`${time.toISOString()} ${this.operation} domforge[${level}]: ${part}`, 'controller', level, time);
    }
  }

  private write(line: string, source: ControllerLogEntry['source'], level: 'info' | 'error', time: Date): void {
    try {
      this.sink?.({ time, instanceId: this.instanceId, operation: this.operation, source, level, line });
    } catch {
      // a broken sink must not break an operation
    }
    if (this.closed) return;
    this.pending += line + '\n';
    this.timer ??= setTimeout(() => void this.flush(), LOG_DELAY_MS);
  }
}
