// The differential guard under the watcher: run once per version (on one worker, over the
// proving set), and the verdict is what the proof and every later render use.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { watchTransforms, type ActivatedEvent, type TransformWatcher } from '../../engine/transform/watch/index.js';
import { TransformSandbox } from '../../engine/transform/sandbox/index.js';
import { DEFAULT_XSL, PROVING_INPUTS, copyProvingSet, readInput, tempDir, type TempDir } from '../sandbox/fixtures.js';
import { EventLog } from './helpers.js';

const real = spawnSync('sh', ['-c', 'command -v xsltproc'], { encoding: 'utf8' }).stdout.trim();
const skip = real ? false : 'xsltproc is not installed';

let tmp: TempDir;
let calls = '';
let sandbox: TransformSandbox;
let watcher: TransformWatcher;
const log = new EventLog();
const savedPath = process.env.PATH;

/**
 * The xsltproc runs on a watched version so far, as [parent pid, inputs rendered] (the
 * `--version` probes and the workers' warm-up with the package's own stylesheet left out).
 * A run renders the arguments after the stylesheet: `-` (stdin) or several files at once.
 */
async function xsltprocRuns(): Promise<[string, number][]> {
  const text = await readFile(calls, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l && !l.includes('--version') && !l.includes(DEFAULT_XSL))
    .map((l) => {
      const [ppid, ...args] = l.split(' ');
      return [ppid!, args.length - 1 - args.findIndex((a) => a.endsWith('.xsl'))];
    });
}

const nextActivated = (): Promise<ActivatedEvent> => log.expect('activated');

before(async () => {
  if (skip) return;
  tmp = await tempDir('domforge-watch-guard-');
  calls = join(tmp.dir, 'xsltproc.calls');
  // An xsltproc on PATH that records who ran it, then runs the real one. The sandbox's
  // workers are started after this, so they find it first.
  const bin = await tmp.write('bin/xsltproc', `#!/bin/sh\necho "$PPID $*" >> '${calls}'\nexec '${real}' "$@"\n`);
  await chmod(bin, 0o755);
  process.env.PATH = `${join(tmp.dir, 'bin')}:${savedPath}`;
  await tmp.write('transforms/libvirt.xsl', await readFile(DEFAULT_XSL, 'utf8'));
  await copyProvingSet(join(tmp.dir, 'proving'));
  sandbox = new TransformSandbox({ size: 2, timeoutMs: 6000, prewarm: true });
  await sandbox.ready();
  watcher = await watchTransforms({ dir: join(tmp.dir, 'transforms'), provingSet: join(tmp.dir, 'proving'), sandbox }, log.push);
});
after(async () => {
  process.env.PATH = savedPath;
  await watcher?.close();
  await sandbox?.close();
  await tmp?.cleanup();
});

test('a version’s guard runs once, on one worker, over the whole proving set; renders after activation do not guard again', { skip }, async () => {
  const e = await nextActivated();
  assert.equal(e.samples, PROVING_INPUTS.length);
  // The proof ran on the compiled engine while the guard ran, and the verdict kept it.
  assert.equal(e.speculativeProof, true);
  const runs = await xsltprocRuns();
  // One libxslt render per sample (in one xsltproc process or several), all from the same
  // worker: not one guard per worker.
  assert.equal(runs.reduce((n, [, inputs]) => n + inputs, 0), PROVING_INPUTS.length, JSON.stringify(runs));
  assert.equal(new Set(runs.map(([ppid]) => ppid)).size, 1);
  const t = watcher.transform();
  assert.equal(t.guard?.engine, 'compiled');
  assert.equal(t.guard?.pinned, false);
  assert.equal(t.guard?.compared, PROVING_INPUTS.length);
  const xml = await readInput('01-linux-kvm-virtio.xml');
  const rendered = await Promise.all([1, 2, 3, 4].map(() => t.render({ xml })));
  for (const r of rendered) assert.equal(r.engine, 'compiled');
  assert.equal((await xsltprocRuns()).length, runs.length, 'a render after activation ran xsltproc');
  assert.ok(runs.length < PROVING_INPUTS.length, 'the proving set went to libxslt in one batch');
});

// A difference no static check knows: libxslt writes numbers of 1e9 and above in exponent notation.
const TITLE = '<title><xsl:value-of select="memoryKB * 1024"/></title>';

test('a stylesheet the engines disagree on activates pinned to libxslt, and renders with libxslt', { skip }, async () => {
  const base = await readFile(DEFAULT_XSL, 'utf8');
  const edited = base.replace('<on_poweroff>destroy</on_poweroff>', '<on_poweroff>destroy</on_poweroff>' + TITLE);
  assert.notEqual(edited, base);
  await writeFile(join(tmp.dir, 'transforms', 'libvirt.xsl'), edited);
  const e = await nextActivated();
  const t = watcher.transform();
  assert.equal(t.hash, e.hash);
  assert.equal(t.guard?.engine, 'libxslt');
  assert.equal(t.guard?.pinned, true);
  assert.match(t.guard!.difference!.path, /title/);
  const r = await t.render({ xml: await readInput('01-linux-kvm-virtio.xml') });
  assert.equal(r.engine, 'libxslt');
  assert.match(r.output, /<title>2\.\d+e\+\d+<\/title>/);
});

test('a speculative proof is dropped when the guard pins the version: the proof runs again on libxslt, whose outputs are the expected ones', { skip }, async () => {
  // The expected outputs are libxslt's, so the compiled engine's renders (a <title> without
  // exponent notation) fail the comparison: kept, that speculative proof would reject the version.
  const base = await readFile(DEFAULT_XSL, 'utf8');
  const sheet = await tmp.write('pinned/transforms/libvirt.xsl', base.replace('<on_poweroff>destroy</on_poweroff>', '<on_poweroff>destroy</on_poweroff>' + TITLE));
  const names = ['01-linux-kvm-virtio.xml', '03-windows-kvm.xml', '06-linux-qemu-kernel-rootdirective-2nics.xml'];
  await copyProvingSet(join(tmp.dir, 'pinned', 'proving'), names);
  let exponents = 0;
  for (const n of names) {
    const out = spawnSync(real, ['--nonet', sheet, join(tmp.dir, 'pinned', 'proving', n)], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    if (/<title>\d\.\d+e\+\d+<\/title>/.test(out.stdout)) exponents++;
    await tmp.write(`pinned/proving/${n.replace(/\.xml$/, '.libvirt.xml')}`, out.stdout);
  }
  assert.ok(exponents > 0, 'some expected output has a number in exponent notation');
  const events = new EventLog();
  const w = await watchTransforms({ dir: join(tmp.dir, 'pinned', 'transforms'), provingSet: join(tmp.dir, 'pinned', 'proving'), sandbox }, events.push);
  try {
    const a = await events.expect('activated');
    assert.equal(a.samples, names.length);
    assert.equal(a.speculativeProof, undefined);
    assert.equal(w.transform().guard?.engine, 'libxslt');
    assert.equal(w.transform().guard?.pinned, true);
  } finally {
    await w.close();
  }
});

test('with onDivergence "refuse", the sandbox refuses such a version at load', { skip }, async () => {
  const file = join(tmp.dir, 'refuse', 'libvirt.xsl');
  const base = await readFile(DEFAULT_XSL, 'utf8');
  await tmp.write('refuse/libvirt.xsl', base.replace('<on_poweroff>destroy</on_poweroff>', '<on_poweroff>destroy</on_poweroff>' + TITLE));
  const xml = await readInput('01-linux-kvm-virtio.xml');
  await assert.rejects(sandbox.load(file, { provingSet: [{ xml, file: 'a.xml' }], onDivergence: 'refuse' }), (err: Error & { code?: string }) => err.code === 'TRANSFORM_UNSUPPORTED' && /title/.test(err.message));
});

test('the guard’s one-process libxslt batch gives each input exactly what a process of its own gives, and falls back when it cannot be split', { skip }, async () => {
  const { compileXslt } = await import('../../engine/transform/xslt/compile.js');
  const { startLibxslt, startLibxsltBatch } = await import('../../engine/transform/xslt/guard.js');
  const inputs = await Promise.all(PROVING_INPUTS.map(async (n) => ({ xml: await readInput(n), file: n })));
  const messages = await tmp.write('batch/messages.xsl', (await readFile(DEFAULT_XSL, 'utf8')).replace('<on_poweroff>destroy</on_poweroff>', '<on_poweroff>destroy</on_poweroff><xsl:message>hello</xsl:message>'));
  for (const file of [DEFAULT_XSL, messages]) {
    const libxslt = compileXslt(file).engine('libxslt');
    const batch = startLibxsltBatch(libxslt, file, inputs);
    const single = startLibxslt(libxslt, inputs);
    for (const input of inputs) {
      const [a, b] = [await batch.get(input)!, await single.get(input)!];
      assert.ok(a.ok && b.ok, input.file);
      assert.equal(a.result.output, b.result.output, input.file);
      assert.deepEqual(a.result.warnings, b.result.warnings, input.file);
    }
  }
});
