/**
 * A parameter value no transform can be given — one holding a character XML does not allow,
 * which libxslt refuses ("Evaluating user parameter note failed") and libvirt XML cannot
 * hold — is a usage error, the same whichever engine runs, in the library and on the
 * command line (naming --param). A value with both kinds of quote renders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli } from './cli.js';
import { UsageError } from '../../engine/errors.js';
import { renderText } from '../../engine/render/render.js';
import { compileXslt } from '../../engine/transform/xslt/compile.js';
import { compileHandlebars } from '../../engine/transform/handlebars/index.js';
import { paramValueProblem } from '../../engine/transform/params.js';
import { NodeController, TransformSandbox, TransformWatcher } from '../../engine/index.js';
import { parseXml } from '../../engine/xml/parse.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SAMPLE = join(ROOT, 'samples', '01-linux-virtio', 'instance.xml');
const TEXT = readFileSync(SAMPLE, 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'domforge-params-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

// The shipped transform's domain, its <description> starting with the parameter `note` and a `|`.
const XSL = join(dir, 'note.xsl');
writeFileSync(
  XSL,
  readFileSync(join(ROOT, 'transforms', 'libvirt.xsl'), 'utf8')
    .replace('<xsl:param name="diskCache"', `<xsl:param name="note" select="'none'"/>\n  <xsl:param name="diskCache"`)
    .replace('<xsl:text>Eucalyptus instance </xsl:text>', '<xsl:value-of select="$note"/><xsl:text>|</xsl:text>'),
);
const HBS = join(dir, 'note.hbs');
writeFileSync(HBS, '<domain type="kvm"><name>{{instance.name}}</name><description>{{params.note}}</description></domain>\n');
const noteOf = (doc: { getElementsByTagName(n: string): ArrayLike<{ textContent: string | null }> }) => doc.getElementsByTagName('description')[0]?.textContent?.split('|')[0];

const BAD = 'line one\u0001line two';
const REASON = "its character 9 is U+0001, which is not an XML character (XML 1.0 §2.2): libxslt cannot take it and libvirt XML cannot hold it";
const isRefusal = (e: unknown) => e instanceof UsageError && e.message === `Expected \`params.note\` to hold only XML characters, but ${REASON}`;

test('the fixture transform writes the parameter into the domain', async () => {
  const r = await renderText(TEXT, { transform: compileXslt(XSL, { engine: 'compiled' }), file: SAMPLE, params: { note: 'hello' } });
  assert.equal(noteOf(r.document), 'hello');
});

test('a value holding a control character is refused the same way by every engine, sandboxed or not', async () => {
  for (const engine of ['compiled', 'xslt-processor', 'libxslt', 'auto'] as const) {
    await assert.rejects(renderText(TEXT, { transform: compileXslt(XSL, { engine }), file: SAMPLE, params: { note: BAD } }), isRefusal, engine);
  }
  await assert.rejects(renderText(TEXT, { transform: compileHandlebars(HBS), file: SAMPLE, params: { note: BAD } }), isRefusal, 'handlebars');
  // The position counts characters, so one past U+FFFF (a surrogate pair) counts once.
  for (const [value, at, name] of [
    ['\u0000', 1, 'U+0000'],
    ['\u001f', 1, 'U+001F'],
    ['\uFFFE', 1, 'U+FFFE'],
    ['\uD800', 1, 'U+D800'],
    ['\u{1F600}\uDC00', 2, 'U+DC00'],
    ['\t\u{1F600}\uFFFD\uFFFF', 4, 'U+FFFF'],
  ] as const) {
    await assert.rejects(
      renderText(TEXT, { transform: XSL, file: SAMPLE, params: { note: value } }),
      (e: unknown) => e instanceof UsageError && e.message.includes(`its character ${at} is ${name}, which is not an XML character`),
      JSON.stringify(value),
    );
  }
  assert.equal(paramValueProblem('\t\n\r \uD7FF\uE000\uFFFD\u{10000}\u{10FFFF}'), undefined);
  const sandbox = new TransformSandbox({ size: 1 });
  try {
    await assert.rejects(renderText(TEXT, { transform: await sandbox.load(XSL), file: SAMPLE, params: { note: BAD } }), isRefusal, 'sandboxed');
    await assert.rejects(sandbox.load(XSL, { provingSet: [], params: { note: BAD } }), isRefusal, 'sandbox load');
  } finally {
    await sandbox.close();
  }
});

test('the params option of a controller and of a watcher is checked up front', async () => {
  await assert.rejects(NodeController.open({ instancesDir: join(dir, 'never'), createInstancesDir: false, params: { note: BAD } }), isRefusal);
  assert.throws(() => new TransformWatcher({ dir, params: { note: BAD } }), isRefusal);
});

test('render --param: a value with both kinds of quote renders alike with libxslt and the compiled engine', async () => {
  const note = `He said "don't"`;
  const outputs: string[] = [];
  for (const engine of ['libxslt', 'compiled', 'auto']) {
    const r = await cli(['render', '--instance', SAMPLE, '--transform', XSL, '--engine', engine, '--param', `note=${note}`]);
    assert.equal(r.code, 0, `${engine}: ${r.stderr}`);
    assert.equal(noteOf(parseXml(r.stdout)), note);
    outputs.push(r.stdout);
  }
  assert.equal(outputs[1], outputs[0]);
  assert.equal(outputs[2], outputs[0]);
});

test('render --param with a control character is a usage error naming --param, whatever the engine or transform', async () => {
  const message = `--param note: the value cannot be a transform parameter: ${REASON}`;
  for (const extra of [['--engine', 'libxslt'], ['--engine', 'compiled'], ['--transform', HBS], ['--no-sandbox']]) {
    const r = await cli(['render', '--instance', SAMPLE, '--transform', XSL, ...extra, '--param', `note=${BAD}`]);
    assert.deepEqual(r, { code: 2, stdout: '', stderr: `domforge: ${message}\n` }, extra.join(' '));
  }
  const json = await cli(['render', '--instance', SAMPLE, '--param', `note=${BAD}`, '--json']);
  assert.equal(json.code, 2);
  assert.deepEqual(JSON.parse(json.stderr), { error: { code: 'USAGE', message } });
});
