import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { compileXslt } from '../../engine/transform/xslt/compile.js';
import { probeCases, referenceResult, sameResult } from '../../engine/transform/xslt/probes.js';
import { PROBES, ROOT, skipReason } from './helpers.js';

const skip = skipReason();

/** The `compiled` column of the probe table in the README's XSLT fidelity section. */
function documented(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n')) {
    const m = /^\| `([0-9B][\w-]+\/[\w.]+)` \| [^|]+ \| [^|]+ \| [^|]+ \| ([^|]+) \|/.exec(line);
    if (m) rows.set(m[1]!, m[2]!.trim());
  }
  return rows;
}

test('every probe either matches xsltproc with the compiled engine or is refused at compile time', { skip }, async () => {
  const table = documented();
  let matched = 0;
  for (const c of probeCases(PROBES!)) {
    const key = `${c.id}/${basename(c.style)}`;
    let compiled;
    try {
      compiled = compileXslt(c.style, { engine: 'compiled', root: join(c.style, '..') });
    } catch (e) {
      const err = e as Error & { code?: string; line?: number };
      assert.equal(err.code, 'TRANSFORM_UNSUPPORTED', `${key}: compile failed otherwise: ${err.message}`);
      assert.ok(err.line, `${key}: the refusal names a line`);
      assert.match(err.message, /compiled engine does not run .+ exactly as libxslt does/);
      assert.equal(table.get(key), 'refused', `${key}: documented as refused`);
      continue;
    }
    // B8 is judged against the XPath 1.0 specification (libxslt writes exponent notation there).
    const ref = c.check === 'spec' ? { ok: true, output: readFileSync(c.expected!, 'utf8') } : referenceResult(c);
    const input = { xml: readFileSync(c.input, 'utf8'), file: c.input };
    let output: string | undefined;
    let error: (Error & { code?: string }) | undefined;
    try {
      output = (await compiled.render(input)).output;
    } catch (e) {
      error = e as Error & { code?: string };
    }
    assert.notEqual(error?.code, 'TRANSFORM_UNSUPPORTED', `${key}: refused only at render time: ${error?.message}`);
    if (!ref.ok) {
      assert.ok(error, `${key}: xsltproc fails, the compiled engine must fail too`);
    } else {
      assert.equal(error, undefined, `${key}: ${error?.message}`);
      assert.equal(sameResult(c, output!, ref.output), undefined, `${key}: differs from ${c.check === 'spec' ? 'the specification' : 'xsltproc'}`);
    }
    assert.equal(table.get(key), 'match', `${key}: documented as match`);
    matched++;
  }
  assert.ok(matched >= 24, `matched ${matched} probe cases`);
});
