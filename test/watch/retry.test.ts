// A version rejected for a reason of the host (the proving set could not be read) is tried
// again on the next event, even when its files are the same; one rejected for its content
// is not proved again until the files change.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rename, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { watchTransforms, type TransformWatcher } from '../../engine/transform/watch/index.js';
import { TransformSandbox } from '../../engine/transform/sandbox/index.js';
import { loadTransform } from '../../engine/transform/load.js';
import { DEFAULT_XSL, copyProvingSet, tempDir, type TempDir } from '../sandbox/fixtures.js';
import { EventLog } from './helpers.js';

let tmp: TempDir;
let main = '';
let proving = '';
let base = '';
let sandbox: TransformSandbox;
let watcher: TransformWatcher;
const log = new EventLog();

const touch = async (file: string) => {
  const t = new Date();
  await utimes(file, t, t);
};

before(async () => {
  tmp = await tempDir('domforge-watch-retry-');
  main = join(tmp.dir, 'transforms', 'libvirt.xsl');
  proving = join(tmp.dir, 'proving');
  base = await readFile(DEFAULT_XSL, 'utf8');
  await tmp.write('transforms/libvirt.xsl', base);
  await copyProvingSet(proving, ['01-linux-kvm-virtio.xml', '03-windows-kvm.xml']);
  sandbox = new TransformSandbox({ size: 2, timeoutMs: 6000 });
  watcher = await watchTransforms({ dir: join(tmp.dir, 'transforms'), provingSet: proving, sandbox }, log.push);
});
after(async () => {
  await watcher?.close();
  await sandbox?.close();
  await tmp?.cleanup();
});

test('a version rejected because the proving set could not be read goes live once it can, on a touch', async () => {
  await log.expect('activated');
  await rename(proving, proving + '.away');
  const v1 = base.replace('<on_crash>destroy</on_crash>', '<on_crash>preserve</on_crash>');
  await writeFile(main, v1);
  const r = await log.expect('rejected');
  assert.equal(r.code, 'IO_ERROR');
  await rename(proving + '.away', proving);
  await touch(main);
  const e = await log.expect('activated', 10_000);
  assert.equal(e.hash, (await loadTransform(main)).hash);
});

test('a version rejected for its content is not proved again on a touch', async () => {
  await writeFile(main, base.replace('<xsl:value-of select="name"/>', '<xsl:value-of select="name(("/>'));
  const r = await log.expect('rejected');
  assert.equal(r.code, 'TRANSFORM_SYNTAX');
  await touch(main);
  await sleep(400);
  await watcher.settled();
  assert.deepEqual(log.drain(), []);
});
