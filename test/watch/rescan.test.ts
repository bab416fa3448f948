// File-system events can be lost (chokidar gives none for a file replaced by a folder
// moments after it was replaced by a link). The watcher also looks at the folder's entries
// every `rescanMs` and checks when they differ: a save it got no event for still goes live.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { watchTransforms, type TransformWatcher } from '../../engine/transform/watch/index.js';
import { TransformSandbox } from '../../engine/transform/sandbox/index.js';
import { loadTransform } from '../../engine/transform/load.js';
import { renderText } from '../../engine/render/render.js';
import { DEFAULT_XSL, copyProvingSet, readInput, tempDir, type TempDir } from '../sandbox/fixtures.js';
import { EventLog } from './helpers.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A watcher over a fresh folder whose file-system events are all lost (its chokidar watcher closed). */
async function deafWatcher(rescanMs: number): Promise<{ main: string; base: string; log: EventLog; watcher: TransformWatcher }> {
  const tmp: TempDir = await tempDir('domforge-watch-rescan-');
  const main = join(tmp.dir, 'transforms', 'libvirt.xsl');
  const base = await readFile(DEFAULT_XSL, 'utf8');
  await tmp.write('transforms/libvirt.xsl', base);
  await copyProvingSet(join(tmp.dir, 'proving'), ['01-linux-kvm-virtio.xml']);
  const sandbox = new TransformSandbox({ size: 1, timeoutMs: 6000 });
  const log = new EventLog();
  const watcher = await watchTransforms({ dir: join(tmp.dir, 'transforms'), provingSet: join(tmp.dir, 'proving'), sandbox, rescanMs }, log.push);
  cleanups.push(() => tmp.cleanup(), () => sandbox.close(), () => watcher.close());
  await log.expect('activated');
  await (watcher as unknown as { fsWatcher: { close(): Promise<void> } }).fsWatcher.close();
  return { main, base, log, watcher };
}

test('a save the watcher got no event for goes live at the next look', async () => {
  const { main, base, log } = await deafWatcher(200);
  const edited = base.replace('<on_crash>destroy</on_crash>', '<on_crash>preserve</on_crash>');
  assert.notEqual(edited, base);
  await writeFile(main, edited);
  const e = await log.expect('activated', 15_000);
  assert.equal(e.hash, (await loadTransform(main)).hash);
});

test('a save of a hidden file read only through a symbolic link goes live at the next look', { skip: spawnSync('xsltproc', ['--version'], { stdio: 'ignore' }).status === 0 ? false : 'xsltproc is not installed' }, async () => {
  const { main, base, log, watcher } = await deafWatcher(200);
  const dir = dirname(main);
  const name = async () => /<name>([^<]*)<\/name>/.exec((await renderText(await readInput('01-linux-kvm-virtio.xml'), { transform: watcher.transform(), file: 'instance.xml' })).xml)?.[1];
  await mkdir(join(dir, '.hidden'));
  await writeFile(join(dir, '.hidden', 'names.xml'), '<n suffix="-one"/>');
  await symlink(join('.hidden', 'names.xml'), join(dir, 'names.xml'));
  const reading = base.replace('<name><xsl:value-of select="name"/></name>', `<name><xsl:value-of select="name"/><xsl:value-of select="document('names.xml')/n/@suffix"/></name>`);
  assert.notEqual(reading, base);
  await writeFile(main, reading);
  const one = await log.expect('activated', 15_000);
  assert.equal(await name(), 'i-4e7a1201-one');
  // Replaced whole, as an editor saves: the link and every entry the look lstats are unchanged.
  await writeFile(join(dir, '.hidden', 'names.xml.new'), '<n suffix="-two"/>');
  await rename(join(dir, '.hidden', 'names.xml.new'), join(dir, '.hidden', 'names.xml'));
  const two = await log.expect('activated', 15_000);
  assert.notEqual(two.hash, one.hash);
  assert.equal(await name(), 'i-4e7a1201-two');
});

test('with rescanMs: 0 a lost event stays lost (what the look is for)', async () => {
  const { main, base, log, watcher } = await deafWatcher(0);
  await writeFile(main, base.replace('<on_crash>destroy</on_crash>', '<on_crash>restart</on_crash>'));
  await sleep(1500);
  await watcher.settled();
  assert.deepEqual(log.drain(), []);
});

test('a version rejected on the proving set is proved again once the proving set changes', async () => {
  const tmp: TempDir = await tempDir('domforge-watch-rescan-proving-');
  const main = join(tmp.dir, 'transforms', 'libvirt.xsl');
  const base = await readFile(DEFAULT_XSL, 'utf8');
  await tmp.write('transforms/libvirt.xsl', base);
  const proving = join(tmp.dir, 'proving');
  await copyProvingSet(proving, ['01-linux-kvm-virtio.xml']);
  const sample = join(proving, '01-linux-kvm-virtio.xml');
  const expectedFile = join(proving, '01-linux-kvm-virtio.libvirt.xml');
  const t = await loadTransform(main);
  await writeFile(expectedFile, (await t.render({ xml: await readFile(sample, 'utf8'), file: sample })).output);
  const sandbox = new TransformSandbox({ size: 1, timeoutMs: 6000 });
  const log = new EventLog();
  const watcher = await watchTransforms({ dir: join(tmp.dir, 'transforms'), provingSet: proving, sandbox, rescanMs: 200 }, log.push);
  cleanups.push(() => tmp.cleanup(), () => sandbox.close(), () => watcher.close());
  await log.expect('activated');
  // An intended change of output: the reviewed expected file no longer matches it.
  const edited = base.replace('<on_crash>destroy</on_crash>', '<on_crash>preserve</on_crash>');
  await writeFile(main, edited);
  const r = await log.expect('rejected', 15_000);
  assert.match(r.message, /on_crash|differs|expected/i);
  // The admin reviews the new output and updates the expected file; the transform is not touched.
  const t2 = await loadTransform(main);
  await writeFile(expectedFile, (await t2.render({ xml: await readFile(sample, 'utf8'), file: sample })).output);
  const e = await log.expect('activated', 15_000);
  assert.equal(e.hash, t2.hash);
});
