import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeController, OperationError, type InterfaceAttachment, type StepEvent } from '../../engine/controller/index.js';
import { InstanceError, type DomforgeError } from '../../engine/errors.js';
import { domainCoverageProblems } from '../../engine/render/covers.js';
import { parseInstance } from '../../engine/instance/index.js';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { firstChild, parseXml } from '../../engine/xml/parse.js';
import { filterRefusal, sampleInstance, sandbox, shippedTransform, type Sandbox } from './fixtures.js';

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

/** The MACs of the domain's interfaces as libvirt holds them (live, or the persistent configuration). */
const liveMacs = async (id: string, inactive = false) =>
  [...parseXml(await conn.getXML(id, { inactive })).getElementsByTagName('interface')].map((i) => firstChild(i, 'mac')!.getAttribute('address')!).sort();
const liveTargets = async (id: string) => [...parseXml(await conn.getXML(id)).getElementsByTagName('disk')].map((d) => firstChild(d, 'target')!.getAttribute('dev')!).sort();
const recordOf = (id: string) => parseInstance(readFileSync(join(sb.instances, id, 'instance.xml'), 'utf8'));
const PRIMARY = 'd0:0d:5a:3e:00:01'; // samples/01-linux-virtio

function eni(n: number, over: Partial<InterfaceAttachment> = {}): InterfaceAttachment {
  const hex = n.toString(16).padStart(8, '0');
  return {
    interfaceId: `eni-${hex}`,
    attachmentId: `eni-attach-${hex}`,
    mac: `d0:0d:00:00:00:${n.toString(16).padStart(2, '0')}`,
    device: n,
    bridgeDeviceName: 'br0',
    privateIp: `172.31.1.${n}`,
    ...over,
  };
}

test('two ENIs and a volume: attached to the live domain and its persistent configuration, tracked by instance.xml, detached again', async () => {
  const trace = join(sb.root, 'eni-trace');
  await sb.script(sb.hooks, '10-trace', `echo "$1 $3" >> ${trace}`);
  try {
    const inst = await sampleInstance('01-linux-virtio');
    const r = await nc.launch(inst);
    const disks = await liveTargets(inst.name);
    assert.deepEqual(await liveMacs(inst.name), [PRIMARY]);

    // The first ENI from an eni-XXX.xml stub file, as Eucalyptus's CC hands it over; the interface id is the file's name.
    const stubFile = join(sb.root, 'eni-00000001.xml');
    writeFileSync(
      stubFile,
      '<?xml version="1.0"?>\n<nic xml-version="2" vlan="-1" networkIndex="-1" mac="D0:0D:00:00:00:01" publicIp="0.0.0.0" privateIp="172.31.1.1" bridgeDeviceName="br0" guestDeviceName="vn_eni-0000001" device="1" stateName="attaching" hypervisorType="kvm" osPlatform="linux" osVirtioNetwork="true" attachmentId="eni-attach-00000001"/>\n',
    );
    const a1 = await nc.attachInterface(inst.name, stubFile);
    assert.equal(a1.deviceId, 'eni-00000001');
    assert.equal(a1.change.live, true);
    assert.equal(a1.change.config, true);
    const iface = parseXml(a1.deviceXml).documentElement!;
    assert.equal(iface.nodeName, 'interface');
    assert.equal(firstChild(iface, 'mac')!.getAttribute('address'), 'd0:0d:00:00:00:01', 'lower-cased by the transform');
    assert.equal(firstChild(iface, 'model')!.getAttribute('type'), 'virtio');
    assert.equal(firstChild(iface, 'target')!.getAttribute('dev'), 'vn_eni-0000001');
    assert.deepEqual(await liveMacs(inst.name), [PRIMARY, 'd0:0d:00:00:00:01'].sort());
    assert.equal(await conn.getState(inst.name), 'running');
    assert.equal(readFileSync(join(r.dir, 'eni-00000001-libvirt.xml'), 'utf8'), a1.deviceXml);
    const written = readFileSync(join(r.dir, 'eni-00000001.xml'), 'utf8');
    assert.match(written, /^<\?xml[^>]*>\n<nic xml-version="2" /);
    assert.match(written, /stateName="attaching"/);
    let rec = recordOf(inst.name);
    assert.deepEqual(
      rec.nics.map((n) => [n.device, n.mac, n.attachmentId, n.stateName]),
      [
        [0, 'D0:0D:5A:3E:00:01', undefined, 'attached'],
        [1, 'D0:0D:00:00:00:01', 'eni-attach-00000001', 'attached'],
      ],
    );

    // The second from an object: hypervisor and OS fields come from the instance; e1000 when the NIC says no virtio.
    const a2 = await nc.attachInterface(inst.name, eni(2, { osVirtioNetwork: false }));
    assert.equal(firstChild(parseXml(a2.deviceXml).documentElement!, 'model')!.getAttribute('type'), 'e1000');
    assert.match(readFileSync(join(r.dir, 'eni-00000002.xml'), 'utf8'), /hypervisorType="kvm" osPlatform="linux" osVirtioNetwork="false"/);
    await nc.attachVolume(inst.name, { id: 'vol-0e0e0e0e', devName: 'sdf', path: '/dev/mapper/vol-0e0e0e0e' });
    assert.deepEqual(await liveMacs(inst.name), [PRIMARY, 'd0:0d:00:00:00:01', 'd0:0d:00:00:00:02'].sort());
    assert.deepEqual(await liveMacs(inst.name, true), await liveMacs(inst.name), 'the persistent configuration has them too');
    assert.deepEqual(await liveTargets(inst.name), [...disks, 'vdf'].sort());
    rec = recordOf(inst.name);
    assert.deepEqual(rec.nics.map((n) => n.attachmentId), [undefined, 'eni-attach-00000001', 'eni-attach-00000002']);
    assert.deepEqual(rec.volumes.map((v) => v.id), ['vol-0e0e0e0e']);

    // A new controller over the same folder finds the ENI's files from the record alone.
    const other = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), hooksDir: sb.hooks });
    const d1 = await other.detachInterface(inst.name, 'eni-attach-00000001');
    await other.close();
    assert.equal(d1.deviceId, 'eni-00000001');
    assert.equal(d1.detachedFromDomain, true);
    assert.deepEqual(d1.postDetachFailures, []);
    assert.deepEqual(await liveMacs(inst.name), [PRIMARY, 'd0:0d:00:00:00:02'].sort());
    assert.deepEqual(recordOf(inst.name).nics.map((n) => n.attachmentId), [undefined, 'eni-attach-00000002']);
    assert.equal(existsSync(join(r.dir, 'eni-00000001.xml')), false);
    assert.equal(existsSync(join(r.dir, 'eni-00000001-libvirt.xml')), false);

    // A reboot starts from the persistent configuration: the remaining ENI and the volume are still there.
    await nc.reboot(inst.name);
    assert.deepEqual(await liveMacs(inst.name), [PRIMARY, 'd0:0d:00:00:00:02'].sort());
    assert.deepEqual(await liveTargets(inst.name), [...disks, 'vdf'].sort());

    await nc.detachInterface(inst.name, 'eni-attach-00000002');
    await nc.detachVolume(inst.name, 'vol-0e0e0e0e');
    assert.deepEqual(await liveMacs(inst.name), [PRIMARY]);
    assert.deepEqual(await liveMacs(inst.name, true), [PRIMARY]);
    assert.deepEqual(await liveTargets(inst.name), disks);
    rec = recordOf(inst.name);
    assert.deepEqual(rec.nics.map((n) => n.device), [0]);
    assert.equal(rec.volumes.length, 0);

    const lines = readFileSync(trace, 'utf8').trim().split('\n');
    for (const n of ['00000001', '00000002']) {
      const xmlPath = join(r.dir, `eni-${n}-libvirt.xml`);
      assert.ok(lines.includes(`euca-nc-pre-attach ${xmlPath}`), lines.join('\n'));
      assert.ok(lines.includes(`euca-nc-post-detach ${xmlPath}`), lines.join('\n'));
    }
    await nc.terminate(inst.name);
  } finally {
    rmSync(join(sb.hooks, '10-trace'), { force: true });
  }
});

test('a duplicate MAC, device index, attachment id or interface is a STATE_CONFLICT before libvirt is called', async () => {
  const inst = await sampleInstance('01-linux-virtio');
  const seen: StepEvent[] = [];
  const watched = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), onStep: (e) => void seen.push(e) });
  await watched.launch(inst);
  await watched.attachInterface(inst.name, eni(1));
  const xml = await conn.getXML(inst.name);
  const cases: [InterfaceAttachment, RegExp][] = [
    [eni(5, { mac: 'D0:0D:5A:3E:00:01' }), /MAC D0:0D:5A:3E:00:01 is already used by the primary interface/],
    [eni(6, { mac: 'D0:0D:00:00:00:01' }), /MAC D0:0D:00:00:00:01 is already used by interface device 1 \(attachment eni-attach-00000001\)/],
    [eni(7, { device: 1 }), /device index 1 is already used by interface device 1/],
    [eni(8, { device: 0 }), /device index 0 is already used by the primary interface/],
    [eni(9, { attachmentId: 'eni-attach-00000001' }), /attachment eni-attach-00000001 is already attached/],
    [eni(10, { interfaceId: 'eni-00000001' }), /eni-00000001 is already attached as eni-attach-00000001/],
  ];
  for (const [nic, message] of cases) {
    seen.length = 0;
    await assert.rejects(watched.attachInterface(inst.name, nic), (e: OperationError) => {
      assert.equal(e.code, 'STATE_CONFLICT', e.message);
      assert.equal(e.step, 'check');
      assert.equal(e.operation, 'attach-interface');
      assert.match(e.message, message);
      return true;
    });
    assert.deepEqual(
      seen.map((s) => s.step),
      ['read-record', 'check'],
      'nothing after the check ran',
    );
  }
  assert.equal(await conn.getXML(inst.name), xml, 'domain unchanged');
  assert.equal(recordOf(inst.name).nics.length, 2);
  assert.ok(existsSync(join(sb.instances, inst.name, 'eni-00000001.xml')), 'the attached interface keeps its stub');
  for (const f of ['eni-00000005.xml', 'eni-00000007.xml', 'eni-0000000a.xml']) assert.equal(existsSync(join(sb.instances, inst.name, f)), false, f);

  // Bad input is a usage error, before anything is read.
  await assert.rejects(watched.attachInterface(inst.name, eni(11, { mac: '52:54:00:zz:00:01' })), (e: Error & { code: string }) => e.code === 'USAGE' && /`mac`/.test(e.message));
  await assert.rejects(watched.attachInterface(inst.name, eni(12, { device: -1 })), (e: Error & { code: string }) => e.code === 'USAGE' && /`device`/.test(e.message));
  await assert.rejects(watched.attachInterface(inst.name, eni(13, { interfaceId: '../eni' })), (e: Error & { code: string }) => e.code === 'USAGE' && /interface id/.test(e.message));
  // Detach: an unknown attachment, and the primary interface.
  await assert.rejects(watched.detachInterface(inst.name, 'eni-attach-nothere'), (e: OperationError) => e.code === 'STATE_CONFLICT' && /has no interface attachment eni-attach-nothere/.test(e.message));
  await watched.close();
  await nc.terminate(inst.name);
});

test('a pre-attach hook that exits non-zero cancels the attach: domain, record and folder unchanged', async () => {
  await sb.script(sb.hooks, '20-deny-eni', 'test "$1" = euca-nc-pre-attach && { echo "no ENI on this node" >&2; exit 5; }\nexit 0');
  try {
    const inst = await sampleInstance('01-linux-virtio');
    const r = await nc.launch(inst);
    const xml = await conn.getXML(inst.name);
    const inactive = await conn.getXML(inst.name, { inactive: true });
    const record = readFileSync(join(r.dir, 'instance.xml'), 'utf8');
    const e = await nc.attachInterface(inst.name, eni(3)).then(
      () => assert.fail('attached'),
      (err: unknown) => err as OperationError,
    );
    assert.equal(e.code, 'HOOK_FAILED');
    assert.equal(e.step, 'pre-attach');
    assert.equal(e.operation, 'attach-interface');
    assert.ok(e.rolledBack);
    assert.ok(e.details.some((l) => l.includes('no ENI on this node')));
    assert.equal(await conn.getXML(inst.name), xml);
    assert.equal(await conn.getXML(inst.name, { inactive: true }), inactive);
    assert.equal(readFileSync(join(r.dir, 'instance.xml'), 'utf8'), record);
    assert.equal(existsSync(join(r.dir, 'eni-00000003.xml')), false);
    assert.equal(existsSync(join(r.dir, 'eni-00000003-libvirt.xml')), false);
    await nc.terminate(inst.name);
  } finally {
    rmSync(join(sb.hooks, '20-deny-eni'), { force: true });
  }
});

test('a pre-attach hook may edit the <interface>; an edit the schema rejects never reaches libvirt', async () => {
  await sb.script(sb.hooks, '30-edit', 'test "$1" = euca-nc-pre-attach && sed -i "s|<model type=\\"[a-z0-9]*\\"/>|<model type=\\"rtl8139\\"/>|" "$3"\nexit 0');
  try {
    const inst = await sampleInstance('01-linux-virtio');
    const r = await nc.launch(inst);
    const a = await nc.attachInterface(inst.name, eni(4));
    assert.match(a.deviceXml, /<model type="rtl8139"\/>/);
    assert.match(readFileSync(join(r.dir, 'eni-00000004-libvirt.xml'), 'utf8'), /rtl8139/);
    const live = [...parseXml(await conn.getXML(inst.name)).getElementsByTagName('interface')].find((i) => firstChild(i, 'mac')?.getAttribute('address') === 'd0:0d:00:00:00:04');
    assert.equal(firstChild(live!, 'model')?.getAttribute('type'), 'rtl8139', 'libvirt got the edited XML');

    await sb.script(sb.hooks, '30-edit', 'test "$1" = euca-nc-pre-attach && sed -i "s|type=\\"bridge\\"|type=\\"carrier-pigeon\\"|" "$3"\nexit 0');
    const xml = await conn.getXML(inst.name);
    await assert.rejects(nc.attachInterface(inst.name, eni(5)), (e: OperationError) => {
      assert.equal(e.code, 'DOMAIN_INVALID');
      assert.equal(e.step, 'pre-attach');
      assert.equal(e.file, join(r.dir, 'eni-00000005-libvirt.xml'));
      return true;
    });
    assert.equal(await conn.getXML(inst.name), xml);
    assert.deepEqual(recordOf(inst.name).nics.map((n) => n.device), [0, 4]);
    await nc.terminate(inst.name);
  } finally {
    rmSync(join(sb.hooks, '30-edit'), { force: true });
  }
});

test('a transform whose /nic output the schema rejects fails at render; libvirt never sees it', async () => {
  const xsl = join(sb.root, 'bad-nic.xsl');
  writeFileSync(
    xsl,
    readFileSync(shippedTransform().file, 'utf8').replace(
      /<xsl:template match="\/nic">[\s\S]*?<\/xsl:template>/,
      '<xsl:template match="/nic"><interface type="bridge"><mac address="{@mac}"/><model type="bad model"/><link state="sideways"/></interface></xsl:template>',
    ),
  );
  const seen: string[] = [];
  const bad = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: xsl, onStep: (e) => void seen.push(e.step) });
  const inst = await sampleInstance('01-linux-virtio');
  await bad.launch(inst);
  const xml = await conn.getXML(inst.name);
  seen.length = 0;
  await assert.rejects(bad.attachInterface(inst.name, eni(6)), (e: OperationError) => e.code === 'DOMAIN_INVALID' && e.step === 'render' && e.rolledBack);
  assert.equal(seen.includes('attach'), false);
  assert.equal(await conn.getXML(inst.name), xml);
  assert.equal(existsSync(join(sb.instances, inst.name, 'eni-00000006.xml')), false);
  await bad.terminate(inst.name);
  await bad.close();
});

test('a failure after the attach detaches the interface again (rollback), and the primary interface cannot be detached', async () => {
  let fail = true;
  const faulty = await NodeController.open({
    instancesDir: sb.instances,
    connection: conn,
    transform: shippedTransform(),
    onStep: (e) => {
      if (fail && e.operation === 'attach-interface' && e.step === 'record') throw Object.assign(new Error('disk full'), { code: 'ENOSPC', syscall: 'write', path: 'instance.xml' });
    },
  });
  const inst = await sampleInstance('01-linux-virtio');
  await faulty.launch(inst);
  const macs = await liveMacs(inst.name);
  await assert.rejects(faulty.attachInterface(inst.name, eni(7)), (e: OperationError) => {
    assert.equal(e.code, 'IO_ERROR');
    assert.equal(e.step, 'record');
    assert.deepEqual(
      e.rollback.map((a) => [a.action, a.ok]),
      [
        ['detach-device', true],
        ['restore-record', true],
        ['remove-device-xml', true],
        ['remove-stub', true],
      ],
    );
    return true;
  });
  assert.deepEqual(await liveMacs(inst.name), macs, 'detached again');
  assert.deepEqual(await liveMacs(inst.name, true), macs, 'and gone from the persistent configuration');
  assert.equal(existsSync(join(sb.instances, inst.name, 'eni-00000007.xml')), false);
  fail = false;
  await faulty.attachInterface(inst.name, eni(7));
  assert.deepEqual(recordOf(inst.name).nics.map((n) => n.device), [0, 7]);

  // In a VPC the primary interface has an attachment id too; it goes with the instance.
  writeFileSync(join(sb.instances, inst.name, 'instance.xml'), readFileSync(join(sb.instances, inst.name, 'instance.xml'), 'utf8').replace('device="0"', 'device="0" attachmentId="eni-attach-primary"'));
  assert.equal(recordOf(inst.name).nics[0].attachmentId, 'eni-attach-primary');
  await assert.rejects(faulty.detachInterface(inst.name, 'eni-attach-primary'), (e: OperationError) => e.code === 'STATE_CONFLICT' && /primary interface \(device 0\)/.test(e.message));
  assert.deepEqual(await liveMacs(inst.name), [...macs, 'd0:0d:00:00:00:07'].sort());
  await faulty.terminate(inst.name);
  await faulty.close();
});

test('an eni- stub file with attributes and elements domforge does not know: the eni- stub written and the record keep them', async () => {
  const inst = await sampleInstance('01-linux-virtio');
  const r = await nc.launch(inst);
  const stubFile = join(sb.root, 'eni-0000000b.xml');
  writeFileSync(
    stubFile,
    '<?xml version="1.0"?>\n<nic xml-version="2" vlan="-1" networkIndex="-1" mac="d0:0d:00:00:00:0b" publicIp="0.0.0.0" privateIp="172.31.1.11" bridgeDeviceName="br0" device="11" stateName="attaching" attachmentId="eni-attach-0000000b" sgId="sg-1">\n  <securityGroup id="sg-1"/>\n</nic>\n',
  );
  await nc.attachInterface(inst.name, stubFile);
  assert.equal(
    readFileSync(join(r.dir, 'eni-0000000b.xml'), 'utf8'),
    '<?xml version="1.0" encoding="UTF-8"?>\n<nic xml-version="2" vlan="-1" networkIndex="-1" mac="d0:0d:00:00:00:0b" publicIp="0.0.0.0" privateIp="172.31.1.11" bridgeDeviceName="br0" device="11" stateName="attaching" hypervisorType="kvm" osPlatform="linux" osVirtioNetwork="true" attachmentId="eni-attach-0000000b" sgId="sg-1"><securityGroup id="sg-1"/></nic>\n',
  );
  const nic = recordOf(inst.name).nics.find((n) => n.attachmentId === 'eni-attach-0000000b')!;
  assert.deepEqual(nic.unknownAttributes, [{ name: 'sgId', value: 'sg-1' }]);
  assert.deepEqual(nic.unknown, [{ name: 'securityGroup', xml: '<securityGroup id="sg-1"/>' }]);
  assert.match(readFileSync(join(r.dir, 'instance.xml'), 'utf8'), / attachmentId="eni-attach-0000000b" sgId="sg-1">\n {6}<securityGroup id="sg-1"\/>\n {4}<\/nic>\n/);
  await nc.detachInterface(inst.name, 'eni-attach-0000000b');
  await nc.terminate(inst.name);
});

test("what libvirt's schema refuses in an ENI (a multicast MAC, a bridge or tap name it does not take) is refused before anything is written: a field by its name, a stub at its line; what it takes is attached", async () => {
  const inst = await sampleInstance('01-linux-virtio');
  for (const [over, field] of [
    [{ mac: 'd1:0d:00:00:00:0c' }, /^Expected `mac` to be a unicast MAC address \(an even first byte, such as d0:0d:12:34:56:78\), got `d1:0d:00:00:00:0c` \(string\)$/],
    [{ bridgeDeviceName: 'br;0' }, /^Expected `bridgeDeviceName` to be a bridge name of letters, digits, '_', '\.', '-', '\\', ':', '\/' and spaces \(libvirt's schema\), got `br;0` \(string\)$/],
    [{ guestDeviceName: 'vn eni-0000000c' }, /^Expected `guestDeviceName` to be a tap device name of letters, digits, '_', '\.', '-', '\\', ':' and '\/' \(libvirt's schema\), got `vn eni-0000000c` \(string\)$/],
    // Linux names a network interface in at most 15 bytes: a real host refuses a longer tap when it attaches.
    [{ guestDeviceName: `vn_${'e'.repeat(37)}` }, new RegExp(`^Expected \`guestDeviceName\` to be a tap device name of at most 15 bytes \\(Linux's IFNAMSIZ, 16, less its NUL\\), got \`vn_e{37}\` \\(string\\), 40 bytes$`)],
    // Nor does Linux take a ':' or a '/' in one, or '.' and '..', which libvirt's schema does.
    [{ guestDeviceName: 'vn:eni-c' }, /^Expected `guestDeviceName` to be a tap device name other than '\.' and '\.\.', with no '\/', ':' or whitespace \(the kernel's dev_valid_name\), got `vn:eni-c` \(string\), holds ":"$/],
    [{ guestDeviceName: '..' }, /^Expected `guestDeviceName` to be a tap device name other than .*, got `\.\.` \(string\), is reserved \('\.' and '\.\.' name folders in \/sys\/class\/net\)$/],
  ] as const) {
    await assert.rejects(nc.attachInterface(inst.name, eni(12, over)), (e: Error & { code: string }) => e.code === 'USAGE' && field.test(e.message));
  }
  const stubFile = join(sb.root, 'eni-0000000c.xml');
  for (const [attrs, path, message] of [
    ['mac="d1:0d:00:00:00:0c" bridgeDeviceName="br0"', '/nic/@mac', 'MAC address d1:0d:00:00:00:0c is a multicast address'],
    ['mac="d0:0d:00:00:00:0c" bridgeDeviceName="br,0"', '/nic/@bridgeDeviceName', `the bridge name "br,0" may hold only letters, digits, '_', '.', '-', '\\', ':', '/' and spaces (libvirt's schema)`],
    ['mac="d0:0d:00:00:00:0c" bridgeDeviceName="br0" guestDeviceName="vn+eni"', '/nic/@guestDeviceName', `the tap device name "vn+eni" may hold only letters, digits, '_', '.', '-', '\\', ':' and '/' (libvirt's schema)`],
    ['mac="d0:0d:00:00:00:0c" bridgeDeviceName="br0" guestDeviceName="vn_eni-0000000c-x"', '/nic/@guestDeviceName', `the tap device name "vn_eni-0000000c-x" is 17 bytes long; a network interface's name is at most 15 bytes (Linux's IFNAMSIZ, 16, less its NUL), and the host would refuse to create the tap when the domain starts or the interface is attached`],
    ['mac="d0:0d:00:00:00:0c" bridgeDeviceName="br0" guestDeviceName="vn/eni-c"', '/nic/@guestDeviceName', `the tap device name "vn/eni-c" holds "/"; a network interface is named other than '.' and '..', with no '/', ':' or whitespace (the kernel's dev_valid_name), and the host would refuse to create the tap when the domain starts or the interface is attached`],
  ]) {
    writeFileSync(stubFile, `<?xml version="1.0"?>\n<nic xml-version="2" ${attrs} device="12" attachmentId="eni-attach-0000000c"/>\n`);
    await assert.rejects(nc.attachInterface(inst.name, stubFile), (e: unknown) => {
      assert.ok(e instanceof InstanceError, String(e));
      assert.deepEqual([e.file, e.line, e.path, e.shortMessage], [stubFile, 2, path, message]);
      return true;
    });
  }
  // The boundaries libvirt's schema takes, attached for real: an upper-case unicast MAC, spaces and '\', ':' and '/' in the bridge, and every character the tap name may hold (libvirt's, less Linux's ':' and '/').
  await nc.launch(inst);
  try {
    await nc.attachInterface(inst.name, eni(12, { mac: 'D2:0D:00:00:00:0C', bridgeDeviceName: 'External vSwitch\\a:b/c.d-e_f', guestDeviceName: 'a\\b.c-d_e' }));
    const iface = [...parseXml(await conn.getXML(inst.name)).getElementsByTagName('interface')].find((i) => firstChild(i, 'mac')?.getAttribute('address') === 'd2:0d:00:00:00:0c');
    assert.equal(firstChild(iface!, 'source')?.getAttribute('bridge'), 'External vSwitch\\a:b/c.d-e_f');
  } finally {
    await nc.terminate(inst.name);
  }
});

test("a transform, filter or pre-attach hook that changes the ENI's MAC is refused at the <mac> (the record lists the NIC by its MAC), and the attach rolled back", async () => {
  const inst = await sampleInstance('01-linux-virtio');
  const r = await nc.launch(inst);
  const live = await conn.getXML(inst.name);
  const inactive = await conn.getXML(inst.name, { inactive: true });
  const record = readFileSync(join(r.dir, 'instance.xml'), 'utf8');
  const unchanged = async (what: string) => {
    assert.equal(await conn.getXML(inst.name), live, `${what}: the live domain is unchanged`);
    assert.equal(await conn.getXML(inst.name, { inactive: true }), inactive, `${what}: the persistent configuration is unchanged`);
    assert.equal(readFileSync(join(r.dir, 'instance.xml'), 'utf8'), record, `${what}: instance.xml is unchanged`);
    assert.equal(existsSync(join(r.dir, 'eni-0000000d.xml')), false, what);
    assert.equal(existsSync(join(r.dir, 'eni-0000000d-libvirt.xml')), false, what);
    // The record and the domain still agree: every NIC of the record is in the domain with its MAC.
    assert.deepEqual(domainCoverageProblems(recordOf(inst.name), parseXml(await conn.getXML(inst.name, { inactive: true })), { file: 'domain' }), [], what);
  };
  const mac = `the <interface> has no MAC address d0:0d:00:00:00:0d, the NIC's (the <nic> of interface eni-0000000d): it has d0:0d:99:99:99:99;`;

  // A pre-attach hook editing eni-XXX-libvirt.xml: at that file, the <mac>'s line.
  await sb.script(sb.hooks, '40-mac', 'test "$1" = euca-nc-pre-attach && sed -i "s/d0:0d:00:00:00:0d/d0:0d:99:99:99:99/I" "$3"\nexit 0');
  try {
    await assert.rejects(nc.attachInterface(inst.name, eni(13)), (e: OperationError) => {
      assert.equal(e.code, 'DOMAIN_INVALID', e.message);
      assert.equal(e.step, 'pre-attach');
      assert.equal(e.file, join(r.dir, 'eni-0000000d-libvirt.xml'));
      assert.equal(e.line, 3);
      assert.equal(e.path, '/interface/mac/@address');
      assert.ok((e.cause as DomforgeError).shortMessage.startsWith(mac), e.message);
      assert.deepEqual(e.rollback.map((a) => [a.action, a.ok]), [['remove-device-xml', true], ['remove-stub', true]]);
      return true;
    });
    await unchanged('pre-attach hook');
    // One that removes the <mac>: libvirt would make one up.
    await sb.script(sb.hooks, '40-mac', 'test "$1" = euca-nc-pre-attach && sed -i "/<mac /d" "$3"\nexit 0');
    await assert.rejects(nc.attachInterface(inst.name, eni(13)), (e: OperationError) => e.code === 'DOMAIN_INVALID' && e.path === '/interface/mac' && /it has no <mac> \(libvirt would make one up\)/.test(e.message));
    await unchanged('pre-attach hook removing the <mac>');
  } finally {
    rmSync(join(sb.hooks, '40-mac'), { force: true });
  }

  // A filter: its output is refused as invalid.
  await sb.script(sb.filters, '40-mac', 'sed "s/d0:0d:00:00:00:0d/d0:0d:99:99:99:99/I"');
  try {
    await assert.rejects(nc.attachInterface(inst.name, eni(13)), (e: OperationError) => filterRefusal(e, '40-mac', '/interface/mac/@address').shortMessage.startsWith(mac));
    await unchanged('filter');
  } finally {
    rmSync(join(sb.filters, '40-mac'), { force: true });
  }

  // The transform's own /nic output.
  const xsl = join(sb.root, 'other-mac.xsl');
  writeFileSync(xsl, readFileSync(shippedTransform().file, 'utf8').replace(/<xsl:template match="\/nic">[\s\S]*?<\/xsl:template>/, '<xsl:template match="/nic"><interface type="bridge"><mac address="d0:0d:99:99:99:99"/><source bridge="{@bridgeDeviceName}"/></interface></xsl:template>'));
  const other = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: xsl });
  try {
    await assert.rejects(other.attachInterface(inst.name, eni(13)), (e: OperationError) => e.code === 'DOMAIN_INVALID' && e.step === 'render' && e.path === '/interface/mac/@address' && e.message.includes(`the <interface> has no MAC address d0:0d:00:00:00:0d`));
    await unchanged('transform');
  } finally {
    await other.close();
  }
  // Upper case in the stub, lower case from the transform: the same MAC.
  await nc.attachInterface(inst.name, eni(13, { mac: 'D0:0D:00:00:00:0D' }));
  assert.deepEqual(domainCoverageProblems(recordOf(inst.name), parseXml(await conn.getXML(inst.name)), { file: 'domain' }), []);
  await nc.terminate(inst.name);
});
