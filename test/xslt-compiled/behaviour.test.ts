import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileXslt } from '../../engine/transform/xslt/compile.js';
import { diffXml } from '../../engine/xml/compare.js';
import { DEFAULT_XSL, EUCA_INPUTS, skipReason, xsltproc } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'domforge-xslt-compiled-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** Writes a stylesheet (the body goes inside xsl:stylesheet) and an input; returns their paths. */
function fixture(body: string, input = '<r/>'): { style: string; input: string; xml: string } {
  const style = join(dir, `s${++n}.xsl`);
  writeFileSync(style, `<?xml version="1.0"?>\n<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">\n${body}\n</xsl:stylesheet>\n`);
  const file = join(dir, `i${n}.xml`);
  writeFileSync(file, input);
  return { style, input: file, xml: input };
}

async function compiledOutput(f: { style: string; xml: string }): Promise<string> {
  return (await compileXslt(f.style, { engine: 'compiled' }).render({ xml: f.xml })).output;
}

const skip = skipReason(false);

test('escaping: & < > " in text and attributes, tabs and newlines in attributes as references, same as xsltproc', { skip }, async () => {
  const f = fixture(
    `<xsl:template match="/"><out a="{r/@v}" b="x&#9;y&#10;z&#13;" c="{'&quot;q&quot;'}"><xsl:attribute name="d"><xsl:value-of select="r/@v"/></xsl:attribute><xsl:value-of select="r"/><t>&lt;&amp;&gt;"'</t></out></xsl:template>`,
    '<r v="AT&amp;T &lt;x&gt; &quot;q&quot; &#9;tab&#10;nl">AT&amp;T &lt;x&gt; "quoted" it\'s ]]&gt; </r>',
  );
  const out = await compiledOutput(f);
  assert.equal(out, xsltproc(f.style, f.input).stdout);
  assert.match(out, /a="AT&amp;T &lt;x&gt; &quot;q&quot; &#9;tab&#10;nl"/);
  assert.match(out, /AT&amp;T &lt;x&gt; "quoted" it's \]\]&gt; /);
  assert.equal(diffXml(out, xsltproc(f.style, f.input).stdout), undefined);
});

test('an injection attempt in a value stays text', { skip }, async () => {
  const f = fixture(`<xsl:output indent="yes"/><xsl:template match="/"><domain><name><xsl:value-of select="r/name"/></name><disk file="{r/name}"/></domain></xsl:template>`, '<r><name>x&lt;/name&gt;&lt;devices&gt;&lt;disk file="/etc/shadow"/&gt;</name></r>');
  const out = await compiledOutput(f);
  assert.equal(out, xsltproc(f.style, f.input).stdout);
  assert.doesNotMatch(out, /<devices>/);
});

test('XPath 1.0 values, conversions and comparisons as libxslt computes them', { skip }, async () => {
  const exprs = [
    "1 div 0", "-1 div 0", "0 div 0", "0.1 + 0.2", "1 div 3", "-0", "100000000.5", "123456789", "2147483646", "3 mod -2", "-3 mod 2", "round(-0.5)", "round(2.5)", "floor(-1.5)", "ceiling(1.2)",
    "number(' 12 ')", "number('1e3')", "number('1.5E-2')", "number('1e')", "number('e3')", "number('+1')", "number('.5')", "number('')", "string(1 = 1)", "true() = 'x'", "'' = 0", "'1' = 1.0", "'abc' < 'abd'", "1 < '2'",
    "//d = 'b'", "//d != 'b'", "//d > 2", "//d = //e", "count(//d[. > 1])", "sum(//d)", "string(//d)", "//d[last()]", "//d[position() = 2]", "substring('12345', 1.5, 2.6)", "substring('12345', 0, 3)",
    "substring('12345', -1 div 0, 1 div 0)", "substring-before('a/b/c', '/')", "substring-after('a/b/c', '/')", "translate('Hello', 'lH', 'Lh-')", "normalize-space('  a \t b  ')", "string-length('a😀b')", "substring('a😀b', 2, 1)",
    "concat('a', 1, true())", "contains('abc', '')", "starts-with('abc', 'ab')", "boolean(//none)", "not(//d)", "name(//d[1])", "local-name(/*)", "count(//d/following-sibling::*)", "count(//e/preceding::d)", "count(//d[1]/ancestor-or-self::node())",
    "string(//d[2]/preceding-sibling::d[1])", "count(//*|//d)", "-'2'", "5 - 3", "2*3", "7 div 2", "1.0", "0.00001", "-2147483647",
  ];
  const body = `<xsl:template match="/"><out>${exprs.map((e, i) => `<v i="${i}"><xsl:value-of select="${e.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;')}"/></v>`).join('')}</out></xsl:template>`;
  const f = fixture(body, '<r><d>1</d><d>b</d><d>3</d><e>3</e></r>');
  const out = await compiledOutput(f);
  const ref = xsltproc(f.style, f.input).stdout;
  const d = diffXml(out, ref);
  assert.equal(d, undefined, d && `${d.path}: ${d.message} (expression ${exprs[Number(/v\[(\d+)\]/.exec(d.path)?.[1] ?? 1) - 1]})`);
});

test('a 500-deep recursive named template works; an endless one is a TransformError, not a crash', { skip }, async () => {
  const deep = fixture(`<xsl:template match="/"><out><xsl:call-template name="down"><xsl:with-param name="n" select="500"/></xsl:call-template></out></xsl:template>
<xsl:template name="down"><xsl:param name="n"/><xsl:if test="$n &gt; 0"><i/><xsl:call-template name="down"><xsl:with-param name="n" select="$n - 1"/></xsl:call-template></xsl:if></xsl:template>`);
  const out = await compiledOutput(deep);
  assert.equal((out.match(/<i\/>/g) ?? []).length, 500);
  assert.equal(out, xsltproc(deep.style, deep.input).stdout);
  const endless = fixture(`<xsl:template match="/"><xsl:call-template name="loop"/></xsl:template>\n<xsl:template name="loop"><x><xsl:call-template name="loop"/></x></xsl:template>`);
  await assert.rejects(compileXslt(endless.style, { engine: 'compiled' }).render({ xml: '<r/>' }), (e: Error & { code?: string; file?: string }) => e.code === 'TRANSFORM_RUNTIME' && /recurs|nested template calls/.test(e.message) && e.file === endless.style);
  const endlessRules = fixture(`<xsl:template match="/"><xsl:apply-templates select="."/></xsl:template>`);
  await assert.rejects(compileXslt(endlessRules.style, { engine: 'compiled' }).render({ xml: '<r/>' }), (e: Error & { code?: string }) => e.code === 'TRANSFORM_RUNTIME');
});

test('refusals name the construct and its line; auto then uses another engine', { skip }, async () => {
  const cases: [string, RegExp][] = [
    ['<xsl:template match="/"><x><xsl:value-of select="\'y\'" disable-output-escaping="yes"/></x></xsl:template>', /disable-output-escaping/],
    ['<xsl:template match="/"><x><xsl:number value="3"/></x></xsl:template>', /xsl:number/],
    ['<xsl:template match="/"><x><xsl:value-of select="format-number(1, \'#\')"/></x></xsl:template>', /format-number/],
    ['<xsl:template match="/"><x><xsl:value-of select="generate-id()"/></x></xsl:template>', /generate-id/],
    ['<xsl:template match="/"><x><xsl:apply-imports/></x></xsl:template>', /apply-imports/],
    ['<xsl:template match="/"><xsl:variable name="v"><a/></xsl:variable><x><xsl:value-of select="count($v/a)"/></x></xsl:template>', /result tree fragment/],
  ];
  for (const [body, re] of cases) {
    const f = fixture(body);
    const line = 3;
    let err: (Error & { code?: string; line?: number }) | undefined;
    try {
      await compiledOutput(f);
    } catch (e) {
      err = e as Error & { code?: string; line?: number };
    }
    assert.equal(err?.code, 'TRANSFORM_UNSUPPORTED', `${body}: ${err?.message}`);
    assert.match(err!.message, re);
    assert.equal(err!.line, line, err!.message);
    const ref = xsltproc(f.style, f.input);
    const auto = compileXslt(f.style).render({ xml: f.xml });
    if (!ref.ok) {
      await assert.rejects(auto, body);
      continue;
    }
    const r = await auto;
    assert.notEqual(r.engine, 'compiled');
    assert.equal(diffXml(r.output, ref.stdout), undefined, body);
  }
});

test('xsl:message: terminate="yes" is TRANSFORM_MESSAGE with the line; without it, a warning', { skip }, async () => {
  const f = fixture(`<xsl:template match="/">\n<xsl:message>note <xsl:value-of select="name(*)"/></xsl:message>\n<x/>\n<xsl:if test="r">\n<xsl:message terminate="yes">stop: <xsl:value-of select="count(*)"/></xsl:message></xsl:if></xsl:template>`);
  await assert.rejects(compileXslt(f.style, { engine: 'compiled' }).render({ xml: f.xml }), (e: Error & { code?: string; line?: number }) => e.code === 'TRANSFORM_MESSAGE' && e.line === 7 && /the transform stopped: stop: 1/.test(e.message));
  const g = fixture(`<xsl:template match="/"><xsl:message>note <xsl:value-of select="name(*)"/></xsl:message><x/></xsl:template>`);
  const r = await compileXslt(g.style, { engine: 'compiled' }).render({ xml: g.xml });
  assert.deepEqual(r.warnings, ['xsl:message: note r']);
});

test('a malformed input gives the strict parser\'s error with its line; namespaced input is refused per render', { skip }, async () => {
  const xsl = compileXslt(DEFAULT_XSL, { engine: 'compiled' });
  await assert.rejects(xsl.render({ xml: '<instance>\n<name>x</nam>\n</instance>' }), (e: Error & { line?: number }) => e.line === 2);
  await assert.rejects(xsl.render({ xml: '<instance xmlns:x="urn:x"/>' }), (e: Error & { code?: string }) => e.code === 'TRANSFORM_UNSUPPORTED' && /namespaces in the input/.test(e.message));
  await assert.rejects(xsl.render({ xml: '<!DOCTYPE x [<!ENTITY a "b">]><instance/>' }), (e: Error & { code?: string }) => e.code === 'XML_FORBIDDEN');
});

test('auto picks the compiled engine, guards it with libxslt, and parameters reach it', { skip: skipReason() }, async () => {
  const file = join(EUCA_INPUTS!, '01-linux-kvm-virtio.xml');
  const xsl = compileXslt(DEFAULT_XSL);
  assert.equal(xsl.inProcess, 'compiled');
  const r = await xsl.render({ xml: readFileSync(file, 'utf8'), file }, { diskCache: 'writeback' });
  assert.equal(r.engine, 'compiled');
  assert.equal(xsl.guard?.engine, 'compiled');
  assert.equal(xsl.guard?.pinned, false);
  assert.equal(r.output, xsltproc(DEFAULT_XSL, file, ['--stringparam', 'diskCache', 'writeback']).stdout);
});
