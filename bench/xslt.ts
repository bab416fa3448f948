/**
 * XSLT render speed of the default stylesheet (transforms/libvirt.xsl), per instance,
 * over the samples (samples/NN/instance.xml), each stylesheet compiled once:
 *
 * 1. domforge's default in-process engine (`compiled`, which `auto` uses) against
 *    libxslt in-process (`xsltproc --timing --repeat` reports the time of 20 applies in
 *    one process; a sample is that / 20) and against one `xsltproc` process per render
 *    (the admin's debug loop) — interleaved by rounds after a warm-up;
 * 2. the same engine against xslt-processor (what domforge used before), in a loop of
 *    their own so xslt-processor's garbage does not land in the first loop's pauses;
 * 3. domforge's libxslt engine (xsltproc as a process, with its checks) per render;
 * 4. the differential guard at activation, against rendering the same proving inputs
 *    with one xsltproc process each.
 *
 * Run alone: `node dist/bench/xslt.js [samples]`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileXslt } from '../engine/transform/xslt/compile.js';
import { medianAndP95, round, type Figure } from './lib.js';
import { xsltprocApplyTimes, xsltprocProcessTime } from './xsltproc.js';

export interface BenchXsltOptions {
  /** Timed renders per side. Default 200. */
  samples?: number;
  /** Untimed in-process renders first, so V8 has compiled the hot paths. Default 300. */
  jitWarmup?: number;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const XSL = join(ROOT, 'transforms', 'libvirt.xsl');

/** The samples' instance files, in name order. */
export function sampleInputs(): { file: string; xml: string }[] {
  const dir = join(ROOT, 'samples');
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(dir, d.name, 'instance.xml'))
    .sort()
    .map((file) => ({ file, xml: readFileSync(file, 'utf8') }));
}

export async function benchXslt(o: BenchXsltOptions = {}): Promise<Figure[]> {
  const samples = o.samples ?? 200;
  const inputs = sampleInputs();

  // 4. The guard: both engines over the proving set, once per stylesheet version.
  let t = performance.now();
  const guarded = compileXslt(XSL, { provingSet: inputs });
  await guarded.activate();
  const guardMs = performance.now() - t;
  t = performance.now();
  for (const input of inputs) xsltprocProcessTime(XSL, input.file);
  const byHandMs = performance.now() - t;

  const compiled = compileXslt(XSL, { engine: 'compiled' });
  const processor = compileXslt(XSL, { engine: 'xslt-processor' });
  for (let i = 0; i < (o.jitWarmup ?? 300); i++) await compiled.render(inputs[i % inputs.length]!);

  // 1. compiled vs libxslt in-process vs one xsltproc process, interleaved by rounds: a
  //    block of in-process renders (each timed), then xsltproc's own timing, then one
  //    xsltproc process. Blocks, because a process spawned between every two renders
  //    would measure the cache and scheduler damage of the spawn rather than the render.
  const ours: number[] = [];
  const apply: number[] = [];
  const proc: number[] = [];
  const block = 10;
  for (let r = 0; r < Math.max(3, Math.ceil(samples / block)); r++) {
    const input = inputs[r % inputs.length]!;
    for (let i = 0; i < block; i++) {
      t = performance.now();
      await compiled.render(input);
      ours.push(performance.now() - t);
    }
    apply.push(...xsltprocApplyTimes(XSL, input.file, 1));
    proc.push(xsltprocProcessTime(XSL, input.file));
  }

  // 2. compiled vs xslt-processor, interleaved in a loop of their own.
  const fast: number[] = [];
  const slow: number[] = [];
  const n2 = Math.max(3, Math.ceil(samples / 4));
  for (let i = 0; i < Math.min(20, n2); i++) await processor.render(inputs[i % inputs.length]!);
  for (let i = 0; i < n2; i++) {
    const input = inputs[i % inputs.length]!;
    t = performance.now();
    await compiled.render(input);
    fast.push(performance.now() - t);
    t = performance.now();
    await processor.render(input);
    slow.push(performance.now() - t);
  }

  // 3. domforge's libxslt engine against a bare xsltproc process.
  const viaEngine: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < Math.max(3, Math.ceil(samples / 10)); i++) {
    const input = inputs[i % inputs.length]!;
    t = performance.now();
    await compiled.renderWith('libxslt', input);
    viaEngine.push(performance.now() - t);
    bare.push(xsltprocProcessTime(XSL, input.file));
  }

  return [
    ...medianAndP95('XSLT render, domforge default engine (compiled)', 'ms/render', ours, apply, 'libxslt in-process, per apply'),
    ...medianAndP95('XSLT render, domforge default engine (compiled)', 'ms/render', ours, proc, 'one xsltproc process per render'),
    ...medianAndP95('XSLT render, compiled engine', 'ms/render', fast, slow, 'xslt-processor in-process, same loop'),
    ...medianAndP95("XSLT render with domforge's libxslt engine", 'ms/render', viaEngine, bare, 'one bare xsltproc process'),
    {
      name: `differential guard at activation, ${inputs.length} proving inputs through both engines (vs one xsltproc process per input)`,
      unit: 'ms',
      domforge: round(guardMs, 1),
      reference: round(byHandMs, 1),
      ratio: round(guardMs / byHandMs, 3),
      samples: 1,
    },
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const f of await benchXslt({ samples: process.argv[2] ? Number(process.argv[2]) : undefined })) {
    console.log(`${f.name}: ${f.domforge} vs ${f.reference} ${f.unit} (ratio ${f.ratio}, n=${f.samples})`);
  }
}
