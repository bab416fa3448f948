// How the watcher watches symbolic links: as links, not followed. chokidar follows a link to
// a folder that holds it (`self -> .`) until ELOOP, an `error` event, and two such links make
// it walk an exponential number of paths until the heap runs out, which would take the
// controller down. What a link leads to is still seen, even a hidden file the watch itself
// leaves aside.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { TransformWatcher } from '../../engine/transform/watch/index.js';
import type { TransformSandbox } from '../../engine/transform/sandbox/index.js';
import { renderText } from '../../engine/render/render.js';
import { DEFAULT_XSL, tempDir, type TempDir } from '../sandbox/fixtures.js';
import { startWatching, stopWatching, SKIP_WITHOUT_XSLTPROC, readingDocument, saveWhole, quiet } from './link-fixtures.js';
import { EventLog } from './helpers.js';

const skip = SKIP_WITHOUT_XSLTPROC;

let tmp: TempDir;
let dir = '';
let main = '';
let base = '';
let instance = '';
let sandbox: TransformSandbox;
let watcher: TransformWatcher;
const log = new EventLog();

const reading = (href: string) => readingDocument(base, href);

const save = saveWhole;

const quietFor = (ms = 400) => quiet(watcher, ms);

async function renderActive(): Promise<string | undefined> {
  return /<name>([^<]*)<\/name>/.exec((await renderText(instance, { transform: watcher.transform(), file: 'instance.xml' })).xml)?.[1];
}

before(async () => {
  if (skip) return;
  tmp = await tempDir('domforge-watch-linkwatch-');
  dir = join(tmp.dir, 'transforms');
  main = join(dir, 'libvirt.xsl');
  base = await readFile(DEFAULT_XSL, 'utf8');
  await tmp.write('transforms/data/names.xml', '<n suffix="-in"/>');
  await tmp.write('transforms/libvirt.xsl', reading('data/names.xml'));
  ({ sandbox, watcher, instance } = await startWatching(tmp, ['01-linux-kvm-virtio.xml'], log));
});
after(() => stopWatching(watcher, sandbox, tmp));

test('links to a folder that holds them (self -> ., data/up -> ..) give no error and no event, and a save after them goes live', { skip }, async () => {
  const good = watcher.active()!.transform.hash;
  await symlink('.', join(dir, 'self'));
  await symlink('..', join(dir, 'data', 'up'));
  try {
    await quietFor(1500);
    assert.deepEqual(log.drain().map((e) => `${e.type}: ${'message' in e ? e.message : ''}`), []);
    await save(join(dir, 'data', 'names.xml'), '<n suffix="-edited"/>');
    await log.expect('activated');
    assert.equal(await renderActive(), 'i-4e7a1201-edited');
    await save(join(dir, 'data', 'names.xml'), '<n suffix="-in"/>');
    await log.expect('activated');
    assert.equal(watcher.active()!.transform.hash, good);
  } finally {
    await unlink(join(dir, 'self'));
    await unlink(join(dir, 'data', 'up'));
  }
  await quietFor();
  assert.deepEqual(log.drain(), []);
});

test('an edit of a hidden file read only through a symbolic link to it is a new version', { skip }, async () => {
  await tmp.write('transforms/.hidden/names.xml', '<n suffix="-hidden"/>');
  await symlink(join('.hidden', 'names.xml'), join(dir, 'hidden.xml'));
  try {
    await save(main, reading('hidden.xml'));
    await log.expect('activated');
    assert.equal(await renderActive(), 'i-4e7a1201-hidden');
    await save(join(dir, '.hidden', 'names.xml'), '<n suffix="-hidden-edited"/>');
    await log.expect('activated', 10_000);
    assert.equal(await renderActive(), 'i-4e7a1201-hidden-edited');
    await save(main, reading('data/names.xml'));
    await log.expect('activated');
  } finally {
    await unlink(join(dir, 'hidden.xml'));
  }
  await quietFor();
  assert.deepEqual(log.drain(), []);
});
