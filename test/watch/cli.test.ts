// `domforge watch` and `domforge transforms …` through the real CLI runner.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../../engine/cli/main.js';
import { commands } from '../../engine/cli/commands.js';
import { registerTransforms } from '../../engine/cli/transforms.js';
import { DEFAULT_XSL, copyProvingSet, tempDir, type TempDir } from '../sandbox/fixtures.js';

let tmp: TempDir;
let dir = '';
let proving = '';
let base = '';
let stopWatch: () => void = () => undefined;

before(async () => {
  // The CLI registers `watch` already; this test's registration replaces it so it can stop the watch.
  const withStop: (typeof commands)[number] = (p, io) => registerTransforms(p, io, { stop: () => new Promise<void>((r) => (stopWatch = r)) });
  const i = commands.indexOf(registerTransforms);
  if (i >= 0) commands[i] = withStop;
  else commands.push(withStop);
  tmp = await tempDir('domforge-watch-cli-');
  dir = join(tmp.dir, 'transforms');
  proving = join(tmp.dir, 'proving');
  base = await readFile(DEFAULT_XSL, 'utf8');
  await tmp.write('transforms/libvirt.xsl', base);
  await copyProvingSet(proving, ['01-linux-kvm-virtio.xml', '07-volume-attach-kvm-virtio.xml', '08-nic-eni-attach.xml']);
});
after(() => tmp.cleanup());

function capture() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
}

async function until(pred: () => boolean, ms = 90_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('watch --json prints one JSON line per event and stops cleanly', async () => {
  const { out, io } = capture();
  const run = runCli(['node', 'domforge', 'watch', '--transforms', dir, '--proving-set', proving, '--versions', join(tmp.dir, 'versions'), '--timeout', '20000', '--json'], io);
  const lines = () => out.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; [k: string]: unknown });
  await until(() => lines().length >= 1);
  assert.equal(lines()[0]!.type, 'activated');
  assert.equal(lines()[0]!.samples, 3);
  await writeFile(join(dir, 'libvirt.xsl'), base.replace('<on_crash>destroy</on_crash>', '<on_crash>destroy'));
  await until(() => lines().length >= 2);
  const r = lines()[1]!;
  assert.equal(r.type, 'rejected');
  assert.equal(r.code, 'TRANSFORM_SYNTAX');
  assert.equal(r.file, join(dir, 'libvirt.xsl'));
  assert.ok(typeof r.line === 'number' && typeof r.column === 'number');
  assert.equal(r.activeHash, lines()[0]!.hash);
  await writeFile(join(dir, 'libvirt.xsl'), base);
  stopWatch();
  assert.equal(await run, 0, out.stderr);
});

test('transforms versions lists what watch activated', async () => {
  const { out, io } = capture();
  assert.equal(await runCli(['node', 'domforge', 'transforms', 'versions', '--versions', join(tmp.dir, 'versions'), '--json'], io), 0, out.stderr);
  const v = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as { hash: string; files: string[] });
  assert.ok(v.length >= 1);
  assert.deepEqual(v[0]!.files, ['libvirt.xsl']);
});

test('transforms prove passes a good version and fails a broken one with file:line and exit 1', async () => {
  const ok = capture();
  assert.equal(await runCli(['node', 'domforge', 'transforms', 'prove', '--transforms', dir, '--proving-set', proving, '--timeout', '20000'], ok.io), 0, ok.out.stderr);
  assert.match(ok.out.stdout, /passes 3 samples/);
  await writeFile(join(dir, 'libvirt.xsl'), base.replace('<on_crash>destroy</on_crash>', '<on_crash>explode</on_crash>'));
  const bad = capture();
  assert.equal(await runCli(['node', 'domforge', 'transforms', 'prove', '--transforms', dir, '--proving-set', proving, '--timeout', '20000'], bad.io), 1);
  assert.match(bad.out.stdout, /FAIL 01-linux-kvm-virtio/);
  assert.match(bad.out.stderr, /on_crash/);
  await writeFile(join(dir, 'libvirt.xsl'), base);
});

test('--main outside the transforms folder is a usage error for prove and watch (a version is a copy of the folder)', async () => {
  for (const main of ['../../etc/passwd.xsl', '/etc/libvirt.xsl', 'sub/../../x.xsl']) {
    for (const command of [['transforms', 'prove'], ['watch']]) {
      const { out, io } = capture();
      assert.equal(await runCli(['node', 'domforge', ...command, '--transforms', dir, '--main', main], io), 2, `${command.join(' ')} --main ${main}: ${out.stderr}`);
      assert.equal(out.stderr, `domforge: Expected \`--main\` to be a file name inside the transforms folder, got \`${main}\`\n`);
    }
  }
});

test('a bad flag value is a usage error (exit 2)', async () => {
  const { out, io } = capture();
  assert.equal(await runCli(['node', 'domforge', 'transforms', 'prove', '--transforms', dir, '--timeout', 'soon'], io), 2);
  assert.match(out.stderr, /Expected `--timeout` to be a positive integer \(ms\), got "soon"/);
});

test('transforms versions: a --versions folder that is not there is an error naming it; an empty one is an empty history, with a note in text', async () => {
  const missing = join(tmp.dir, 'no-such-versions');
  const a = capture();
  assert.equal(await runCli(['node', 'domforge', 'transforms', 'versions', '--versions', missing], a.io), 1);
  assert.equal(a.out.stdout, '');
  assert.equal(a.out.stderr, `domforge: ${missing}: no such folder: --versions takes the folder given to \`watch --versions\`\n`);
  const empty = join(tmp.dir, 'empty-versions');
  await (await import('node:fs/promises')).mkdir(empty);
  const b = capture();
  assert.equal(await runCli(['node', 'domforge', 'transforms', 'versions', '--versions', empty], b.io), 0);
  assert.deepEqual(b.out, { stdout: '', stderr: `domforge: note: no transform version has been activated with ${empty} yet\n` });
  const c = capture();
  assert.equal(await runCli(['node', 'domforge', 'transforms', 'versions', '--versions', empty, '--json'], c.io), 0);
  assert.deepEqual(c.out, { stdout: '', stderr: '' });
});

test('transforms versions: a hand-damaged line is skipped with a warning naming its line; a torn last line (a crash during an append) silently', async () => {
  const store = join(tmp.dir, 'damaged-versions');
  const fs = await import('node:fs/promises');
  await fs.mkdir(store);
  const good = (n: number) => JSON.stringify({ hash: `${n}`.repeat(64).slice(0, 64), snapshot: `s${n}`, main: 'libvirt.xsl', files: ['libvirt.xsl'], activatedAt: `2026-11-2${n}T00:00:00.000Z`, samples: 3 });
  const log = join(store, 'versions.jsonl');
  const escaping = JSON.stringify({ ...JSON.parse(good(3)), snapshot: '../../etc' });
  await fs.writeFile(log, [good(1), '{"hash": "x"', '{}', '42', good(2), escaping, '{"hash":"cut'].join('\n'));
  const { out, io } = capture();
  assert.equal(await runCli(['node', 'domforge', 'transforms', 'versions', '--versions', store], io), 0, out.stderr);
  assert.deepEqual(out.stdout.trim().split('\n').map((l) => l.split('  ')[0]), ['2026-11-21T00:00:00.000Z', '2026-11-22T00:00:00.000Z']);
  assert.equal(
    out.stderr,
    [
      `domforge: warning: ${log}:2: not JSON (Expected ',' or '}' after property value in JSON at position 12); skipped`,
      `domforge: warning: ${log}:3: not a version record (hash is missing); skipped`,
      `domforge: warning: ${log}:4: not a version record (a number, not an object); skipped`,
      `domforge: warning: ${log}:6: not a version record (snapshot "../../etc" is not a folder name); skipped`,
      '',
    ].join('\n'),
  );
});
