import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { cli } from './cli.js';
import { diffXml, parseXml } from '../../engine/index.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const SAMPLE = join(ROOT, 'samples', '01-linux-virtio');
const dir = mkdtempSync(join(tmpdir(), 'domforge-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));


test('render prints the validated libvirt XML to stdout', async () => {
  const r = await cli(['render', '--instance', join(SAMPLE, 'instance.xml')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(diffXml(readFileSync(join(SAMPLE, 'libvirt.xml'), 'utf8'), r.stdout), undefined);
});

test('--out writes the file (and nothing else) and prints nothing', async () => {
  const out = join(dir, 'out', 'libvirt.xml');
  execFileSync('mkdir', ['-p', join(dir, 'out')]);
  const r = await cli(['render', '--instance', join(SAMPLE, 'instance.xml'), '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.deepEqual(readdirSync(join(dir, 'out')), ['libvirt.xml']);
  assert.equal(diffXml(readFileSync(join(SAMPLE, 'libvirt.xml'), 'utf8'), readFileSync(out, 'utf8')), undefined);
  assert.ok(statSync(out).size > 0);
});

test('--param reaches the stylesheet like xsltproc --stringparam', async () => {
  const r = await cli(['render', '--instance', join(SAMPLE, 'instance.xml'), '--param', 'diskCache=writeback']);
  assert.equal(r.code, 0, r.stderr);
  const caches = [...parseXml(r.stdout).getElementsByTagName('driver')].map((d) => d.getAttribute('cache'));
  assert.deepEqual(caches, ['writeback', 'writeback']);
  const ref = execFileSync('xsltproc', ['--stringparam', 'diskCache', 'writeback', join(ROOT, 'transforms', 'libvirt.xsl'), join(SAMPLE, 'instance.xml')], { encoding: 'utf8' });
  assert.equal(diffXml(ref, r.stdout), undefined);
});

test('--diff with an earlier file nested deeper than libxml2 takes names it and its place (fuzzing found an internal error)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'domforge-diff-deep-'));
  try {
    const earlier = join(dir, 'libvirt.xml');
    writeFileSync(earlier, `<domain type="kvm">${'<a>'.repeat(20000)}${'</a>'.repeat(20000)}</domain>`);
    const r = await cli(['render', '--instance', join(SAMPLE, 'instance.xml'), '--diff', earlier]);
    assert.equal(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /internal error/);
    assert.match(r.stderr, new RegExp(`^domforge: ${earlier}:1:${20 + 3 * 256}: elements nested too deeply: <a> is more than 256 levels`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--diff shows a readable unified diff against an earlier libvirt.xml, or says there is none', async () => {
  const same = await cli(['render', '--instance', join(SAMPLE, 'instance.xml'), '--diff', join(SAMPLE, 'libvirt.xml')]);
  assert.equal(same.code, 0);
  assert.match(same.stdout, /^no differences from /);
  const earlier = join(dir, 'earlier.xml');
  // The earlier file is what the reference (xsltproc) writes, so only the edited line differs in text.
  const reference = execFileSync('xsltproc', [join(ROOT, 'transforms', 'libvirt.xsl'), join(SAMPLE, 'instance.xml')], { encoding: 'utf8' });
  writeFileSync(earlier, reference.replace('<vcpu placement="static">2</vcpu>', '<vcpu placement="static">1</vcpu>'));
  const r = await cli(['render', '--instance', join(SAMPLE, 'instance.xml'), '--diff', earlier]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^--- ${earlier.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
  assert.match(r.stdout, /^-  <vcpu placement="static">1<\/vcpu>$/m);
  assert.match(r.stdout, /^\+  <vcpu placement="static">2<\/vcpu>$/m);
  assert.equal(r.stdout.split('\n').filter((l) => /^[-+][^-+]/.test(l)).length, 2, r.stdout);
});

test('--json gives the XML, the transform hash and the input kind', async () => {
  const r = await cli(['render', '--instance', join(SAMPLE, 'instance.xml'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { input: { kind: string }; transform: { kind: string; hash: string; engine: string }; validated: boolean; xml: string };
  assert.equal(j.input.kind, 'instance');
  assert.equal(j.transform.kind, 'xslt');
  assert.match(j.transform.hash, /^[0-9a-f]{64}$/);
  assert.equal(j.transform.engine, 'compiled');
  assert.equal(j.validated, true);
  assert.ok(j.xml.startsWith('<domain'));
});

test('--engine libxslt renders the same tree through xsltproc', async () => {
  const r = await cli(['render', '--instance', join(SAMPLE, 'instance.xml'), '--engine', 'libxslt', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { xml: string; transform: { engine: string } };
  assert.equal(j.transform.engine, 'libxslt');
  assert.equal(diffXml(readFileSync(join(SAMPLE, 'libvirt.xml'), 'utf8'), j.xml), undefined);
});

test('a JSON instance description renders like its instance.xml', async () => {
  const f = join(dir, 'inst.json');
  writeFileSync(
    f,
    JSON.stringify({
      name: 'i-json0001',
      uuid: '0b8e2c55-3d4f-4a1b-8c9d-112233445566',
      cores: 1,
      memoryKB: 524288,
      hypervisor: { type: 'kvm' },
      os: { platform: 'linux', virtioRoot: true, virtioDisk: true, virtioNetwork: true },
      disks: { diskPaths: [{ path: '/var/lib/domforge/i-json0001/root.img', targetDeviceName: 'vda', targetDeviceBus: 'virtio' }] },
      nics: [{ mac: '52:54:00:12:34:56', bridgeDeviceName: 'br0' }],
    }),
  );
  const r = await cli(['render', '--instance', f]);
  assert.equal(r.code, 0, r.stderr);
  const doc = parseXml(r.stdout);
  assert.equal(doc.getElementsByTagName('name')[0].textContent, 'i-json0001');
  assert.equal(doc.getElementsByTagName('mac')[0].getAttribute('address'), '52:54:00:12:34:56');
});

test('--check-paths refuses a domain whose disks are not on this host', async () => {
  const r = await cli(['render', '--instance', join(SAMPLE, 'instance.xml'), '--check-paths']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /euca-i-0a000001-root/);
});

test('every command has --help', async () => {
  for (const c of ['render', 'configdrive', 'kvp']) {
    const r = await cli([c, '--help']);
    assert.equal(r.code, 0, c);
    assert.match(r.stdout, /Usage: domforge /);
  }
});

test("render --help names every transform kind transformKindOf takes, *.handlebars too", async () => {
  const r = await cli(['render', '--help']);
  assert.equal(r.code, 0);
  const help = r.stdout.replace(/\s+/g, ' ');
  for (const ext of ['*.xsl', '*.xslt', '*.hbs', '*.handlebars']) assert.ok(help.includes(ext), `${ext} in: ${help}`);
});

test('a defect (an error that is not a DomforgeError) is reported as an internal error, as JSON under --json', async () => {
  const { reportError, EXIT } = await import('../../engine/cli/io.js');
  let err = '';
  const io = { stdout: () => undefined, stderr: (s: string) => void (err += s) };
  assert.equal(reportError(io, new RangeError('Maximum call stack size exceeded'), true), EXIT.FAILED);
  const j = JSON.parse(err);
  assert.equal(j.error.code, 'INTERNAL');
  assert.equal(j.error.message, 'Maximum call stack size exceeded');
  assert.match(j.error.stack, /^RangeError: Maximum call stack size exceeded\n\s+at /);
  err = '';
  assert.equal(reportError(io, new RangeError('boom'), false), EXIT.FAILED);
  assert.match(err, /^domforge: internal error: RangeError: boom\n\s+at /);
});

test('render runs the transform in a sandbox: a runaway one is TRANSFORM_TIMEOUT, not a hung command', async () => {
  const sub = mkdtempSync(join(dir, 'sandbox-'));
  const instance = join(SAMPLE, 'instance.xml');
  try {
    const xsl = join(sub, 'loop.xsl');
    writeFileSync(
      xsl,
      `<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:template match="/"><xsl:call-template name="r"><xsl:with-param name="n" select="40"/></xsl:call-template><domain/></xsl:template>
<xsl:template name="r"><xsl:param name="n"/><xsl:if test="$n &gt; 0"><xsl:call-template name="r"><xsl:with-param name="n" select="$n - 1"/></xsl:call-template><xsl:call-template name="r"><xsl:with-param name="n" select="$n - 1"/></xsl:call-template></xsl:if></xsl:template>
</xsl:stylesheet>
`,
    );
    const t0 = performance.now();
    const r = await cli(['render', '--instance', instance, '--transform', xsl, '--engine', 'compiled', '--timeout', '500', '--json']);
    assert.equal(r.code, 1, r.stderr);
    const e = JSON.parse(r.stderr).error;
    assert.equal(e.code, 'TRANSFORM_TIMEOUT');
    assert.equal(e.file, xsl);
    assert.ok(performance.now() - t0 < 15_000);
    assert.equal((await cli(['render', '--instance', instance, '--timeout', '0'])).code, 2);
    // --no-sandbox renders the same XML in the command's own process.
    const inProcess = await cli(['render', '--instance', instance, '--no-sandbox']);
    assert.equal(inProcess.code, 0, inProcess.stderr);
    assert.equal(inProcess.stdout, (await cli(['render', '--instance', instance])).stdout);
  } finally {
    rmSync(sub, { recursive: true, force: true });
  }
});

test('--version (-V) prints the version in package.json and exits 0, also through the bin script', async () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const r = await cli([flag]);
    assert.deepEqual(r, { code: 0, stdout: `domforge ${version}\n`, stderr: '' });
  }
  assert.equal(execFileSync(process.execPath, [join(ROOT, 'bin', 'domforge.js'), '--version'], { encoding: 'utf8' }), `domforge ${version}\n`);
});

test('--out naming a FIFO (or a device such as /dev/null) is refused and left as it is, not renamed over', { timeout: 10_000 }, async () => {
  const fifo = join(dir, 'out-fifo');
  execFileSync('mkfifo', [fifo]);
  const r = await cli(['render', '--instance', join(SAMPLE, 'instance.xml'), '--out', fifo]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot write .*out-fifo: it is a FIFO, not a regular file; .*\(leave out --out, or give --out -, to print to standard output\)/);
  assert.ok(statSync(fifo).isFIFO(), 'still a FIFO');
});
