// The versions store inside the transforms folder (`versionsDir: <transforms>/versions`) is
// never part of a version: its log and its copies are left out of every snapshot, so a
// version recorded there is no file of the next one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadTransform } from '../../engine/transform/load.js';
import { DEFAULT_XSL, tempDir } from '../sandbox/fixtures.js';
import { saveWhole, startWatching, stopWatching } from './link-fixtures.js';
import { EventLog } from './helpers.js';

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
