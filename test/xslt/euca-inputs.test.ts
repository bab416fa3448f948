import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { compileXslt } from '../../engine/transform/xslt/compile.js';
import { diffXml } from '../../engine/xml/compare.js';
import { parseXml } from '../../engine/xml/parse.js';
import { DEFAULT_XSL, EUCA_INPUTS, skipWithoutXsltproc } from './helpers.js';

const skip = skipWithoutXsltproc();
const inputs = readdirSync(EUCA_INPUTS).filter((f) => f.endsWith('.xml')).sort();

test('the default stylesheet has no construct that pins it to libxslt', () => {
  assert.deepEqual(compileXslt(DEFAULT_XSL).report.caveats, []);
});

test('every Eucalyptus input renders to the same tree with both engines', { skip }, async () => {
  const xsl = compileXslt(DEFAULT_XSL);
  assert.equal(inputs.length, 10);
  for (const f of inputs.filter((f) => !f.startsWith('09-'))) {
    const input = { xml: readFileSync(`${EUCA_INPUTS}/${f}`, 'utf8'), file: f };
    const a = await xsl.renderWith('xslt-processor', input);
    const b = await xsl.renderWith('libxslt', input);
    assert.equal(diffXml(a.output, b.output, {}, ['xslt-processor', 'libxslt']), undefined, f);
  }
});

test('09-neg-xen-terminate fails with the stylesheet\'s message on both engines', { skip }, async () => {
  const xsl = compileXslt(DEFAULT_XSL);
  const input = { xml: readFileSync(`${EUCA_INPUTS}/09-neg-xen-terminate.xml`, 'utf8') };
  const line = readFileSync(DEFAULT_XSL, 'utf8').split('\n').findIndex((l) => l.includes('which Xen does not provide')) + 1;
  for (const engine of ['xslt-processor', 'libxslt'] as const) {
    await assert.rejects(xsl.renderWith(engine, input), (e: Error & { code?: string; line?: number; file?: string }) => {
      assert.equal(e.code, 'TRANSFORM_MESSAGE', engine);
      assert.match(e.message, /Xen instance i-4e7a1209: disk \w+ asks for the virtio bus/, engine);
      assert.equal(e.file, DEFAULT_XSL, engine);
      assert.equal(e.line, line, engine);
      return true;
    });
  }
});

test('10-synthetic-special-chars stays well-formed and keeps exactly its special characters', { skip }, async () => {
  const xsl = compileXslt(DEFAULT_XSL);
  const xml = readFileSync(`${EUCA_INPUTS}/10-synthetic-special-chars.xml`, 'utf8');
  const name = parseXml(xml).getElementsByTagName('name').item(0)!.textContent!;
  assert.match(name, /[&<>"]/);
  for (const engine of ['xslt-processor', 'libxslt'] as const) {
    const out = parseXml((await xsl.renderWith(engine, { xml })).output);
    assert.equal(out.getElementsByTagName('name').item(0)!.textContent, name, engine);
    const desc = out.getElementsByTagName('description').item(0)!.textContent!;
    assert.ok(desc.includes(name), `${engine}: description holds the name as is`);
  }
});

test('auto activates the guard on first use and keeps the in-process engine when the engines agree', { skip }, async () => {
  const provingSet = inputs.filter((f) => !f.startsWith('09-')).slice(0, 3).map((f) => ({ xml: readFileSync(`${EUCA_INPUTS}/${f}`, 'utf8'), file: f }));
  const xsl = compileXslt(DEFAULT_XSL, { provingSet });
  const r = await xsl.render(provingSet[0]!);
  assert.equal(r.engine, 'compiled');
  assert.equal(xsl.guard?.pinned, false);
  assert.equal(xsl.guard?.compared, 4);
});
