/**
 * Scale: the default stylesheet's render time for an instance with 1, 10, 100 and
 * 1,000 disks, domforge in-process against libxslt's per-apply time on the same file,
 * and how each grows (time(n) / time(n/10): 10 means linear).
 *
 * Run alone: `node dist/bench/scale.js [--quick]`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseInstance, emitInstance } from '../engine/instance/index.js';
import { compileXslt } from '../engine/transform/xslt/compile.js';
import { quantile, round, timeCalls, type Figure } from './lib.js';
import { xsltprocApplyTimes } from './xsltproc.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** libvirt's disk naming: a…z, aa…zz, aaa… */
export function diskLetters(i: number): string {
  let s = '';
  let n = i + 1;
  while (n > 0) {
    n--;
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  }
  return s;
}

/** The virtio sample with `n` image disks. */
export function instanceWithDisks(n: number): string {
  const base = parseInstance(readFileSync(join(ROOT, 'samples', '01-linux-virtio', 'instance.xml'), 'utf8'));
  const template = base.disks.diskPaths[1];
  base.disks.diskPaths = Array.from({ length: n }, (_, i) => {
    const dev = `vd${diskLetters(i)}`;
    return { ...template, path: `${base.instancePath}/disk-${i}.img`, targetDeviceName: dev, targetDeviceNameVirtio: dev };
  });
  base.vbrs = [];
  return emitInstance(base);
}

export async function benchScale(o: { quick?: boolean } = {}): Promise<Figure[]> {
  const sizes = o.quick ? [1, 10, 100] : [1, 10, 100, 1000];
  const xsl = join(ROOT, 'transforms', 'libvirt.xsl');
  const compiled = compileXslt(xsl);
  const work = mkdtempSync(join(tmpdir(), 'domforge-bench-scale-'));
  const figures: Figure[] = [];
  try {
    let previous: { ours: number; theirs: number } | undefined;
    for (const n of sizes) {
      const xml = instanceWithDisks(n);
      const file = join(work, `instance-${n}.xml`);
      writeFileSync(file, xml);
      const samples = o.quick ? 2 : Math.max(9, Math.round(400 / n));
      // Warm up long enough for V8 to optimise the render at this size too.
      const ours = await timeCalls(() => compiled.render({ xml }), samples, o.quick ? 1 : Math.min(50, Math.max(5, Math.round(2000 / n))));
      const theirs = xsltprocApplyTimes(xsl, file, o.quick ? 1 : 5);
      const d = quantile(ours, 0.5);
      const r = quantile(theirs, 0.5);
      const growth = previous ? ` (×${round(d / previous.ours, 1)} from ${n / 10} disks; libxslt ×${round(r / previous.theirs, 1)})` : '';
      figures.push({
        name: `scale: XSLT render with ${n} disk${n === 1 ? '' : 's'}, median${growth} (vs xsltproc --timing per apply)`,
        unit: 'ms/render',
        domforge: round(d, 4),
        reference: round(r, 4),
        ratio: round(d / r, 4),
        samples,
      });
      previous = { ours: d, theirs: r };
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return figures;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const f of await benchScale({ quick: process.argv.includes('--quick') })) console.log(JSON.stringify(f));
}
