/**
 * A string parameter reaches libxslt intact whatever quotes it holds: xsltproc gets it as
 * an XPath expression (`--param`), a concat() of literals where it holds both `'` and `"`,
 * which `--stringparam` refuses. The compiled engine and libxslt then write the same bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileXslt } from '../../engine/transform/xslt/compile.js';
import { xpathString } from '../../engine/transform/xslt/libxslt-engine.js';
import { parseXml } from '../../engine/xml/parse.js';
import { skipWithoutXsltproc } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'domforge-xslt-params-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const XSL = join(dir, 'note.xsl');
writeFileSync(
  XSL,
  `<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:param name="note" select="'unset'"/>
  <xsl:template match="/"><r v="{$note}"><xsl:value-of select="$note"/></r></xsl:template>
</xsl:stylesheet>
`,
);

/** Both kinds of quote, in every order, and what an XPath expression or a shell would read as syntax. */
const VALUES = [`He said "don't"`, `'`, `"`, `'"`, `"'`, `''""''`, '', `a'b"c'd"e`, `'don"t'`, 'tab\there\nline\r\nend', `concat('x', "y")`, '$note', '&amp; <x/> ]]>', 'naïve ☃ 𝄞 \u007f\u0085', '\\', ' spaces  '];

test('xpathString: a literal with the quote the value lacks, else a concat() that gives the value back', () => {
  assert.equal(xpathString('plain'), `'plain'`);
  assert.equal(xpathString(`don't`), `"don't"`);
  assert.equal(xpathString(`say "x"`), `'say "x"'`);
  assert.equal(xpathString(`He said "don't"`), `concat('He said "don', "'", 't"')`);
  assert.equal(xpathString(''), `''`);
});

test('any string value reaches libxslt intact, and the compiled engine writes the same bytes', { skip: skipWithoutXsltproc() }, async () => {
  const libxslt = compileXslt(XSL, { engine: 'libxslt' });
  const compiled = compileXslt(XSL, { engine: 'compiled' });
  for (const note of VALUES) {
    const ref = (await libxslt.render({ xml: '<a/>' }, { note })).output;
    const root = parseXml(ref).documentElement!;
    assert.equal(root.textContent, note, JSON.stringify(note));
    assert.equal(root.getAttribute('v'), note, JSON.stringify(note));
    assert.equal((await compiled.render({ xml: '<a/>' }, { note })).output, ref, JSON.stringify(note));
  }
});

test("the guard's batch of xsltproc renders takes such a value too: compiled and libxslt agree, nothing is pinned", { skip: skipWithoutXsltproc() }, async () => {
  const x = compileXslt(XSL, { engine: 'auto', provingSet: [{ xml: '<a/>', file: 'a.xml' }, { xml: '<b/>', file: 'b.xml' }] });
  const guard = await x.activate([], { note: `He said "don't"` });
  assert.equal(guard.difference, undefined, guard.summary);
  assert.equal(guard.engine, 'compiled');
});
