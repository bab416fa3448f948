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
  { name: 'unclosed tag', text: edit('<memory unit="KiB">', '<memory unit="KiB"><broken>'), needle: null },
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
      if (c.needle) assert.equal(e.line, lineOf(c.text, c.needle), e.message);
      else assert.ok(e.line && e.line > 1, e.message);
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
