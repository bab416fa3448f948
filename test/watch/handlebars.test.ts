// The watcher on a Handlebars transform (the default libvirt.xml.hbs with its partials/),
// real files and a real chokidar watcher: a save that calls an unknown helper in a partial is
// rejected with the partial's file:line and the helper's name, renders keep the last good
// version, and the fix goes live. A partial that is a symbolic link to another file of the
// folder is read under the watcher as the template compiled in place reads it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { watchTransforms, type TransformWatcher } from '../../engine/transform/watch/index.js';
import { TransformSandbox } from '../../engine/transform/sandbox/index.js';
import { renderText } from '../../engine/render/render.js';
import { loadTransform } from '../../engine/transform/load.js';
import { REPO, copyProvingSet, readInput, tempDir, type TempDir } from '../sandbox/fixtures.js';
import { EventLog, lineOf } from './helpers.js';

const MAIN = 'libvirt.xml.hbs';
const SERIAL = '<source path="{{consoleLogPath}}"/>';
let tmp: TempDir;
let dir = '';
let partial = '';
let base = '';
let instance = '';
let sandbox: TransformSandbox;
let watcher: TransformWatcher;
const log = new EventLog();

async function renderActive(): Promise<string> {
  return (await renderText(instance, { transform: watcher.transform(), file: 'instance.xml' })).xml;
}

before(async () => {
  tmp = await tempDir('domforge-watch-hbs-');
  dir = join(tmp.dir, 'transforms');
  await tmp.write(`transforms/${MAIN}`, await readFile(join(REPO, 'transforms', MAIN), 'utf8'));
  await cp(join(REPO, 'transforms', 'partials'), join(dir, 'partials'), { recursive: true });
  partial = join(dir, 'partials', 'console.hbs');
  base = await readFile(partial, 'utf8');
  assert.ok(base.includes(SERIAL), 'the console partial writes the serial console’s log path');
  await copyProvingSet(join(tmp.dir, 'proving'), ['01-linux-kvm-virtio.xml', '03-windows-kvm.xml', '07-volume-attach-kvm-virtio.xml', '08-nic-eni-attach.xml']);
  instance = await readInput('01-linux-kvm-virtio.xml');
  sandbox = new TransformSandbox({ size: 2, timeoutMs: 6000, prewarm: true });
  watcher = await watchTransforms({ dir, main: MAIN, provingSet: join(tmp.dir, 'proving'), versionsDir: join(tmp.dir, 'versions'), sandbox }, log.push);
});
after(async () => {
  await watcher?.close();
  await sandbox?.close();
  await tmp.cleanup();
});

test('start proves the template with its partials and activates it', async () => {
  const e = await log.expect('activated');
  assert.equal(e.samples, 4);
  assert.equal(e.file, join(dir, MAIN));
  assert.ok(e.files.includes(partial), `files: ${e.files.join(', ')}`);
  assert.equal(watcher.active()?.transform.hash, e.hash);
  assert.match(await renderActive(), /<serial type="file">/);
});

test('an unknown helper in a partial is rejected with the partial’s file:line and the helper’s name; renders keep the last good version', async () => {
  const active = watcher.active()!.transform.hash;
  const rendered = await renderActive();
  const broken = base.replace(SERIAL, '<source path="{{shout consoleLogPath}}"/>');
  await writeFile(partial, broken);
  const e = await log.expect('rejected');
  assert.equal(e.code, 'TRANSFORM_SYNTAX', e.message);
  assert.equal(e.file, partial);
  assert.equal(e.line, lineOf(broken, 'shout'));
  assert.ok(e.column! > 0);
  assert.match(e.message, /unknown helper "shout"/);
  assert.ok(e.message.startsWith(`${partial}:${e.line}`), e.message);
  assert.ok(!e.message.includes(join(tmp.dir, 'versions')), 'the snapshot path leaked into the message');
  assert.equal(e.activeHash, active);
  assert.equal(watcher.active()!.transform.hash, active);
  assert.equal(await renderActive(), rendered);
});

test('fixing the partial activates again; renders use the fixed version', async () => {
  const before = watcher.active()!.transform.hash;
  await writeFile(partial, base.replace(SERIAL, '<source path="{{consoleLogPath}}"/><!-- fixed -->'));
  const e = await log.expect('activated');
  assert.equal(e.previousHash, before);
  assert.notEqual(e.hash, before);
  assert.equal(watcher.active()!.transform.hash, e.hash);
  assert.match(await renderActive(), /<!-- fixed -->/);
  await watcher.settled();
  assert.deepEqual(log.drain(), []);
});

test('a partial that is a symbolic link to another file of the folder is read under the watcher as in place: the same version', async () => {
  const shared = join(dir, 'shared', 'console.hbs');
  await mkdir(join(dir, 'shared'));
  await writeFile(shared, base.replace(SERIAL, '<source path="{{consoleLogPath}}"/><!-- shared -->'));
  // The link is made beside and renamed over the partial: the folder never lacks it.
  await symlink(join('..', 'shared', 'console.hbs'), partial + '.tmp');
  await rename(partial + '.tmp', partial);
  const e = await log.expect('activated');
  assert.match(await renderActive(), /<!-- shared -->/);
  const inPlace = await loadTransform(join(dir, MAIN));
  assert.equal(inPlace.hash, e.hash);
  assert.ok(inPlace.files.includes(partial), inPlace.files.join(', '));
  await watcher.settled();
  assert.deepEqual(log.drain(), []);
});
