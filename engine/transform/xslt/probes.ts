import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IoError } from '../../errors.js';
import { readRegularFileSync } from '../../fs/regular-file.js';
import { diffXml } from '../../xml/compare.js';
import { compileXslt } from './compile.js';
import type { XsltEngineChoice } from './engine.js';

/**
 * Runs the XSLT 1.0 conformance probes (a folder with `manifest.json`, one folder per
 * probe, `_common_input.xml`) through an engine and judges each result against
 * `xsltproc --nonet` run on the same files, comparing trees (text for `method="text"`).
 */
export interface ProbeCase {
  id: string;
  style: string;
  input: string;
  /** `canon` (tree), `text`, `error` (must fail), `genid`, `indent-omit`, `noindent-decl`, `spec` (expected file). */
  check: string;
  expected?: string;
}

/** How an engine did on one probe case. */
export type ProbeOutcome =
  /** Same result as xsltproc (for `error`: failed too). */
  | 'match'
  /** Refused at compile time or per input with TRANSFORM_UNSUPPORTED, naming the construct. */
  | 'refused'
  /** A different result: silent wrong output. */
  | 'differs';

export interface ProbeResult {
  case: ProbeCase;
  outcome: ProbeOutcome;
  /** The engine actually used (auto: after the guard). */
  engine?: string;
  detail?: string;
}

type Manifest = { id: string; cases?: { style: string; check: string; input?: string; expected?: string }[] }[];

/** A probe folder's cases, from its manifest.json; a manifest that cannot be read or is not JSON is an IoError naming it. */
export function probeCases(dir: string): ProbeCase[] {
  const file = join(dir, 'manifest.json');
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readRegularFileSync(file)) as Manifest;
  } catch (e) {
    throw new IoError(`cannot read the probe manifest: ${(e as Error).message}`, { file, cause: e });
  }
  if (!Array.isArray(manifest)) throw new IoError('the probe manifest is not a JSON array of probes', { file });
  return manifest.flatMap((m) =>
    (m.cases ?? [{ style: 'style.xsl', check: 'canon' }]).map((c) => {
      const own = join(dir, m.id, 'input.xml');
      return {
        id: m.id,
        style: join(dir, m.id, c.style),
        input: c.input ? join(dir, m.id, c.input) : existsSync(own) ? own : join(dir, '_common_input.xml'),
        check: c.check,
        expected: c.expected ? join(dir, m.id, c.expected) : undefined,
      };
    }),
  );
}

/** xsltproc's own result for a probe case. */
export function referenceResult(c: ProbeCase): { ok: boolean; output: string } {
  const r = spawnSync('xsltproc', ['--nonet', c.style, c.input], { encoding: 'utf8' });
  return { ok: r.status === 0 && !/^(compilation|runtime) error/m.test(r.stderr), output: r.stdout };
}

/** Whether two results are the same for a probe's check. */
export function sameResult(c: ProbeCase, got: string, want: string): string | undefined {
  if (c.check === 'text') return got === want ? undefined : 'text differs';
  try {
    const d = diffXml(got, want, {}, ['engine', 'reference']);
    return d ? `${d.path}: ${d.message}` : undefined;
  } catch (e) {
    return `not comparable: ${(e as Error).message.split('\n')[0]}`;
  }
}

/** Runs one probe case through an engine choice and judges it against xsltproc (or `against` when given). */
export async function runProbe(c: ProbeCase, engine: XsltEngineChoice, against?: { ok: boolean; output: string }): Promise<ProbeResult> {
  const ref = against ?? referenceResult(c);
  const xml = readFileSync(c.input, 'utf8');
  let output: string;
  let used: string | undefined;
  try {
    const compiled = compileXslt(c.style, { engine, root: join(c.style, '..') });
    const r = await compiled.render({ xml, file: c.input });
    output = r.output;
    used = r.engine;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'TRANSFORM_UNSUPPORTED') return { case: c, outcome: 'refused', detail: (e as Error).message };
    if (!ref.ok) return { case: c, outcome: 'match', detail: `failed as xsltproc does: ${(e as Error).message}` };
    return { case: c, outcome: 'differs', detail: `failed: ${(e as Error).message}` };
  }
  if (!ref.ok) return { case: c, outcome: 'differs', engine: used, detail: 'rendered where xsltproc fails' };
  const d = sameResult(c, output, ref.output);
  return { case: c, outcome: d ? 'differs' : 'match', engine: used, detail: d };
}
