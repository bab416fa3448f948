import { spawn } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { HeadTailLines, TailBuffer } from './capture.js';
import { groupAlive, killGroup } from './process-group.js';
import { explainSpawnError } from './spawn-error.js';
import { expectTimerMs } from '../option-checks.js';

export interface RunProcessOptions {
  args?: readonly string[];
  /** The child's whole environment (not merged with process.env here). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to stdin, which is then closed. Without it stdin is /dev/null. */
  input?: string;
  /** Kill the process group after this many ms; 0 = never. */
  timeoutMs: number;
  /** Time between SIGTERM and SIGKILL to the group after a timeout or abort. */
  killGraceMs: number;
  /** Bytes of stdout and of stderr kept (the last ones). */
  maxBuffer: number;
  /**
   * Called for each line of output: the first `maxLogBytes / 2` bytes of each stream as
   * they arrive, the last `maxLogBytes / 2` when the process ends (see HeadTailLines).
   */
  onLine?: (stream: 'stdout' | 'stderr', line: string) => void;
  /** Bytes of each stream passed to `onLine` (half from its start, half from its end); default: all of it. */
  maxLogBytes?: number;
  /** Lines of each stream passed to `onLine` (half from its start, half from its end); default: all of them. */
  maxLogLines?: number;
  /** Told how many bytes of a stream were not passed to `onLine`, between its first and its last lines. */
  onLinesDropped?: (stream: 'stdout' | 'stderr', bytes: number) => void;
  /** Aborting kills the process group like a timeout does (`aborted: true` in the result). */
  signal?: AbortSignal;
}

/** How a process ended. HookFailedError/HookTimeoutError carry the same fields. */
export interface ProcessResult {
  /** The program's path. */
  file: string;
  args: string[];
  /** `file arg1 arg2`, for messages. */
  command: string;
  pid?: number;
  /** Exit code, or null when killed by a signal or never started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  timeoutMs: number;
  aborted: boolean;
  /** Set when the program could not be started at all (ENOENT, EACCES, ENOEXEC...). */
  spawnError?: Error;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  durationMs: number;
}

/**
 * Runs `file` in its own process group (`detached: true`, so the child is a session and
 * group leader) and resolves with how it ended, whatever the program did (one that cannot
 * be started too: `spawnError`). It rejects only on a bad time limit (`timeoutMs` or
 * `killGraceMs` past the longest timer Node holds: a UsageError, before anything starts),
 * and never throws. runHooks and runFilters have checked the limits already (validateLimits,
 * before any hook is looked for); runVirsh, the host check and the library's callers rely on
 * this check. On timeout or abort the whole group
 * gets SIGTERM, then SIGKILL after `killGraceMs`; the promise settles only once no live
 * member of the group is left (or, at worst, `killGraceMs` + 2 s after the SIGKILL).
 *
 * When the leader exits on its own but a background child still holds its stdout or
 * stderr open, the output is read for at most 500 ms more and then left; such children
 * are not killed (a hook that means to leave a daemon running should redirect its output).
 */
export async function runProcess(file: string, o: RunProcessOptions): Promise<ProcessResult> {
  expectTimerMs('timeoutMs', o.timeoutMs); // async: a rejection, not a throw
  expectTimerMs('killGraceMs', o.killGraceMs);
  const args = [...(o.args ?? [])];
  const started = performance.now();
  const out = new TailBuffer(o.maxBuffer);
  const err = new TailBuffer(o.maxBuffer);
  const capped = o.maxLogBytes !== undefined || o.maxLogLines !== undefined;
  const head = o.maxLogBytes === undefined ? Infinity : Math.ceil(o.maxLogBytes / 2);
  const tail = !capped ? 0 : o.maxLogBytes === undefined ? o.maxBuffer : Math.floor(o.maxLogBytes / 2);
  const halfLines = o.maxLogLines === undefined ? Infinity : Math.max(1, Math.floor(o.maxLogLines / 2));
  const lines = {
    stdout: new HeadTailLines((l) => o.onLine?.('stdout', l), (n) => o.onLinesDropped?.('stdout', n), head, tail, halfLines),
    stderr: new HeadTailLines((l) => o.onLine?.('stderr', l), (n) => o.onLinesDropped?.('stderr', n), head, tail, halfLines),
  };
  const base = { file, args, command: [file, ...args].join(' '), timeoutMs: o.timeoutMs };

  return new Promise<ProcessResult>((resolve) => {
    let child;
    try {
      child = spawn(file, args, {
        cwd: o.cwd,
        env: o.env,
        detached: true,
        stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
    } catch (e) {
      resolve(failedToStart(e));
      return;
    }
    const pid = child.pid;
    let timedOut = false;
    let aborted = false;
    let killing: Promise<void> | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    let settled = false;

    const killAll = (): Promise<void> => {
      if (killing || pid === undefined) return killing ?? Promise.resolve();
      killing = (async () => {
        killGroup(pid, 'SIGTERM');
        const deadline = performance.now() + o.killGraceMs;
        while (performance.now() < deadline && groupAlive(pid)) await delay(25);
        if (groupAlive(pid)) {
          killGroup(pid, 'SIGKILL');
          const hard = performance.now() + 2000;
          while (performance.now() < hard && groupAlive(pid)) await delay(25);
        }
      })();
      return killing;
    };

    const timer =
      o.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            void killAll();
          }, o.timeoutMs)
        : undefined;
    const onAbort = () => {
      aborted = true;
      void killAll();
    };
    if (o.signal?.aborted) onAbort();
    else o.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout!.on('data', (c: Buffer) => {
      out.push(c);
      lines.stdout.push(c);
    });
    child.stderr!.on('data', (c: Buffer) => {
      err.push(c);
      lines.stderr.push(c);
    });
    if (child.stdin) {
      // A filter that exits without reading its input closes the pipe: EPIPE is not our failure.
      child.stdin.on('error', () => undefined);
      child.stdin.end(o.input);
    }

    child.on('exit', () => {
      drainTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, 500);
    });

    let spawnError: Error | undefined;
    child.on('error', (e) => {
      spawnError = pid === undefined ? explainSpawnError(file, e) : e;
      if (pid === undefined) finish(null, null);
    });
    child.on('close', (code, signal) => finish(code, signal));

    function finish(code: number | null, signal: NodeJS.Signals | null): void {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      if (drainTimer) clearTimeout(drainTimer);
      o.signal?.removeEventListener('abort', onAbort);
      lines.stdout.end();
      lines.stderr.end();
      const result: ProcessResult = {
        ...base,
        pid,
        exitCode: code,
        signal,
        timedOut,
        aborted,
        spawnError,
        stdout: out.toString(),
        stderr: err.toString(),
        stdoutTruncated: out.truncated,
        stderrTruncated: err.truncated,
        durationMs: Math.round(performance.now() - started),
      };
      if (killing) void killing.then(() => resolve(result));
      else resolve(result);
    }
  });

  function failedToStart(e: unknown): ProcessResult {
    return {
      ...base,
      exitCode: null,
      signal: null,
      timedOut: false,
      aborted: false,
      spawnError: explainSpawnError(file, e as Error),
      stdout: '',
      stderr: '',
      stdoutTruncated: false,
      stderrTruncated: false,
      durationMs: Math.round(performance.now() - started),
    };
  }
}

/** True when the process ran and exited 0 (no signal, no timeout, no abort). */
export function succeeded(r: ProcessResult): boolean {
  return r.exitCode === 0 && !r.timedOut && !r.aborted && !r.spawnError && r.signal === null;
}
