import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, closeConnections, loadBinding, resolveUri, LibvirtError, TEST_URI, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { xmlEqual, DONTCARE } from '../../engine/xml/compare.js';
import { countingLoader, testDomainXml } from './fixtures.js';

// Keep one connection open for the whole file: test:///default's state lasts while one is open.
let conn: LibvirtConnection;
test.before(async () => {
  conn = await connect({ uri: TEST_URI });
});
test.after(() => closeConnections());

test('resolveUri: option, else LIBVIRT_DEFAULT_URI, else test:///default', () => {
  assert.equal(resolveUri('qemu:///system', { LIBVIRT_DEFAULT_URI: 'test:///x' }), 'qemu:///system');
  assert.equal(resolveUri(undefined, { LIBVIRT_DEFAULT_URI: 'qemu:///session' }), 'qemu:///session');
  assert.equal(resolveUri('', { LIBVIRT_DEFAULT_URI: '' }), 'test:///default');
  assert.equal(resolveUri(undefined, {}), 'test:///default');
});

test('connect() keeps one connection per URI and shares concurrent opens', async () => {
  const [a, b] = await Promise.all([connect(), connect({ uri: TEST_URI })]);
  assert.equal(a, conn);
  assert.equal(b, conn);
  assert.equal(conn.uri, 'test:///default');
  assert.equal(conn.closed, false);
});

test('define, start, lookup, getXML, getInfo, list, destroy, undefine a small domain', async () => {
  const { name, xml } = testDomainXml();
  const ref = await conn.define(xml);
  assert.equal(ref.name, name);
  assert.match(ref.uuid, /^[0-9a-f-]{36}$/);
  assert.equal(ref.id, null);
  assert.equal(await conn.getState(name), 'shutoff');

  await conn.start(name);
  const running = await conn.lookup(name);
  assert.equal(running.uuid, ref.uuid);
  assert.ok(typeof running.id === 'number' && running.id > 0);
  assert.deepEqual(await conn.lookup(ref.uuid), running, 'lookup by UUID');

  const info = await conn.getInfo(name);
  assert.equal(info.state, 'running');
  assert.equal(info.stateCode, 1);
  assert.equal(info.maxMemoryKiB, 131072);
  assert.equal(info.vcpus, 1);

  const live = await conn.getXML(name);
  assert.ok(
    xmlEqual(
      live,
      `<domain type="test" id="${DONTCARE}"><name>${name}</name><uuid>${ref.uuid}</uuid><memory unit="KiB">131072</memory><currentMemory unit="KiB">131072</currentMemory><vcpu placement="static">1</vcpu><os><type arch="x86_64">hvm</type><boot dev="hd"/></os><clock offset="utc"/><on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash><devices><disk type="file" device="disk"><source file="/var/lib/domforge/${name}/disk"/><target dev="vda" bus="virtio"/></disk></devices></domain>`,
    ),
    live,
  );
  const inactive = await conn.getXML(ref.uuid, { inactive: true });
  assert.doesNotMatch(inactive, /<domain[^>]* id=/);

  const listed = (await conn.list()).find((d) => d.name === name);
  assert.deepEqual(listed, { ...running, state: 'running', active: true, persistent: true });

  await conn.destroy(name);
  assert.equal(await conn.getState(name), 'shutoff');
  assert.equal((await conn.lookup(name)).id, null);
  await conn.undefine(name);
  assert.equal(await conn.find(name), undefined);
  assert.equal((await conn.list()).some((d) => d.name === name), false);
});

test('a transient domain is listed as not persistent and vanishes on destroy', async () => {
  const { name, xml } = testDomainXml();
  const ref = await conn.createTransient(xml);
  assert.ok(ref.id !== null);
  assert.equal(await conn.isPersistent(name), false);
  assert.equal((await conn.list()).find((d) => d.name === name)?.persistent, false);
  await conn.destroy(name);
  assert.equal(await conn.find(name), undefined);
});

test('reboot restarts a running domain from its persistent configuration', async () => {
  const { name, xml } = testDomainXml();
  await conn.define(xml);
  await conn.start(name);
  const before = await conn.lookup(name);
  await conn.reboot(name);
  const after = await conn.lookup(name);
  assert.equal(await conn.getState(name), 'running');
  assert.notEqual(after.id, before.id, 'a new run has a new id');
  await conn.reboot(name, { graceMs: 500 }); // the test driver shuts down at once
  assert.equal(await conn.getState(name), 'running');
  await conn.destroy(name);
  await conn.reboot(name); // a stopped domain is just started
  assert.equal(await conn.getState(name), 'running');
  await conn.destroy(name);
  await conn.undefine(name);
  await assert.rejects(conn.reboot(name, { graceMs: -1 }), /Expected `graceMs` to be a non-negative integer/);
});

test('a closed connection leaves the pool and refuses calls; connect() opens a new one', async () => {
  // A loader of its own gives a pool of its own, so closing here leaves `conn` open.
  const loader = () => loadBinding();
  const other = await connect({ loader });
  assert.notEqual(other, conn);
  assert.equal(await connect({ loader }), other);
  await other.close();
  await other.close(); // twice is harmless
  assert.equal(other.closed, true);
  await assert.rejects(other.list(), (e: unknown) => e instanceof LibvirtError && /the connection was closed/.test(e.message));
  const again = await connect({ loader });
  assert.notEqual(again, other);
  assert.ok((await again.list()).some((d) => d.name === 'test'));
  await closeConnections(loader);
  assert.equal(again.closed, true);
  assert.equal(conn.closed, false);
});

test('a ref this connection returned names its domain without a lookup; a copy or a name is looked up', async () => {
  const { loader, lookups } = countingLoader();
  const c = await connect({ loader });
  try {
    const { name, xml } = testDomainXml();
    const ref = await c.define(xml);
    const before = lookups();
    await c.start(ref);
    assert.equal(await c.getState(ref), 'running');
    assert.equal(await c.isPersistent(ref), true);
    assert.match(await c.getXML(ref), new RegExp(`<name>${name}</name>`));
    await c.destroy(ref);
    assert.equal(lookups() - before, 0, 'start, getState, isPersistent, getXML and destroy on the ref from define');

    // A copy has no domain object behind it: looked up by its UUID, once per call.
    const copy = { ...ref };
    await c.start(copy);
    assert.equal(lookups() - before, 1);
    await c.destroy(name);
    assert.equal(lookups() - before, 2, 'a name is looked up');

    // Refs from find and list carry their domain object too.
    const found = await c.find(name);
    const listed = (await c.list()).find((d) => d.name === name);
    const afterFind = lookups();
    assert.ok(found && listed);
    assert.equal(await c.getState(found), 'shutoff');
    assert.equal(await c.getState(listed), 'shutoff');
    assert.equal(lookups(), afterFind);

    // A ref whose domain has gone fails as its name would, naming the domain.
    await c.undefine(ref);
    for (const gone of [ref, found]) {
      await assert.rejects(c.start(gone), (e: unknown) => e instanceof LibvirtError && e.libvirtCode === 42 && e.message.includes(name));
    }
    await assert.rejects(c.start({ name: 'x', id: null } as never), /Expected a domain name, UUID or DomainRef/);
  } finally {
    await closeConnections(loader);
  }
});
