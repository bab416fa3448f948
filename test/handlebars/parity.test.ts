/**
 * The default Handlebars template gives the same libvirt XML as the default XSLT for every
 * input: every sample, every Eucalyptus reference input, and instances built here to reach
 * each branch of libvirt.xsl. Outputs are compared as trees (attribute order and
 * insignificant whitespace ignored); when the XSLT stops with a message, the template must
 * stop with the same one.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { basename, dirname } from 'node:path';
import { diffXml } from '../../engine/xml/compare.js';
import { eucaInputFiles, hbsTransform, outcome, read, sampleFiles, variant, xslTransform } from './fixtures.js';
import type { Instance } from '../../engine/instance/model.js';

/**
 * Renders with both transforms: first without validation, where the trees must be equal
 * (or both transforms stop with the same message); then with validation, where both must
 * pass or both fail alike.
 */
async function assertSame(text: string, params: Record<string, string> = {}): Promise<'equal' | 'both-failed'> {
  const result = await compare(text, params, false);
  if (result === 'equal') return compare(text, params, true);
  return result;
}

async function compare(text: string, params: Record<string, string>, validate: boolean): Promise<'equal' | 'both-failed'> {
  const a = await outcome(text, await xslTransform(), params, validate);
  const b = await outcome(text, await hbsTransform(), params, validate);
  if (a.ok && b.ok) {
    const d = diffXml(a.rendered.xml, b.rendered.xml, {}, ['xsl', 'hbs']);
    assert.equal(d, undefined, d && `${d.path}: ${d.message}\n--- xsl\n${a.rendered.xml}\n--- hbs\n${b.rendered.xml}`);
    assert.equal(b.rendered.outputRoot, a.rendered.outputRoot);
    return 'equal';
  }
  assert.ok(!a.ok && !b.ok, a.ok ? `hbs failed where xsl did not: ${(b as { error: Error }).error.message}` : `xsl failed where hbs did not: ${a.error.message}`);
  assert.equal(b.error.code, a.error.code, `xsl: ${a.error.message}\nhbs: ${b.error.message}`);
  if (a.error.code === 'TRANSFORM_MESSAGE') assert.ok(a.error.shortMessage.includes(b.error.shortMessage), `xsl: ${a.error.shortMessage}\nhbs: ${b.error.shortMessage}`);
  return 'both-failed';
}

describe('default libvirt.xml.hbs equals libvirt.xsl', () => {
  const samples = sampleFiles();
  test('there are samples to compare', () => assert.ok(samples.length >= 10, `only ${samples.length} samples`));
  for (const file of samples) {
    test(`sample ${basename(dirname(file))}`, async () => {
      assert.equal(await assertSame(read(file)), 'equal');
    });
  }

  for (const file of eucaInputFiles()) {
    const name = basename(file);
    test(`Eucalyptus input ${name}`, async () => {
      const result = await assertSame(read(file));
      // 09 is the negative case: Xen with a virtio disk must stop both transforms.
      assert.equal(result, name.startsWith('09-') ? 'both-failed' : 'equal');
    });
  }
});

/** Instances that reach each branch of libvirt.xsl; `fails` marks inputs both must refuse. */
const VARIANTS: { name: string; edit: (i: Instance) => void; params?: Record<string, string>; fails?: boolean }[] = [
  { name: 'hugepages with page size and nodeset', edit: (i) => (i.features.hugepages = { enabled: true, pageSizeKiB: 2048, nodeset: '0-1' }) },
  { name: 'hugepages, default page size', edit: (i) => (i.features.hugepages = { enabled: true }) },
  { name: 'hugepages disabled', edit: (i) => (i.features.hugepages = { enabled: false, pageSizeKiB: 2048, nodeset: '0' }) },
  { name: 'legacyDiskBus ide (virtio off)', edit: (i) => (legacyDisks(i), (i.features.legacyDiskBus = 'ide')) },
  { name: 'legacyDiskBus scsi (virtio-scsi controller)', edit: (i) => (legacyDisks(i), (i.features.legacyDiskBus = 'scsi')) },
  { name: 'q35: legacy disks on sata', edit: (i) => (legacyDisks(i), (i.machine = { type: 'pc-q35-7.2', arch: 'x86_64' })) },
  { name: 'q35 config drive on the next free sd', edit: (i) => (legacyDisks(i), (i.machine = { type: 'q35', arch: 'x86_64' }), configDrive(i)) },
  { name: 'q35 config drive skips a letter a volume takes', edit: (i) => (legacyDisks(i), (i.machine = { type: 'q35', arch: 'x86_64' }), configDrive(i), volume(i, 'attached', 'sdc')) },
  { name: 'aarch64: sata disks, config drive on scsi with its controller', edit: (i) => (legacyDisks(i), (i.machine = { type: 'virt', arch: 'aarch64' }), configDrive(i)) },
  { name: 'aarch64 with legacyDiskBus scsi: one controller', edit: (i) => (legacyDisks(i), (i.machine = { type: 'virt', arch: 'aarch64' }), (i.features.legacyDiskBus = 'scsi'), configDrive(i)) },
  { name: 'pc config drive as hdd', edit: (i) => configDrive(i) },
  { name: 'pc config drive refused when a disk takes hdd', edit: (i) => (legacyDisks(i), (i.disks.diskPaths[1]!.targetDeviceName = 'sdd'), configDrive(i)), fails: true },
  { name: 'windows on qemu, cpu passthrough only on kvm', edit: (i) => ((i.hypervisor.type = 'qemu'), (i.os.platform = 'windows'), (i.cpuPassthrough = true)) },
  { name: 'windows on kvm with cpu passthrough', edit: (i) => ((i.os.platform = 'windows'), (i.cpuPassthrough = true)) },
  { name: 'xen paravirtual kernel and ramdisk', edit: (i) => xenPv(i) },
  { name: 'xen without kernel (hvm)', edit: (i) => (xenPv(i), (i.kernel = undefined), (i.ramdisk = undefined)) },
  { name: 'xen disks named xvdX, config drive as hdd on IDE', edit: (i) => (xenPv(i), xvdNames(i), configDrive(i)) },
  { name: 'xen disks named xvdX, q35: config drive on the first free sd', edit: (i) => (xenPv(i), xvdNames(i), (i.machine = { type: 'q35', arch: 'x86_64' }), configDrive(i)) },
  { name: 'xen with a virtio disk is refused', edit: (i) => ((i.hypervisor.type = 'xen'), (i.nics = [])), fails: true },
  { name: '32-bit guest without <machine>: i686', edit: (i) => ((i.hypervisor.bitness = 32), (i.machine = undefined)) },
  { name: 'kernel without ramdisk, root from the first disk', edit: (i) => ((i.kernel = '/var/lib/k/vmlinuz'), (i.disks.root = undefined)) },
  { name: 'kernel, legacy root with partition', edit: (i) => (legacyDisks(i), (i.kernel = '/var/lib/k/vmlinuz'), (i.disks.root = { device: 'sda2' })) },
  { name: 'kernel, rootDirective with root= prefix', edit: (i) => ((i.kernel = '/var/lib/k/vmlinuz'), (i.rootDirective = '  root=LABEL=cloudimg-rootfs   ro ')) },
  { name: 'kernel, rootDirective', edit: (i) => ((i.kernel = '/var/lib/k/vmlinuz'), (i.rootDirective = 'UUID=0d4c ro quiet')) },
  { name: 'extra NICs with their own models', edit: (i) => extraNics(i) },
  { name: 'NicType none: no instance NICs, extra NICs stay', edit: (i) => ((i.NicType = 'none'), extraNics(i)) },
  { name: 'no NIC at all', edit: (i) => (i.nics = []) },
  { name: 'NIC model from NicType rtl8139', edit: (i) => ((i.NicType = 'rtl8139'), (i.nics[0]!.osVirtioNetwork = false)) },
  { name: 'NIC without osVirtioNetwork follows the OS', edit: (i) => ((i.nics[0]!.osVirtioNetwork = undefined), (i.os.virtioNetwork = false), (i.NicType = 'e1000')) },
  { name: 'NIC upper-case MAC, no guest device name', edit: (i) => ((i.nics[0]!.mac = 'D0:0D:AB:CD:EF:01'), (i.nics[0]!.guestDeviceName = undefined)) },
  { name: 'volumes: attached and attaching kept, detached dropped', edit: (i) => (volume(i, 'attached', 'vdc'), volume(i, 'attaching', 'vdd'), volume(i, 'detached', 'vde')) },
  { name: 'floppy disk on fdc', edit: (i) => (legacyDisks(i), i.disks.diskPaths.push({ path: '/var/lib/f/floppy', targetDeviceType: 'floppy', targetDeviceName: 'fda', targetDeviceBus: 'fdc', sourceType: 'file' })) },
  { name: 'console as pty, disk cache writeback (params)', edit: () => undefined, params: { consoleType: 'pty', diskCache: 'writeback' } },
  { name: 'no console log path', edit: (i) => (i.consoleLogPath = '') },
  { name: 'no VmType, reservation or owner', edit: (i) => ((i.VmType = ''), (i.reservation = ''), (i.owner = '')) },
  { name: 'disk serial numbers', edit: (i) => (i.disks.diskPaths[0]!.serial = 'root-serial-1') },
  {
    name: 'special characters in every text value',
    edit: (i) => {
      i.name = `i-<&"'>]]>é`;
      i.VmType = `m1.<&>`;
      i.owner = `"'quoted'"`;
      i.consoleLogPath = `/var/log/a & b "<c>" 'd' ]]>.log`;
      i.disks.diskPaths[1]!.path = `/var/lib/x&y<z>"'.img`;
      i.disks.diskPaths[1]!.serial = 'serial-1.2+3';
    },
  },
  { name: 'hyperv with several disks and a volume', edit: (i) => hyperv(i) },
  { name: 'hyperv with one disk and NicType none', edit: (i) => (hyperv(i), i.disks.diskPaths.splice(1), (i.NicType = 'none')) },
];

describe('default libvirt.xml.hbs equals libvirt.xsl on instances built for each branch', () => {
  for (const v of VARIANTS) {
    test(v.name, async () => {
      assert.equal(await assertSame(variant(v.edit), v.params), v.fails ? 'both-failed' : 'equal');
    });
  }
});

const NIC_STUBS: [string, string][] = [
  ['kvm, no virtio networking: e1000', `<nic vlan="-1" networkIndex="-1" mac="D0:0D:4E:7A:12:08" bridgeDeviceName="br0" guestDeviceName="vn_eni-1" device="1" hypervisorType="kvm" osPlatform="linux" osVirtioNetwork="false" attachmentId="eni-attach-1"/>`],
  ['kvm, virtio networking', `<nic mac="d0:0d:4e:7a:12:09" bridgeDeviceName="br0" device="2" hypervisorType="kvm" osVirtioNetwork="true"/>`],
  ['xen: no model', `<nic mac="d0:0d:4e:7a:12:0a" bridgeDeviceName="xenbr0" guestDeviceName="vif-1" hypervisorType="xen" osVirtioNetwork="false"/>`],
  ['no hypervisor type', `<nic mac="d0:0d:4e:7a:12:0b" bridgeDeviceName="br1" guestDeviceName="vn1"/>`],
  ['special characters (refused in both, at the stub: libvirt takes no & < " in a bridge name)', `<nic mac="d0:0d:4e:7a:12:0b" bridgeDeviceName="br&amp;&lt;&quot;'" guestDeviceName="vn&amp;1"/>`],
];
const VOLUME_STUBS: [string, string][] = [
  ['virtio by OS', volumeStub('true', 'scsi', 'block', 'sdh', 'vol-1-dev-sdh')],
  ['virtio by bus', volumeStub('false', 'virtio', 'file', 'vdc', '')],
  ['scsi, file, special characters', volumeStub('false', 'scsi', 'file', 'sdf', 's-1', '/var/lib/vol &amp; "x" &lt;y&gt;.img')],
  ['xvd name on virtio', volumeStub('true', 'xen', 'block', 'xvdb', '')],
  ['xvd name on scsi', volumeStub('false', 'xen', 'block', 'xvdc', '')],
];

describe('hot-plug stubs render the same fragment', () => {
  for (const [name, xml] of NIC_STUBS) test(`<nic> ${name}`, async () => assert.equal(await assertSame(xml), name.includes('refused in both') ? 'both-failed' : 'equal'));
  for (const [name, xml] of VOLUME_STUBS) test(`<volume> ${name}`, async () => assert.equal(await assertSame(xml), 'equal'));
});

function volumeStub(virtioDisk: string, bus: string, sourceType: string, dev: string, serial: string, path = '/dev/disk/by-path/ip-10.0.0.2:3260-lun-1'): string {
  return `<volume><hypervisor type="kvm" capability="hw" bitness="64"/><id>vol-1</id><user>U</user><instancePath>/i</instancePath>
<os platform="linux" virtioRoot="true" virtioDisk="${virtioDisk}" virtioNetwork="true"/><backing><root type="image"/></backing>
<diskPath targetDeviceType="disk" targetDeviceName="${dev}" targetDeviceBus="${bus}" sourceType="${sourceType}" serial="${serial}">${path}</diskPath></volume>`;
}

/** Virtio off: disks named sdX on the scsi bus, as Eucalyptus writes them. */
function legacyDisks(i: Instance): void {
  i.os.virtioDisk = false;
  i.os.virtioRoot = false;
  i.disks.diskPaths.forEach((d, k) => {
    d.targetDeviceName = `sd${'ab'[k] ?? 'c'}`;
    d.targetDeviceBus = 'scsi';
    d.targetDeviceNameVirtio = undefined;
    d.targetDeviceBusVirtio = undefined;
  });
  if (i.disks.root) i.disks.root.device = 'sda';
}

function configDrive(i: Instance): void {
  i.configDrive = { path: `${i.instancePath}/config-drive.iso`, label: 'config-2', layouts: ['openstack'] };
}

function volume(i: Instance, stateName: string, dev: string): void {
  const n = i.volumes.length;
  i.volumes.push({
    id: `vol-${n}`,
    attachmentToken: `tok${n}`,
    devName: dev,
    stateName,
    connectionString: '{}',
    libvirt: `<disk type="block" device="disk"><driver name="qemu" type="raw" cache="none"/><source dev="/dev/disk/by-id/vol-${n}"/><target dev="${dev}" bus="${dev.startsWith('v') ? 'virtio' : 'scsi'}"/><serial>vol-${n}</serial></disk>`,
  });
}

function xenPv(i: Instance): void {
  i.hypervisor.type = 'xen';
  i.kernel = '/var/lib/k/vmlinuz';
  i.ramdisk = '/var/lib/k/initrd';
  i.disks.diskPaths.forEach((d, k) => {
    d.targetDeviceName = `sd${'abc'[k]}`;
    d.targetDeviceBus = 'xen';
    d.targetDeviceNameVirtio = undefined;
    d.targetDeviceBusVirtio = undefined;
  });
  i.disks.root = { device: 'sda1' };
  i.nics.forEach((n) => (n.hypervisorType = 'xen'));
}

/** Xen disks named as the guest sees them (xvda, xvdb). */
function xvdNames(i: Instance): void {
  i.disks.diskPaths.forEach((d, k) => (d.targetDeviceName = `xvd${'abc'[k]}`));
  i.disks.root = { device: 'xvda' };
}

function extraNics(i: Instance): void {
  i.extraNics = [
    { mac: '52:54:00:AA:BB:01', bridgeDeviceName: 'br1', model: 'e1000', privateIp: '192.168.7.5' },
    { mac: '52:54:00:aa:bb:02', bridgeDeviceName: 'br2', model: 'virtio' },
  ];
}

function hyperv(i: Instance): void {
  i.hypervisor.type = 'hyperv';
  i.os.platform = 'windows';
  i.disks.diskPaths.push({ path: 'C:\\vm\\data2.vhdx', targetDeviceType: 'disk', targetDeviceName: 'sdc', targetDeviceBus: 'scsi', sourceType: 'file' });
  volume(i, 'attached', 'sdd');
}
