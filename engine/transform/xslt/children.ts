/**
 * What an engine leaves behind if its thread or process is killed: xsltproc processes and
 * temporary folders. In a sandbox worker the pool owns both — it is told every xsltproc
 * started (and ended) and gives each worker a scratch folder of its own — so that when it
 * kills a worker (a render past its time limit) it kills that worker's xsltproc too and
 * removes its folder. Outside the sandbox nothing is reported and the scratch folder is the
 * system's temporary folder.
 */
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';

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

/** Where engines make their temporary folders (default: the system's). */
export function setScratchDir(dir: string | undefined): void {
  scratch = dir;
}

export function scratchDir(): string {
  return scratch ?? tmpdir();
}

/** Reports a child process just started, and its end. */
export function trackChild(child: ChildProcess): void {
  const r = reporter;
  const pid = child.pid;
  if (!r || pid === undefined) return;
  r.started(pid);
  child.once('exit', () => r.ended(pid));
}
