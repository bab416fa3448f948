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
 * The xsltproc runs on a watched version so far, as [parent pid, stylesheet] (the
 * `--version` probes and the workers' warm-up with the package's own stylesheet left out).
 */
async function xsltprocRuns(): Promise<[string, string][]> {
  const text = await readFile(calls, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l && !l.includes('--version') && !l.includes(DEFAULT_XSL))
    .map((l) => {
      const [ppid, ...args] = l.split(' ');
      return [ppid!, args.find((a) => a.endsWith('.xsl')) ?? ''];
    });
}

async function nextActivated(): Promise<ActivatedEvent> {
  const e = await log.next();
  assert.equal(e.type, 'activated', JSON.stringify(e));
  return e as ActivatedEvent;
}

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
  const runs = await xsltprocRuns();
  // One libxslt render per sample, all from the same worker: not one guard per worker.
  assert.equal(runs.length, PROVING_INPUTS.length, JSON.stringify(runs));
  assert.equal(new Set(runs.map(([ppid]) => ppid)).size, 1);
  const t = watcher.transform();
  assert.equal(t.guard?.engine, 'compiled');
  assert.equal(t.guard?.pinned, false);
  assert.equal(t.guard?.compared, PROVING_INPUTS.length);
  const xml = await readInput('01-linux-kvm-virtio.xml');
  const rendered = await Promise.all([1, 2, 3, 4].map(() => t.render({ xml })));
  for (const r of rendered) assert.equal(r.engine, 'compiled');
  assert.equal((await xsltprocRuns()).length, runs.length, 'a render after activation ran xsltproc');
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

test('with onDivergence "refuse", the sandbox refuses such a version at load', { skip }, async () => {
  const file = join(tmp.dir, 'refuse', 'libvirt.xsl');
  const base = await readFile(DEFAULT_XSL, 'utf8');
  await tmp.write('refuse/libvirt.xsl', base.replace('<on_poweroff>destroy</on_poweroff>', '<on_poweroff>destroy</on_poweroff>' + TITLE));
  const xml = await readInput('01-linux-kvm-virtio.xml');
  await assert.rejects(sandbox.load(file, { provingSet: [{ xml, file: 'a.xml' }], onDivergence: 'refuse' }), (err: Error & { code?: string }) => err.code === 'TRANSFORM_UNSUPPORTED' && /title/.test(err.message));
});
