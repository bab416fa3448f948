// A NodeController whose transform is a function returning the watcher's active version, as the
// README's Library API shows it: launches render with the live version, and a provider that
// returns something else (the watcher's method itself, from `() => watcher.transform`) fails
// the launch at `render` with a USAGE error saying so, not a TypeError, and leaves nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NodeController, OperationError } from '../../engine/controller/index.js';
import { DomforgeError } from '../../engine/errors.js';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { TransformSandbox } from '../../engine/transform/sandbox/index.js';
import { watchTransforms, type TransformWatcher } from '../../engine/transform/watch/index.js';
import { DEFAULT_XSL, copyProvingSet, tempDir, type TempDir } from '../sandbox/fixtures.js';
import { EventLog } from './helpers.js';
import { sampleInstance } from '../controller/fixtures.js';

const skip = spawnSync('xsltproc', ['--version'], { stdio: 'ignore' }).status === 0 ? false : 'xsltproc is not installed';

let tmp: TempDir;
let sandbox: TransformSandbox;
let watcher: TransformWatcher;
let conn: LibvirtConnection;

before(async () => {
  if (skip) return;
  tmp = await tempDir('domforge-watch-provider-');
  await tmp.write('transforms/libvirt.xsl', (await readFile(DEFAULT_XSL, 'utf8')).replace('<name><xsl:value-of select="name"/></name>', '<name><xsl:value-of select="name"/></name><title>watched</title>'));
  await copyProvingSet(join(tmp.dir, 'proving'), ['01-linux-kvm-virtio.xml']);
  sandbox = new TransformSandbox({ size: 1, timeoutMs: 6000 });
  const log = new EventLog();
  watcher = await watchTransforms({ dir: join(tmp.dir, 'transforms'), provingSet: join(tmp.dir, 'proving'), sandbox }, log.push);
  const first = await log.next();
  assert.equal(first.type, 'activated', 'message' in first ? String(first.message) : '');
  conn = await connect({ uri: 'test:///default' });
});
after(async () => {
  await watcher?.close();
  await sandbox?.close();
  await tmp?.cleanup();
  await closeConnections();
});

test("a controller given () => watcher.transform() launches with the watcher's active version", { skip }, async () => {
  const instances = join(tmp.dir, 'ok');
  const nc = await NodeController.open({ instancesDir: instances, connection: conn, transform: () => watcher.transform() });
  try {
    const inst = await sampleInstance('01-linux-virtio', 'i-0b0a0001');
    const r = await nc.launch(inst);
    assert.match(r.libvirtXml, /<title>watched<\/title>/);
    await nc.terminate(inst.name);
  } finally {
    await nc.close();
  }
});

test('a transform function that returns the watcher\'s method, or anything but a compiled transform, fails the launch at render with USAGE, and leaves nothing', { skip }, async () => {
  const instances = join(tmp.dir, 'bad');
  for (const [provider, got] of [
    [() => watcher.transform, /got a function \(transform\): call it in the provider, as in `\(\) => watcher\.transform\(\)`/],
    [() => undefined, /got undefined$/],
    [() => ({}), /got an object with no render\(\)$/],
  ] as const) {
    const nc = await NodeController.open({ instancesDir: instances, connection: conn, transform: provider as never });
    try {
      const inst = await sampleInstance('01-linux-virtio', 'i-0b0a0002');
      const e = await nc.launch(inst).then(
        () => assert.fail('launched'),
        (err: unknown) => err as OperationError,
      );
      assert.ok(e instanceof OperationError, String(e));
      assert.equal(e.step, 'render');
      const cause = e.cause as DomforgeError;
      assert.equal(cause.code, 'USAGE');
      assert.match(cause.message, /^Expected the `transform` function to return a compiled transform, /);
      assert.match(cause.message, got);
      assert.equal(await conn.find(inst.name), undefined);
      assert.deepEqual(readdirSync(instances).filter((f) => !f.startsWith('.') && f !== 'controller.log'), []);
    } finally {
      await nc.close();
    }
  }
});
