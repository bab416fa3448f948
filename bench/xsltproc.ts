import { spawnSync } from 'node:child_process';

/**
 * libxslt's own time per apply of a stylesheet to a document: `xsltproc --timing --repeat`
 * applies it 20 times in one process and prints the total in whole milliseconds, so
 * several runs are taken and each gives total / 20.
 */
export function xsltprocApplyTimes(stylesheet: string, input: string, runs: number, params: Record<string, string> = {}): number[] {
  const out: number[] = [];
  const args = ['--timing', '--repeat', '--nonet', ...Object.entries(params).flatMap(([k, v]) => ['--stringparam', k, v]), stylesheet, input];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync('xsltproc', args, { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.error) throw new Error(`xsltproc is not installed (run scripts/setup.sh): ${r.error.message}`);
    const m = /Applying stylesheet (\d+) times took (\d+) ms/.exec(r.stderr);
    if (!m) throw new Error(`xsltproc --timing printed no apply time: ${r.stderr.slice(0, 300)}`);
    out.push(Number(m[2]) / Number(m[1]));
  }
  return out;
}

/** Wall time of one `xsltproc` process per render (how an admin usually runs it). */
export function xsltprocProcessTime(stylesheet: string, input: string): number {
  const t = performance.now();
  const r = spawnSync('xsltproc', ['--nonet', stylesheet, input], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const d = performance.now() - t;
  if (r.status !== 0) throw new Error(`xsltproc failed: ${r.stderr}`);
  return d;
}
