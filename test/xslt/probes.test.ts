import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { probeCases, referenceResult, runProbe, sameResult, type ProbeOutcome } from '../../engine/transform/xslt/probes.js';
import { PROBES, ROOT, skipWithoutXsltproc } from './helpers.js';

const skip = skipWithoutXsltproc() || (existsSync(PROBES) ? false : 'the probe folder is not present');

/** The outcome table of the README's XSLT fidelity section: `| 03-attribute/style.xsl | before | xslt-processor | auto | how |`. */
function documentedTable(): Map<string, { processor: string; auto: string }> {
  const md = readFileSync(ROOT + 'README.md', 'utf8');
  const rows = new Map<string, { processor: string; auto: string }>();
  for (const line of md.split('\n')) {
    const m = /^\| `([0-9B][\w-]+\/[\w.]+)` \| [^|]+ \| ([^|]+) \| ([^|]+) \|/.exec(line);
    if (m) rows.set(m[1]!, { processor: m[2]!.trim(), auto: m[3]!.trim() });
  }
  return rows;
}

const label = (o: ProbeOutcome) => (o === 'match' ? 'match' : o === 'refused' ? 'refused' : 'differs');

test('all probes through both engines and auto, judged against xsltproc', { skip }, async () => {
  const cases = probeCases(PROBES);
  assert.equal(new Set(cases.map((c) => c.id)).size, 33, 'the probe set has 33 probes');
  const table = documentedTable();
  for (const c of cases) {
    const key = `${c.id}/${basename(c.style)}`;
    const ref = referenceResult(c);
    const [processor, libxslt, auto] = await Promise.all([runProbe(c, 'xslt-processor', ref), runProbe(c, 'libxslt', ref), runProbe(c, 'auto', ref)]);
    assert.equal(libxslt.outcome, 'match', `${key}: libxslt engine: ${libxslt.detail}`);
    assert.equal(auto.outcome, 'match', `${key}: auto engine: ${auto.detail}`);
    if (c.check === 'spec') {
      // Judged against the XPath 1.0 specification: libxslt writes 2.147483648e+09; xslt-processor is right,
      // and auto keeps libxslt's answer (the guard pins the stylesheet because the engines differ).
      assert.equal(sameResult(c, ref.output, readFileSync(c.expected!, 'utf8')) !== undefined, true, 'xsltproc still differs from the specification here');
      assert.equal(auto.engine, 'libxslt', `${key}: the guard pins on the difference`);
    } else {
      assert.notEqual(processor.outcome, 'differs', `${key}: xslt-processor gives silent wrong output: ${processor.detail}`);
    }
    const row = table.get(key);
    assert.ok(row, `${key} has a row in the README's XSLT fidelity section`);
    assert.equal(row.processor, label(processor.outcome), `${key}: documented xslt-processor outcome`);
    assert.equal(row.auto, `match (${auto.engine ?? 'error'})`, `${key}: documented auto outcome`);
  }
  assert.equal(table.size, cases.length, 'no stale rows in the documented table');
});
