import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, closeConnections, runVirsh, LibvirtError, LibvirtUnavailableError, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { UsageError } from '../../engine/errors.js';
import { testDomainXml, VOLUME_DISK, ENI_INTERFACE } from './fixtures.js';
import { fakeBinding } from './fake-binding.js';

let conn: LibvirtConnection;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
});
test.after(() => closeConnections());

async function runningDomain() {
  const d = testDomainXml();
  await conn.define(d.xml);
  await conn.start(d.name);
  return d.name;
}
async function cleanup(name: string) {
  if ((await conn.lookup(name)).id !== null) await conn.destroy(name);
  await conn.undefine(name);
}

test('test:///default: attach a disk and an interface to a running domain, see them live, detach them', async () => {
  const name = await runningDomain();
  const disk = await conn.attachDevice(name, VOLUME_DISK);
  assert.deepEqual(disk, { method: 'redefine-restart', live: true, config: true, restarted: true });
  const nic = await conn.attachDevice(name, ENI_INTERFACE);
  assert.equal(nic.method, 'redefine-restart');
  for (const xml of [await conn.getXML(name), await conn.getXML(name, { inactive: true })]) {
    assert.match(xml, /<target dev='vdb' bus='virtio'\/>/);
    assert.match(xml, /<serial>vol-1234abcd<\/serial>/);
    assert.match(xml, /<mac address='d0:0d:12:34:56:78'\/>/);
  }
  assert.equal(await conn.getState(name), 'running');

  // Detach matches like libvirt: the disk by target dev, the interface by MAC (any case).
  await conn.detachDevice(name, '<disk type="file" device="disk"><target dev="vdb"/></disk>');
  await conn.detachDevice(name, '<interface type="bridge"><mac address="D0:0D:12:34:56:78"/></interface>');
  for (const xml of [await conn.getXML(name), await conn.getXML(name, { inactive: true })]) {
    assert.doesNotMatch(xml, /vdb|d0:0d:12/);
    assert.match(xml, /<target dev='vda'/);
  }
  await cleanup(name);
});

test('test:///default: method redefine changes only the persistent configuration', async () => {
  const name = await runningDomain();
  const r = await conn.attachDevice(name, VOLUME_DISK, { method: 'redefine', live: false });
  assert.deepEqual(r, { method: 'redefine', live: false, config: true, restarted: false });
  assert.doesNotMatch(await conn.getXML(name), /vdb/);
  assert.match(await conn.getXML(name, { inactive: true }), /vdb/);
  // A live change cannot be done by redefinition.
  await assert.rejects(conn.attachDevice(name, ENI_INTERFACE, { method: 'redefine' }), (e: unknown) => {
    assert.ok(e instanceof LibvirtError);
    assert.equal(e.libvirtCodeName, 'VIR_ERR_NO_SUPPORT');
    assert.match(e.message, /live device change needs virDomainAttachDeviceFlags/);
    return true;
  });
  await conn.destroy(name);
  await conn.start(name);
  assert.match(await conn.getXML(name), /vdb/, 'the next start picks the device up');
  await cleanup(name);
});

test('test:///default: an inactive domain gets a config-only change by default', async () => {
  const d = testDomainXml();
  await conn.define(d.xml);
  const r = await conn.attachDevice(d.name, VOLUME_DISK);
  assert.deepEqual(r, { method: 'redefine', live: false, config: true, restarted: false });
  assert.equal(await conn.getState(d.name), 'shutoff');
  await assert.rejects(conn.attachDevice(d.name, ENI_INTERFACE, { live: true }), /domain is not running/);
  await conn.undefine(d.name);
});

test('conflicts, missing devices and bad device XML fail before the domain changes', async () => {
  const name = await runningDomain();
  const before = await conn.getXML(name, { inactive: true });
  await assert.rejects(conn.attachDevice(name, '<disk type="file" device="disk"><source file="/x"/><target dev="vda" bus="virtio"/></disk>'), (e: unknown) => {
    assert.ok(e instanceof LibvirtError);
    assert.equal(e.operation, 'attach-device');
    assert.equal(e.libvirtCodeName, 'VIR_ERR_OPERATION_INVALID');
    assert.match(e.message, /the domain already has a disk with target dev 'vda'/);
    return true;
  });
  await assert.rejects(conn.detachDevice(name, '<interface type="bridge"><mac address="52:54:00:00:00:01"/></interface>'), (e: unknown) => {
    assert.ok(e instanceof LibvirtError);
    assert.equal(e.libvirtCodeName, 'VIR_ERR_DEVICE_MISSING');
    assert.match(e.message, /device not found: no interface with MAC 52:54:00:00:00:01/);
    return true;
  });
  await assert.rejects(conn.detachDevice(name, '<interface type="bridge"/>'), /needs <mac address/);
  await assert.rejects(conn.attachDevice(name, '<disk><target dev="vdc"'), { code: 'XML_SYNTAX' });
  await assert.rejects(conn.attachDevice(name, VOLUME_DISK, { method: 'hot' as never }), UsageError);
  await assert.rejects(conn.attachDevice(name, VOLUME_DISK, { method: 'virsh' }), /cannot reach the domains of test:\/\/\/default/);
  assert.equal(await conn.getXML(name, { inactive: true }), before);
  await cleanup(name);
});

test('measured: virsh on test:///default answers attach-device with "not supported by the connection driver"', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'domforge-virsh-'));
  try {
    const file = join(dir, 'disk.xml');
    await writeFile(file, VOLUME_DISK);
    // `test` is the domain every fresh test driver starts with (virsh has its own, in its own process).
    for (const [op, flags] of [['attach-device', ['--live']], ['attach-device', ['--config']], ['detach-device', ['--live', '--config']]] as const) {
      await assert.rejects(runVirsh([op, 'test', file, ...flags], { uri: 'test:///default', operation: op, domain: 'test' }), (e: unknown) => {
        assert.ok(e instanceof LibvirtError);
        assert.equal(e.libvirtCodeName, 'VIR_ERR_NO_SUPPORT');
        const api = op === 'attach-device' ? 'virDomainAttachDeviceFlags' : 'virDomainDetachDeviceFlags';
        assert.equal(e.libvirtMessage, `this function is not supported by the connection driver: ${api}`);
        assert.match(e.details[0]!, /^command: virsh -q -c test:\/\/\/default /);
        return true;
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** A qemu:///system connection over a fake binding, with a fake virsh that records its calls. */
async function daemonSetup(virshBody: string) {
  const dir = await mkdtemp(join(tmpdir(), 'domforge-fakevirsh-'));
  const virsh = join(dir, 'virsh');
  await writeFile(virsh, `#!/bin/sh\nrecord='${dir}/calls'\n${virshBody}\n`);
  await chmod(virsh, 0o755);
  const domains = [
    { name: 'i-running', uuid: '11111111-2222-3333-4444-555555555555', id: 3, persistent: true },
    { name: 'i-stopped', uuid: '11111111-2222-3333-4444-666666666666', id: null, persistent: true },
  ];
  const binding = fakeBinding(domains);
  const loader = async () => binding;
  const c = await connect({ uri: 'qemu:///system', loader });
  return { dir, virsh, c, loader, calls: () => readFile(join(dir, 'calls'), 'utf8') };
}

test('daemon URIs hot-plug through `virsh attach-device/detach-device` with --live/--config by domain state', async () => {
  const s = await daemonSetup(`echo "$*" >> "$record"; cat "$6" >> "$record"; echo >> "$record"; echo "LC_ALL=$LC_ALL" >> "$record"`);
  try {
    const r = await s.c.attachDevice('i-running', VOLUME_DISK, { virsh: s.virsh });
    assert.deepEqual(r, { method: 'virsh', live: true, config: true, restarted: false });
    await s.c.attachDevice('i-stopped', ENI_INTERFACE, { virsh: s.virsh });
    await s.c.detachDevice('11111111-2222-3333-4444-555555555555', ENI_INTERFACE, { virsh: s.virsh, config: false });
    const calls = (await s.calls()).split('\n');
    const argv = calls.filter((l) => l.startsWith('-q '));
    assert.match(argv[0]!, /^-q -c qemu:\/\/\/system attach-device i-running \/\S+\/device.xml --live --config$/);
    assert.match(argv[1]!, /^-q -c qemu:\/\/\/system attach-device i-stopped \/\S+\/device.xml --config$/);
    assert.match(argv[2]!, /^-q -c qemu:\/\/\/system detach-device i-running \/\S+\/device.xml --live$/);
    assert.ok(calls.join('\n').includes(VOLUME_DISK), 'virsh got the device XML');
    assert.ok(calls.includes('LC_ALL=C'));
  } finally {
    await closeConnections(s.loader);
    await rm(s.dir, { recursive: true, force: true });
  }
});

test('a virsh failure is a LibvirtError with libvirt\'s message from virsh\'s last error line', async () => {
  const s = await daemonSetup(
    `echo "error: Failed to attach device from $6" >&2; echo "error: Requested operation is not valid: target vdb already exists" >&2; exit 1`,
  );
  try {
    await assert.rejects(s.c.attachDevice('i-running', VOLUME_DISK, { virsh: s.virsh }), (e: unknown) => {
      assert.ok(e instanceof LibvirtError);
      assert.equal(e.operation, 'attach-device');
      assert.equal(e.domain, 'i-running');
      assert.equal(e.uri, 'qemu:///system');
      assert.equal(e.libvirtCodeName, 'VIR_ERR_OPERATION_INVALID');
      assert.equal(e.message, "libvirt attach-device of domain 'i-running' on qemu:///system failed: Requested operation is not valid: target vdb already exists");
      assert.match(e.details.join('\n'), /Failed to attach device from/);
      return true;
    });
    await assert.rejects(s.c.attachDevice('i-running', VOLUME_DISK, { virsh: join(s.dir, 'no-virsh') }), (e: unknown) => {
      assert.ok(e instanceof LibvirtUnavailableError);
      assert.match(e.message, /install libvirt-clients/);
      return true;
    });
    await assert.rejects(s.c.attachDevice('i-missing', VOLUME_DISK, { virsh: s.virsh }), { libvirtCodeName: 'VIR_ERR_NO_DOMAIN' });
  } finally {
    await closeConnections(s.loader);
    await rm(s.dir, { recursive: true, force: true });
  }
});
