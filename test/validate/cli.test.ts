// `domforge validate FILE...`: libvirt XML an admin has in hand, through the gate render
// uses, with virt-xml-validate (libvirt's own tool) as the oracle of what is schema-valid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { cli } from '../render/cli.js';
import { FIXTURES, oracleAccepts, oracleAcceptsFragment } from './helpers.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'domforge.js');
/** Every sample's expected libvirt.xml: a new sample is covered without new test code. */
const SAMPLES = readdirSync(join(ROOT, 'samples'))
  .map((s) => join(ROOT, 'samples', s, 'libvirt.xml'))
  .filter((f) => existsSync(f));
const SAMPLE = join(ROOT, 'samples', '01-linux-virtio', 'libvirt.xml');
const GOOD = readFileSync(SAMPLE, 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'domforge-validate-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Sample 01 with one line edited: the line numbers the tests expect are those of samples/01-linux-virtio/libvirt.xml. */
function edited(name: string, edits: [string, string][]): string {
  let xml = GOOD;
  for (const [from, to] of edits) {
    assert.ok(xml.includes(from), `sample 01 has ${from}`);
    xml = xml.replace(from, to);
  }
  const file = join(dir, name);
  writeFileSync(file, xml);
  return file;
}

const BAD_BUS: [string, string] = ['<target dev="vda" bus="virtio"/>', '<target dev="vda" bus="virtiox"/>']; // line 32
const BIG_CURRENT: [string, string] = ['<currentMemory unit="KiB">2097152<', '<currentMemory unit="KiB">4194304<']; // line 6

interface Report {
  ok: boolean;
  files: { file: string; ok: boolean; root?: string; warnings: string[]; error?: Record<string, unknown>; problems?: Record<string, unknown>[] }[];
}

test('every sample libvirt.xml is valid, with either schema engine, as virt-xml-validate agrees', async () => {
  assert.ok(SAMPLES.length >= 13, SAMPLES.join(' '));
  for (const f of SAMPLES) assert.equal(oracleAccepts(f), true, f);
  for (const schema of [[], ['--schema', 'wasm'], ['--schema', 'virt-xml-validate']]) {
    const r = await cli(['validate', ...schema, ...SAMPLES]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, SAMPLES.map((f) => `${f}: valid\n`).join(''));
  }
});

test('a file that is not well-formed is named with its line and column', async () => {
  const f = edited('unquoted.xml', [['<vcpu placement="static">', '<vcpu placement=static>']]); // line 7, the value at column 19
  const r = await cli(['validate', f]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`^domforge: ${esc(f)}:7:19: not well-formed XML: the value of attribute 'placement' is not quoted`));
});

test('a schema violation names the file, the line and the attribute; virt-xml-validate refuses the file too', async () => {
  const f = edited('bad-bus.xml', [BAD_BUS]);
  assert.equal(oracleAccepts(f), false);
  const r = await cli(['validate', f]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    `domforge: ${f}:32:7: attribute bus="virtiox" of <target> is not accepted by libvirt's schema; expected one of "ide", "fdc", "scsi", "virtio", "xen", "usb", "uml", "sata", "sd" (at /domain/devices/disk[1]/target/@bus)\n`,
  );
  // libvirt's own script as the engine: libxml2 places it no deeper than <devices> (line 28, column 3).
  const p = await cli(['validate', '--schema', 'virt-xml-validate', f]);
  assert.equal(p.code, 1);
  assert.match(p.stderr, new RegExp(`^domforge: ${esc(f)}:28:3: libvirt's schema rejects the document: .* \\(at /domain/devices\\)\n$`));
});

test("a semantic error names file, line and element, in a file libvirt's schema accepts", async () => {
  const f = edited('current-memory.xml', [BIG_CURRENT]);
  assert.equal(oracleAccepts(f), true);
  const r = await cli(['validate', f]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `domforge: ${f}:6:3: <currentMemory> 4194304 KiB (4 GiB) is larger than <memory> 2097152 KiB (2 GiB) (at /domain/currentMemory)\n`);
  // --schema none leaves domforge's own checks: the file is still refused, the bad bus no longer.
  assert.equal((await cli(['validate', '--schema', 'none', f])).code, 1);
  const bus = await cli(['validate', '--schema', 'none', edited('bad-bus-only.xml', [BAD_BUS])]);
  assert.equal(bus.code, 0, bus.stderr);
});

test('a second <name> or <memory> is placed at the repeat (line, column, path), in the text and in --json, as README says', async () => {
  for (const [name, edit, line, path, first] of [
    ['second-name.xml', ['<name>i-0a000001</name>', '<name>i-0a000001</name><name>dup</name>'], '2:26', '/domain/name[2]', 2],
    ['second-memory.xml', ['<currentMemory', '<memory unit="KiB">1024</memory><currentMemory'], '6:3', '/domain/memory[2]', 5],
  ] as const) {
    const f = edited(name, [[...edit]]);
    assert.equal(oracleAccepts(f), false);
    const element = /\/(\w+)\[2\]$/.exec(path)![1];
    const message = `<${element}> is given more than once in <domain> (first at line ${first}); libvirt's schema takes one`;
    const r = await cli(['validate', f]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `domforge: ${f}:${line}: ${message} (at ${path})\n`);
    const j = JSON.parse((await cli(['validate', '--json', f])).stdout) as Report;
    const [l, c] = line.split(':').map(Number);
    const want = { code: 'DOMAIN_INVALID', message, file: f, line: l, column: c, path };
    assert.deepEqual(j.files[0]!.error, want);
    assert.deepEqual(j.files[0]!.problems, [want]);
  }
});

test('every problem of a file is reported with its own line, in the text and in --json', async () => {
  const f = edited('two-problems.xml', [BAD_BUS, BIG_CURRENT]);
  const r = await cli(['validate', f]);
  assert.equal(r.code, 1);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, r.stderr);
  assert.match(lines[0]!, new RegExp(`^domforge: ${esc(f)}:6:3: <currentMemory> .* \\(and 1 more problem\\) \\(at /domain/currentMemory\\)$`));
  assert.match(lines[1]!, new RegExp(`^  ${esc(f)}:32:7: attribute bus="virtiox" of <target> .* \\(at /domain/devices/disk\\[1\\]/target/@bus\\)$`));
  const j = JSON.parse((await cli(['validate', '--json', f])).stdout) as Report;
  assert.deepEqual(
    j.files[0]!.problems!.map((p) => [p.file, p.line, p.column, p.path]),
    [
      [f, 6, 3, '/domain/currentMemory'],
      [f, 32, 7, '/domain/devices/disk[1]/target/@bus'],
    ],
  );
});

test('a warning goes to stderr as render gives it; the file is valid', async () => {
  const f = edited('sdb-on-virtio.xml', [['<target dev="vdb" bus="virtio"/>', '<target dev="sdb" bus="virtio"/>']]); // line 37
  const r = await cli(['validate', f]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${f}: valid\n`);
  assert.match(r.stderr, new RegExp(`^domforge: warning: ${esc(f)}:37:7: target dev "sdb" does not fit bus "virtio".* \\(at /domain/devices/disk\\[2\\]/target/@dev\\)\n$`));
});

test('device fragments are validated as fragments, in their own lines and paths', async () => {
  const frag = (name: string) => join(FIXTURES, 'fragments', name);
  for (const name of ['disk-valid.xml', 'interface-valid.xml']) assert.equal(oracleAcceptsFragment(readFileSync(frag(name), 'utf8')), true, name);
  const ok = await cli(['validate', frag('disk-valid.xml'), frag('interface-valid.xml')]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, `${frag('disk-valid.xml')}: valid\n${frag('interface-valid.xml')}: valid\n`);

  // A <disk> cut from a valid domain is a valid fragment; as a domain it would lack <name>, <memory>, <os>.
  const disk = join(dir, 'eni-like-disk.xml');
  writeFileSync(disk, GOOD.split('\n').slice(33, 38).join('\n') + '\n');
  assert.equal((await cli(['validate', disk])).code, 0);

  for (const [name, line, path] of [
    ['disk-bad-bus.xml', 3, '/disk/target/@bus'],
    ['interface-unknown-element.xml', 4, '/interface/speed'],
  ] as const) {
    assert.equal(oracleAcceptsFragment(readFileSync(frag(name), 'utf8')), false, name);
    const r = await cli(['validate', frag(name)]);
    assert.equal(r.code, 1, name);
    assert.match(r.stderr, new RegExp(`^domforge: ${esc(frag(name))}:${line}:\\d+: .*\\(at ${esc(path)}\\)\n$`));
  }
});

test('a root that is neither <domain> nor a device fragment is refused, naming the file and the roots accepted', async () => {
  const network = join(dir, 'network.xml');
  writeFileSync(network, '<?xml version="1.0"?>\n<network>\n  <name>default</name>\n</network>\n');
  const r = await cli(['validate', network]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `domforge: ${network}:2:1: root element <network> is not libvirt XML domforge validates: expected one of <domain>, <disk>, <interface> (at /network)\n`);
  // An instance description is render's input: the message says so.
  const instance = join(ROOT, 'samples', '01-linux-virtio', 'instance.xml');
  const i = await cli(['validate', instance]);
  assert.equal(i.code, 1);
  assert.match(i.stderr, new RegExp(`^domforge: ${esc(instance)}:\\d+:\\d+: root element <instance> .*expected one of <domain>, <disk>, <interface>; .*domforge render --instance`));
});

test('several files with bad ones: every file is reported, each error once, then a count; exit 1', async () => {
  const bus = edited('several-bus.xml', [BAD_BUS]);
  const both = edited('several-both.xml', [BAD_BUS, BIG_CURRENT]);
  const missing = join(dir, 'no-such.xml');
  const second = SAMPLES[1]!;
  const r = await cli(['validate', SAMPLE, bus, second, missing, both]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, `${SAMPLE}: valid\n${second}: valid\n`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 5, r.stderr);
  assert.match(lines[0]!, new RegExp(`^domforge: ${esc(bus)}:32:7: attribute bus="virtiox"`));
  assert.match(lines[1]!, new RegExp(`^domforge: ${esc(missing)}: cannot read libvirt XML: .*no such file`));
  assert.match(lines[2]!, new RegExp(`^domforge: ${esc(both)}:6:3: <currentMemory> .*\\(and 1 more problem\\)`));
  assert.match(lines[3]!, new RegExp(`^  ${esc(both)}:32:7: attribute bus="virtiox"`));
  assert.equal(lines[4], `domforge: 3 of 5 files are not valid: ${bus}, ${missing}, ${both}`);

  // One bad file among good ones: its error is the command's, printed once.
  const one = await cli(['validate', SAMPLE, bus, second]);
  assert.equal(one.code, 1);
  assert.equal(one.stdout, `${SAMPLE}: valid\n${second}: valid\n`);
  assert.equal(one.stderr.split('\n').filter(Boolean).length, 1, one.stderr);
  assert.match(one.stderr, new RegExp(`^domforge: ${esc(bus)}:32:7: `));
});

test('--json: one object on stdout with every file, the error as JSON on stderr', async () => {
  const good = await cli(['validate', '--json', SAMPLE]);
  assert.equal(good.code, 0, good.stderr);
  assert.equal(good.stderr, '');
  assert.deepEqual(JSON.parse(good.stdout), { ok: true, files: [{ file: SAMPLE, ok: true, root: 'domain', warnings: [] }] });

  const bus = edited('json-bus.xml', [BAD_BUS]);
  const network = join(dir, 'json-network.xml');
  writeFileSync(network, '<network/>\n');
  const r = await cli(['validate', '--json', SAMPLE, bus, network]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout.trimEnd().split('\n').length, 1);
  const j = JSON.parse(r.stdout) as Report;
  assert.equal(j.ok, false);
  assert.deepEqual(
    j.files.map((f) => [f.file, f.ok, f.root]),
    [
      [SAMPLE, true, 'domain'],
      [bus, false, 'domain'],
      [network, false, 'network'],
    ],
  );
  const busError = { code: 'DOMAIN_INVALID', file: bus, line: 32, column: 7, path: '/domain/devices/disk[1]/target/@bus' };
  assert.deepEqual({ ...j.files[1]!.error, message: undefined }, { ...busError, message: undefined });
  assert.match(String(j.files[1]!.error!.message), /^attribute bus="virtiox" of <target> is not accepted/);
  assert.deepEqual(j.files[1]!.problems, [j.files[1]!.error]);
  assert.equal(j.files[2]!.error!.path, '/network');
  // stderr: one {"error": …} object, as every failing command gives it under --json.
  const e = JSON.parse(r.stderr) as { error: { code: string; message: string } };
  assert.equal(e.error.code, 'DOMAIN_INVALID');
  assert.equal(e.error.message, `2 of 3 files are not valid: ${bus}, ${network}`);
  // One bad file: stderr holds its own error.
  const one = await cli(['validate', '--json', bus]);
  assert.deepEqual((JSON.parse(one.stderr) as { error: unknown }).error, (JSON.parse(one.stdout) as Report).files[0]!.error);

  const warned = edited('json-warning.xml', [['<target dev="vdb" bus="virtio"/>', '<target dev="sdb" bus="virtio"/>']]);
  const w = JSON.parse((await cli(['validate', '--json', warned])).stdout) as Report;
  assert.equal(w.ok, true);
  assert.match(w.files[0]!.warnings[0]!, new RegExp(`^${esc(warned)}:37:7: target dev "sdb" does not fit`));
});

test('--check-paths checks the files the domain names, as render --check-paths does', async () => {
  const r = await cli(['validate', '--check-paths', SAMPLE]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^domforge: ${esc(SAMPLE)}:31:7: /dev/mapper/euca-i-0a000001-root does not exist \\(and 2 more problems\\)`));
  const d = join(dir, 'paths');
  mkdirSync(d);
  writeFileSync(join(d, 'ephemeral0.img'), '');
  const f = edited('paths.xml', [
    ['<disk type="block" device="disk">', '<disk type="file" device="disk">'],
    ['<source dev="/dev/mapper/euca-i-0a000001-root"/>', `<source file="${join(d, 'ephemeral0.img')}"/>`],
    ['/var/lib/domforge/instances/i-0a000001/ephemeral0.img', join(d, 'ephemeral0.img')],
    ['/var/lib/domforge/instances/i-0a000001/console.log', join(d, 'console.log')],
  ]);
  const ok = await cli(['validate', '--check-paths', f]);
  assert.equal(ok.code, 0, ok.stderr);
});

/** The CLI as a process (a FIFO read that never ends must fail the test, not hang it). */
function run(args: string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('only regular files are read: a FIFO or a folder is refused at once and named; - reads standard input', () => {
  const fifo = join(dir, 'fifo.xml');
  execFileSync('mkfifo', [fifo]);
  const r = run(['validate', fifo, dir]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^domforge: ${esc(fifo)}: cannot read libvirt XML: a FIFO, not a regular file \\(reading it could wait forever`, 'm'));
  // A folder cannot keep a read waiting: its message says what it is, without the FIFO's advice.
  assert.match(r.stderr, new RegExp(`^domforge: ${esc(dir)}: cannot read libvirt XML: a folder, not a regular file$`, 'm'));

  const s = run(['validate', '-'], GOOD);
  assert.equal(s.code, 0, s.stderr);
  assert.equal(s.stdout, '-: valid\n');
});

test('usage errors are exit 2: no file, an unknown option, a bad --schema, standard input twice', async () => {
  for (const args of [['validate'], ['validate', '--bogus', SAMPLE], ['validate', '--schema', 'rng', SAMPLE], ['validate', '--schema', '', SAMPLE], ['validate', '-', '/dev/stdin']]) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    const j = await cli([...args, '--json']);
    assert.equal(j.code, 2, args.join(' '));
    assert.equal((JSON.parse(j.stderr) as { error: { code: string } }).error.code, 'USAGE', args.join(' '));
  }
  assert.match((await cli(['validate'])).stderr, /missing required argument 'file'/);
  assert.match((await cli(['validate', '--schema', 'rng', SAMPLE])).stderr, /Expected `--schema` to be one of wasm, virt-xml-validate, none, got "rng"/);
});
