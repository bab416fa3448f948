/**
 * CPU time from /proc, for figures that compare what work costs rather than how long it
 * waits: on a shared machine other tenants stretch wall time, not this process's CPU time.
 *
 * A sample splits this process's CPU time into its JavaScript thread and its other threads
 * (libuv's pool, which runs file I/O and the libvirt binding's calls; V8's collector and
 * compiler), and adds two kinds of child processes:
 * - `liveChildren`: those still running (a sandbox worker), by their own /proc/PID/stat,
 *   with what they have waited for themselves;
 * - `reaped`: those this process has waited for (a pipeline's `sh`), from its `cutime` and
 *   `cstime`. The kernel adds a process's CPU time, with that of the children it waited
 *   for, to its parent's when the parent waits for it, so a `sh` brings its `xsltproc` and
 *   `virsh` with it.
 * A child reaped between two samples moves from the one to the other, and the difference of
 * the sums stays its CPU time in between.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** CPU time in ms (user + system). */
export interface CpuSample {
  js: number;
  otherThreads: number;
  liveChildren: number;
  reaped: number;
}

let msPerTickCache: number | undefined;

/** The length of a clock tick, the unit of /proc's times (getconf CLK_TCK; 100 Hz on Linux when it cannot say). */
function msPerTick(): number {
  msPerTickCache ??= (() => {
    try {
      const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      return hz > 0 ? 1000 / hz : 10;
    } catch {
      return 10;
    }
  })();
  return msPerTickCache;
}

/** utime + stime, and cutime + cstime, of a /proc stat file, in ticks; undefined when it is gone. */
function statTicks(path: string): { own: number; waited: number } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined; // the process or thread ended between the listing and the read
  }
  // The command name, in parentheses, may hold spaces: the fields start after its last ')'.
  // From there: state (field 3), …, utime (14), stime (15), cutime (16), cstime (17).
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { own: Number(f[11]) + Number(f[12]), waited: Number(f[13]) + Number(f[14]) };
}

/** The processes started by any thread of this one that still run. */
export function liveChildPids(): string[] {
  const pids: string[] = [];
  for (const task of readdirSync('/proc/self/task')) {
    try {
      pids.push(...readFileSync(`/proc/self/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean));
    } catch {
      // The thread ended.
    }
  }
  return pids;
}

/** This process's CPU time now (see the module's comment). Linux only. */
export function cpuNow(): CpuSample {
  const tick = msPerTick();
  const self = statTicks('/proc/self/stat')!;
  const js = statTicks(`/proc/self/task/${process.pid}/stat`)?.own ?? 0;
  let live = 0;
  for (const pid of liveChildPids()) {
    const c = statTicks(`/proc/${pid}/stat`);
    if (c) live += c.own + c.waited;
  }
  return { js: js * tick, otherThreads: (self.own - js) * tick, liveChildren: live * tick, reaped: self.waited * tick };
}

/** `b - a`, field by field. */
export function cpuSince(a: CpuSample, b: CpuSample): CpuSample {
  return { js: b.js - a.js, otherThreads: b.otherThreads - a.otherThreads, liveChildren: b.liveChildren - a.liveChildren, reaped: b.reaped - a.reaped };
}

/** `a + b`, field by field. */
export function cpuAdd(a: CpuSample, b: CpuSample): CpuSample {
  return { js: a.js + b.js, otherThreads: a.otherThreads + b.otherThreads, liveChildren: a.liveChildren + b.liveChildren, reaped: a.reaped + b.reaped };
}

export const NO_CPU: CpuSample = { js: 0, otherThreads: 0, liveChildren: 0, reaped: 0 };

/** Everything in a sample: this process's threads and its children's. */
export function cpuTotal(s: CpuSample): number {
  return s.js + s.otherThreads + s.liveChildren + s.reaped;
}
