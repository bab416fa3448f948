import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileXslt } from '../../engine/transform/xslt/compile.js';
import { diffXml } from '../../engine/xml/compare.js';
import { DEFAULT_XSL, EUCA_INPUTS, ROOT, skipReason, xsltproc } from './helpers.js';

const xsl = compileXslt(DEFAULT_XSL, { engine: 'compiled' });

const samples = readdirSync(join(ROOT, 'samples'))
  .map((d) => join(ROOT, 'samples', d, 'instance.xml'))
  .filter(existsSync);

test('every sample renders with the compiled engine to xsltproc\'s tree (and bytes)', { skip: skipReason(false) }, async () => {
  assert.ok(samples.length >= 10);
  for (const file of samples) {
    const ref = xsltproc(DEFAULT_XSL, file);
    const r = await xsl.render({ xml: readFileSync(file, 'utf8'), file });
    assert.equal(r.engine, 'compiled');
    assert.equal(diffXml(r.output, ref.stdout), undefined, file);
    assert.equal(r.output, ref.stdout, `${file}: same text as xsltproc (indentation, attribute order)`);
  }
});

test('every Eucalyptus input renders to xsltproc\'s tree; 09 stops with the stylesheet\'s message and line', { skip: skipReason() }, async () => {
  const files = readdirSync(EUCA_INPUTS!).filter((f) => f.endsWith('.xml'));
  assert.equal(files.length, 10);
  for (const f of files) {
    const file = join(EUCA_INPUTS!, f);
    const ref = xsltproc(DEFAULT_XSL, file);
    const input = { xml: readFileSync(file, 'utf8'), file };
    if (f.startsWith('09-')) {
      assert.equal(ref.ok, false);
      const line = readFileSync(DEFAULT_XSL, 'utf8').split('\n').findIndex((l) => l.includes('<xsl:message terminate="yes">')) + 1;
      await assert.rejects(xsl.render(input), (e: Error & { code?: string; line?: number }) => e.code === 'TRANSFORM_MESSAGE' && e.line === line && /Xen instance .* asks for the virtio bus/.test(e.message));
      continue;
    }
    const r = await xsl.render(input);
    assert.equal(diffXml(r.output, ref.stdout), undefined, f);
  }
});

test('10-synthetic-special-chars keeps exactly the special characters', { skip: skipReason() }, async () => {
  const file = join(EUCA_INPUTS!, '10-synthetic-special-chars.xml');
  const r = await xsl.render({ xml: readFileSync(file, 'utf8'), file });
  assert.equal(r.output, xsltproc(DEFAULT_XSL, file).stdout);
});

test('the input reader refuses more than 1024 attributes on one element as the strict parser does, at its line, in linear time; a duplicate is still refused', async () => {
  const { parseInput } = await import('../../engine/transform/xslt/compiled/input-parser.js');
  const attrs = (n: number) => Array.from({ length: n }, (_, i) => ` a${i}="${i}"`).join('');
  assert.equal(parseInput(`<instance${attrs(1024)}><name>x</name></instance>`, undefined).children[0]!.attrs.length, 1024);
  const t0 = performance.now();
  assert.throws(
    () => parseInput(`<instance>\n  <x${attrs(100_000)}/>\n</instance>`, undefined, 'in.xml'),
    (e: Error & { code?: string; file?: string; line?: number }) => e.code === 'XML_FORBIDDEN' && e.file === 'in.xml' && e.line === 2 && /<x> has 100000, more than the 1024/.test(e.message),
  );
  const ms = performance.now() - t0;
  // Checked for duplicates quadratically, 100,000 attributes took ~26 s; refused, about 0.02 s here. 5 s leaves room for a busy machine.
  assert.ok(ms < 5000, `${ms.toFixed(0)} ms`);
  for (const dup of [' a3="x"', ' a1022="x"']) assert.throws(() => parseInput(`<instance${attrs(1023)}${dup}/>`, undefined), /redefined|duplicate/i);
  // Short lists (the linear search) and the switch to the set at 8 keep the same rule.
  for (let k = 1; k <= 12; k++) {
    const few = Array.from({ length: k }, (_, i) => ` b${i}="1"`).join('');
    assert.doesNotThrow(() => parseInput(`<a${few}/>`, undefined));
    assert.throws(() => parseInput(`<a${few} b${k - 1}="2"/>`, undefined), /redefined|duplicate/i, String(k));
  }
});

test('elements nested more than 256 levels below the root are refused at the first one too deep, by file:line:column, on both input paths, as xsltproc refuses them; 256 are read; 99,000 (just under the 100,000-element cap) are no stack overflow', { skip: skipReason(false) }, async () => {
  const { parseInput } = await import('../../engine/transform/xslt/compiled/input-parser.js');
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const nested = (n: number) => '<a>'.repeat(n) + '</a>'.repeat(n);
  const count = compileXslt(join(ROOT, 'count.xsl'), { engine: 'compiled', text: '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:template match="/"><n><xsl:value-of select="count(//a)"/></n></xsl:template></xsl:stylesheet>' });
  const dir = await mkdtemp(join(tmpdir(), 'domforge-depth-'));
  try {
    // The fast reader stops at the first element too deep and hands the document to the strict parse, which names it.
    const doc = (n: number) => `<r>\n${nested(n)}</r>`;
    assert.equal((await count.render({ xml: doc(256), file: 'in.xml' })).output.trim().split('\n').at(-1), '<n>256</n>');
    for (const n of [257, 10_000, 99_000]) {
      const t0 = performance.now();
      assert.throws(
        () => parseInput(doc(n), undefined, 'in.xml'),
        (e: Error & { code?: string; file?: string; line?: number; column?: number }) => {
          assert.equal(e.code, 'XML_SYNTAX', String(e));
          assert.equal(e.message, 'in.xml:2:769: elements nested too deeply: <a> is more than 256 levels below the root element (libxml2, and so xsltproc, refuses a document nested deeper)');
          return true;
        },
      );
      assert.ok(performance.now() - t0 < 5000, `${n} levels: ${(performance.now() - t0).toFixed(0)} ms`);
      await assert.rejects(count.render({ xml: doc(n), file: 'in.xml' }), (e: Error & { code?: string }) => e.code === 'XML_SYNTAX' && e.message.startsWith('in.xml:2:769: elements nested too deeply'));
    }
    // A ']]>' in text before them (which the fast reader also hands over) is refused first, where it stands, as libxml2 refuses it.
    await assert.rejects(count.render({ xml: `<r>]]>\n${nested(257)}</r>`, file: 'in.xml' }), (e: Error & { code?: string }) => e.code === 'XML_SYNTAX' && e.message.startsWith("in.xml:1:4: ']]>' is not allowed in character data"));
    // xsltproc's own limit is the same: 256 levels read, 257 refused.
    for (const [n, ok] of [[256, true], [257, false]] as const) {
      const file = join(dir, `d${n}.xml`);
      await writeFile(file, `<r>\n${nested(n)}</r>`);
      const r = xsltproc(DEFAULT_XSL, file);
      assert.equal(/Excessive depth in document: 256/.test(r.stderr), !ok, r.stderr);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
