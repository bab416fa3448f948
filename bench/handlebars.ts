/**
 * Handlebars render time per instance beside the XSLT render, measured in the same run:
 * for every sample, the default `libvirt.xml.hbs` and the default `libvirt.xsl`, each
 * compiled once, render the same already-parsed input (what the pipeline hands a
 * transform) in alternation after a warm-up. Prints median and p95 in µs per render.
 * Parsing the output and validating it are the same for both and are not timed.
 *
 * Run alone: `node dist/bench/handlebars.js [rounds]` (default 200 rounds per sample).
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadTransform } from '../engine/transform/load.js';
import type { CompiledTransform, TransformInput } from '../engine/transform/types.js';
import { parseXml } from '../engine/xml/parse.js';
import { parseInstance } from '../engine/instance/parse.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RenderFigure {
  sample: string;
  handlebars: { medianUs: number; p95Us: number };
  xslt: { medianUs: number; p95Us: number; engine: string };
  rounds: number;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function time(t: CompiledTransform, input: TransformInput): Promise<number> {
  const start = process.hrtime.bigint();
  await t.render(input, {});
  return Number(process.hrtime.bigint() - start) / 1000;
}

export async function benchHandlebars(rounds = 200): Promise<RenderFigure[]> {
  const hbs = await loadTransform(join(ROOT, 'transforms', 'libvirt.xml.hbs'));
  const xsl = await loadTransform(join(ROOT, 'transforms', 'libvirt.xsl'));
  const dir = join(ROOT, 'samples');
  const figures: RenderFigure[] = [];
  for (const name of readdirSync(dir).sort()) {
    const file = join(dir, name, 'instance.xml');
    if (!existsSync(file)) continue;
    const xml = readFileSync(file, 'utf8');
    const input: TransformInput = { xml, file, document: parseXml(xml, { file }), instance: parseInstance(xml, { file }) };
    let engine = '';
    for (let i = 0; i < 20; i++) {
      await hbs.render(input);
      engine = (await xsl.render(input)).engine;
    }
    const h: number[] = [];
    const x: number[] = [];
    for (let i = 0; i < rounds; i++) {
      h.push(await time(hbs, input));
      x.push(await time(xsl, input));
    }
    h.sort((a, b) => a - b);
    x.sort((a, b) => a - b);
    figures.push({
      sample: name,
      handlebars: { medianUs: quantile(h, 0.5), p95Us: quantile(h, 0.95) },
      xslt: { medianUs: quantile(x, 0.5), p95Us: quantile(x, 0.95), engine },
      rounds,
    });
  }
  return figures;
}

function print(figures: RenderFigure[]): void {
  const f = (n: number) => n.toFixed(1).padStart(9);
  console.log(`render time per instance, µs (${figures[0]?.rounds ?? 0} rounds each; XSLT engine: ${figures[0]?.xslt.engine ?? '?'})`);
  console.log(`${'sample'.padEnd(32)} ${'hbs med'.padStart(9)} ${'hbs p95'.padStart(9)} ${'xsl med'.padStart(9)} ${'xsl p95'.padStart(9)}  xsl/hbs`);
  for (const r of figures) {
    console.log(`${r.sample.padEnd(32)} ${f(r.handlebars.medianUs)} ${f(r.handlebars.p95Us)} ${f(r.xslt.medianUs)} ${f(r.xslt.p95Us)}  ${(r.xslt.medianUs / r.handlebars.medianUs).toFixed(1)}x`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rounds = Number(process.argv[2] ?? 200);
  print(await benchHandlebars(Number.isInteger(rounds) && rounds > 0 ? rounds : 200));
}
