// No file or network access from a transform or its input: every route in is refused
// with a clear error, and no byte of the target file appears in any output or error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TransformSandbox, type SandboxedTransform } from '../../engine/transform/sandbox/index.js';
import { renderText } from '../../engine/render/render.js';
import { parseXml } from '../../engine/xml/parse.js';
import { DomforgeError, XmlForbiddenError, TransformError } from '../../engine/errors.js';
import { DEFAULT_XSL, readInput, sheet, tempDir, type TempDir } from './fixtures.js';

const SECRET = 'domforge-secret-4f1c'; // the content of the file every attack tries to read
let sandbox: TransformSandbox;
let good: SandboxedTransform;
let tmp: TempDir;
let secretFile = '';
let instance = '';

before(async () => {
  tmp = await tempDir();
  secretFile = await tmp.write('outside/secret.xml', `<x>${SECRET}</x>`);
  sandbox = new TransformSandbox({ size: 2, timeoutMs: 20_000 });
  good = await sandbox.load(DEFAULT_XSL);
  instance = await readInput('01-linux-kvm-virtio.xml');
});
after(async () => {
  await sandbox.close();
  await tmp.cleanup();
});

/** The error a promise rejects with, checked to carry no byte of the secret. */
async function refusal(p: Promise<unknown>): Promise<DomforgeError> {
  const e = await p.then(
    (v) => assert.fail(`expected a refusal, got ${JSON.stringify(v).slice(0, 200)}`),
    (err: unknown) => err,
  );
  assert.ok(e instanceof DomforgeError, String(e));
  assert.ok(!JSON.stringify({ m: e.fullMessage, j: e.toJSON() }).includes(SECRET), 'the secret leaked into the error');
  return e;
}

const xxe = (target: string) => `<?xml version="1.0"?>\n<!DOCTYPE instance [ <!ENTITY xxe SYSTEM "${target}"> ]>\n<instance><name>&xxe;</name></instance>`;
const laughs = `<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">\n]>\n<instance><name>&lol4;</name></instance>`;

test('XXE in instance.xml (SYSTEM file:/// and /etc/passwd) is refused before any engine sees it', async () => {
  for (const target of [`file://${secretFile}`, secretFile, 'file:///etc/passwd', 'http://169.254.169.254/latest/meta-data/']) {
    const e = await refusal(good.render({ xml: xxe(target), file: 'instance.xml' }));
    assert.ok(e instanceof XmlForbiddenError);
    assert.equal(e.code, 'XML_FORBIDDEN');
    assert.equal(`${e.file}:${e.line}:${e.column}`, 'instance.xml:2:1');
    assert.ok(!e.fullMessage.includes('root:'));
    // The in-thread pipeline refuses it the same way.
    assert.equal((await refusal(renderText(xxe(target), { transform: good, file: 'instance.xml' }))).code, 'XML_FORBIDDEN');
  }
});

test('billion laughs input is rejected, not expanded, and quickly', async () => {
  const t0 = Date.now();
  const e = await refusal(good.render({ xml: laughs, file: 'lol.xml' }));
  assert.equal(e.code, 'XML_FORBIDDEN');
  assert.ok(Date.now() - t0 < 2000);
  assert.throws(() => parseXml(laughs), XmlForbiddenError);
  // Lower-case and parameter-entity spellings too.
  assert.throws(() => parseXml('<!doctype x [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><x/>'), XmlForbiddenError);
});

test('an entity reference without a DTD is a syntax error with its place, not an empty string', async () => {
  const e = await refusal(good.render({ xml: '<instance>\n  <name>&xxe;</name>\n</instance>', file: 'instance.xml' }));
  assert.equal(e.code, 'XML_SYNTAX');
  assert.equal(e.line, 2);
});

test('XXE and entity bombs in the stylesheet are refused at load, with file:line:column', async () => {
  const file = await tmp.write('xxe.xsl', `<?xml version="1.0"?>\n<!DOCTYPE xsl:stylesheet [ <!ENTITY s SYSTEM "file://${secretFile}"> ]>\n` + sheet('<domain>&s;</domain>').replace(/^<\?xml.*\n/, ''));
  const e = await refusal(sandbox.load(file));
  assert.equal(e.code, 'XML_FORBIDDEN');
  assert.equal(`${e.file}:${e.line}:${e.column}`, `${file}:2:1`);
  const bomb = await tmp.write('lol.xsl', laughs.replace('<instance><name>&lol4;</name></instance>', sheet('<domain>&lol4;</domain>').replace(/^<\?xml.*\n/, '')));
  assert.equal((await refusal(sandbox.load(bomb))).code, 'XML_FORBIDDEN');
});

test('document() is refused at compile time, naming the line', async () => {
  for (const expr of [`document('file://${secretFile}')`, `document('${secretFile}')/x`, `string(document ('http://example.com/'))`]) {
    const file = await tmp.write('doc.xsl', sheet(`<domain>\n<xsl:value-of select="${expr}"/></domain>`));
    const e = await refusal(sandbox.load(file));
    assert.equal(e.code, 'XML_FORBIDDEN');
    assert.equal(e.file, file);
    assert.ok(e.line !== undefined && e.line >= 4, `line ${e.line}`);
    assert.match(e.message, /document\(.*\) is refused/);
  }
});

test('xsl:include and xsl:import cannot leave the transforms folder', async () => {
  await tmp.write('t/inner.xsl', sheet(''));
  await symlink(secretFile, join(tmp.dir, 't', 'link.xsl'));
  for (const [tag, href] of [
    ['include', '../outside/secret.xml'],
    ['import', secretFile],
    ['include', `file://${secretFile}`],
    ['include', 'http://example.com/x.xsl'],
    ['include', 'link.xsl'],
  ]) {
    const file = await tmp.write('t/main.xsl', `<?xml version="1.0"?>\n<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">\n  <xsl:${tag} href="${href}"/>\n  <xsl:template match="/"><domain/></xsl:template>\n</xsl:stylesheet>\n`);
    const e = await refusal(sandbox.load(file));
    assert.ok(e instanceof XmlForbiddenError, `${href}: ${e.message}`);
    assert.equal(`${e.file}:${e.line}`, `${file}:3`, href);
  }
});

test('an xsl:output doctype-system pointing at a file never reaches libvirt: the output is refused', async () => {
  const file = await tmp.write('doctype-out.xsl', sheet('<domain type="kvm"/>', `<xsl:output method="xml" doctype-system="file://${secretFile}"/>`));
  const t = await sandbox.load(file);
  const r = await t.render({ xml: instance }).catch((e: unknown) => e);
  if (!(r instanceof Error)) assert.ok(!(r as { output: string }).output.includes(SECRET));
  const e = await refusal(renderText(instance, { transform: t, file: 'instance.xml' }));
  assert.ok(['XML_FORBIDDEN', 'DOMAIN_INVALID'].includes(e.code), e.code);
});

test('an unclosed tag (which xslt-processor alone accepts) is an error with file:line:column', async () => {
  const file = await tmp.write('unclosed.xsl', sheet('\n    <domain type="kvm">\n      <name>x</name>\n    <devices/>'));
  const e = await refusal(sandbox.load(file));
  assert.ok(e instanceof TransformError);
  assert.equal(e.code, 'TRANSFORM_SYNTAX');
  assert.equal(e.file, file);
  // <domain> opens on line 5; the mismatch is found at </xsl:template> on line 7.
  assert.equal(e.line, 7);
  assert.ok(e.column! > 0);
  assert.match(e.message, new RegExp(`^${file}:7:\\d+: stylesheet is not well-formed XML: .*mismatch`));
});
