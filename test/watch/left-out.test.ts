// What the watcher says when a file of the transform is not one it may use: a partial or
// main file that is a symbolic link out of the folder, a partial that is a link to nothing,
// a main file that is a folder. Each is named for what it is, not as a missing file: a link
// out or a link to nothing by the compile, as in place (partial-link.test.ts compares the
// two), with no note of the watcher's besides. A link left out whose path only starts like a
// file a message names (`p` and `partials/x.hbs`) gets no note: namesPath, unit-tested in
// names-path.test.ts, since the only links the watcher still notes lead into its versions store.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, readFile, rename, rm, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { watchTransforms, type TransformWatcher } from '../../engine/transform/watch/index.js';
import { TransformSandbox } from '../../engine/transform/sandbox/index.js';
import { REPO, copyProvingSet, tempDir, type TempDir } from '../sandbox/fixtures.js';
import { EventLog } from './helpers.js';
import { saveWhole } from './link-fixtures.js';

const MAIN = 'libvirt.xml.hbs';
let tmp: TempDir;
let dir = '';
let outside = '';
let sandbox: TransformSandbox;
let watcher: TransformWatcher;
const log = new EventLog();

async function quiet(): Promise<void> {
  await new Promise((r) => setTimeout(r, 400));
  await watcher.settled();
  assert.deepEqual(log.drain(), []);
}

before(async () => {
  tmp = await tempDir('domforge-watch-left-');
  dir = join(tmp.dir, 'transforms');
  outside = join(tmp.dir, 'outside');
  await tmp.write(`transforms/${MAIN}`, await readFile(join(REPO, 'transforms', MAIN), 'utf8'));
  await cp(join(REPO, 'transforms', 'partials'), join(dir, 'partials'), { recursive: true });
  await cp(join(REPO, 'transforms', 'partials'), outside, { recursive: true });
  await copyProvingSet(join(tmp.dir, 'proving'), ['01-linux-kvm-virtio.xml']);
  sandbox = new TransformSandbox({ size: 2, timeoutMs: 6000 });
  watcher = await watchTransforms({ dir, main: MAIN, provingSet: join(tmp.dir, 'proving'), sandbox }, log.push);
});
after(async () => {
  await watcher?.close();
  await sandbox?.close();
  await tmp.cleanup();
});

test('a partial that is a symbolic link out of the folder is named as one, once', async () => {
  await log.expect('activated');
  const partial = join(dir, 'partials', 'console.hbs');
  await unlink(partial);
  await symlink(join(outside, 'console.hbs'), partial);
  const r = await log.expect('rejected');
  assert.equal(r.code, 'TRANSFORM_SYNTAX');
  assert.equal(r.message, `${join(dir, MAIN)}:${r.line}:${r.column}: partial "console": partials/console.hbs is a symbolic link to ${join(outside, 'console.hbs')}, outside the transforms folder ${dir}`);
  await unlink(partial);
  await cp(join(outside, 'console.hbs'), partial);
  await quiet(); // the version active all along: no event
});

test('a partial that is a symbolic link to nothing is named as one by the compile, with no note of the watcher’s', async () => {
  const partial = join(dir, 'partials', 'console.hbs');
  await unlink(partial);
  await symlink(join(tmp.dir, 'nowhere.hbs'), partial);
  const r = await log.expect('rejected');
  assert.equal(r.code, 'TRANSFORM_SYNTAX');
  assert.equal(r.message, `${join(dir, MAIN)}:${r.line}:${r.column}: partial "console": cannot read ${partial}: partials/console.hbs is a symbolic link to nothing (it points to ${join(tmp.dir, 'nowhere.hbs')})`);
  await unlink(partial);
  await cp(join(outside, 'console.hbs'), partial);
  await quiet();
});

test('a main file that is a symbolic link out of the folder, or a folder (an empty one too), is named as such, not as missing', async () => {
  const main = join(dir, MAIN);
  await rename(main, join(outside, MAIN));
  await symlink(join(outside, MAIN), main);
  let r = await log.expect('rejected');
  assert.match(r.message, new RegExp(`the main transform ${MAIN.replace(/\./g, '\\.')} is a symbolic link to .*, outside the transforms folder`));
  // The folder is made beside and renamed into place whole: a check between a mkdir and the
  // first file in it would see the same files as the link (nothing of the main file).
  const folder = join(tmp.dir, 'main-folder');
  await mkdir(folder);
  await cp(join(outside, MAIN), join(folder, 'inside.hbs'));
  await unlink(main);
  await rename(folder, main);
  r = await log.expect('rejected');
  assert.match(r.message, new RegExp(`the main transform ${MAIN.replace(/\./g, '\\.')} is a folder, not a file`));
  // An empty folder is one too: the copy holds it, though no file is in it.
  await rm(main, { recursive: true });
  await mkdir(main);
  r = await log.expect('rejected');
  assert.equal(r.message, `${main}: the main transform ${MAIN} is a folder, not a file`);
  await rm(main, { recursive: true });
  await cp(join(outside, MAIN), main);
  await quiet();
  assert.ok(watcher.active());
});

test('a rejection gets no note about a link whose path only starts like a file it names (p, partials/console beside partials/console.hbs)', async () => {
  const partial = join(dir, 'partials', 'console.hbs');
  const text = await readFile(partial, 'utf8');
  // Links to nothing: left out of the copy (the compile names one a message is about, as in
  // place; the watcher adds no note of its own).
  await symlink(join(tmp.dir, 'nowhere'), join(dir, 'p'));
  await symlink(join(tmp.dir, 'nowhere'), join(dir, 'partials', 'console'));
  try {
    await quiet(); // links left out of the copy, no file of the transform changed: no event
    await saveWhole(partial, text.replace('{{consoleLogPath}}', '{{shout consoleLogPath}}'));
    const r = await log.expect('rejected');
    assert.equal(r.file, partial);
    assert.match(r.message, /unknown helper "shout"/);
    assert.doesNotMatch(r.message, /is a symbolic link|not part of the version/, r.message);
    await saveWhole(partial, text);
    await quiet();
  } finally {
    await unlink(join(dir, 'p'));
    await unlink(join(dir, 'partials', 'console'));
  }
  await quiet();
});
