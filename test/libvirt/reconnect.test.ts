import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeConnections, connect, LibvirtError } from '../../engine/libvirt/index.js';
import { NodeController, OperationError } from '../../engine/controller/index.js';
import { breakableLoader, testDomainXml } from './fixtures.js';
import { sampleInstance, sandbox, shippedTransform } from '../controller/fixtures.js';

// Every test has a pool of its own (its own loader) on a made-up daemon URI; underneath, the
// test driver. A second pooled connection to test:///default keeps its domains alive across
// the fake restarts, as libvirtd keeps its domains across a real one.
let keeper: Awaited<ReturnType<typeof connect>>;
test.before(async () => {
  keeper = await connect({ uri: 'test:///default' });
});
test.after(() => closeConnections());

test('after libvirtd restarts, reads reconnect once and carry on; refs from before are looked up again; a request that was not sent is sent again', async () => {
  const b = breakableLoader();
  const conn = await connect({ uri: 'qemu:///system', loader: b.loader });
  try {
    const { name, xml } = testDomainXml();
    const ref = await conn.define(xml);
    assert.equal(b.opened(), 1);

    b.restart();
    const [found, listed, info, again, node] = await Promise.all([conn.lookup(name), conn.list(), conn.getInfo(name), conn.lookup(ref.uuid), conn.nodeInfo()]);
    assert.equal(found.uuid, ref.uuid);
    assert.ok(listed.some((d) => d.uuid === ref.uuid));
    assert.equal(info.state, 'shutoff');
    assert.equal(again.name, name);
    assert.ok(node.cpus > 0);
    assert.equal(conn.reconnects, 1, 'five calls failed on the broken connection; one reconnect');
    assert.equal(b.opened(), 2);

    // A change whose request never left (the client saw the socket closed) is made again; the
    // ref from before the restart is not used on the new connection, its uuid is looked up.
    b.restart();
    await conn.start(ref);
    assert.equal(conn.reconnects, 2);
    assert.equal(await conn.getState(name), 'running');
    assert.equal(await conn.isPersistent(ref), true);
    b.restart();
    await conn.destroy(ref);
    b.restart();
    await conn.undefine(ref);
    assert.equal(await conn.find(name), undefined);
    assert.equal(conn.reconnects, 4);
  } finally {
    await closeConnections(b.loader);
  }
});

test('a change whose reply was lost says its outcome is unknown; while libvirtd is down, calls fail saying so, and work once it is back', async () => {
  const b = breakableLoader();
  const conn = await connect({ uri: 'qemu:///system', loader: b.loader });
  try {
    const { name, xml } = testDomainXml();
    const ref = await conn.define(xml);

    b.restart({ inFlight: true });
    const e = await conn.start(ref).then(
      () => assert.fail('started'),
      (x: unknown) => x as LibvirtError,
    );
    assert.ok(e instanceof LibvirtError);
    assert.equal(e.connectionRestored, 'unknown');
    assert.match(e.message, /libvirt start of domain '.*' on qemu:\/\/\/system failed: Cannot recv data: Connection reset by peer \(the connection to libvirt broke — libvirtd restarted\? — and was reopened; whether this start took effect is unknown\)/);
    assert.equal(e.toJSON().connectionRestored, 'unknown');
    // Reads after it are on the new connection (here the start had not reached the driver).
    assert.equal(await conn.getState(name), 'shutoff');

    b.down(true);
    b.restart();
    const down = await conn.lookup(name).then(
      () => assert.fail('looked up'),
      (x: unknown) => x as LibvirtError,
    );
    assert.match(down.message, /client socket is closed \(the connection to libvirt broke and could not be reopened: Failed to connect socket to '\/run\/libvirt\/libvirt-sock': Connection refused\)/);
    assert.equal(down.connectionRestored, undefined);
    await assert.rejects(conn.list(), /could not be reopened/);

    b.down(false);
    assert.equal((await conn.lookup(name)).uuid, ref.uuid);
    await conn.undefine(name);
  } finally {
    await closeConnections(b.loader);
  }
});

test('the test driver never reconnects: its domains live in this process', async () => {
  assert.equal(keeper.reconnects, 0);
  const { name, xml } = testDomainXml();
  await keeper.define(xml);
  await keeper.undefine(name);
  assert.equal(keeper.reconnects, 0);
});

test('a node controller across a libvirtd restart: terminate works after it, a launch while libvirtd is down fails at its check leaving nothing, and a launch whose start is lost in the restart rolls back', async () => {
  const b = breakableLoader();
  const sb = await sandbox();
  const conn = await connect({ uri: 'qemu:///system', loader: b.loader });
  let breakAt: string | undefined;
  const nc = await NodeController.open({
    instancesDir: sb.instances,
    connection: conn,
    transform: shippedTransform(),
    onStep: ({ step }) => {
      if (step === breakAt) b.restart({ inFlight: true });
    },
  });
  try {
    const running = await sampleInstance('10-no-nic');
    await nc.launch(running);
    b.restart();
    assert.equal((await nc.describe(running.name)).domain?.state, 'running');
    assert.equal((await nc.terminate(running.name)).domain, 'destroyed');
    assert.equal(await keeper.find(running.name), undefined);

    b.down(true);
    b.restart();
    const refused = await sampleInstance('10-no-nic');
    const e = await nc.launch(refused).then(
      () => assert.fail('launched'),
      (x: unknown) => x as OperationError,
    );
    assert.ok(e instanceof OperationError);
    assert.equal(e.step, 'check');
    assert.match(e.message, /could not be reopened/);
    b.down(false);
    assert.deepEqual((await nc.list()).map((x) => x.id), [], 'nothing left');
    assert.equal(await keeper.find(refused.name), undefined);

    // The reply to start is lost: the launch fails at start and its rollback, on the reopened
    // connection, looks up the domain and removes it — no orphan domain, no folder.
    breakAt = 'start';
    const lost = { ...(await sampleInstance('10-no-nic')), uuid: randomUUID() };
    const f = await nc.launch(lost).then(
      () => assert.fail('launched'),
      (x: unknown) => x as OperationError,
    );
    breakAt = undefined;
    assert.equal(f.step, 'start');
    assert.match(f.message, /whether this start took effect is unknown/);
    assert.equal(f.rolledBack, true, JSON.stringify(f.rollback));
    assert.equal(await keeper.find(lost.name), undefined, 'no orphan domain');
    assert.deepEqual((await nc.list()).map((x) => x.id), []);

    const after = await sampleInstance('10-no-nic');
    assert.equal((await nc.launch(after)).domain.state, 'running');
    await nc.terminate(after.name);
    assert.ok(conn.reconnects >= 3, String(conn.reconnects));
  } finally {
    await closeConnections(b.loader);
    await sb.cleanup();
  }
});

test("a controller's euca-nc-pre-hyp-check hooks run again before every reconnection: one that fails refuses it, the call saying why; a closed controller's do not", async () => {
  const b = breakableLoader();
  const conn = await connect({ uri: 'qemu:///system', loader: b.loader });
  const sb = await sandbox();
  const trace = join(sb.root, 'events');
  const refuse = join(sb.root, 'refuse');
  await sb.script(sb.hooks, '10-check', `echo "$1" >> ${trace}\n[ "$1" = euca-nc-pre-hyp-check ] && [ -e ${refuse} ] && { echo "bridge br0 is down" >&2; exit 1; }\nexit 0`);
  const events = () => readFileSync(trace, 'utf8').trim().split('\n');
  try {
    const nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), hooksDir: sb.hooks });
    assert.deepEqual(events(), ['euca-nc-pre-init', 'euca-nc-pre-hyp-check', 'euca-nc-post-init']);

    b.restart();
    await nc.list();
    assert.equal(conn.reconnects, 1);
    assert.deepEqual(events().slice(3), ['euca-nc-pre-hyp-check'], 'the check ran before the reconnection');

    writeFileSync(refuse, '');
    b.restart();
    await assert.rejects(nc.list(), (e: LibvirtError) => {
      assert.match(e.message, /could not be reopened: .*euca-nc-pre-hyp-check hook 10-check exited with code 1/);
      return true;
    });
    assert.equal(conn.reconnects, 1, 'refused: not reopened');
    rmSync(refuse);
    await nc.list();
    assert.equal(conn.reconnects, 2, 'the next call reconnects once the check passes');

    await nc.close();
    const before = events().length;
    b.restart();
    await conn.list();
    assert.equal(conn.reconnects, 3);
    assert.equal(events().length, before, "a closed controller's check no longer runs");
  } finally {
    await closeConnections(b.loader);
    await sb.cleanup();
  }
});
