/**
 * Issue 10, scenario 4: hot-plug into a running guest. A volume through the
 * NodeController (attachVolume / detachVolume: stub → transform → validate → libvirt),
 * and an ENI through the layers below it, since the controller has no attachInterface
 * yet (issue 9): the `<nic>` stub rendered by the same transform with renderText and
 * validated against the live domain, then LibvirtConnection.attachDevice/detachDevice.
 * Both show in libvirt's live XML and in the guest's /sys/block and /sys/class/net,
 * and both go away again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderText } from '../../engine/render/index.js';
import { defaultTransformPath } from '../../engine/transform/defaults.js';
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

  // ---- an ENI, rendered by the same transform and plugged in through LibvirtConnection
  const mac = randomMac();
  const stub = `<nic vlan="-1" networkIndex="-1" mac="${mac}" publicIp="0.0.0.0" privateIp="0.0.0.0" bridgeDeviceName="${t.env.bridge}" device="1" stateName="attaching" hypervisorType="qemu" osPlatform="linux" osVirtioNetwork="true" attachmentId="eni-attach-dfhv0001"/>`;
  const rendered = await renderText(stub, { transform: defaultTransformPath(), domainXml: await t.conn.getXML(g.name), file: 'eni-dfhv0001.xml' });
  assert.equal(rendered.outputRoot, 'interface');
  const nicChange = await t.conn.attachDevice(g.name, rendered.xml);
  assert.deepEqual({ method: nicChange.method, live: nicChange.live }, { method: 'virsh', live: true });
  const nic = nicByMac(await t.conn.getXML(g.name), mac);
  assert.ok(nic, 'the live XML has the ENI by its MAC');
  assert.equal(firstChild(nic, 'source')?.getAttribute('bridge'), t.env.bridge);
  assert.equal(firstChild(nic, 'model')?.getAttribute('type'), 'virtio');
  const withNic = await waitForConsole(consoleLog, (r) => latest(r.nets).includes('eth1'), { timeoutMs: BOOT_TIMEOUT_MS, what: 'the guest to see eth1' });
  assert.deepEqual(latest(withNic.nets), ['eth0', 'eth1', 'lo']);

  // ---- and out again: libvirt completes a detach once the guest has released the device (ACPI eject)
  const detached = await t.nc.detachVolume(g.name, 'vol-dfhv0001');
  assert.equal(detached.detachedFromDomain, true);
  await eventually(async () => (diskByTarget(await t.conn.getXML(g.name), 'vdf') ? undefined : true), 'vdf to leave the live XML');
  await waitForConsole(consoleLog, (r) => sameSet(latest(r.blocks), bootBlocks), { timeoutMs: BOOT_TIMEOUT_MS, what: 'the guest to lose the volume' });

  await t.conn.detachDevice(g.name, rendered.xml);
  await eventually(async () => (nicByMac(await t.conn.getXML(g.name), mac) ? undefined : true), 'the ENI to leave the live XML');
  await waitForConsole(consoleLog, (r) => sameSet(latest(r.nets), bootNets), { timeoutMs: BOOT_TIMEOUT_MS, what: 'the guest to lose eth1' });
  assert.equal(nicByMac(await t.conn.getXML(g.name, { inactive: true }), mac), undefined, 'gone from the persistent configuration too');

  await t.nc.terminate(g.name);
});
