import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NodeController } from '../../engine/controller/index.js';
import { DomforgeError } from '../../engine/errors.js';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { lifecycleCli } from './cli-program.js';
import { sampleInstance, sandbox, shippedTransform, XSL, type Sandbox } from './fixtures.js';

let conn: LibvirtConnection;
let sb: Sandbox;
let nc: NodeController;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
  sb = await sandbox();
  nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform() });
});
test.after(async () => {
  await sb.cleanup();
  await closeConnections();
});

test("assignAddress records the public address on the primary interface, and only there; 0.0.0.0 clears it; the same address writes nothing", async () => {
  const inst = await sampleInstance('01-linux-virtio');
  await nc.launch(inst);
  const id = inst.name;
  const file = join(sb.instances, id, 'instance.xml');
  const before = readFileSync(file, 'utf8');
  const primary = inst.nics.find((n) => (n.device ?? 0) === 0)!;

  const r = await nc.assignAddress(id, '203.0.113.77');
  assert.deepEqual([r.publicIp, r.previous, r.mac], ['203.0.113.77', primary.publicIp, primary.mac]);
  const after = readFileSync(file, 'utf8');
  assert.equal(after.replace('publicIp="203.0.113.77"', `publicIp="${primary.publicIp}"`), before, 'only the attribute changed');
  assert.equal((await nc.describe(id)).interfaces.find((n) => n.mac === primary.mac)?.publicIp, '203.0.113.77');
  assert.equal(await conn.getState(id), 'running', 'the domain is not touched');

  const mtime = statSync(file).mtimeMs;
  assert.equal((await nc.assignAddress(id, '203.0.113.77')).previous, '203.0.113.77');
  assert.equal(statSync(file).mtimeMs, mtime, 'nothing written for the same address');
  assert.equal((await nc.assignAddress(id, '0.0.0.0')).publicIp, '0.0.0.0');
  assert.match(readFileSync(file, 'utf8'), /publicIp="0\.0\.0\.0"/);

  for (const bad of ['203.0.113', '203.0.113.256', '2001:db8::1', ' 1.2.3.4', '01.2.3.4', 7]) {
    await assert.rejects(nc.assignAddress(id, bad as string), (e: DomforgeError) => e.code === 'USAGE' && /IPv4 address/.test(e.message), String(bad));
  }
  await nc.terminate(id);
});

test('assignAddress: an instance with no primary interface is refused at /instance/nics; CLI assign-address', async () => {
  const bare = await sampleInstance('10-no-nic');
  await nc.launch(bare);
  const e = await nc.assignAddress(bare.name, '198.51.100.1').then(
    () => assert.fail('assigned'),
    (x: DomforgeError) => x,
  );
  assert.equal(e.code, 'STATE_CONFLICT');
  assert.equal(e.path, '/instance/nics');
  assert.match(e.message, /has no primary network interface/);
  await nc.terminate(bare.name);

  const cli = (...args: string[]) => lifecycleCli(args, ['--instances', sb.instances, '--uri', 'test:///default', '--transform', XSL]);
  const inst = await sampleInstance('01-linux-virtio');
  await nc.launch(inst);
  const mac = inst.nics.find((n) => (n.device ?? 0) === 0)!.mac;
  await nc.assignAddress(inst.name, '0.0.0.0');
  const a = await cli('assign-address', inst.name, '198.51.100.9');
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, `assigned 198.51.100.9 to ${inst.name} (interface ${mac}; was none)\n`);
  assert.match((await cli('describe', inst.name)).stdout, new RegExp(`^  interface: device 0 mac ${mac} on br0 private 172\\.31\\.0\\.\\d+ public 198\\.51\\.100\\.9 \\(attached\\)$`, 'm'));
  const c = await cli('assign-address', inst.name, '0.0.0.0', '--json');
  assert.deepEqual([JSON.parse(c.stdout).publicIp, JSON.parse(c.stdout).previous], ['0.0.0.0', '198.51.100.9']);
  const bad = await cli('assign-address', inst.name, 'elastic');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Expected the public address to be an IPv4 address/);
  const none = await cli('assign-address', 'i-nothere', '198.51.100.9');
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no instance i-nothere/);
  await nc.terminate(inst.name);
});
