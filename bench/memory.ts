/**
 * Memory over sequential launch/terminate cycles on `test:///default` (no hooks, the
 * shipped stylesheet, sample 01-linux-virtio under a fresh id and uuid each cycle), as a
 * node controller process lives: one NodeController, one instance at a time.
 *
 * The process's RSS is sampled every 50 cycles. The reference of every figure is the
 * RSS (or heap) at cycle 1,000 — the process once warm — so the ratio is the growth
 * from then on: a leak (a map of locks, a log chain, listeners) shows as a ratio that
 * keeps climbing with the number of cycles. Quick mode runs 300 cycles and takes the
 * reference at cycle 100; the figures' names say which cycles they compare.
 *
 * The controller renders in a sandbox worker, a child process (the default for a transform
 * given as a file). Its memory counts: each figure is the controller's RSS plus the pages
 * private to its children (Private_Clean + Private_Dirty in /proc/PID/smaps_rollup) —
 * what the worker adds, without counting twice the `node` binary and libraries both map.
 *
 * Run alone: `node dist/bench/memory.js [--quick] [--no-hold] [cycles]` (`--no-hold`: the
 * controller with `holdYoungGeneration: false`).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchController } from './launch.js';
import { liveChildPids } from './cpu.js';
import { round, type Figure } from './lib.js';

export interface BenchMemoryOptions {
  quick: boolean;
  /** Cycles in all. Default 10,000, quick 300. */
  cycles?: number;
  /** The cycle whose RSS is the reference. Default 1,000 (a tenth of `cycles` when fewer). */
  referenceAt?: number;
  /** The controller's `holdYoungGeneration` (default: its default, true). */
  holdYoungGeneration?: boolean;
  /** Called every 1,000 cycles (progress on a long run). */
  progress?: (cycle: number, rssMiB: number) => void;
}

const MiB = 1024 * 1024;
const EVERY = 50;

/** Bytes private to this process's child processes (its sandbox workers). */
export function childrenPrivateBytes(): number {
  let total = 0;
  for (const pid of liveChildPids()) {
    try {
      const roll = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      for (const k of ['Private_Clean', 'Private_Dirty']) total += Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(roll)?.[1] ?? 0) * 1024;
    } catch {
      // The child exited between the listing and the read.
    }
  }
  return total;
}

export async function benchMemory(o: BenchMemoryOptions): Promise<Figure[]> {
  const cycles = o.cycles ?? (o.quick ? 300 : 10_000);
  const referenceAt = o.referenceAt ?? (cycles >= 10_000 ? 1_000 : Math.max(EVERY, Math.round(cycles / 10 / EVERY) * EVERY));
  const c = await benchController({ hooks: false, tag: 'm', holdYoungGeneration: o.holdYoungGeneration });
  let peak = 0;
  let refRss = NaN;
  let refHeap = NaN;
  let lastRss = NaN;
  let lastHeap = NaN;
  try {
    for (let i = 1; i <= cycles; i++) {
      await c.cycle();
      if (i % EVERY !== 0 && i !== cycles) continue;
      const m = process.memoryUsage();
      const rss = m.rss + childrenPrivateBytes();
      peak = Math.max(peak, rss);
      lastRss = rss;
      lastHeap = m.heapUsed;
      if (i === referenceAt) {
        refRss = rss;
        refHeap = m.heapUsed;
      }
      if (i % 1000 === 0) o.progress?.(i, rss / MiB);
    }
  } finally {
    await c.cleanup();
  }
  const mb = (x: number) => round(x / MiB, 1);
  const fig = (name: string, d: number, r: number): Figure => ({ name, unit: 'MiB', domforge: mb(d), reference: mb(r), ratio: round(d / r, 4), samples: cycles });
  const n = cycles.toLocaleString('en-US');
  const at = referenceAt.toLocaleString('en-US');
  return [
    fig(`Peak RSS + sandbox worker's private memory over ${n} launch/terminate cycles (reference: the same at cycle ${at})`, peak, refRss),
    fig(`RSS + sandbox worker's private memory at cycle ${n} (reference: the same at cycle ${at}; ratio − 1 = growth)`, lastRss, refRss),
    fig(`V8 heap used at cycle ${n} (reference: heap at cycle ${at}; no forced GC)`, lastHeap, refHeap),
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const n = process.argv.slice(2).find((a) => /^\d+$/.test(a));
  const figures = await benchMemory({
    quick: process.argv.includes('--quick'),
    cycles: n ? Number(n) : undefined,
    holdYoungGeneration: !process.argv.includes('--no-hold'),
    progress: (i, rss) => process.stderr.write(`cycle ${i}: rss ${rss.toFixed(1)} MiB\n`),
  });
  for (const f of figures) console.log(JSON.stringify(f));
}
