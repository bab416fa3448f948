// A save that leaves the transform's own files as they were (a file it does not use added
// or changed) keeps the active version, and must leave its files in place: a version
// pinned to libxslt reads its stylesheet from its snapshot at every render.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { watchTransforms, type TransformWatcher } from '../../engine/transform/watch/index.js';
import { TransformSandbox } from '../../engine/transform/sandbox/index.js';
import { renderText } from '../../engine/render/render.js';
import { DEFAULT_XSL, copyProvingSet, readInput, tempDir, type TempDir } from '../sandbox/fixtures.js';
import { EventLog } from './helpers.js';

const skip = spawnSync('xsltproc', ['--version'], { stdio: 'ignore' }).status === 0 ? false : 'xsltproc is not installed';

let tmp: TempDir;
let dir = '';
let instance = '';
let sandbox: TransformSandbox;
let watcher: TransformWatcher;
const log = new EventLog();

/** Waits for the watcher to see a change made just now and finish the check it starts. */
async function quiet(): Promise<void> {
  await sleep(400);
  await watcher.settled();
}

async function renderActive(): Promise<string> {
  return (await renderText(instance, { transform: watcher.transform(), file: 'instance.xml' })).xml;
}

before(async () => {
  if (skip) return;
  tmp = await tempDir('domforge-watch-same-');
  dir = join(tmp.dir, 'transforms');
  // The default transform, reading a document: document('') pins the version to libxslt,
  // and document('names.xml') reads a file of the folder.
  const base = await readFile(DEFAULT_XSL, 'utf8');
  await tmp.write(
    'transforms/libvirt.xsl',
    base.replace('<name><xsl:value-of select="name"/></name>', `<name><xsl:value-of select="name"/><xsl:value-of select="substring(count(document('')/*), 5)"/><xsl:value-of select="document('names.xml')/n/@suffix"/></name>`),
  );
  await tmp.write('transforms/names.xml', '<n suffix="-a"/>');
  await copyProvingSet(join(tmp.dir, 'proving'), ['01-linux-kvm-virtio.xml', '03-windows-kvm.xml']);
  instance = await readInput('01-linux-kvm-virtio.xml');
  sandbox = new TransformSandbox({ size: 2, timeoutMs: 6000 });
  watcher = await watchTransforms({ dir, provingSet: join(tmp.dir, 'proving'), sandbox }, log.push);
});
after(async () => {
  await watcher?.close();
  await sandbox?.close();
  await tmp?.cleanup();
});

test('a file the transform does not use, added beside a version pinned to libxslt, leaves every render working', { skip }, async () => {
  const on = await log.expect('activated');
  assert.equal(watcher.active()!.transform.guard?.engine, 'libxslt');
  assert.match(await renderActive(), /<name>[^<]*-a<\/name>/);
  await writeFile(join(dir, 'NOTES.txt'), 'notes\n');
  await quiet();
  assert.equal(watcher.active()!.transform.hash, on.hash);
  assert.deepEqual(log.drain(), []);
  // Every worker: the renders go to both of them.
  const renders = await Promise.all([renderActive(), renderActive(), renderActive(), renderActive()]);
  for (const xml of renders) assert.match(xml, /<name>[^<]*-a<\/name>/);
});

test('a file read by document(\'...\') is part of the version: editing it makes a new version', { skip }, async () => {
  const before = watcher.active()!.transform;
  assert.ok(before.files.some((f) => f.endsWith('names.xml')), `names.xml among ${before.files.join(', ')}`);
  await writeFile(join(dir, 'names.xml'), '<n suffix="-b"/>');
  const e = await log.expect('activated');
  assert.notEqual(e.hash, before.hash);
  assert.match(await renderActive(), /<name>[^<]*-b<\/name>/);
});
