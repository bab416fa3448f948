/**
 * Validation speed: domforge's `validateDomainXml` (strict parse + libvirt's schema
 * in-process with libxml2-wasm + domforge's own checks) against libvirt's
 * `virt-xml-validate FILE domain` run as a process, per document, on the valid
 * fixtures in test/validate/fixtures/valid. Both are timed in the same loop, one
 * after the other, after a warm-up (which also compiles the schema once).
 *
 * Run alone: `node dist/bench/validate.js [samples]`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { validateDomainXml } from '../engine/validate/validate-domain.js';
import { loadDomainSchema, releaseDomainSchemas } from '../engine/validate/schema.js';
import { quantile, round, type Figure } from './lib.js';

export interface BenchValidateOptions {
  /** Timed documents per side. Default 60. */
  samples?: number;
  /** Untimed interleaved rounds first. Default 5. */
  warmup?: number;
  /** Untimed domforge-only rounds before that, so V8 has compiled the hot paths. Default 300. */
  jitWarmup?: number;
}

const FIXTURES = fileURLToPath(new URL('../../test/validate/fixtures/valid/', import.meta.url));

export async function benchValidate(o: BenchValidateOptions = {}): Promise<Figure[]> {
  const samples = o.samples ?? 60;
  const warmup = o.warmup ?? 5;
  const docs = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.xml'))
    .map((f) => ({ path: FIXTURES + f, xml: readFileSync(FIXTURES + f, 'utf8') }));

  const t0 = performance.now();
  await loadDomainSchema();
  const compileMs = performance.now() - t0;
  for (let i = 0; i < (o.jitWarmup ?? 300); i++) await validateDomainXml(docs[i % docs.length]!.xml);

  const ours: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < warmup + samples; i++) {
    const doc = docs[i % docs.length]!;
    let t = performance.now();
    await validateDomainXml(doc.xml, { file: doc.path });
    const a = performance.now() - t;
    t = performance.now();
    const r = spawnSync('virt-xml-validate', [doc.path, 'domain'], { encoding: 'utf8' });
    const b = performance.now() - t;
    if (r.status !== 0) throw new Error(`virt-xml-validate rejected ${doc.path}: ${r.stderr}`);
    if (i >= warmup) {
      ours.push(a);
      theirs.push(b);
    }
  }
  const fig = (name: string, f: (xs: number[]) => number): Figure => {
    const d = f(ours);
    const r = f(theirs);
    return { name, unit: 'ms/doc', domforge: round(d), reference: round(r), ratio: round(d / r, 4), samples };
  };
  return [
    fig('validate domain XML, median (domforge vs virt-xml-validate process)', (xs) => quantile(xs, 0.5)),
    fig('validate domain XML, p95 (domforge vs virt-xml-validate process)', (xs) => quantile(xs, 0.95)),
    // virt-xml-validate compiles the schema on every call; domforge once per process.
    { name: 'first use: load libxml2-wasm and compile domain.rng (domforge, once per process) vs one virt-xml-validate call', unit: 'ms', domforge: round(compileMs), reference: round(quantile(theirs, 0.5)), ratio: round(compileMs / quantile(theirs, 0.5), 4), samples: 1 },
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const figures = await benchValidate({ samples: process.argv[2] ? Number(process.argv[2]) : undefined });
  for (const f of figures) {
    console.log(`${f.name}: domforge ${f.domforge} ${f.unit}, reference ${f.reference} ${f.unit}, ratio ${f.ratio} (n=${f.samples})`);
  }
  console.log(JSON.stringify(figures, null, 2));
  await releaseDomainSchemas();
}
