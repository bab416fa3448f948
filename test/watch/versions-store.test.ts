// The versions store inside the transforms folder (`versionsDir: <transforms>/versions`) is
// never part of a version: its log and its copies are left out of every snapshot, so a
// version recorded there is no file of the next one, and its writes are no change the file
// watch reports, whether the folder or the store is given through a symbolic link or not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, realpath, symlink, writeFile } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FSWatcher } from 'chokidar';
import { loadTransform } from '../../engine/transform/load.js';
import { DEFAULT_XSL, tempDir } from '../sandbox/fixtures.js';
import { quiet, saveWhole, startWatching, stopWatching } from './link-fixtures.js';
import { EventLog } from './helpers.js';
import { DEFAULT_PROVING_SET, watchTransforms } from '../../engine/transform/watch/index.js';
import { TransformSandbox } from '../../engine/transform/sandbox/index.js';

/** The default transform with another `<on_crash>`: a new version. */
const edited = (base: string) => base.replace('<on_crash>destroy</on_crash>', '<on_crash>preserve</on_crash>');

test('a version recorded in a store inside the folder is no file of the next version: its snapshot holds the transform alone, its hash is the one in place', async () => {
  const tmp = await tempDir('domforge-watch-store-');
  const dir = join(tmp.dir, 'transforms');
  const main = join(dir, 'libvirt.xsl');
  const base = await readFile(DEFAULT_XSL, 'utf8');
  await tmp.write('transforms/libvirt.xsl', base);
  const log = new EventLog();
  const { sandbox, watcher } = await startWatching(tmp, ['01-linux-kvm-virtio.xml'], log, { versionsDir: join(dir, 'versions') });
  try {
    assert.notEqual(edited(base), base);
    await saveWhole(main, edited(base));
    const e = await log.expect('activated');
    assert.equal(e.hash, (await loadTransform(main)).hash);
    assert.deepEqual(await readdir(join(dir, 'versions', 'snapshots', e.version.snapshot), { recursive: true }), ['libvirt.xsl']);
    assert.deepEqual((await watcher.versions()).map((v) => v.files), [['libvirt.xsl'], ['libvirt.xsl']]);
  } finally {
    await stopWatching(watcher, sandbox, tmp);
  }
});

for (const [folderBy, storeBy] of [
  ['its real path', 'a symbolic link'],
  ['a symbolic link', 'its real path'],
  ['a symbolic link', 'a symbolic link'],
] as const) {
  test(`with the folder given by ${folderBy} and the store inside it by ${storeBy}, the file watch sees a save and never the store's writes`, async () => {
    const tmp = await tempDir('domforge-watch-store-');
    const real = join(await realpath(tmp.dir), 'transforms');
    const link = join(tmp.dir, 'link-to-transforms');
    const base = await readFile(DEFAULT_XSL, 'utf8');
    await tmp.write('transforms/libvirt.xsl', base);
    await symlink(real, link);
    const dir = folderBy === 'a symbolic link' ? link : real;
    const versionsDir = join(storeBy === 'a symbolic link' ? link : real, 'versions');
    const log = new EventLog();
    // No rescan: a save goes live only through the file watch.
    const { sandbox, watcher } = await startWatching(tmp, ['01-linux-kvm-virtio.xml'], log, { dir, versionsDir, rescanMs: 0 });
    try {
      const seen: string[] = [];
      (watcher as unknown as { fsWatcher: FSWatcher }).fsWatcher.on('all', (_event, path) => seen.push(path));
      await saveWhole(join(real, 'libvirt.xsl'), edited(base));
      const e = await log.expect('activated', 10_000);
      assert.equal(e.hash, (await loadTransform(join(real, 'libvirt.xsl'))).hash);
      // A file written after the version was recorded: once the watch reports it, it has
      // reported the store's writes before it, if it reports them at all.
      await writeFile(join(real, 'NOTES.txt'), 'notes\n');
      for (let waited = 0; !seen.some((p) => basename(p) === 'NOTES.txt'); waited += 50) {
        assert.ok(waited < 10_000, `no event for NOTES.txt (seen: ${seen.join(', ')})`);
        await sleep(50);
      }
      await quiet(watcher);
      assert.deepEqual(log.drain(), []);
      const inStore = seen.filter((p) => [real, link].some((d) => relative(d, p).split(sep)[0] === 'versions'));
      assert.deepEqual(inStore, []);
    } finally {
      await stopWatching(watcher, sandbox, tmp);
    }
  });
}

test('a hand-damaged line of the version log is told as an error event with its file and line when the watcher starts; the watcher goes on', async () => {
  const tmp = await tempDir('domforge-watch-damaged-');
  const dir = join(tmp.dir, 'transforms');
  await tmp.write('transforms/libvirt.xsl', await readFile(DEFAULT_XSL, 'utf8'));
  const store = join(tmp.dir, 'versions');
  await tmp.write('versions/versions.jsonl', '{}\n');
  const log = new EventLog();
  const sandbox = new TransformSandbox({ size: 1, timeoutMs: 6000 });
  const watcher = await watchTransforms({ dir, provingSet: DEFAULT_PROVING_SET, sandbox, versionsDir: store }, log.push);
  try {
    await log.expect('error');
    await log.expect('activated');
    const errors = log.events.filter((e) => e.type === 'error');
    assert.equal(errors.length, 1, JSON.stringify(log.events));
    const e = errors[0] as Extract<(typeof errors)[number], { type: 'error' }>;
    assert.equal(e.file, join(store, 'versions.jsonl'));
    assert.equal(e.message, `${join(store, 'versions.jsonl')}:1: not a version record (hash is missing); skipped`);
    assert.ok(watcher.transform(), 'the watcher goes on');
  } finally {
    await stopWatching(watcher, sandbox, tmp);
  }
});
