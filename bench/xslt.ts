/**
 * XSLT render speed of the default stylesheet (transforms/libvirt.xsl), per instance:
 * domforge in-process (the compiled engine, which `auto` uses, and xslt-processor; each
 * compiled once) against libxslt in-process
 * (`xsltproc --timing --repeat` reports the time of 20 applies; one sample is that / 20)
 * and against one `xsltproc` process per render (the admin's debug loop). The three are
 * timed in the same loop, interleaved, over the Eucalyptus inputs, after a warm-up. Also:
 * domforge's libxslt engine per render, and the differential guard's cost at activation.
 *
 * Run alone: `node dist/bench/xslt.js [samples]`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileXslt } from '../engine/transform/xslt/compile.js';

export interface Figure {
  name: string;
  unit: string;
  domforge: number;
  reference: number;
  /** domforge / reference: below 1 means domforge is faster. */
  ratio: number;
  samples: number;
}

export interface BenchXsltOptions {
  /** Timed renders per side. Default 200. */
  samples?: number;
  /** Untimed in-process renders first, so V8 has compiled the hot paths. Default 300. */
  jitWarmup?: number;
  /** Eucalyptus inputs folder. */
  inputs?: string;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const XSL = ROOT + 'transforms/libvirt.xsl';
const INPUTS = '/work/shared/reference/euca-inputs/';

export async function benchXslt(o: BenchXsltOptions = {}): Promise<Figure[]> {
  const samples = o.samples ?? 200;
  const dir = o.inputs ?? INPUTS;
  const inputs = readdirSync(dir)
    .filter((f) => /^0[1-6]-.*\.xml$/.test(f))
    .map((f) => ({ file: dir + f, xml: readFileSync(dir + f, 'utf8') }));

  let t = performance.now();
  const guarded = compileXslt(XSL, { provingSet: inputs });
  await guarded.activate();
  const guardMs = performance.now() - t;

  const xsl = compileXslt(XSL, { engine: 'xslt-processor' });
  const compiled = compileXslt(XSL, { engine: 'compiled' });
  for (let i = 0; i < (o.jitWarmup ?? 300); i++) {
    await xsl.render(inputs[i % inputs.length]!);
    await compiled.render(inputs[i % inputs.length]!);
  }

  const ours: number[] = [];
  const oursCompiled: number[] = [];
  const libxsltApply: number[] = [];
  const process: number[] = [];
  const ourLibxslt: number[] = [];
  const repeatSamples = Math.max(3, Math.ceil(samples / 10));
  for (let i = 0; i < samples; i++) {
    const input = inputs[i % inputs.length]!;
    t = performance.now();
    await xsl.render(input);
    ours.push(performance.now() - t);
    t = performance.now();
    await compiled.render(input);
    oursCompiled.push(performance.now() - t);
    if (i % Math.ceil(samples / repeatSamples) === 0) {
      const r = spawnSync('xsltproc', ['--timing', '--repeat', XSL, input.file], { encoding: 'utf8' });
      const m = /Applying stylesheet 20 times took (\d+) ms/.exec(r.stderr);
      if (m) libxsltApply.push(Number(m[1]) / 20);
      t = performance.now();
      await xsl.renderWith('libxslt', input);
      ourLibxslt.push(performance.now() - t);
    }
    t = performance.now();
    spawnSync('xsltproc', ['--nonet', XSL, input.file], { encoding: 'utf8' });
    process.push(performance.now() - t);
  }
  const fig = (name: string, a: number[], b: number[], q = 0.5): Figure => {
    const x = quantile(a, q);
    const y = quantile(b, q);
    return { name, unit: 'ms', domforge: round(x), reference: round(y), ratio: round(x / y), samples: Math.min(a.length, b.length) };
  };
  return [
    fig('XSLT render, compiled engine, median (vs libxslt in-process per apply)', oursCompiled, libxsltApply),
    fig('XSLT render, compiled engine, p95 (vs libxslt in-process per apply)', oursCompiled, libxsltApply, 0.95),
    fig('XSLT render, compiled engine, median (vs xslt-processor in-process)', oursCompiled, ours),
    fig('XSLT render, median (in-process vs libxslt in-process per apply)', ours, libxsltApply),
    fig('XSLT render, p95 (in-process vs libxslt in-process per apply)', ours, libxsltApply, 0.95),
    fig('XSLT render, median (in-process vs one xsltproc process)', ours, process),
    fig('XSLT render, p95 (in-process vs one xsltproc process)', ours, process, 0.95),
    fig('XSLT render with domforge\'s libxslt engine, median (vs one xsltproc process)', ourLibxslt, process),
    { name: `differential guard at activation (${inputs.length} proving inputs, both engines)`, unit: 'ms', domforge: round(guardMs), reference: NaN, ratio: NaN, samples: 1 },
  ];
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

function round(x: number, digits = 3): number {
  return Number.isFinite(x) ? Number(x.toFixed(digits)) : x;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const figs = await benchXslt({ samples: process.argv[2] ? Number(process.argv[2]) : undefined });
  const target = 0.3;
  for (const f of figs) {
    const mark = f.name.startsWith('XSLT render, compiled engine, median (vs libxslt') ? `  target ≤ ${target} ms ${f.domforge <= target ? '✓' : '✗'}` : '';
    console.log(`${f.name.padEnd(84)} ${String(f.domforge).padStart(9)} ms  ref ${String(f.reference).padStart(8)} ms  ratio ${String(f.ratio).padStart(7)}  n=${f.samples}${mark}`);
  }
}
