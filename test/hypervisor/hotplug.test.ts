/**
 * Issue 10, scenario 4: hot-plug into a running guest, through the NodeController. A
 * volume (attachVolume / detachVolume) and an ENI (attachInterface / detachInterface):
 * stub → transform → validate against the live domain → hooks → libvirt → instance.xml.
 * Both show in libvirt's live and persistent XML and in the guest's /sys/block and
 * /sys/class/net, the ENI in instance.xml's nics, and both go away again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseInstance } from '../../engine/instance/index.js';
import { firstChild, parseXml, type Element } from '../../engine/xml/parse.js';
import { latest, waitForConsole } from './console.js';
import { tierOptions } from './env.js';
import { eventually, openTier, TEST_TIMEOUT_MS, BOOT_TIMEOUT_MS, type Tier } from './harness.js';
import { randomMac } from './instance.js';

let tier: Tier | undefined;
before(async () => {
  if (!tierOptions().skip) tier = await openTier();
});
after(async () => tier?.cleanup());

const devices = (xml: string, tag: string): Element[] => [...parseXml(xml).getElementsByTagName(tag)];
const diskByTarget = (xml: string, dev: string) => devices(xml, 'disk').find((d) => firstChild(d, 'target')?.getAttribute('dev') === dev);
const nicByMac = (xml: string, mac: string) => devices(xml, 'interface').find((i) => firstChild(i, 'mac')?.getAttribute('address') === mac);
const recordedNics = async (t: Tier, id: string) =>
  parseInstance(await readFile(t.nc.layout.instanceXml(id), 'utf8')).nics.map((n) => ({ device: n.device, mac: n.mac.toLowerCase(), attachmentId: n.attachmentId, stateName: n.stateName }));
const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

test('hot-plug: a volume and an ENI attached to the running guest show in the live XML and in the guest, then detach', tierOptions({ timeout: TEST_TIMEOUT_MS }), async () => {
  const t = tier!;
  const g = await t.instance({ label: 'hotplug' });
  const { report: booted } = await t.launchAndBoot(g);
  const consoleLog = t.consoleOf(g.name);
  const bootBlocks = latest(booted.blocks);
  const bootNets = latest(booted.nets);
  assert.deepEqual(bootNets, ['eth0', 'lo']);

  // ---- a volume, through the controller
  const volume = join(t.root, 'disks', 'vol-dfhv0001.img');
  await writeFile(volume, '');
  await truncate(volume, 16 * 1024 * 1024);
  const attached = await t.nc.attachVolume(g.name, { id: 'vol-dfhv0001', devName: 'sdf', path: volume, sourceType: 'file' });
  assert.equal(attached.change.live, true, 'attached to the running domain');
  const disk = diskByTarget(await t.conn.getXML(g.name), 'vdf');
  assert.ok(disk, 'the live XML has the volume as vdf (sdf with virtio)');
  assert.equal(firstChild(disk, 'source')?.getAttribute('file'), volume);
  assert.equal(firstChild(disk, 'target')?.getAttribute('bus'), 'virtio');
  assert.ok(diskByTarget(await t.conn.getXML(g.name, { inactive: true }), 'vdf'), 'and the persistent configuration too');
  const withVolume = await waitForConsole(consoleLog, (r) => latest(r.blocks).length > bootBlocks.length, { timeoutMs: BOOT_TIMEOUT_MS, what: 'the guest to see the volume' });
  const added = latest(withVolume.blocks).filter((b) => !bootBlocks.includes(b));
  assert.deepEqual(added, ['vdb'], `the guest names the second virtio disk vdb: /sys/block is ${latest(withVolume.blocks).join(' ')}`);

  // ---- an ENI, through the controller: the same transform's /nic entry point, hooks, libvirt, instance.xml
  const mac = randomMac();
  const eni = await t.nc.attachInterface(g.name, {
    interfaceId: 'eni-dfhv0001',
    attachmentId: 'eni-attach-dfhv0001',
    mac,
    device: 1,
    bridgeDeviceName: t.env.bridge,
  });
  assert.equal(eni.deviceId, 'eni-dfhv0001');
  assert.equal(parseXml(eni.deviceXml).documentElement?.nodeName, 'interface');
  assert.deepEqual({ method: eni.change.method, live: eni.change.live, config: eni.change.config }, { method: 'virsh', live: true, config: true });
  const nic = nicByMac(await t.conn.getXML(g.name), mac);
  assert.ok(nic, 'the live XML has the ENI by its MAC');
  assert.equal(firstChild(nic, 'source')?.getAttribute('bridge'), t.env.bridge);
  assert.equal(firstChild(nic, 'model')?.getAttribute('type'), 'virtio', 'virtio, from the instance\'s os/@virtioNetwork');
  assert.ok(nicByMac(await t.conn.getXML(g.name, { inactive: true }), mac), 'and the persistent configuration too');
  const dir = t.nc.layout.dir(g.name);
  assert.ok(existsSync(join(dir, 'eni-dfhv0001.xml')) && existsSync(join(dir, 'eni-dfhv0001-libvirt.xml')), 'the stub and its rendered interface are in the instance folder');
  assert.deepEqual(await recordedNics(t, g.name), [
    { device: 0, mac: g.mac, attachmentId: undefined, stateName: 'attached' },
    { device: 1, mac, attachmentId: 'eni-attach-dfhv0001', stateName: 'attached' },
  ]);
  const withNic = await waitForConsole(consoleLog, (r) => latest(r.nets).includes('eth1'), { timeoutMs: BOOT_TIMEOUT_MS, what: 'the guest to see eth1' });
  assert.deepEqual(latest(withNic.nets), ['eth0', 'eth1', 'lo']);

  // ---- and out again: libvirt completes a detach once the guest has released the device (ACPI eject)
  const detached = await t.nc.detachVolume(g.name, 'vol-dfhv0001');
  assert.equal(detached.detachedFromDomain, true);
  await eventually(async () => (diskByTarget(await t.conn.getXML(g.name), 'vdf') ? undefined : true), 'vdf to leave the live XML');
  await waitForConsole(consoleLog, (r) => sameSet(latest(r.blocks), bootBlocks), { timeoutMs: BOOT_TIMEOUT_MS, what: 'the guest to lose the volume' });

  const eniDetached = await t.nc.detachInterface(g.name, 'eni-attach-dfhv0001');
  assert.equal(eniDetached.deviceId, 'eni-dfhv0001');
  assert.equal(eniDetached.detachedFromDomain, true);
  assert.deepEqual(eniDetached.postDetachFailures, []);
  assert.deepEqual(await recordedNics(t, g.name), [{ device: 0, mac: g.mac, attachmentId: undefined, stateName: 'attached' }], 'instance.xml keeps only the primary interface');
  assert.equal(existsSync(join(dir, 'eni-dfhv0001.xml')) || existsSync(join(dir, 'eni-dfhv0001-libvirt.xml')), false, 'the ENI\'s files are removed');
  await eventually(async () => (nicByMac(await t.conn.getXML(g.name), mac) ? undefined : true), 'the ENI to leave the live XML');
  await waitForConsole(consoleLog, (r) => sameSet(latest(r.nets), bootNets), { timeoutMs: BOOT_TIMEOUT_MS, what: 'the guest to lose eth1' });
  assert.equal(nicByMac(await t.conn.getXML(g.name, { inactive: true }), mac), undefined, 'gone from the persistent configuration too');

  await t.nc.terminate(g.name);
});
