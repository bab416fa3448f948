import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileXslt } from '../../engine/transform/xslt/compile.js';
import { DEFAULT_XSL, EUCA_INPUTS, skipWithoutXsltproc } from './helpers.js';

const skip = skipWithoutXsltproc();
const XSL = readFileSync(DEFAULT_XSL, 'utf8');
const INPUT = { xml: readFileSync(`${EUCA_INPUTS}/01-linux-kvm-virtio.xml`, 'utf8'), file: '01-linux-kvm-virtio.xml' };
const dir = mkdtempSync(join(tmpdir(), 'domforge-xslt-guard-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

// A difference no static check knows: libxslt writes numbers of 1e9 and above in exponent notation.
const bigNumber = XSL.replace('<on_poweroff>destroy</on_poweroff>', '<on_poweroff>destroy</on_poweroff><xsl:if test="memoryKB * 1024 &gt; 0"><boot><xsl:value-of select="memoryKB * 1024"/></boot></xsl:if>');

test('a difference on the proving set pins the stylesheet to libxslt and names the first differing path', { skip }, async () => {
  const file = join(dir, 'big.xsl');
  writeFileSync(file, bigNumber);
  const xsl = compileXslt(file);
  assert.deepEqual(xsl.report.caveats, []);
  const r = await xsl.render(INPUT);
  assert.equal(r.engine, 'libxslt');
  assert.equal(xsl.engineName, 'libxslt');
  assert.equal(xsl.guard?.pinned, true);
  assert.equal(xsl.guard?.difference?.path, '/domain/boot/text()');
  assert.match(xsl.guard!.difference!.message, /"2147483648" in compiled, "2.147483648e\+09" in libxslt/);
  assert.equal(xsl.guard?.difference?.input, '01-linux-kvm-virtio.xml');
  // Later renders go to the pinned engine without comparing again.
  assert.equal((await xsl.render(INPUT)).engine, 'libxslt');
});

test('onDivergence "refuse" refuses the stylesheet instead', { skip }, async () => {
  const file = join(dir, 'big-refuse.xsl');
  writeFileSync(file, bigNumber);
  const xsl = compileXslt(file, { onDivergence: 'refuse' });
  await assert.rejects(xsl.render(INPUT), (e: Error & { code?: string }) => e.code === 'TRANSFORM_UNSUPPORTED' && /\/domain\/boot\/text\(\)/.test(e.message));
});

test('a caveat pins under auto without rendering, and is refused by the explicit in-process engine with its line', { skip }, async () => {
  const file = join(dir, 'genid.xsl');
  const text = XSL.replace('<uuid><xsl:value-of select="uuid"/></uuid>', '<uuid><xsl:value-of select="uuid"/></uuid><title><xsl:value-of select="generate-id()"/></title>');
  writeFileSync(file, text);
  const xsl = compileXslt(file);
  const g = await xsl.activate([]);
  assert.equal(g.pinned, true);
  assert.equal(g.compared, 0);
  assert.match(g.summary, /generate-id\(\)/);
  const line = text.slice(0, text.indexOf('generate-id()')).split('\n').length;
  assert.throws(() => compileXslt(file, { engine: 'xslt-processor' }), (e: Error & { code?: string; line?: number }) => e.code === 'TRANSFORM_UNSUPPORTED' && e.line === line && /generate-id/.test(e.message));
});

test('an input with namespaces goes to libxslt under auto and is refused by the explicit in-process engine', { skip }, async () => {
  const ns = { xml: INPUT.xml.replace('<instance', '<instance xmlns:x="urn:x"'), file: 'ns.xml' };
  const xsl = compileXslt(DEFAULT_XSL);
  const r = await xsl.render(ns);
  assert.equal(r.engine, 'libxslt');
  assert.ok(r.warnings.some((w) => /namespaces in the input/.test(w)));
  await assert.rejects(compileXslt(DEFAULT_XSL, { engine: 'xslt-processor' }).render(ns), /namespaces in the input document/);
});

test('without xsltproc, auto renders in-process and says the result is unguarded', async () => {
  const xsl = compileXslt(DEFAULT_XSL, { libxslt: { binary: join(dir, 'no-such-xsltproc') } });
  const r = await xsl.render(INPUT);
  assert.equal(r.engine, 'compiled');
  assert.equal(xsl.guard?.unguarded, true);
  assert.ok(r.warnings.some((w) => /UNGUARDED/.test(w)));
});

test('a proving input that is not well-formed is refused at compile, at its place, not taken for a difference between the engines', () => {
  assert.throws(
    () => compileXslt(DEFAULT_XSL, { provingSet: [{ xml: '<instance>\n  <name>x</name>\n', file: 'broken.xml' }] }),
    (e: Error & { code?: string; file?: string; line?: number }) => e.code === 'XML_SYNTAX' && e.file === 'broken.xml' && e.line !== undefined,
  );
  // Well-formed inputs compile as before.
  const ok = compileXslt(DEFAULT_XSL, { provingSet: [{ xml: readFileSync(`${EUCA_INPUTS}/01-linux-kvm-virtio.xml`, 'utf8'), file: 'good.xml' }] });
  assert.equal(typeof ok.activate, 'function');
});
