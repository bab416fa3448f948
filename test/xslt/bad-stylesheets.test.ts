import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileXslt } from '../../engine/transform/xslt/compile.js';
import { DEFAULT_XSL, EUCA_INPUTS, skipWithoutXsltproc } from './helpers.js';

const XSL = readFileSync(DEFAULT_XSL, 'utf8');
const INPUT = { xml: readFileSync(`${EUCA_INPUTS}/01-linux-kvm-virtio.xml`, 'utf8') };
const dir = mkdtempSync(join(tmpdir(), 'domforge-xslt-bad-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;
const edit = (from: string, to: string) => {
  assert.ok(XSL.includes(from), from);
  return XSL.replace(from, to);
};

const cases = [
  { name: 'unclosed tag', text: edit('<memory unit="KiB">', '<memory unit="KiB"><broken>'), needle: '</memory>' },
  // At the end tag, not at the text before it (the line above).
  { name: 'mismatched end tag', text: edit('</devices>', '</device>'), needle: '</device>' },
  { name: 'unknown xsl: element', text: edit('<xsl:value-of select="name"/>', '<xsl:valueof select="name"/>'), needle: '<xsl:valueof' },
  { name: 'bad XPath', text: edit('<xsl:value-of select="name"/>', '<xsl:value-of select="name[["/>'), needle: 'name[[' },
  { name: 'undefined variable', text: edit('<xsl:value-of select="name"/>', '<xsl:value-of select="$nowhere"/>'), needle: '$nowhere' },
  { name: 'missing named template', text: edit('<xsl:call-template name="os"/>', '<xsl:call-template name="no-such"/>'), needle: 'no-such' },
];

for (const c of cases) {
  for (const engine of ['xslt-processor', 'libxslt', 'auto'] as const) {
    test(`${c.name} fails with file:line (${engine})`, { skip: engine !== 'xslt-processor' && skipWithoutXsltproc() }, async () => {
      const file = join(dir, `${c.name.replace(/\W+/g, '-')}-${engine}.xsl`);
      writeFileSync(file, c.text);
      const e = await (async () => {
        try {
          const x = compileXslt(file, { engine });
          await x.render(INPUT);
        } catch (err) {
          return err as Error & { code?: string; file?: string; line?: number };
        }
        assert.fail('rendered a broken stylesheet');
      })();
      assert.equal(e.code, 'TRANSFORM_SYNTAX', e.message);
      assert.equal(e.file, file);
      assert.equal(e.line, lineOf(c.text, c.needle), e.message);
    });
  }
}

test('document() outside the transforms folder is refused; a literal path inside it pins to libxslt', () => {
  const file = join(dir, 'doc.xsl');
  writeFileSync(file, edit('<xsl:value-of select="name"/>', '<xsl:value-of select="document(\'/etc/passwd\')"/>'));
  assert.throws(() => compileXslt(file), (e: Error & { code?: string; line?: number }) => e.code === 'XML_FORBIDDEN' && /document\('\/etc\/passwd'\) is refused/.test(e.message) && e.line === lineOf(readFileSync(file, 'utf8'), 'document('));
  writeFileSync(file, edit('<xsl:value-of select="name"/>', '<xsl:value-of select="document(name)"/>'));
  assert.throws(() => compileXslt(file), /literal relative path/);
  writeFileSync(join(dir, 'map.xml'), '<m/>');
  writeFileSync(file, edit('<xsl:value-of select="name"/>', '<xsl:value-of select="document(\'map.xml\')"/>'));
  assert.deepEqual(compileXslt(file).report.caveats.map((c) => c.feature), ['document()']);
});

test('document() of a symbolic link out of the transforms folder is refused at compile time, with its line', () => {
  const sub = mkdtempSync(join(dir, 'links-'));
  const outside = mkdtempSync(join(tmpdir(), 'domforge-xslt-outside-'));
  try {
    writeFileSync(join(outside, 'secret.xml'), '<secret>s3cr3t</secret>');
    symlinkSync(join(outside, 'secret.xml'), join(sub, 'secret.xsl'));
    const file = join(sub, 'doc.xsl');
    const text = edit('<xsl:value-of select="name"/>', '<xsl:value-of select="document(\'secret.xsl\')"/>');
    writeFileSync(file, text);
    for (const engine of ['auto', 'libxslt', 'compiled'] as const) {
      assert.throws(
        () => compileXslt(file, { engine }),
        (e: Error & { code?: string; line?: number; file?: string }) => e.code === 'XML_FORBIDDEN' && /document\('secret\.xsl'\) is refused: it is a symbolic link/.test(e.message) && e.file === file && e.line === lineOf(text, 'document('),
      );
    }
    // A link that stays inside the folder is read as before.
    writeFileSync(join(sub, 'map.xml'), '<m/>');
    symlinkSync(join(sub, 'map.xml'), join(sub, 'alias.xml'));
    writeFileSync(file, edit('<xsl:value-of select="name"/>', '<xsl:value-of select="document(\'alias.xml\')"/>'));
    assert.deepEqual(compileXslt(file).report.caveats.map((c) => c.feature), ['document()']);
  } finally {
    rmSync(outside, { recursive: true, force: true });
  }
});

test('an xsl:include in a transforms folder given through a symbolic link (/tmp/x/link-to-transforms) is read as in the folder itself', async () => {
  const real = mkdtempSync(join(dir, 'real-'));
  const link = join(dir, `link-to-${real.split('/').pop()}`);
  symlinkSync(real, link);
  writeFileSync(join(real, 'module.xsl'), '<?xml version="1.0"?>\n<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">\n  <xsl:template name="m">-module</xsl:template>\n</xsl:stylesheet>\n');
  writeFileSync(join(real, 'main.xsl'), edit('<name><xsl:value-of select="name"/></name>', '<name><xsl:value-of select="name"/><xsl:call-template name="m"/></name>').replace(/(<xsl:stylesheet[^>]*>)/, '$1\n  <xsl:include href="module.xsl"/>'));
  const inFolder = compileXslt(join(real, 'main.xsl'));
  const throughLink = compileXslt(join(link, 'main.xsl'));
  assert.equal(throughLink.hash, inFolder.hash);
  assert.match((await throughLink.render(INPUT)).output, /<name>[^<]*-module<\/name>/);
});

test('a stylesheet nested deeper than libxml2 accepts is refused with the line, not a stack overflow; as deep as it accepts renders', async () => {
  const nested = (n: number, open: string, close: string) =>
    `<?xml version="1.0"?>\n<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">\n<xsl:template match="/instance">\n<domain type="kvm">${open.repeat(n)}x${close.repeat(n)}</domain></xsl:template>\n</xsl:stylesheet>\n`;
  // stylesheet > template > domain > n levels: libxml2 accepts 256 below the root.
  for (const [name, text] of [
    ['20000 literal elements', nested(20_000, '<a>', '</a>')],
    ['3000 xsl:if', nested(3000, '<xsl:if test="1">', '</xsl:if>')],
  ] as const) {
    const file = join(dir, `${name.replace(/\W+/g, '-')}.xsl`);
    writeFileSync(file, text);
    for (const engine of ['compiled', 'xslt-processor', 'libxslt', 'auto'] as const) {
      assert.throws(
        () => compileXslt(file, { engine }),
        (e: Error & { code?: string; line?: number; file?: string }) => e.code === 'TRANSFORM_SYNTAX' && /nested too deeply: <(a|xsl:if)> is more than 256 levels below the root element/.test(e.message) && e.file === file && e.line === 4,
        `${name}, ${engine}`,
      );
    }
  }
  const file = join(dir, 'deepest-accepted.xsl');
  writeFileSync(file, nested(254, '<xsl:if test="1">', '</xsl:if>'));
  for (const engine of ['compiled', 'xslt-processor'] as const) assert.equal((await compileXslt(file, { engine }).render(INPUT)).output.trim().split('\n').pop(), '<domain type="kvm">x</domain>');
  if (!skipWithoutXsltproc()) assert.match((await compileXslt(file, { engine: 'libxslt' }).render(INPUT)).output, /<domain type="kvm">x<\/domain>/);
  writeFileSync(file, nested(255, '<xsl:if test="1">', '</xsl:if>'));
  assert.throws(() => compileXslt(file), /nested too deeply/);
});

test('a stylesheet element with more than 1024 attributes is refused at compile time with file:line:column; 1024 compile', () => {
  const withAttributes = (n: number) =>
    `<?xml version="1.0"?>\n<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">\n<xsl:template match="/instance">\n  <domain${Array.from({ length: n }, (_, i) => ` a${i}="v"`).join('')}/></xsl:template>\n</xsl:stylesheet>\n`;
  const file = join(dir, 'many-attributes.xsl');
  writeFileSync(file, withAttributes(1024));
  for (const engine of ['compiled', 'xslt-processor'] as const) assert.equal(compileXslt(file, { engine }).file, file);
  writeFileSync(file, withAttributes(1025));
  for (const engine of ['compiled', 'xslt-processor', 'libxslt', 'auto'] as const) {
    assert.throws(
      () => compileXslt(file, { engine }),
      (e: Error & { code?: string; file?: string; line?: number; column?: number }) =>
        e.code === 'XML_FORBIDDEN' && e.file === file && e.line === 4 && e.column === 3 && /too many attributes: <domain> has 1025, more than the 1024 one element may have/.test(e.message),
      engine,
    );
  }
});

test('a string doubled past what JavaScript can hold is TRANSFORM_OUT_OF_MEMORY naming the stylesheet, not an internal RangeError', async () => {
  const file = join(dir, 'doubling.xsl');
  writeFileSync(
    file,
    `<?xml version="1.0"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:template match="/instance"><domain type="kvm"><xsl:call-template name="r"><xsl:with-param name="s" select="'xxxxxxxxxxxxxxxx'"/><xsl:with-param name="n" select="40"/></xsl:call-template></domain></xsl:template>
  <xsl:template name="r"><xsl:param name="s"/><xsl:param name="n"/>
    <xsl:choose><xsl:when test="$n &gt; 0"><xsl:call-template name="r"><xsl:with-param name="s" select="concat($s, $s)"/><xsl:with-param name="n" select="$n - 1"/></xsl:call-template></xsl:when>
    <xsl:otherwise><name><xsl:value-of select="string-length($s)"/></name></xsl:otherwise></xsl:choose>
  </xsl:template>
</xsl:stylesheet>
`,
  );
  await assert.rejects(compileXslt(file, { engine: 'compiled' }).render(INPUT), (e: Error & { code?: string; file?: string }) => e.code === 'TRANSFORM_OUT_OF_MEMORY' && e.file === file && /grew past the largest JavaScript can hold/.test(e.message));
});

test('a file of the folder whose name starts with two dots (..names.xml, ..module.xsl) is read, not refused as leaving the folder', async () => {
  const d = mkdtempSync(join(tmpdir(), 'domforge-xslt-dots-'));
  try {
    writeFileSync(join(d, '..module.xsl'), '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:template name="from-module">m</xsl:template></xsl:stylesheet>');
    writeFileSync(join(d, '..names.xml'), '<names><n>d</n></names>');
    const main = join(d, 'main.xsl');
    writeFileSync(
      main,
      '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:include href="..module.xsl"/>' +
        '<xsl:template match="/"><r><xsl:call-template name="from-module"/><xsl:value-of select="document(\'..names.xml\')/names/n"/></r></xsl:template></xsl:stylesheet>',
    );
    const t = await compileXslt(main, { engine: 'libxslt' });
    assert.deepEqual([...t.files].sort(), [join(d, '..module.xsl'), join(d, '..names.xml'), main].sort());
    assert.match((await t.render({ xml: '<x/>' })).output, /<r>md<\/r>/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
