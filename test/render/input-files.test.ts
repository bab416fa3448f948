// How render reads its files: only regular files (or standard input named as such), in the
// encodings XML allows, with every check done before --out is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, rmSync, symlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cli } from './cli.js';
import { diffXml } from '../../engine/index.js';
import { minimalJsonInstance } from '../instance/json-fixture.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'domforge.js');
const SAMPLE = join(ROOT, 'samples', '01-linux-virtio');
const GOOD = readFileSync(join(SAMPLE, 'instance.xml'), 'utf8');
const LIBVIRT = readFileSync(join(SAMPLE, 'libvirt.xml'), 'utf8');
const JSON_DESC = minimalJsonInstance();
const dir = mkdtempSync(join(tmpdir(), 'domforge-input-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI as a process (a FIFO read that never ends must fail the test, not hang it). */
function run(args: string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a FIFO as --instance (XML or .json) or as --diff is refused at once, never read', () => {
  const d = mkdtempSync(join(dir, 'fifo-'));
  for (const name of ['i.xml', 'i.json', 'earlier.xml']) execFileSync('mkfifo', [join(d, name)]);
  for (const [args, file] of [
    [['--instance', join(d, 'i.xml')], 'i.xml'],
    [['--instance', join(d, 'i.json')], 'i.json'],
    [['--instance', join(SAMPLE, 'instance.xml'), '--diff', join(d, 'earlier.xml')], 'earlier.xml'],
  ] as const) {
    const r = run(['render', ...args, '--out', join(d, 'out.xml')]);
    assert.equal(r.code, 1, `${file}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^domforge: ${join(d, file)}: cannot read .*not a regular file`));
  }
  assert.equal(existsSync(join(d, 'out.xml')), false);
});

test('a pipe given as /dev/stdin or - is read', () => {
  for (const name of ['/dev/stdin', '-']) {
    const r = run(['render', '--instance', name], GOOD);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(diffXml(LIBVIRT, r.stdout), undefined);
  }
});

test('standard input named twice (--instance and --diff, xslt check --proving) is a usage error naming both, as validate - - is', () => {
  const message = (a: string, b: string) => `standard input (- or /dev/stdin) can be named only once; it is named by ${a} and ${b}`;
  for (const [args, a, b] of [
    [['render', '--instance', '-', '--diff', '-'], '--instance -', '--diff -'],
    [['render', '--instance', '/dev/stdin', '--diff', '-', '--out', join(dir, 'never.xml')], '--instance /dev/stdin', '--diff -'],
    [['xslt', 'check', join(ROOT, 'transforms', 'libvirt.xsl'), '--proving', '-', '--proving', '/dev/stdin'], '--proving -', '--proving /dev/stdin'],
    [['validate', '-', '/dev/stdin'], 'FILE -', 'FILE /dev/stdin'],
  ] as const) {
    const r = run([...args], GOOD);
    assert.deepEqual(r, { code: 2, stdout: '', stderr: `domforge: ${message(a, b)}\n` }, args.join(' '));
    const j = run([...args, '--json'], GOOD);
    assert.equal(j.code, 2, args.join(' '));
    assert.deepEqual(JSON.parse(j.stderr), { error: { code: 'USAGE', message: message(a, b) } });
  }
  assert.equal(existsSync(join(dir, 'never.xml')), false);
  // Named once, with a file for the other, standard input is read.
  const once = run(['render', '--instance', '-', '--diff', join(SAMPLE, 'libvirt.xml')], GOOD);
  assert.deepEqual(once, { code: 0, stdout: `no differences from ${join(SAMPLE, 'libvirt.xml')}\n`, stderr: '' });
});

test('a bad --diff file fails the render before --out is written, and is named', async () => {
  const d = mkdtempSync(join(dir, 'diff-'));
  writeFileSync(join(d, 'bad.xml'), '<domain>\n  <name>x</name>\n');
  const out = join(d, 'out.xml');
  const r = await cli(['render', '--instance', join(SAMPLE, 'instance.xml'), '--out', out, '--diff', join(d, 'bad.xml')]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^domforge: ${join(d, 'bad.xml')}:\\d+(:\\d+)?: `));
  assert.deepEqual(readdirSync(d), ['bad.xml']);
});

test('--out that is the --instance file (by its path or through a link) is a usage error; the input is kept', async () => {
  const d = mkdtempSync(join(dir, 'same-'));
  const inst = join(d, 'instance.xml');
  writeFileSync(inst, GOOD);
  symlinkSync(inst, join(d, 'link.xml'));
  for (const [i, o] of [[inst, inst], [inst, join(d, '.', 'instance.xml')], [join(d, 'link.xml'), inst]]) {
    const r = await cli(['render', '--instance', i!, '--out', o!]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--out .* is the --instance file itself/);
    assert.equal(readFileSync(inst, 'utf8'), GOOD);
  }
});

test('--instance - (standard input) with --out ./- (a file named -) writes that file, for render, configdrive and kvp encode; standard input redirected from --out is still refused', () => {
  const d = mkdtempSync(join(dir, 'stdin-out-'));
  const inCwd = (args: string[], input: string) => spawnSync(process.execPath, [BIN, ...args], { cwd: d, input, encoding: 'utf8', timeout: 20_000 });
  for (const [command, what] of [[['render'], 'the render'], [['configdrive'], 'the config drive'], [['kvp', 'encode'], 'the pool file']] as const) {
    rmSync(join(d, '-'), { force: true });
    const r = inCwd([...command, '--instance', '-', '--out', './-'], GOOD);
    assert.equal(r.status, 0, `${what}: ${r.stderr}`);
    assert.ok(existsSync(join(d, '-')), `${what}: ./- written`);
  }
  // `--instance -` read from the file --out names: the input would be replaced, as with /dev/stdin.
  writeFileSync(join(d, 'same.xml'), GOOD);
  const same = spawnSync('sh', ['-c', `exec "$0" "$1" render --instance - --out same.xml < same.xml`, process.execPath, BIN], { cwd: d, encoding: 'utf8', timeout: 20_000 });
  assert.equal(same.status, 2, same.stderr);
  assert.match(same.stderr, /--out same\.xml is the --instance file itself/);
  assert.equal(readFileSync(join(d, 'same.xml'), 'utf8'), GOOD);
});

test('encodings: a UTF-8 byte order mark and UTF-16 with a byte order mark are read', async () => {
  const d = mkdtempSync(join(dir, 'enc-'));
  const utf16 = GOOD.replace('encoding="UTF-8"', 'encoding="UTF-16"');
  const files: [string, Buffer][] = [
    ['bom.xml', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(GOOD)])],
    ['le.xml', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(utf16, 'utf16le')])],
    ['be.xml', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(utf16, 'utf16le').swap16()])],
    ['bom.json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(JSON_DESC, null, 2))])],
  ];
  for (const [name, bytes] of files) {
    writeFileSync(join(d, name), bytes);
    const r = await cli(['render', '--instance', join(d, name)]);
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    if (name.endsWith('.xml')) assert.equal(diffXml(LIBVIRT, r.stdout), undefined, name);
  }
});

test('encodings: UTF-16 with a byte order mark whose declaration says UTF-8 (Windows PowerShell 5 Out-File) is read as UTF-16, as libxml2 reads it: --instance, --diff, and xsltproc given what is rendered', async () => {
  const d = mkdtempSync(join(dir, 'ps-'));
  const le = (xml: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml, 'utf16le')]);
  const be = (xml: string) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(xml, 'utf16le').swap16()]);
  assert.match(GOOD, /^<\?xml version="1.0" encoding="UTF-8"\?>/);
  writeFileSync(join(d, 'le.xml'), le(GOOD));
  writeFileSync(join(d, 'be.xml'), be(GOOD.replace('encoding="UTF-8"', 'encoding="utf8"')));
  writeFileSync(join(d, 'libvirt.xml'), le(`<?xml version="1.0" encoding="UTF-8"?>\n${LIBVIRT}`));
  for (const name of ['le.xml', 'be.xml']) {
    for (const engine of ['auto', 'libxslt']) {
      const r = await cli(['render', '--instance', join(d, name), '--engine', engine]);
      assert.equal(r.code, 0, `${name} ${engine}: ${r.stderr}`);
      assert.equal(diffXml(LIBVIRT, r.stdout), undefined, `${name} ${engine}`);
    }
    const r = await cli(['render', '--instance', join(d, name), '--diff', join(d, 'libvirt.xml')]);
    assert.equal(r.code, 0, `${name} --diff: ${r.stderr}`);
    assert.equal(r.stdout, `no differences from ${join(d, 'libvirt.xml')}\n`);
  }
});

test('encodings: a declaration a byte order mark contradicts is refused at it, saying so (not that the file needs converting from the encoding it names)', async () => {
  const d = mkdtempSync(join(dir, 'bomenc-'));
  const declared = (enc: string) => GOOD.replace('encoding="UTF-8"', `encoding="${enc}"`);
  for (const [name, bytes, message] of [
    ['le-latin1.xml', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(declared('ISO-8859-1'), 'utf16le')]), /the byte order mark says the file is UTF-16LE but the declaration says encoding "ISO-8859-1": if the file reads right as UTF-16LE, declare encoding="UTF-16"$/m],
    ['le-ascii.xml', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(declared('US-ASCII'), 'utf16le')]), /the byte order mark says the file is UTF-16LE but the declaration says encoding "US-ASCII"/],
    ['u8-latin1.xml', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(declared('ISO-8859-1'))]), /the byte order mark says the file is UTF-8 but the declaration says encoding "ISO-8859-1": if the file reads right as UTF-8, declare encoding="UTF-8"$/m],
    ['u8-utf16.xml', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(declared('UTF-16'))]), /the byte order mark says the file is UTF-8 but the declaration says encoding "UTF-16"/],
  ] as const) {
    writeFileSync(join(d, name), bytes);
    const r = await cli(['render', '--instance', join(d, name)]);
    assert.equal(r.code, 1, name);
    assert.match(r.stderr, new RegExp(`^domforge: ${join(d, name)}:1:31: `), name);
    assert.match(r.stderr, message, name);
    assert.doesNotMatch(r.stderr, /iconv|not supported/, name);
  }
});

test('encodings: a declared encoding other than UTF-8/UTF-16/US-ASCII, bytes that are not UTF-8, UTF-16 without a mark: refused at their place', async () => {
  const d = mkdtempSync(join(dir, 'badenc-'));
  const latin1 = GOOD.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').replace('<VmType>', '<VmType>caf\u00e9');
  assert.notEqual(latin1, GOOD);
  const notUtf8 = GOOD.replace('<VmType>', '<VmType>caf\u00e9');
  const line = GOOD.slice(0, GOOD.indexOf('<VmType>')).split('\n').length;
  for (const [name, bytes, at, message] of [
    ['latin1.xml', Buffer.from(latin1, 'latin1'), '1:31', /encoding "ISO-8859-1" is not supported/],
    ['bytes.xml', Buffer.from(notUtf8, 'latin1'), `${line}:\\d+`, /0xe9 .* not UTF-8/],
    ['nobom.xml', Buffer.from(GOOD, 'utf16le'), '1:1', /UTF-16 without a byte order mark/],
  ] as const) {
    writeFileSync(join(d, name), bytes);
    const r = await cli(['render', '--instance', join(d, name), '--out', join(d, 'out.xml')]);
    assert.equal(r.code, 1, name);
    assert.match(r.stderr, new RegExp(`^domforge: ${join(d, name)}:${at}: `), name);
    assert.match(r.stderr, message, name);
  }
  assert.equal(existsSync(join(d, 'out.xml')), false);
});

test('.json is told in any case; JSON in a file not named .json gets a hint (render and readInstanceFile)', async () => {
  const d = mkdtempSync(join(dir, 'json-'));
  writeFileSync(join(d, 'I.JSON'), JSON.stringify(JSON_DESC, null, 2));
  writeFileSync(join(d, 'desc'), JSON.stringify(JSON_DESC, null, 2));
  assert.equal((await cli(['render', '--instance', join(d, 'I.JSON')])).code, 0);
  const r = await cli(['render', '--instance', join(d, 'desc')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /looks like JSON: name it \.json/);
  const { readInstanceFile } = await import('../../engine/instance/parse.js');
  await assert.rejects(readInstanceFile(join(d, 'desc')), /looks like JSON/);
});

test('renderFile reads its input as the CLI does: a FIFO is refused, a BOM is dropped', async () => {
  const { renderFile } = await import('../../engine/render/render.js');
  const dir = mkdtempSync(join(tmpdir(), 'domforge-renderfile-'));
  try {
    const sample = join(ROOT, 'samples', '01-linux-virtio', 'instance.xml');
    const xsl = join(ROOT, 'transforms', 'libvirt.xsl');
    const fifo = join(dir, 'fifo.xml');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(renderFile(fifo, { transform: xsl }), (e: Error & { code?: string; file?: string }) => e.code === 'IO_ERROR' && e.file === fifo && /not a regular file/.test(e.message));
    const bom = join(dir, 'bom.xml');
    writeFileSync(bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(sample)]));
    assert.equal((await renderFile(bom, { transform: xsl })).xml, (await renderFile(sample, { transform: xsl })).xml);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs the CLI with its stdout's reader gone before it writes (as `domforge … | head -c 0`). */
function runWithClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('a reader that goes away (| head) does not crash the CLI: the command finishes its work and exits with its own code', async () => {
  const r = await runWithClosedStdout(['render', '--instance', join(SAMPLE, 'instance.xml')]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /EPIPE|Unhandled|internal error/);

  // A launch is not cut short by it: its instance folder is complete (the test driver's domain dies with the process).
  const instances = mkdtempSync(join(dir, 'epipe-'));
  const l = await runWithClosedStdout(['launch', '--instance', join(SAMPLE, 'instance.xml'), '--instances', instances, '--uri', 'test:///default']);
  assert.equal(l.code, 0, l.stderr);
  assert.doesNotMatch(l.stderr, /EPIPE|Unhandled|internal error/);
  const id = /<name>([^<]+)<\/name>/.exec(GOOD)![1];
  assert.match(readFileSync(join(instances, id, 'instance.xml'), 'utf8'), /<stateName>Extant<\/stateName>/);

  // A failure still reports on stderr and exits 1.
  const f = await runWithClosedStdout(['render', '--instance', join(dir, 'no-such.xml')]);
  assert.equal(f.code, 1);
  assert.match(f.stderr, /^domforge: .*no-such\.xml/);
});

test('--out - is standard output for render; configdrive and kvp encode, which print a summary, refuse it (exit 2); no file named - is made', () => {
  const d = mkdtempSync(join(dir, 'out-dash-'));
  const inCwd = (args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: d, encoding: 'utf8', timeout: 20_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const instance = join(SAMPLE, 'instance.xml');
  const plain = inCwd(['render', '--instance', instance]);
  const dash = inCwd(['render', '--instance', instance, '--out', '-']);
  assert.equal(dash.code, 0, dash.stderr);
  assert.equal(dash.stdout, plain.stdout);
  assert.ok(dash.stdout.startsWith('<domain'), dash.stdout);
  const json = inCwd(['render', '--instance', instance, '--out', '-', '--json']);
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as { xml?: string; out?: string };
  assert.equal(parsed.out, undefined);
  assert.equal(parsed.xml?.trimEnd(), plain.stdout.trimEnd());
  for (const [args, what] of [
    [['configdrive', '--instance', join(ROOT, 'samples', '09-q35-config-drive', 'instance.xml'), '--out', '-'], 'the config drive'],
    [['kvp', 'encode', '--set', 'k=v', '--out', '-'], 'the pool file'],
  ] as const) {
    const r = inCwd([...args]);
    assert.equal(r.code, 2, `${args[0]}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `domforge: \`--out -\`: ${what} is written to a file (atomically, beside its summary on stdout), not to standard output; give the file's path (./- for a file named -)\n`);
  }
  assert.deepEqual(readdirSync(d), []);
  // ./- still names a file called -.
  const file = inCwd(['render', '--instance', instance, '--out', './-']);
  assert.equal(file.code, 0, file.stderr);
  assert.equal(readFileSync(join(d, '-'), 'utf8').trimEnd(), plain.stdout.trimEnd());
});
