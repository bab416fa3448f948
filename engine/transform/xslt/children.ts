/**
 * What an engine leaves behind if its thread or process is killed: xsltproc processes and
 * temporary folders. In a sandbox worker the pool owns both — it is told every xsltproc
 * started (and ended) and names each worker a scratch folder of its own — so that when it
 * kills a worker (a render past its time limit) it kills that worker's xsltproc too and
 * removes its folder if it is there. Outside the sandbox nothing is reported and the scratch folder is the
 * system's temporary folder.
 *
 * And what the pool cannot reach: when the controller itself is killed (SIGKILL), a worker
 * thread — or the controller's own thread, rendering without a sandbox — dies with it and
 * tells nobody. Every engine's child is therefore started through util-linux's `setpriv
 * --pdeathsig KILL`, so the kernel kills it when the thread that started it ends.
 */
import { spawn, spawnSync, type ChildProcess, type ChildProcessWithoutNullStreams, type SpawnOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { lstat, mkdir, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface ChildReporter {
  started(pid: number): void;
  ended(pid: number): void;
}

let reporter: ChildReporter | undefined;
let scratch: string | undefined;

/** Reports every child process an engine starts from now on (the sandbox worker does). */
export function reportChildren(r: ChildReporter | undefined): void {
  reporter = r;
}

/**
 * Where engines make their temporary folders (default: the system's). A sandbox worker's
 * is a path the pool chose and has not created: it exists only while an engine uses it
 * (useScratchDir), so a worker that never runs the guard — most of them — leaves nothing
 * in the temporary folder, whatever way its process or thread ends.
 */
export function setScratchDir(dir: string | undefined): void {
  scratch = dir;
}

let scratchUsers = 0;

/**
 * Runs `f` with the folder engines make their temporary folders in: the system's, or the
 * worker's scratch folder, created for the time `f` runs (mode 0700; a folder already
 * there by that name must be a real folder of this user's) and removed after the last
 * user, once empty.
 */
export async function useScratchDir<T>(f: (dir: string) => Promise<T>): Promise<T> {
  const dir = scratch;
  if (dir === undefined) return f(tmpdir());
  scratchUsers++;
  try {
    await ensureOwnFolder(dir);
    return await f(dir);
  } finally {
    if (--scratchUsers === 0) await rmdir(dir).catch(() => undefined);
  }
}

async function ensureOwnFolder(dir: string): Promise<void> {
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const st = await lstat(dir);
    if (!st.isDirectory() || st.uid !== process.getuid?.()) throw new Error(`${dir} is already there and is not a folder of this user's`);
  }
}

/** Reports a child process just started, and its end. */
export function trackChild(child: ChildProcess): void {
  const r = reporter;
  const pid = child.pid;
  if (!r || pid === undefined) return;
  r.started(pid);
  child.once('exit', () => r.ended(pid));
}

let pdeathsig: boolean | undefined;
const found = new Set<string>();

/** Whether `binary` names an executable file (as given with a "/", else on PATH). Only positive answers are kept. */
function executable(binary: string): boolean {
  if (found.has(binary)) return true;
  const candidates = binary.includes('/') ? [binary] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, binary));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      found.add(binary);
      return true;
    } catch {
      // Not this one.
    }
  }
  return false;
}

/**
 * The command line that starts `binary` tied to the calling thread: `setpriv --pdeathsig
 * KILL -- BINARY ARGS` (the kernel's PR_SET_PDEATHSIG, which follows the thread that forked
 * the child: a worker thread's end kills what it started, the process's end kills all).
 * Where `setpriv` cannot do it (not util-linux, or older than 2.33), or `binary` is not
 * found (so that the spawn fails with ENOENT, as without the wrapper), `binary` as it is.
 * The child is not tied for the moment between its fork and setpriv's prctl, about a
 * millisecond.
 */
export function tiedCommand(binary: string, args: readonly string[]): { file: string; args: string[] } {
  if (!canTieChildren() || !executable(binary)) return { file: binary, args: [...args] };
  return { file: 'setpriv', args: ['--pdeathsig', 'KILL', '--', binary, ...args] };
}

/** Whether this host's `setpriv` can tie a child to the thread that starts it (asked once per process). */
export function canTieChildren(): boolean {
  pdeathsig ??= spawnSync('setpriv', ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore' }).status === 0;
  return pdeathsig;
}

/** `spawn` of an engine's child with its output piped: tied to this thread (tiedCommand) and reported (trackChild). Its `stdin` is null when `stdio[0]` is `ignore`. */
export function spawnEngineChild(binary: string, args: readonly string[], options: SpawnOptions & { stdio: ['pipe' | 'ignore', 'pipe', 'pipe'] }): ChildProcessWithoutNullStreams {
  const c = tiedCommand(binary, args);
  const child = spawn(c.file, c.args, options);
  trackChild(child);
  return child as ChildProcessWithoutNullStreams;
}
