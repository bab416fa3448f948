import { stat } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { resolve } from 'node:path';
import { CancelledError, DomforgeError, UsageError } from '../errors.js';
import { paramValueProblem } from '../transform/params.js';
import { STDIN_NAMES } from '../fs/regular-file.js';

/** Exit codes shared by every command. */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2 } as const;

/** Where commands write; replaced in tests. */
export interface CliIo {
  /** Text, or bytes written as they are (a guest's console output, which need not be UTF-8). */
  stdout(text: string | Uint8Array): void;
  stderr(text: string): void;
}

/**
 * Writes to a stream of this process; once its reader has gone (`domforge list | head -1`:
 * EPIPE), later writes are dropped rather than crashing the process with an unhandled
 * 'error' event, so the command still finishes what it was doing and exits with its own code.
 */
function streamWriter(stream: NodeJS.WriteStream): (t: string | Uint8Array) => void {
  let gone = false;
  let watching = false;
  return (t) => {
    if (!watching) {
      watching = true;
      stream.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EPIPE') throw e;
        gone = true;
      });
    }
    if (!gone) stream.write(t);
  };
}

export const processIo: CliIo = {
  stdout: streamWriter(process.stdout),
  stderr: streamWriter(process.stderr),
};

/** Prints an error as `file:line:col: message` (plus detail lines) and returns the exit code. */
export function reportError(io: CliIo, e: unknown, json = false): number {
  if (e instanceof DomforgeError) {
    if (json) io.stderr(JSON.stringify({ error: e.toJSON() }) + '\n');
    else io.stderr(`domforge: ${e.fullMessage}\n`);
    if (e.code === 'CANCELLED') return cancelledExit(e);
    return e instanceof UsageError ? EXIT.USAGE : EXIT.FAILED;
  }
  // Not a DomforgeError: a defect in domforge. Reported whole (the stack is what a bug report needs), and as JSON under --json.
  const err = e as Error;
  if (json) io.stderr(JSON.stringify({ error: { code: 'INTERNAL', message: err?.message ?? String(e), stack: err?.stack } }) + '\n');
  else io.stderr(`domforge: internal error: ${err?.stack ?? String(e)}\n`);
  return EXIT.FAILED;
}

/** A command cancelled by a signal exits as a shell reports a process that signal ended: 128 + its number (130 for SIGINT). */
function cancelledExit(e: DomforgeError): number {
  let c: unknown = e;
  while (c instanceof DomforgeError && !(c instanceof CancelledError)) c = c.cause;
  const n = c instanceof CancelledError ? (osConstants.signals as Record<string, number>)[c.reason] : undefined;
  return n ? 128 + n : EXIT.FAILED;
}

/** Collects a repeatable `--param k=v` option into a record; a value no transform can be given is refused here, whatever the engine. */
export function collectParam(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new UsageError(`--param expects name=value, got ${JSON.stringify(value)}`);
  const [name, text] = [value.slice(0, eq), value.slice(eq + 1)];
  const problem = paramValueProblem(text);
  if (problem) throw new UsageError(`--param ${name}: the value cannot be a transform parameter: ${problem}`);
  return { ...previous, [name]: text };
}

/**
 * Standard input can be read once: two inputs naming it (`-` or `/dev/stdin`) are a usage
 * error naming both, not a second read that finds it empty (`-:1:1: no root element`).
 * `inputs` are the inputs as given: `[--diff, -]`, `[FILE, /dev/stdin]`.
 */
export function readStdinOnce(inputs: readonly (readonly [flag: string, file: string | undefined])[]): void {
  const named = inputs.filter(([, file]) => file !== undefined && STDIN_NAMES.includes(file));
  if (named.length > 1) throw new UsageError(`standard input (- or /dev/stdin) can be named only once; it is named by ${named.map(([flag, file]) => `${flag} ${file}`).join(' and ')}`);
}

/**
 * `--out -` for an image the command writes atomically (a config drive, a KVP pool file) while
 * it prints its summary on stdout: a usage error, not a file named `-` in the current folder.
 */
export function refuseStdoutImage(out: string | undefined, what: string): void {
  if (out === '-') throw new UsageError(`\`--out -\`: ${what} is written to a file (atomically, beside its summary on stdout), not to standard output; give the file's path (./- for a file named -)`);
}

/**
 * An output naming the `--instance` file itself (by path, or as the same file through a link)
 * is a usage error: `what` (`the render`, `the pool file`, `the config drive`) would replace its own input.
 * `given` says where the output path came from (`--out PATH`, by default). An input read from
 * standard input (`-`, `/dev/stdin`) has no path of its own: only the file standard input comes
 * from, if any, is compared (`--out ./-` names a file called `-`, not standard input).
 */
export async function refuseOutOverInput(out: string, input: string, what: string, given = `--out ${out}`): Promise<void> {
  const stdin = STDIN_NAMES.includes(input);
  let same = !stdin && resolve(out) === resolve(input);
  if (!same) {
    const [a, b] = await Promise.all([stat(out).catch(() => undefined), stat(stdin ? '/dev/stdin' : input).catch(() => undefined)]);
    same = a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;
  }
  if (same) throw new UsageError(`${given} is the --instance file itself: ${what} would replace its input; write to another file`);
}

/** Prints rows as columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function printTable(io: CliIo, rows: (string | number | bigint)[][]): void {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  for (const r of cells) io.stdout(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ') + '\n');
}
