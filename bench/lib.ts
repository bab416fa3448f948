/**
 * What every benchmark reports: one figure is domforge's time (or size) for some work
 * next to a reference tool's for the same work, measured in the same run, so the ratio
 * holds on a noisy machine even when the absolute numbers do not.
 */
export interface Figure {
  name: string;
  unit: string;
  domforge: number;
  reference: number;
  /** domforge / reference: below 1 means domforge is faster (0.1 = ten times faster). */
  ratio: number;
  samples: number;
  /** Printed for information beside the group's figures: no target applies to it. */
  info?: boolean;
}

export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Times `fn` `samples` times after `warmup` untimed calls; milliseconds per call. */
export async function timeCalls(fn: () => unknown, samples: number, warmup = Math.ceil(samples / 10)): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

/** A median and a p95 figure from two interleaved series. */
export function medianAndP95(name: string, unit: string, ours: readonly number[], theirs: readonly number[], reference: string): Figure[] {
  const fig = (label: string, q: number): Figure => {
    const d = quantile(ours, q);
    const r = quantile(theirs, q);
    return { name: `${name}, ${label} (vs ${reference})`, unit, domforge: round(d, 4), reference: round(r, 4), ratio: round(d / r, 4), samples: ours.length };
  };
  return [fig('median', 0.5), fig('p95', 0.95)];
}
