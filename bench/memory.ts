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
 * Run alone: `node dist/bench/memory.js [--quick] [cycles]`.
 */
import { fileURLToPath } from 'node:url';
import { benchController } from './launch.js';
import { round, type Figure } from './lib.js';

export interface BenchMemoryOptions {
  quick: boolean;
  /** Cycles in all. Default 10,000, quick 300. */
  cycles?: number;
  /** The cycle whose RSS is the reference. Default 1,000 (a tenth of `cycles` when fewer). */
  referenceAt?: number;
  /** Called every 1,000 cycles (progress on a long run). */
  progress?: (cycle: number, rssMiB: number) => void;
}

const MiB = 1024 * 1024;
const EVERY = 50;

export async function benchMemory(o: BenchMemoryOptions): Promise<Figure[]> {
  const cycles = o.cycles ?? (o.quick ? 300 : 10_000);
  const referenceAt = o.referenceAt ?? (cycles >= 10_000 ? 1_000 : Math.max(EVERY, Math.round(cycles / 10 / EVERY) * EVERY));
  const c = await benchController({ hooks: false, tag: 'm' });
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
      peak = Math.max(peak, m.rss);
      lastRss = m.rss;
      lastHeap = m.heapUsed;
      if (i === referenceAt) {
        refRss = m.rss;
        refHeap = m.heapUsed;
      }
      if (i % 1000 === 0) o.progress?.(i, m.rss / MiB);
    }
  } finally {
    await c.cleanup();
  }
  const mb = (x: number) => round(x / MiB, 1);
  const fig = (name: string, d: number, r: number): Figure => ({ name, unit: 'MiB', domforge: mb(d), reference: mb(r), ratio: round(d / r, 4), samples: cycles });
  const n = cycles.toLocaleString('en-US');
  const at = referenceAt.toLocaleString('en-US');
  return [
    fig(`Peak RSS over ${n} launch/terminate cycles (reference: RSS at cycle ${at})`, peak, refRss),
    fig(`RSS at cycle ${n} (reference: RSS at cycle ${at}; ratio − 1 = growth)`, lastRss, refRss),
    fig(`V8 heap used at cycle ${n} (reference: heap at cycle ${at}; no forced GC)`, lastHeap, refHeap),
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const n = process.argv.slice(2).find((a) => /^\d+$/.test(a));
  const figures = await benchMemory({
    quick: process.argv.includes('--quick'),
    cycles: n ? Number(n) : undefined,
    progress: (i, rss) => process.stderr.write(`cycle ${i}: rss ${rss.toFixed(1)} MiB\n`),
  });
  for (const f of figures) console.log(JSON.stringify(f));
}
