// JSON instance descriptions: errors at the faulty value's own line, duplicate keys refused,
// only what instance.xml can carry accepted, and nothing a value holds can add XML around it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { instanceFromJson, readInstanceJsonFile, emitInstance, parseInstance, validateInstance, InstanceError } from '../../engine/index.js';
import { cli } from '../render/cli.js';
import { minimalJsonInstance } from './json-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'domforge-json-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const base = minimalJsonInstance;
const DISK = '<disk type="file" device="disk"><source file="/v.img"/><target dev="vdz" bus="virtio"/></disk>';
let n = 0;
const write = (text: string) => {
  const f = join(dir, `d${++n}.json`);
  writeFileSync(f, text);
  return f;
};
/** 1-based line of the `k`-th (1-based) occurrence of `needle`. */
const lineOf = (text: string, needle: string, k = 1) => {
  let i = -1;
  for (let c = 0; c < k; c++) i = text.indexOf(needle, i + 1);
  assert.ok(i >= 0, needle);
  return text.slice(0, i).split(/\r\n|\r|\n/).length;
};
async function rejectsAt(text: string, line: number, message: RegExp, path?: string) {
  const f = write(text);
  await assert.rejects(readInstanceJsonFile(f), (e: InstanceError) => {
    assert.ok(e instanceof InstanceError, String(e));
    assert.equal(e.file, f);
    assert.equal(e.line, line, e.message);
    assert.match(e.message, message);
    if (path) assert.equal(e.path, path);
    return true;
  });
}

test('a string longer than libxml2 reads in one text node (10,000,000 bytes; userDataText once base64-encoded) is refused at its JSON line', async () => {
  const { userData: _, ...rest } = base() as Record<string, unknown>;
  // 7,500,000 bytes of text are 10,000,000 of base64: read.
  const most = instanceFromJson({ ...rest, userDataText: 'x'.repeat(7_500_000) });
  assert.equal(most.userData.length, 10_000_000);
  const text = JSON.stringify({ ...rest, userDataText: 'x'.repeat(7_500_001) }, null, 2);
  await rejectsAt(text, lineOf(text, '"userDataText"'), /the text, base64-encoded, is 10000004 bytes \(UTF-8\), more than the 10000000 libxml2 reads in one text node/, '/instance/userDataText');
  const data = JSON.stringify({ ...rest, userData: 'QUJD'.repeat(2_500_000) + '=' }, null, 2);
  await rejectsAt(data, lineOf(data, '"userData"'), /the value is 10000001 bytes/, '/instance/userData');
  const meta = JSON.stringify({ ...rest, metadata: { motd: 'm'.repeat(10_000_001) } }, null, 2);
  await rejectsAt(meta, lineOf(meta, '"motd"'), /the value is 10000001 bytes/);
});

test('volumes[].libvirt must be one <disk> element: XML that closes <libvirt> and adds a NIC is refused at its JSON line', async () => {
  const d = { ...base(), volumes: [{ id: 'vol-1', libvirt: `${DISK}</libvirt></volume></volumes><nics><nic vlan="-1" networkIndex="-1" mac="d0:0d:00:00:00:99" bridgeDeviceName="evilbr" device="7"/></nics><volumes><volume><id>x</id><libvirt>${DISK}` }] };
  const text = JSON.stringify(d, null, 2);
  await rejectsAt(text, lineOf(text, '"libvirt"'), /not one well-formed <disk> element/, '/instance/volumes/volume[1]/libvirt');
  const f = write(text);
  const r = await cli(['render', '--instance', f, '--out', join(dir, 'never.xml')]);
  assert.equal(r.code, 1);
  assert.doesNotMatch(r.stdout + r.stderr, /evilbr/);
  assert.equal(existsSync(join(dir, 'never.xml')), false);
  for (const bad of ['<interface/>', `${DISK}${DISK}`, 'text', '']) {
    assert.throws(() => instanceFromJson({ ...base(), volumes: [{ id: 'vol-1', libvirt: bad }] }), InstanceError, bad);
  }
  // A good one is kept as the XML form keeps it.
  const good = instanceFromJson({ ...base(), volumes: [{ id: 'vol-1', libvirt: `\n  ${DISK.replace('><source', '>\n    <source')}\n` }] });
  assert.equal(good.volumes[0]!.libvirt, DISK);
});

test("volumes[].libvirt nested more than 252 levels below <disk> (256 below <instance> once written) is refused at its JSON line, at 10,000 and 99,000 levels too; 252 are kept", async () => {
  const disk = (n: number) => `<disk type="file" device="disk">${'<a>'.repeat(n)}${'</a>'.repeat(n)}</disk>`;
  const ok = instanceFromJson({ ...base(), volumes: [{ id: 'vol-1', libvirt: disk(252) }] });
  assert.equal(parseInstance(emitInstance(ok)).volumes[0]!.libvirt, ok.volumes[0]!.libvirt);
  const column = disk(1).indexOf('<a>') + 1 + 3 * 252;
  for (const n of [253, 10_000, 99_000]) {
    const text = JSON.stringify({ ...base(), volumes: [{ id: 'vol-1', libvirt: disk(n) }] }, null, 2);
    await rejectsAt(
      text,
      lineOf(text, '"libvirt"'),
      new RegExp(`the volume's libvirt XML is nested too deeply: <a> \\(its line 1, column ${column}\\) is more than 252 levels below <disk>, so more than 256 below the root element of instance\\.xml`),
      '/instance/volumes/volume[1]/libvirt',
    );
  }
});

test('emitInstance cannot be made to write XML outside <libvirt>, an unknown element or a state entry, whatever an Instance holds', () => {
  const inst = instanceFromJson({ ...base(), volumes: [{ id: 'vol-1', libvirt: DISK }] });
  const evil = `${DISK}</libvirt></volume></volumes><nics><nic mac="d0:0d:00:00:00:99"/></nics><volumes><volume><libvirt>${DISK}`;
  assert.throws(() => emitInstance({ ...inst, volumes: [{ ...inst.volumes[0]!, libvirt: evil }] }), (e: InstanceError) => e instanceof InstanceError && e.path === '/instance/volumes/volume[1]/libvirt');
  assert.throws(() => emitInstance({ ...inst, unknown: [{ name: 'x', xml: '<x/><nics/>' }] }), InstanceError);
  assert.throws(() => emitInstance({ ...inst, states: [['a><nics/><b', 'x']] }), InstanceError);
  // What is kept comes back the same.
  const ok = { ...inst, unknown: [{ name: 'future', xml: '<future a="1"><b/></future>' }], states: [['first', 'x']] as [string, string][] };
  const back = parseInstance(emitInstance(ok));
  assert.deepEqual([back.volumes[0]!.libvirt, back.unknown, back.states], [DISK, ok.unknown, ok.states]);
});

test('disks.root of another type than an object is refused at its JSON line, not read as no root; null is no root, as for other optional objects', async () => {
  // A falsy value ("", 0, false) used to be skipped silently: the instance had no root disk.
  const disks = base().disks;
  for (const bad of ['', 0, false, 'vda']) {
    const text = JSON.stringify({ ...base(), disks: { ...disks, root: bad } }, null, 2);
    await rejectsAt(text, lineOf(text, '"root"'), new RegExp(`expected an object, got ${JSON.stringify(JSON.stringify(bad)).slice(1, -1)} \\(${typeof bad}\\)`), '/instance/disks/root');
  }
  assert.equal(instanceFromJson({ ...base(), disks: { ...disks, root: null } }).disks.root, undefined);
  assert.deepEqual(instanceFromJson({ ...base(), disks: { ...disks, root: { device: 'vda' } } }).disks.root, { device: 'vda', uuid: undefined });
});

test('states and timestamps keys that are not XML names are refused at their JSON line', async () => {
  for (const field of ['states', 'timestamps']) {
    const text = JSON.stringify({ ...base(), [field]: { ok: 'x', '1st': 'y' } }, null, 2);
    await rejectsAt(text, lineOf(text, '"1st"'), /"1st" is not an XML element name/);
  }
});

test('hypervisor.bitness other than 32 or 64 is refused (as in XML), not read as 64', async () => {
  const text = JSON.stringify({ ...base(), hypervisor: { type: 'kvm', bitness: 16 } }, null, 2);
  await rejectsAt(text, lineOf(text, '"bitness"'), /expected one of 32, 64/, '/instance/hypervisor/@bitness');
  assert.equal(instanceFromJson({ ...base(), hypervisor: { type: 'kvm', bitness: 32 } }).hypervisor.bitness, 32);
  assert.equal(instanceFromJson({ ...base(), hypervisor: { type: 'kvm' } }).hypervisor.bitness, 64);
});

test('a key given twice in one object is refused at the second, naming the first', async () => {
  const text = JSON.stringify(base(), null, 2).replace('"cores": 1,', '"cores": 1,\n  "memoryKB": 2048,');
  await rejectsAt(text, lineOf(text, '"memoryKB"', 2), new RegExp(`"memoryKB" is given twice in one object \\(first at line ${lineOf(text, '"memoryKB"')}\\)`));
  // In a nested object too, and in instanceFromJson's text.
  const nested = JSON.stringify(base(), null, 2).replace('"type": "kvm"', '"type": "kvm", "type": "qemu"');
  await rejectsAt(nested, lineOf(nested, '"qemu"'), /"type" is given twice/);
});

test('errors point at the faulty value, not the first key of its name; CR, LF and CRLF all end lines', async () => {
  const d = base();
  d.nics.push({ mac: 'd0:0d:00:00:00:0Z', bridgeDeviceName: 'br0' });
  for (const eol of ['\n', '\r\n', '\r']) {
    const text = JSON.stringify(d, null, 2).replace(/\n/g, eol);
    await rejectsAt(text, lineOf(text, '"mac"', 2), /malformed MAC/, '/instance/nics/nic[2]/@mac');
    const zero = JSON.stringify({ ...base(), cores: 0 }, null, 2).replace(/\n/g, eol);
    await rejectsAt(zero, lineOf(zero, '"cores"'), /cores must be/);
  }
  const disks = { ...base(), disks: { diskPaths: [base().disks.diskPaths[0]!, { path: '/x', targetDeviceName: 'vd1x', targetDeviceBus: 'virtio' }] } };
  const text = JSON.stringify(disks, null, 2);
  await rejectsAt(text, lineOf(text, '"targetDeviceName"', 2), /guest device name/);
  const meta = JSON.stringify({ ...base(), metadata: { a: 'x', '': 'y' } }, null, 2);
  await rejectsAt(meta, lineOf(meta, '"": "y"'), /needs a key/);
});

test('a name that is only whitespace, or has whitespace around it, is refused at its JSON line (it was found only in the XML written from the JSON, at that XML\'s line)', async () => {
  // instance.xml's <name> is read trimmed: "   " was refused by the render's re-read of the
  // written XML (x.json:7:3, a line of that XML), and " i-1 " rendered as a domain named "i-1".
  for (const [name, message] of [['   ', /the instance name is only whitespace \("   "\)/], [' i-0a000001 ', /the instance name " i-0a000001 " has whitespace before or after it/], ['i-0a000001\n', /has whitespace before or after it/]] as const) {
    const { name: _, ...rest } = base();
    const text = JSON.stringify({ name, ...rest }, null, 2);
    assert.equal(lineOf(text, '"name"'), 2);
    await rejectsAt(text, 2, message, '/instance/name');
    const r = await cli(['render', '--instance', write(text)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^domforge: ${dir}/d\\d+\\.json:2:3: the instance name .*\\(at /instance/name\\)\n$`));
  }
  // An Instance made in code is held to the same rule (a launch checks its record with validateInstance).
  assert.throws(() => validateInstance({ ...instanceFromJson(base()), name: 'i-1 ' }), (e: InstanceError) => e.path === '/instance/name' && /whitespace before or after/.test(e.message));
});

test('strings with characters XML 1.0 cannot carry are refused at their JSON line; userDataText may hold them (it is base64-encoded)', async () => {
  for (const [k, v] of [['VmType', 'm1\u0001'], ['name', 'i-\uFFFE'], ['VmType', 'a\uD800']] as const) {
    const text = JSON.stringify({ ...base(), [k]: v }, null, 2);
    await rejectsAt(text, lineOf(text, `"${k}"`), /XML 1.0 cannot carry/, `/instance/${k}`);
  }
  const meta = JSON.stringify({ ...base(), metadata: { 'a\u0000': 'x' } }, null, 2);
  await rejectsAt(meta, lineOf(meta, '"a\\u0000"'), /key has U\+0000/);
  const ud = instanceFromJson({ ...base(), userDataText: 'bell \u0007' });
  assert.equal(Buffer.from(ud.userData, 'base64').toString(), 'bell \u0007');
  assert.throws(() => instanceFromJson({ ...base(), userDataText: 'x\uDC00' }), /not Unicode text/);
});

test('userData and userDataText together are refused at userDataText, not one of them dropped', async () => {
  const text = JSON.stringify({ ...base(), userData: 'aGk=', userDataText: 'hello' }, null, 2);
  await rejectsAt(text, lineOf(text, '"userDataText"'), /^.*give either userData \(base64\) or userDataText \(plain text\), not both/, '/instance/userDataText');
  assert.equal(instanceFromJson({ ...base(), userData: null, userDataText: 'hello' }).userData, 'aGVsbG8=');
});

test('malformed JSON is named at its line; __proto__ stays a plain key; deep nesting is refused, not a stack overflow', async () => {
  const text = JSON.stringify(base(), null, 2);
  await rejectsAt(text.replace('"cores": 1,', '"cores": 1,,'), lineOf(text, '"cores"'), /malformed JSON/);
  await rejectsAt(text + '\nx', text.split('\n').length + 1, /after the JSON value/);
  // A "__proto__" key is a key like any other: at the top level an unknown one, refused at its line; in metadata a plain key.
  const proto = text.replace(/}\s*$/, ',\n  "__proto__": { "cores": 64 }\n}');
  await rejectsAt(proto, lineOf(proto, '"__proto__"'), /unknown key "__proto__" at the top level/, '/instance/__proto__');
  assert.equal(({} as Record<string, unknown>).cores, undefined);
  const meta = await readInstanceJsonFile(write(text.replace(/}\s*$/, ',\n  "metadata": { "__proto__": "x" }\n}')));
  assert.deepEqual([meta.cores, meta.metadata], [1, [['__proto__', 'x']]]);
  await rejectsAt(`{"a": ${'['.repeat(100000)}`, 1, /nested deeper than/);
});

test('a key the reader does not know is refused at its line and column with its path, naming a close known key: it used to be dropped and its field take its default', async () => {
  const nic = (extra: Record<string, unknown>) => [{ mac: 'd0:0d:00:00:00:01', bridgeDeviceName: 'br0', ...extra }];
  const disk = (extra: Record<string, unknown>) => ({ diskPaths: [{ ...base().disks.diskPaths[0]!, ...extra }] });
  for (const [edit, key, path, message] of [
    [{ memoryKb: 2048 }, 'memoryKb', '/instance/memoryKb', 'unknown key "memoryKb" at the top level; did you mean "memoryKB"?'],
    [{ features: { hugePages: { pageSizeKiB: 2048 } } }, 'hugePages', '/instance/features/hugePages', 'unknown key "hugePages" in features; did you mean "hugepages"?'],
    [{ features: { hugepages: { pageSizeKB: 2048 } } }, 'pageSizeKB', '/instance/features/hugepages/pageSizeKB', 'unknown key "pageSizeKB" in features.hugepages; did you mean "pageSizeKiB"?'],
    // A known key's start (a unit left off) is named too, when only one key starts so.
    [{ features: { hugepages: { pagesize: 2048 } } }, 'pagesize', '/instance/features/hugepages/pagesize', 'unknown key "pagesize" in features.hugepages; did you mean "pageSizeKiB"?'],
    [{ os: { platform: 'linux', virtio: true } }, 'virtio', '/instance/os/virtio', 'unknown key "virtio" in os (its keys are platform, virtioRoot, virtioDisk, virtioNetwork)'],
    [{ nics: nic({ guestDeviceNme: 'vn0' }) }, 'guestDeviceNme', '/instance/nics/nic[1]/guestDeviceNme', 'unknown key "guestDeviceNme" in nics[0]; did you mean "guestDeviceName"?'],
    [{ nics: nic({ macAddres: 'd0:0d:00:00:00:02' }) }, 'macAddres', '/instance/nics/nic[1]/macAddres', 'unknown key "macAddres" in nics[0] (its keys are vlan, networkIndex, mac, publicIp, privateIp, bridgeDeviceName, guestDeviceName, device, stateName, hypervisorType, osPlatform, osVirtioNetwork, attachmentId)'],
    [{ extraNics: [{ mac: 'd0:0d:00:00:00:03', bridgeDeviceName: 'br1', modle: 'e1000' }] }, 'modle', '/instance/extraNics/nic[1]/modle', 'unknown key "modle" in extraNics[0]; did you mean "model"?'],
    [{ disks: disk({ sourcetype: 'block' }) }, 'sourcetype', '/instance/disks/diskPath[1]/sourcetype', 'unknown key "sourcetype" in disks.diskPaths[0]; did you mean "sourceType"?'],
    [{ disks: { diskpaths: [] } }, 'diskpaths', '/instance/disks/diskpaths', 'unknown key "diskpaths" in disks; did you mean "diskPaths"?'],
    [{ disks: { ...disk({}), root: { device: 'vda', uid: 'x' } } }, 'uid', '/instance/disks/root/uid', 'unknown key "uid" in disks.root; did you mean "uuid"?'],
    [{ volumes: [{ id: 'vol-1', devname: 'sdf' }] }, 'devname', '/instance/volumes/volume[1]/devname', 'unknown key "devname" in volumes[0]; did you mean "devName"?'],
    [{ hypervisor: { type: 'kvm', Bitness: '32' } }, 'Bitness', '/instance/hypervisor/Bitness', 'unknown key "Bitness" in hypervisor; did you mean "bitness"?'],
    [{ os: { platform: 'linux', virtioDisks: true } }, 'virtioDisks', '/instance/os/virtioDisks', 'unknown key "virtioDisks" in os; did you mean "virtioDisk"?'],
    [{ key: { doInjectKey: true, sshkey: 'ssh-ed25519 AAAA' } }, 'sshkey', '/instance/key/sshkey', 'unknown key "sshkey" in key; did you mean "sshKey"?'],
    [{ backing: { roottype: 'ebs' } }, 'roottype', '/instance/backing/roottype', 'unknown key "roottype" in backing; did you mean "rootType"?'],
    [{ machine: { type: 'q35', arc: 'x86_64' } }, 'arc', '/instance/machine/arc', 'unknown key "arc" in machine; did you mean "arch"?'],
    [{ configDrive: { path: '/var/lib/x/cd.iso', layout: ['ec2'] } }, 'layout', '/instance/configDrive/layout', 'unknown key "layout" in configDrive; did you mean "layouts"?'],
    [{ vbrs: [{ id: 'emi-1' }] }, 'vbrs', '/instance/vbrs', 'unknown key "vbrs" at the top level: a field of an Instance that a JSON description does not give (vbrs come from instance.xml only)'],
    [{ xmlVersion: '1' }, 'xmlVersion', '/instance/xmlVersion', 'unknown key "xmlVersion" at the top level: a field of an Instance that a JSON description does not give (an instance from JSON is xml-version 2)'],
    [{ unknown: [{ name: 'x', xml: '<x/>' }] }, 'unknown', '/instance/unknown', 'unknown key "unknown" at the top level: a field of an Instance that a JSON description does not give (an instance from JSON has no unknown elements)'],
    [{ nics: nic({ unknownAttributes: [{ name: 'futureAttr', value: 'x' }] }) }, 'unknownAttributes', '/instance/nics/nic[1]/unknownAttributes', 'unknown key "unknownAttributes" in nics[0]: a field of an Instance that a JSON description does not give (an instance from JSON has no unknown attributes)'],
    [{ unknownAttributesOf: { cores: [{ name: 'x', value: '1' }] } }, 'unknownAttributesOf', '/instance/unknownAttributesOf', 'unknown key "unknownAttributesOf" at the top level: a field of an Instance that a JSON description does not give (an instance from JSON has no unknown attributes)'],
    // domforge's own elements keep no unknown attributes (refused on them in instance.xml): not a field of theirs in an Instance.
    [{ features: { hugepages: { enabled: true, unknownAttributes: [{ name: 'pagesize', value: '2048' }] } } }, 'unknownAttributes', '/instance/features/hugepages/unknownAttributes', 'unknown key "unknownAttributes" in features.hugepages (its keys are enabled, pageSizeKiB, nodeset)'],
    [{ features: { legacyDiskBus: 'scsi', unknownAttributesOf: { legacyDiskBus: [{ name: 'bus', value: 'sata' }] } } }, 'unknownAttributesOf', '/instance/features/unknownAttributesOf', 'unknown key "unknownAttributesOf" in features (its keys are hugepages, legacyDiskBus)'],
    [{ extraNics: [{ mac: 'd0:0d:00:00:00:03', bridgeDeviceName: 'br1', unknownAttributes: [] }] }, 'unknownAttributes', '/instance/extraNics/nic[1]/unknownAttributes', 'unknown key "unknownAttributes" in extraNics[0] (its keys are mac, bridgeDeviceName, model, privateIp)'],
    // Nor unknown elements (refused in them in instance.xml): an Instance's `unknown` is no field of theirs either.
    [{ extraNics: [{ mac: 'd0:0d:00:00:00:03', bridgeDeviceName: 'br1', unknown: [{ name: 'x-vlan', xml: '<x-vlan id="7"/>' }] }] }, 'unknown', '/instance/extraNics/nic[1]/unknown', 'unknown key "unknown" in extraNics[0] (its keys are mac, bridgeDeviceName, model, privateIp)'],
    [{ features: { hugepages: { enabled: true, unknown: [] } } }, 'unknown', '/instance/features/hugepages/unknown', 'unknown key "unknown" in features.hugepages (its keys are enabled, pageSizeKiB, nodeset)'],
    [{ machine: { type: 'q35', unknown: [] } }, 'unknown', '/instance/machine/unknown', 'unknown key "unknown" in machine (its keys are type, arch)'],
    [{ configDrive: { path: '/var/lib/x/cd.iso', unknown: [] } }, 'unknown', '/instance/configDrive/unknown', 'unknown key "unknown" in configDrive (its keys are path, label, layouts)'],
    [{ configDrive: { path: '/var/lib/x/cd.iso', labl: 'config' } }, 'labl', '/instance/configDrive/labl', 'unknown key "labl" in configDrive; did you mean "label"?'],
    [{ volumes: [{ id: 'vol-1', localDev: '/dev/sdf' }] }, 'localDev', '/instance/volumes/volume[1]/localDev', 'unknown key "localDev" in volumes[0]: a field of an Instance that a JSON description does not give (a volume\'s localDev comes from instance.xml only)'],
  ] as const) {
    const text = JSON.stringify({ ...base(), ...edit }, null, 2);
    const f = write(text);
    const line = lineOf(text, `"${key}"`);
    const column = text.split('\n')[line - 1]!.indexOf(`"${key}"`) + 1;
    await assert.rejects(readInstanceJsonFile(f), (e: unknown) => {
      assert.ok(e instanceof InstanceError, String(e));
      assert.deepEqual([e.file, e.line, e.column, e.path, e.shortMessage], [f, line, column, path, message]);
      return true;
    });
    // From data alone (no text): the same refusal, with the path and no line.
    assert.throws(() => instanceFromJson(JSON.parse(text)), (e: unknown) => e instanceof InstanceError && e.line === undefined && e.path === path && e.shortMessage === message);
  }
  // A misspelt container is named itself, before the keys it holds are looked at.
  const text = JSON.stringify({ ...base(), nic: base().nics }, null, 2);
  await rejectsAt(text, lineOf(text, '"nic"'), /unknown key "nic" at the top level; did you mean "nics"\?/, '/instance/nic');
});

test('fields of an Instance that JSON does not give are accepted while they hold nothing to lose (as JSON.stringify of an Instance writes them)', () => {
  const inst = instanceFromJson({ ...base(), xmlVersion: '2', vbrs: [], unknown: [], unknownChildren: {}, unknownAttributes: [], unknownAttributesOf: {}, volumes: [{ id: 'vol-1', localDev: null, unknownAttributes: [] }] });
  assert.deepEqual(inst, instanceFromJson({ ...base(), volumes: [{ id: 'vol-1' }] }));
  // domforge's own elements keep none of them, so there each is an unknown key (see the refusals above).
  assert.throws(() => instanceFromJson({ ...base(), features: { unknown: [] } }), (e: unknown) => e instanceof InstanceError && e.path === '/instance/features/unknown' && e.shortMessage === 'unknown key "unknown" in features (its keys are hugepages, legacyDiskBus)');
});

test('a key given as null reads as if absent, its default: configDrive.layouts null is every layout, not none', () => {
  // null layouts used to give a config drive with no layout at all, when an absent key gives all three.
  const cd = { path: '/var/lib/x/cd.iso' };
  const absent = instanceFromJson({ ...base(), configDrive: cd });
  assert.deepEqual(absent.configDrive!.layouts, ['openstack', 'ec2', 'cloudstack']);
  assert.deepEqual(instanceFromJson({ ...base(), configDrive: { ...cd, layouts: null } }), absent);
  // As the other keys of domforge's own objects.
  const nulls = instanceFromJson({ ...base(), configDrive: { ...cd, label: null, layouts: null }, machine: { type: null, arch: null }, features: { hugepages: { enabled: null, pageSizeKiB: null, nodeset: null }, legacyDiskBus: null } });
  assert.deepEqual(nulls, instanceFromJson({ ...base(), configDrive: cd, machine: {}, features: { hugepages: {} } }));
  // An empty list is no layout, as layouts="" in instance.xml.
  assert.deepEqual(instanceFromJson({ ...base(), configDrive: { ...cd, layouts: [] } }).configDrive!.layouts, []);
});

test('metadata, states and timestamps are free maps: any key is read', () => {
  const inst = instanceFromJson({ ...base(), metadata: { hugePages: 'x' }, states: { stateNme: 'Pending' }, timestamps: { launchtime: '1700000000' } });
  assert.deepEqual([inst.metadata, inst.states, inst.timestamps], [[['hugePages', 'x']], [['stateNme', 'Pending']], [['launchtime', '1700000000']]]);
});
