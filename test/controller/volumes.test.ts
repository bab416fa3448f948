import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { NodeController, OperationError } from '../../engine/controller/index.js';
import { parseInstance } from '../../engine/instance/index.js';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { parseXml } from '../../engine/xml/parse.js';
import { domainCoverageProblems } from '../../engine/render/covers.js';
import { diffXml } from '../../engine/xml/compare.js';
import { sampleInstance, sandbox, shippedTransform, type Sandbox } from './fixtures.js';

let conn: LibvirtConnection;
let sb: Sandbox;
let nc: NodeController;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
  sb = await sandbox();
  nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), hooksDir: sb.hooks });
});
test.after(async () => {
  await sb.cleanup();
  await closeConnections();
});

const liveTargets = async (id: string) =>
  [...parseXml(await conn.getXML(id)).getElementsByTagName('disk')].map((d) => d.getElementsByTagName('target')[0].getAttribute('dev')).sort();
const recordOf = (dir: string) => parseInstance(readFileSync(join(dir, 'instance.xml'), 'utf8'));

test('attach and detach volumes: the live domain changes, instance.xml tracks each step, hooks get the device XML', async () => {
  const trace = join(sb.root, 'attach-trace');
  await sb.script(sb.hooks, '10-trace', `echo "$1 $3 $DOMFORGE_LIBVIRT_XML" >> ${trace}`);
  const inst = await sampleInstance('01-linux-virtio');
  const r = await nc.launch(inst);
  const before = await liveTargets(inst.name);

  const a = await nc.attachVolume(inst.name, { id: 'vol-0a0b0c0d', devName: 'sdf', path: '/dev/mapper/vol-0a0b0c0d' });
  assert.match(a.deviceXml, /<target dev="vdf" bus="virtio"\/>/);
  assert.equal(a.change.live, true);
  assert.deepEqual(await liveTargets(inst.name), [...before, 'vdf'].sort());
  assert.equal(await conn.getState(inst.name), 'running');
  assert.ok(existsSync(join(r.dir, 'vol-0a0b0c0d.xml')));
  assert.equal(readFileSync(join(r.dir, 'vol-0a0b0c0d-libvirt.xml'), 'utf8'), a.deviceXml);
  let rec = recordOf(r.dir);
  assert.deepEqual(rec.volumes.map((v) => [v.id, v.devName, v.stateName]), [['vol-0a0b0c0d', 'sdf', 'attached']]);
  assert.match(rec.volumes[0].libvirt ?? '', /<source dev="\/dev\/mapper\/vol-0a0b0c0d"\/>/);

  await nc.attachVolume(inst.name, { id: 'vol-11111111', devName: 'sdg', path: join(sb.root, 'vol.img'), sourceType: 'file' });
  assert.deepEqual(await liveTargets(inst.name), [...before, 'vdf', 'vdg'].sort());
  assert.equal(recordOf(r.dir).volumes.length, 2);

  const d = await nc.detachVolume(inst.name, 'vol-0a0b0c0d');
  assert.equal(d.detachedFromDomain, true);
  assert.deepEqual(await liveTargets(inst.name), [...before, 'vdg'].sort());
  rec = recordOf(r.dir);
  assert.deepEqual(rec.volumes.map((v) => v.id), ['vol-11111111']);
  assert.equal(existsSync(join(r.dir, 'vol-0a0b0c0d.xml')), false);
  assert.equal(existsSync(join(r.dir, 'vol-0a0b0c0d-libvirt.xml')), false);

  const lines = readFileSync(trace, 'utf8').trim().split('\n');
  const xmlPath = join(r.dir, 'vol-0a0b0c0d-libvirt.xml');
  assert.ok(lines.includes(`euca-nc-pre-attach ${xmlPath} ${xmlPath}`), lines.join('\n'));
  assert.ok(lines.includes(`euca-nc-post-detach ${xmlPath} ${xmlPath}`), lines.join('\n'));

  // A reboot starts from the persistent configuration: the attached volume is still there.
  await nc.reboot(inst.name);
  assert.deepEqual(await liveTargets(inst.name), [...before, 'vdg'].sort());
  await nc.terminate(inst.name);
});

test('a pre-attach hook that exits non-zero cancels the attach and leaves the domain and record unchanged', async () => {
  await sb.script(sb.hooks, '20-deny-attach', 'test "$1" = euca-nc-pre-attach && { echo "volume quota exceeded" >&2; exit 4; }\nexit 0');
  try {
    const inst = await sampleInstance('01-linux-virtio');
    const r = await nc.launch(inst);
    const xml = await conn.getXML(inst.name);
    const e = await nc.attachVolume(inst.name, { id: 'vol-22222222', devName: 'sdh', path: '/dev/vol2' }).then(() => assert.fail('attached'), (err: unknown) => err as OperationError);
    assert.equal(e.code, 'HOOK_FAILED');
    assert.equal(e.step, 'pre-attach');
    assert.equal(e.operation, 'attach-volume');
    assert.ok(e.details.some((l) => l.includes('volume quota exceeded')));
    assert.equal(await conn.getXML(inst.name), xml, 'domain unchanged');
    assert.equal(recordOf(r.dir).volumes.length, 0);
    assert.equal(existsSync(join(r.dir, 'vol-22222222.xml')), false);
    assert.equal(existsSync(join(r.dir, 'vol-22222222-libvirt.xml')), false);
    await nc.terminate(inst.name);
  } finally {
    const { rmSync } = await import('node:fs');
    rmSync(join(sb.hooks, '20-deny-attach'));
  }
});

test('a pre-attach hook may edit the device XML; a broken edit never reaches libvirt', async () => {
  await sb.script(sb.hooks, '30-edit', 'test "$1" = euca-nc-pre-attach && sed -i "s|<serial>[^<]*</serial>|<serial>edited-by-hook</serial>|" "$3"\nexit 0');
  const inst = await sampleInstance('01-linux-virtio');
  await nc.launch(inst);
  const a = await nc.attachVolume(inst.name, { id: 'vol-33333333', devName: 'sdf', path: '/dev/vol3' });
  assert.match(a.deviceXml, /<serial>edited-by-hook<\/serial>/);
  assert.match(await conn.getXML(inst.name), /<serial>edited-by-hook<\/serial>/);

  await sb.script(sb.hooks, '30-edit', 'test "$1" = euca-nc-pre-attach && sed -i "s|bus=\\"virtio\\"|bus=\\"carrier-pigeon\\"|" "$3"\nexit 0');
  const xml = await conn.getXML(inst.name);
  await assert.rejects(
    nc.attachVolume(inst.name, { id: 'vol-44444444', devName: 'sdg', path: '/dev/vol4' }),
    (e: OperationError) => e.code === 'DOMAIN_INVALID' && e.step === 'pre-attach' && e.file === join(sb.instances, inst.name, 'vol-44444444-libvirt.xml'),
  );
  assert.equal(await conn.getXML(inst.name), xml);
  const { rmSync } = await import('node:fs');
  rmSync(join(sb.hooks, '30-edit'));
  await nc.terminate(inst.name);
});

test('conflicts and unknown volumes are clear errors before libvirt is called', async () => {
  const inst = await sampleInstance('01-linux-virtio');
  await nc.launch(inst);
  await nc.attachVolume(inst.name, { id: 'vol-55555555', devName: 'sdf', path: '/dev/vol5' });
  await assert.rejects(nc.attachVolume(inst.name, { id: 'vol-55555555', devName: 'sdg', path: '/dev/vol5' }), (e: OperationError) => e.code === 'STATE_CONFLICT' && /already attached/.test(e.message));
  await assert.rejects(nc.attachVolume(inst.name, { id: 'vol-66666666', devName: 'sdf', path: '/dev/vol6' }), (e: OperationError) => e.code === 'STATE_CONFLICT' && /sdf is already used by vol-55555555/.test(e.message));
  // The root disk's own device: caught by validating the <disk> against the running domain.
  await assert.rejects(nc.attachVolume(inst.name, { id: 'vol-77777777', devName: 'sda', path: '/dev/vol7' }), (e: OperationError) => e.code === 'DOMAIN_INVALID' && e.step === 'render');
  await assert.rejects(nc.detachVolume(inst.name, 'vol-nothere'), (e: OperationError) => e.code === 'STATE_CONFLICT' && /has no volume vol-nothere/.test(e.message));
  await assert.rejects(nc.attachVolume(inst.name, { id: 'vol-8', devName: 'floppy', path: '/dev/x' }), (e: Error & { code: string }) => e.code === 'USAGE' && /devName/.test(e.message));
  assert.equal(parseInstance(readFileSync(join(sb.instances, inst.name, 'instance.xml'), 'utf8')).volumes.length, 1);
  await nc.terminate(inst.name);
});

test("the vol- stub carries what the record keeps on <hypervisor>, <os> and <backing>", async () => {
  const sample = await sampleInstance('01-linux-virtio');
  const inst = {
    ...sample,
    hypervisor: { ...sample.hypervisor, unknownAttributes: [{ name: 'numa', value: '2' }], unknown: [{ name: 'cpuModel', xml: '<cpuModel>host</cpuModel>' }] },
    os: { ...sample.os, unknownAttributes: [{ name: 'iommu', value: 'on' }] },
    backing: { ...sample.backing, unknownAttributes: [{ name: 'tier', value: 'gold' }], unknownAttributesOf: { root: [{ name: 'zone', value: 'z1' }] }, unknown: [{ name: 'snapshot', xml: '<snapshot id="s-1"/>' }] },
  };
  const r = await nc.launch(inst);
  const rec = recordOf(r.dir);
  assert.deepEqual(rec.hypervisor.unknownAttributes, [{ name: 'numa', value: '2' }]);
  await nc.attachVolume(inst.name, { id: 'vol-0c0c0c0c', devName: 'sdf', path: '/dev/mapper/vol-0c0c0c0c' });
  assert.equal(
    readFileSync(join(r.dir, 'vol-0c0c0c0c.xml'), 'utf8'),
    `<?xml version="1.0" encoding="UTF-8"?>\n<volume>\n  <hypervisor type="kvm" capability="hw" bitness="64" numa="2"><cpuModel>host</cpuModel></hypervisor>\n  <id>vol-0c0c0c0c</id>\n  <user>AIDAOPSEXAMPLE</user>\n  <instancePath>${rec.instancePath}</instancePath>\n  <os platform="linux" virtioRoot="true" virtioDisk="true" virtioNetwork="true" iommu="on"/>\n  <backing tier="gold"><root type="image" zone="z1"/><snapshot id="s-1"/></backing>\n  <diskPath targetDeviceType="disk" targetDeviceName="sdf" targetDeviceBus="virtio" sourceType="block" serial="euca-bdm-vol-0c0c0c0c-dev-sdf">/dev/mapper/vol-0c0c0c0c</diskPath>\n</volume>\n`,
  );
  await nc.detachVolume(inst.name, 'vol-0c0c0c0c');
  await nc.terminate(inst.name);
});

test('a filter or pre-attach hook that retargets the <disk>: the record keeps the <disk> libvirt got, so record and domain agree', async () => {
  await sb.script(sb.filters, '50-retarget', 'sed "s|dev=\\"vdf\\"|dev=\\"vdp\\"|"');
  await sb.script(sb.hooks, '50-retarget', 'test "$1" = euca-nc-pre-attach && sed -i "s|dev=\\"vdp\\"|dev=\\"vdq\\"|" "$3"\nexit 0');
  try {
    const inst = await sampleInstance('01-linux-virtio');
    const r = await nc.launch(inst);
    const before = await liveTargets(inst.name);
    const a = await nc.attachVolume(inst.name, { id: 'vol-0d0d0d0d', devName: 'sdf', path: '/dev/mapper/vol-0d0d0d0d' });
    assert.match(a.deviceXml, /<target dev="vdq" bus="virtio"\/>/);
    assert.deepEqual(await liveTargets(inst.name), [...before, 'vdq'].sort());
    const v = (await nc.describe(inst.name)).volumes[0]!;
    assert.deepEqual([v.id, v.devName, v.stateName], ['vol-0d0d0d0d', 'sdf', 'attached'], 'devName stays what the cloud asked for');
    assert.equal(diffXml(v.libvirt!, a.deviceXml), undefined, 'the record keeps the <disk> libvirt got');
    for (const inactive of [false, true]) {
      assert.deepEqual(domainCoverageProblems(recordOf(r.dir), parseXml(await conn.getXML(inst.name, { inactive })), { file: 'domain' }), []);
    }
    await nc.detachVolume(inst.name, 'vol-0d0d0d0d');
    assert.deepEqual(await liveTargets(inst.name), before);
    await nc.terminate(inst.name);
  } finally {
    rmSync(join(sb.filters, '50-retarget'), { force: true });
    rmSync(join(sb.hooks, '50-retarget'), { force: true });
  }
});
