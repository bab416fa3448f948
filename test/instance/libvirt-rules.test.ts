// Each instance value the shipped transforms copy into the domain is held, where it is given,
// to the rule libvirt's schema (or libvirt's define) puts on the place it lands: a value
// libvirt refuses is an InstanceError at the instance's own file, line and path (XML and
// JSON), not a schema error at a line of the rendered output; a boundary value libvirt takes
// still renders through both shipped transforms, and libvirt's own virt-xml-validate takes
// the domain (the oracle that the rule is libvirt's, and no stricter).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InstanceError, closeConnections, connect, instanceFromJson, loadTransform, parseInstance, renderText, runVirtXmlValidate, validateInstance, type CompiledTransform } from '../../engine/index.js';
import { minimalJsonInstance } from './json-fixture.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const SAMPLE = readFileSync(join(ROOT, 'samples', '01-linux-virtio', 'instance.xml'), 'utf8');
let transforms: CompiledTransform[] = [];
test.before(async () => {
  transforms = await Promise.all(['libvirt.xsl', 'libvirt.xml.hbs'].map((f) => loadTransform(join(ROOT, 'transforms', f))));
});
test.after(() => closeConnections());

/** Sample 01 with `from` replaced by `to` (the edit must apply). */
function edit(from: string | RegExp, to: string, text = SAMPLE): string {
  const out = text.replace(from, to);
  assert.notEqual(out, text, `the edit applies: ${from}`);
  return out;
}

const escapeRegExp = (s: string) => s.replace(/[\^$.*+?()[\]{}|\\]/g, '\\$&');

/** 1-based line of the first `needle` in `text`. */
const lineOf = (text: string, needle: string) => {
  const i = text.indexOf(needle);
  assert.ok(i >= 0, needle);
  return text.slice(0, i).split('\n').length;
};

/** parseInstance refuses `text` at `path`, on the line of `needle`, with a message matching `message`. */
function refused(text: string, path: string, needle: string, message: RegExp): void {
  assert.throws(
    () => parseInstance(text, { file: 'i.xml' }),
    (e: unknown) => {
      assert.ok(e instanceof InstanceError, String(e));
      assert.deepEqual([e.file, e.path, e.line], ['i.xml', path, lineOf(text, needle)], e.message);
      assert.match(e.shortMessage, message);
      return true;
    },
  );
}

/** instanceFromJson refuses `data` (written with one key a line) at `path`, on the line of `needle`, with a message matching `message`. */
function jsonRefused(data: Record<string, unknown>, path: string, needle: string, message: RegExp): void {
  const text = JSON.stringify(data, null, 2);
  assert.throws(
    () => instanceFromJson(JSON.parse(text), { file: 'i.json', text }),
    (e: unknown) => {
      assert.ok(e instanceof InstanceError, String(e));
      assert.deepEqual([e.file, e.path, e.line], ['i.json', path, lineOf(text, needle)], e.message);
      assert.match(e.shortMessage, message);
      return true;
    },
  );
}

/** `text` renders through both shipped transforms and passes domforge's validation, and libvirt's virt-xml-validate takes the domain. */
async function accepted(text: string): Promise<string> {
  let xml = '';
  for (const transform of transforms) {
    const r = await renderText(text, { file: 'i.xml', transform });
    assert.equal(r.validated, true);
    const v = await runVirtXmlValidate(r.xml);
    assert.equal(v.valid, true, `${transform.kind}: ${v.stderr}\n${r.xml}`);
    xml = r.xml;
  }
  return xml;
}

/** libvirt's test driver defines the domain (for rules libvirt applies at define time, not in its schema), then it is undefined again. */
async function definedOnTestDriver(xml: string): Promise<void> {
  const conn = await connect({ uri: 'test:///default' });
  const ref = await conn.define(xml);
  await conn.undefine(ref.name);
}

const withKernel = (kernel: string, ramdisk?: string) =>
  edit('<ramdiskId/>', `<ramdiskId/>\n  <kernel>${kernel}</kernel>${ramdisk === undefined ? '' : `\n  <ramdisk>${ramdisk}</ramdisk>`}`);

test('kernel and ramdisk: a path libvirt\'s schema refuses ("/" alone, a line break in it) is refused at its element; a one-character name is taken', async () => {
  // absFilePath: "/" (or a drive), then at least one character, none of them a line break.
  for (const bad of ['/', '/boot/vmlinuz\n  ', '/boot/vm&#10;linuz', '/boot/vm&#13;linuz']) {
    refused(withKernel(bad), '/instance/kernel', '<kernel>', /^the kernel path must name a file after its leading "\/", on one line \(libvirt's schema\), got "/);
    refused(withKernel('/boot/vmlinuz', bad), '/instance/ramdisk', '<ramdisk>', /^the ramdisk path must name a file/);
  }
  jsonRefused({ ...minimalJsonInstance(), kernel: '/' }, '/instance/kernel', '"kernel"', /^the kernel path must name a file/);
  jsonRefused({ ...minimalJsonInstance(), kernel: '/k', ramdisk: '/initrd\n' }, '/instance/ramdisk', '"ramdisk"', /^the ramdisk path must name a file/);
  const xml = await accepted(withKernel('/k', '/ a\t b'));
  assert.match(xml, /<kernel>\/k<\/kernel>/);
});

const ROOT_DISK = '>/dev/mapper/euca-i-0a000001-root<';
const FILE_DISK = '>/var/lib/domforge/instances/i-0a000001/ephemeral0.img<';
const jsonDisk = (path: string, sourceType: string) => ({ ...minimalJsonInstance(), disks: { diskPaths: [{ targetDeviceName: 'vda', targetDeviceBus: 'virtio', sourceType, path }] } });

test("a disk's backing path libvirt's schema refuses for its source type is refused at its <diskPath>; what a file or block <source> takes still renders", async () => {
  // file (diskSourceFile): absFilePath or vmwarePath; block (diskSourceBlock): absFilePath or deviceName.
  for (const bad of ['ephemeral0.img', '/', '/var/x&#10;.img', '[ds1]x.vmdk']) refused(edit(FILE_DISK, `>${bad}<`), '/instance/disks/diskPath[2]', 'targetDeviceName="vdb"', /^the backing path of a file disk must be an absolute path \(\/… or C:\\…\) naming a file after its first '\/' or '\\', or a VMware one \(\[datastore\] path\), on one line \(libvirt's schema\), got "/);
  for (const bad of ['my disk', '/dev/x&#13;y', 'dev/x;y']) refused(edit(ROOT_DISK, `>${bad}<`), '/instance/disks/diskPath[1]', 'targetDeviceName="vda"', /^the backing path of a block disk must be an absolute path \(\/… or C:\\…\) on one line, or a device name of letters, digits/);
  jsonRefused(jsonDisk('root.img', 'file'), '/instance/disks/diskPath', '"path"', /^the backing path of a file disk/);
  jsonRefused(jsonDisk('/dev/a b\n', 'block'), '/instance/disks/diskPath', '"path"', /^the backing path of a block disk/);
  // Boundaries libvirt takes: a one-character name, a VMware path and a drive for a file; "/", a relative device name and a space for a block device.
  for (const [file, block] of [['/x', '/'], ['[ds1] vm/x.vmdk', 'dev/mapper/root'], ['C:\\VMs\\x.vhdx', '/dev/my disk']]) {
    const xml = await accepted(edit(ROOT_DISK, `>${block}<`, edit(FILE_DISK, `>${file}<`)));
    assert.ok(xml.includes(`file="${file}"`) && xml.includes(`dev="${block}"`), xml);
  }
});

test('an Instance built in code with a disk source or device type the parsers never give is refused at that attribute, as a bus is', () => {
  for (const [field, value] of [['sourceType', 'network'], ['targetDeviceType', 'lun']] as const) {
    const inst = parseInstance(SAMPLE);
    (inst.disks.diskPaths[1] as unknown as Record<string, string>)[field] = value;
    assert.throws(() => validateInstance(inst), (e: unknown) => e instanceof InstanceError && e.path === `/instance/disks/diskPath[2]/@${field}` && e.shortMessage.startsWith(`unknown ${field === 'sourceType' ? 'source' : 'device'} type "${value}" (expected `));
  }
});

test('a guest device name without a drive letter after its prefix (vd, sd1, xvd) is refused at its <diskPath>; any name with one still renders and is defined', async () => {
  // The transforms write the bus's prefix and what follows the name's own: sd1 on virtio is vd1, which
  // libvirt cannot parse at define time; vd alone the schema refuses (diskTargetDev).
  for (const bad of ['vd', 'sd1', 'xvd', 'xvd2']) {
    refused(edit('targetDeviceName="vdb"', `targetDeviceName="${bad}"`), '/instance/disks/diskPath[2]/@targetDeviceName', `targetDeviceName="${bad}"`, new RegExp(`^the guest device name "${bad}" has no drive letter after its prefix ${bad.startsWith('xvd') ? 'xvd' : bad.slice(0, 2)}: .* \\(expected e\\.g\\. vda, sdb, xvdc\\)$`));
  }
  jsonRefused({ ...minimalJsonInstance(), disks: { diskPaths: [{ path: '/r.img', targetDeviceBus: 'virtio', targetDeviceName: 'sd' }] } }, '/instance/disks/diskPath/@targetDeviceName', '"targetDeviceName"', /^the guest device name "sd" has no drive letter/);
  // One letter after the prefix is enough, whatever the prefix: abz on virtio is vdz.
  for (const good of ['xvdc', 'abz', 'sdzz']) {
    const xml = await accepted(edit('targetDeviceName="vdb"', `targetDeviceName="${good}"`));
    await definedOnTestDriver(xml);
  }
});

test("a partition in a guest device name (vdb1) is refused at its <diskPath> on KVM and QEMU, whose libvirt driver attaches whole disks; Xen's partition images (sda1) still render, validate and define", async () => {
  for (const type of ['kvm', 'qemu']) {
    const text = edit('targetDeviceName="vdb" targetDeviceNameVirtio="vdb"', 'targetDeviceName="vdb1" targetDeviceNameVirtio="vdb1"', type === 'kvm' ? SAMPLE : edit('<hypervisor type="kvm"', '<hypervisor type="qemu"'));
    refused(text, '/instance/disks/diskPath[2]/@targetDeviceName', 'targetDeviceName="vdb1"', new RegExp(`^the guest device name "vdb1" names partition 1 of a disk; on ${type}, libvirt's QEMU driver attaches whole disks`));
  }
  const xen = readFileSync(join(ROOT, 'samples', '05-xen-pv-kernel-ramdisk', 'instance.xml'), 'utf8');
  const xml = await accepted(edit('targetDeviceName="xvda" targetDeviceNameVirtio="vda"', 'targetDeviceName="sda1" targetDeviceNameVirtio="vda1"', xen));
  assert.match(xml, /<target dev="xvda1" bus="xen"\/>/);
  await definedOnTestDriver(xml);
});

const NIC = 'bridgeDeviceName="br0" guestDeviceName="vn_i-0a000001"';
const withExtraNic = (attrs: string) => edit('</instance>', `  <extraNics>\n    <nic mac="d0:0d:00:00:00:09" ${attrs}/>\n  </extraNics>\n</instance>`);

test("a NIC's bridge, tap name or (extra NIC) model libvirt's schema refuses is refused at its <nic>; an empty bridge, spaces, ':', '/' and '\\' in a bridge, '\\' and '.' in a tap are taken", async () => {
  const nic = '/instance/nics/nic';
  for (const bad of ['br0;x', 'br0&#10;', 'brü']) {
    refused(edit(NIC, NIC.replace('br0', bad)), `${nic}/@bridgeDeviceName`, '<nic ', /^the bridge name ".*" may hold only letters, digits, '_', '\.', '-', '\\', ':', '\/' and spaces \(libvirt's schema\)$/);
    refused(withExtraNic(`bridgeDeviceName="${bad}"`), '/instance/extraNics/nic/@bridgeDeviceName', '00:09', /^the bridge name/);
  }
  for (const bad of ['vn i-0a000001', 'vn&amp;1', 'tap+1']) {
    refused(edit(NIC, NIC.replace('vn_i-0a000001', bad)), `${nic}/@guestDeviceName`, '<nic ', /^the tap device name ".*" may hold only letters, digits, '_', '\.', '-', '\\', ':' and '\/' \(libvirt's schema\)$/);
  }
  for (const bad of ['e1000.1', 'virtio net', '']) {
    refused(withExtraNic(`bridgeDeviceName="br1" model="${bad}"`), '/instance/extraNics/nic/@model', '00:09', /^the NIC model ".*" may hold only letters, digits, '_' and '-' \(libvirt's schema\)$/);
  }
  const json = minimalJsonInstance();
  jsonRefused({ ...json, nics: [{ ...json.nics[0], bridgeDeviceName: 'br 0;' }] }, `${nic}/@bridgeDeviceName`, '"bridgeDeviceName"', /^the bridge name "br 0;"/);
  jsonRefused({ ...json, nics: [{ ...json.nics[0], guestDeviceName: 'vn 1' }] }, `${nic}/@guestDeviceName`, '"guestDeviceName"', /^the tap device name "vn 1"/);
  jsonRefused({ ...json, extraNics: [{ mac: 'd0:0d:00:00:00:09', bridgeDeviceName: 'br1', model: 'e1000.x' }] }, '/instance/extraNics/nic/@model', '"model"', /^the NIC model "e1000.x"/);
  // What the schema takes: an empty bridge on an instance NIC, the rest of each character set
  // (of the tap's, what Linux also takes in an interface name: not its ':' and '/').
  const xml = await accepted(withExtraNic('bridgeDeviceName="External vSwitch 2\\a:b/c.d-e_f" model="e1000-x_2"').replace(NIC, 'bridgeDeviceName="" guestDeviceName="a\\b.c-d_e"'));
  assert.match(xml, /<source bridge=""\/>/);
  await definedOnTestDriver(xml);
});

test("a NIC's tap name longer than Linux names an interface (15 bytes, IFNAMSIZ less its NUL) is refused at its <nic>, from instance.xml, JSON or code; 15 bytes are taken", async () => {
  const nic = '/instance/nics/nic';
  const long = `vn_${'e'.repeat(37)}`; // 40 characters
  const message = new RegExp(`^the tap device name "${long}" is 40 bytes long; a network interface's name is at most 15 bytes \\(Linux's IFNAMSIZ, 16, less its NUL\\), and the host would refuse to create the tap when the domain starts or the interface is attached$`);
  refused(edit(NIC, NIC.replace('vn_i-0a000001', long)), `${nic}/@guestDeviceName`, '<nic ', message);
  refused(edit(NIC, NIC.replace('vn_i-0a000001', 'vn_eni-1a2b3c4d5')), `${nic}/@guestDeviceName`, '<nic ', /^the tap device name "vn_eni-1a2b3c4d5" is 16 bytes long/);
  const json = minimalJsonInstance();
  jsonRefused({ ...json, nics: [{ ...json.nics[0], guestDeviceName: long }] }, `${nic}/@guestDeviceName`, '"guestDeviceName"', message);
  const inst = parseInstance(SAMPLE);
  assert.throws(() => validateInstance({ ...inst, nics: [{ ...inst.nics[0]!, guestDeviceName: long }] }), (e: unknown) => e instanceof InstanceError && e.path === `${nic}/@guestDeviceName` && message.test(e.shortMessage));
  // Eucalyptus's own form, vn_ and an 8-digit interface id, is 15 bytes: rendered and defined.
  const xml = await accepted(edit(NIC, NIC.replace('vn_i-0a000001', 'vn_eni-1a2b3c4d')));
  assert.match(xml, /<target dev="vn_eni-1a2b3c4d"\/>/);
  await definedOnTestDriver(xml);
});

test("a NIC's tap name Linux refuses as an interface name ('.', '..', a '/', a ':') is refused at its <nic>, from instance.xml, JSON or code; '...', '.x' and '\\' are taken", async () => {
  const nic = '/instance/nics/nic';
  const rule = "a network interface is named other than '.' and '..', with no '/', ':' or whitespace \\(the kernel's dev_valid_name\\), and the host would refuse to create the tap when the domain starts or the interface is attached$";
  for (const [bad, found] of [
    ['vn:eni-1', 'holds ":"'],
    ['vn/eni-1', 'holds "/"'],
    ['.', "is reserved \\('\\.' and '\\.\\.' name folders in /sys/class/net\\)"],
    ['..', "is reserved \\('\\.' and '\\.\\.' name folders in /sys/class/net\\)"],
  ] as [string, string][]) {
    const message = new RegExp(`^the tap device name "${bad.replace(/[.]/g, '\\.')}" ${found}; ${rule}`);
    refused(edit(NIC, NIC.replace('vn_i-0a000001', bad)), `${nic}/@guestDeviceName`, '<nic ', message);
    const json = minimalJsonInstance();
    jsonRefused({ ...json, nics: [{ ...json.nics[0], guestDeviceName: bad }] }, `${nic}/@guestDeviceName`, '"guestDeviceName"', message);
    const inst = parseInstance(SAMPLE);
    assert.throws(() => validateInstance({ ...inst, nics: [{ ...inst.nics[0]!, guestDeviceName: bad }] }), (e: unknown) => e instanceof InstanceError && e.path === `${nic}/@guestDeviceName` && message.test(e.shortMessage));
  }
  // Whitespace, which Linux refuses too, is already outside libvirt's deviceName.
  refused(edit(NIC, NIC.replace('vn_i-0a000001', 'vn&#9;1')), `${nic}/@guestDeviceName`, '<nic ', /^the tap device name "vn\\t1" may hold only letters/);
  for (const good of ['...', '.x', 'vn\\1.2']) {
    const xml = await accepted(edit(NIC, NIC.replace('vn_i-0a000001', good)));
    assert.match(xml, new RegExp(`<target dev="${good.replace(/[.\\\\]/g, '\\$&')}"/>`));
    await definedOnTestDriver(xml);
  }
});

/** Whether this host's kernel makes a tap named `name` (`ip tuntap add`, in a network namespace of a user namespace of its own); undefined when no tap can be made here at all. */
function kernelTakes(name: string): boolean | undefined {
  const r = spawnSync('unshare', ['-rn', 'ip', 'tuntap', 'add', 'dev', name, 'mode', 'tap'], { stdio: 'ignore', timeout: 10_000 });
  return r.status === 0 ? true : r.error || r.status === null ? undefined : false;
}
const tapsHere = kernelTakes('vn_probe') === true;

test("the tap names validateInstance refuses for Linux are the ones this host's kernel refuses, and those it takes are made", { skip: tapsHere ? false : 'no tap can be made here (unshare -rn ip tuntap add)' }, () => {
  const inst = parseInstance(SAMPLE);
  const domforgeTakes = (tap: string) => {
    try {
      validateInstance({ ...inst, nics: [{ ...inst.nics[0]!, guestDeviceName: tap }] });
      return true;
    } catch {
      return false;
    }
  };
  for (const tap of ['vn:1', 'vn/1', '.', '..', 'vn 1', 'vn\t1', 'x'.repeat(16), '...', '.x', 'a\\b.c-d_e', 'x'.repeat(15), 'vn_eni-1a2b3c4d']) {
    assert.equal(domforgeTakes(tap), kernelTakes(tap), JSON.stringify(tap));
  }
});

const withMachine = (type: string, arch: string) => edit('</instance>', `  <machine type="${type}" arch="${arch}"/>\n</instance>`);

test("a machine architecture libvirt's schema does not list is refused at <machine>; each it lists, the first and the last, still renders", async () => {
  for (const bad of ['x86', 'amd64', 'arm64', 'i386']) {
    refused(withMachine('pc', bad), '/instance/machine/@arch', '<machine ', new RegExp(`^not an architecture libvirt knows: "${bad}" \\(expected one of aarch64, alpha, .*, x86_64, xtensa, xtensaeb: libvirt's schema\\)$`));
  }
  jsonRefused({ ...minimalJsonInstance(), machine: { type: 'pc', arch: 'amd64' } }, '/instance/machine/@arch', '"arch"', /^not an architecture libvirt knows: "amd64"/);
  for (const arch of ['aarch64', 'i686', 'ppc64le', 'xtensaeb']) {
    assert.match(await accepted(withMachine(arch === 'aarch64' ? 'virt' : 'pc', arch)), new RegExp(`<type arch="${arch}"`));
  }
});

const withNodeset = (nodeset: string) => edit('</instance>', `  <features>\n    <hugepages nodeset="${nodeset}"/>\n  </features>\n</instance>`);

test('a hugepages nodeset libvirt refuses, by its schema or when it defines the domain, is refused at <hugepages>; what both take still renders and is defined', async () => {
  const path = '/instance/features/hugepages/@nodeset';
  // The schema's cpuset: a ^ before a single node only.
  for (const bad of ['^1-2', '0,', '0;1', '0 1']) refused(withNodeset(bad), path, '<hugepages', /^not a NUMA nodeset: ".*" \(expected node numbers and low-high ranges separated by commas, \^N leaving node N out, e\.g\. 0, 0-1, 0,2, 0-3,\^2: libvirt's schema\)$/);
  // What libvirt's bitmap parser and numatune refuse at define time (virsh -c test:///default define: "Failed to parse bitmap '3-1'", "Invalid value of 'nodeset': ^0").
  refused(withNodeset('3-1'), path, '<hugepages', /^the range 3-1 in the nodeset "3-1" ends before it starts, which libvirt refuses \(write it 1-3\)$/);
  for (const [bad, node] of [['16384', '16384'], ['0-16384', '16384'], ['^16384,1', '16384'], ['2,^99999', '99999']]) {
    refused(withNodeset(bad), path, '<hugepages', new RegExp(`^node ${node} in the nodeset "${escapeRegExp(bad)}" is past 16383, the last node libvirt takes$`));
  }
  for (const bad of ['^0', '0,^0', '1-2,^1,^2']) refused(withNodeset(bad), path, '<hugepages', /^the nodeset ".*" leaves no node \(each \^N takes out a node named before it\), which libvirt refuses$/);
  jsonRefused({ ...minimalJsonInstance(), features: { hugepages: { nodeset: '0,^0' } } }, path, '"nodeset"', /^the nodeset "0,\^0" leaves no node/);
  // The boundaries both take: the last node, a range to it, a ^ before the node that puts it back, a range of one, leading zeros.
  for (const good of ['16383', '0-16383', '^0,0', '1-1', '0,^1', '007']) {
    const xml = await accepted(withNodeset(good));
    assert.ok(xml.includes(`nodeset="${good}"`), xml);
    await definedOnTestDriver(xml);
  }
});

test('a config drive path libvirt\'s schema refuses ("/" alone, a line break in it) is refused at <configDrive>; a one-character name is taken', async () => {
  const withDrive = (path: string) => edit('</instance>', `  <configDrive path="${path}"/>\n</instance>`);
  for (const bad of ['/', '/var/cd&#10;.iso', '/var/cd&#13;.iso']) {
    refused(withDrive(bad), '/instance/configDrive/@path', '<configDrive', /^the config drive path must name a file after its leading "\/", on one line \(libvirt's schema\), got "/);
  }
  jsonRefused({ ...minimalJsonInstance(), configDrive: { path: '/' } }, '/instance/configDrive/@path', '"path": "/"', /^the config drive path must name a file/);
  for (const good of ['/c', '/var/lib/config drive.iso']) assert.ok((await accepted(withDrive(good))).includes(`<source file="${good}"/>`));
});

test("memoryKB past libvirt's limit (2^53 - 1 KiB, just under 8 EiB) is refused at /instance/memoryKB; the limit itself renders, validates and is defined", async () => {
  const path = '/instance/memoryKB';
  const withMemory = (kib: string) => edit('<memoryKB>2097152</memoryKB>', `<memoryKB>${kib}</memoryKB>`);
  for (const bad of ['9007199254740992', '18014398509481984']) refused(withMemory(bad), path, '<memoryKB>', new RegExp(`^number out of range: ${bad} is past 9007199254740991, the largest whole number domforge reads$`));
  jsonRefused({ ...minimalJsonInstance(), memoryKB: 2 ** 54 }, path, '"memoryKB"', /^number out of range: 18014398509481984 \(number\) is past 9007199254740991/);
  // An Instance built in code carries any number: libvirt's own limit, in its words.
  for (const bad of [2 ** 53, 2 ** 60]) {
    const inst = parseInstance(SAMPLE);
    inst.memoryKB = bad;
    assert.throws(
      () => validateInstance(inst),
      (e: unknown) => e instanceof InstanceError && e.path === path && e.shortMessage === `memoryKB ${bad} is too large: libvirt takes memory sizes up to 9007199254740991 KiB (just under 8 EiB) and refuses more as a numerical overflow`,
    );
  }
  const xml = await accepted(withMemory('9007199254740991'));
  assert.match(xml, /<memory unit="KiB">9007199254740991<\/memory>/);
  await definedOnTestDriver(xml);
});

test('a NicType Eucalyptus does not write (e1000e, VIRTIO) is refused at <NicType>, not rendered as e1000; each it writes renders its model in both transforms', async () => {
  const path = '/instance/NicType';
  const withNicType = (type: string, text = SAMPLE) => (type === 'virtio' ? text : edit('<NicType>virtio</NicType>', `<NicType>${type}</NicType>`, text));
  const known = 'virtio, e1000, rtl8139, none, the NIC types Eucalyptus writes and the shipped transforms know';
  for (const [bad, near] of [['e1000e', 'e1000'], ['VIRTIO', 'virtio'], [' rtl8139 ', 'rtl8139'], ['ne2k_pci', undefined]] as const) {
    const hint = near ? `; did you mean ${near}\\?` : '';
    refused(withNicType(bad), path, '<NicType>', new RegExp(`^NicType ${escapeRegExp(JSON.stringify(bad))} is not one of ${known}${hint} \\(a NIC of another model goes in <extraNics>, with its model\\)$`));
  }
  jsonRefused({ ...minimalJsonInstance(), NicType: 'e1000e' }, path, '"NicType"', /^NicType "e1000e" is not one of virtio, e1000, rtl8139, none/);
  // Without virtio networking the NIC's model is the NicType's (e1000 for virtio or none given); with it, virtio.
  const legacy = edit('virtioNetwork="true"', 'virtioNetwork="false"', edit('osVirtioNetwork="true"', 'osVirtioNetwork="false"'));
  for (const [type, model] of [['rtl8139', 'rtl8139'], ['e1000', 'e1000'], ['virtio', 'e1000'], ['', 'e1000']]) {
    const xml = await accepted(withNicType(type, legacy));
    assert.deepEqual(xml.match(/<model type="[^"]*"\/>/g), [`<model type="${model}"/>`], type);
  }
  assert.deepEqual((await accepted(withNicType('rtl8139'))).match(/<model type="[^"]*"\/>/g), ['<model type="virtio"/>']);
  assert.doesNotMatch(await accepted(withNicType('none')), /<interface/);
});

test('a model attribute on an instance NIC is refused at it (the shipped transforms disagree on it); another attribute, or a prefixed model, is kept', async () => {
  const path = '/instance/nics/nic/@model';
  const message = /^a Eucalyptus <nic> has no model attribute \(model="e1000e"\): its model follows osVirtioNetwork and NicType, .*; a NIC of another model goes in <extraNics>, with its model$/;
  refused(edit('osVirtioNetwork="true"', 'osVirtioNetwork="true" model="e1000e"'), path, '<nic ', message);
  const inst = parseInstance(SAMPLE);
  inst.nics[0]!.unknownAttributes = [{ name: 'model', value: 'e1000e' }];
  assert.throws(() => validateInstance(inst), (e: unknown) => e instanceof InstanceError && e.path === path && message.test(e.shortMessage));
  // Another attribute, or a model in another namespace, is kept as before.
  inst.nics[0]!.unknownAttributes = [{ name: 'model', value: 'e1000e', namespace: 'urn:x' }, { name: 'speed', value: '10G' }];
  validateInstance(inst);
});
