// What instance.xml holds that domforge does not know is kept through a read and a rewrite:
// unknown attributes on the elements it reads, written back on the same element after its own;
// unknown elements inside the elements it reads the attributes of, written back inside them;
// the same in the eni-XXXX.xml and vol-XXXX.xml stubs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseInstance, emitInstance, parseStub, emitStub, diffXml, InstanceError, type Instance, type Stub } from '../../engine/index.js';
import type { UnknownAttribute } from '../../engine/instance/model.js';
import { checkRecord } from '../../engine/controller/record.js';
import { ATTRIBUTE_ONLY_STRAYS, NESTED_FILE, STRAY_ATTRIBUTES, attributeOnlyStraysOf, strayAttributesOf, withAttributeOnlyStrays, withStrayAttributes } from '../fixtures/strays.js';

const euca = () => readFileSync(NESTED_FILE, 'utf8');

/** `v` without the fields named `keys`, at any depth (undefined fields left as they are). */
function without<T>(v: T, keys: readonly string[]): T {
  if (Array.isArray(v)) return v.map((x) => without(x, keys)) as T;
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (!keys.includes(k)) out[k] = without(x, keys);
  return out as T;
}
const withoutKeptAttributes = <T>(v: T) => without(v, ['unknownAttributes', 'unknownAttributesOf']);
const nested = (n: number) => '<a>'.repeat(n) + '</a>'.repeat(n);

test('an unknown attribute of an element domforge reads is kept, and emitInstance writes it back on that element, after its own', () => {
  // Each used to be dropped: <nic … futureAttr="x"/> was written back with domforge's attributes only.
  const text = withStrayAttributes(euca(), (x) => x);
  const a = parseInstance(text, { file: 'kept.xml' });
  assert.deepEqual(strayAttributesOf(a), STRAY_ATTRIBUTES);
  // Nothing else changes: the fields read the same, and an element without any has no unknownAttributes.
  const plain = parseInstance(withStrayAttributes(euca(), () => ''));
  assert.deepEqual(withoutKeptAttributes(a), plain);
  assert.doesNotMatch(JSON.stringify(plain), /unknownAttributes/);

  // Written back: every attribute on its own element (the same tree as the file), after the element's own ones.
  const emitted = emitInstance(a);
  const d = diffXml(text, emitted);
  assert.equal(d, undefined, d && `${d.path}: ${d.message}`);
  for (const line of [
    '<instance xml-version="2" x-era="5">',
    '  <hypervisor type="kvm" capability="hw" bitness="64" requiresDisk="false" x-numa="2"/>',
    '  <name x-lang="en">i-4e7a1204</name>',
    '  <userData x-enc="b64"/>',
    '  <groupNames x-g="1">',
    '    <name x-id="sg-1">default</name>',
    '    <diskPath targetDeviceType="disk" targetDeviceName="vdb" targetDeviceNameVirtio="vdb" targetDeviceBusVirtio="virtio" targetDeviceBus="virtio" sourceType="file" serial="" newattr="1">',
    '    <nic vlan="-1" networkIndex="-1" mac="d0:0d:4e:7a:12:04" publicIp="10.111.5.14" privateIp="172.31.0.14" bridgeDeviceName="br0" guestDeviceName="vn_i-4e7a1204" device="0" stateName="attached" hypervisorType="kvm" osPlatform="linux" osVirtioNetwork="true" futureAttr="x" xmlns:f="urn:future" f:zone="z1"/>',
    '    <stateName x-since="1700000000">Pending</stateName>',
  ]) {
    assert.ok(emitted.split('\n').some((l) => l.startsWith(line)), line);
  }
  const again = parseInstance(emitted);
  assert.deepEqual(again, a);
  assert.equal(emitInstance(again), emitted);
});

test('a container that holds nothing but has unknown attributes is written back for them', () => {
  // <nics>, <states> and <timestamps> are left out when empty.
  const t = euca()
    .replace(/<nics>[\s\S]*<\/nics>/, '<nics x-n="1"/>')
    .replace(/<states>[\s\S]*<\/states>/, '<states x-s="1"/>')
    .replace(/<timestamps>[\s\S]*<\/timestamps>/, '<timestamps x-t="1"></timestamps>');
  const a = parseInstance(t);
  const emitted = emitInstance(a);
  for (const el of ['<nics x-n="1">', '<states x-s="1">', '<timestamps x-t="1">']) {
    assert.ok(emitted.includes(el), el);
  }
  assert.deepEqual(parseInstance(emitted), a);
});

/** 1-based line and column where `needle` starts in `text`. */
const placeOf = (text: string, needle: string) => {
  const at = text.indexOf(needle);
  assert.ok(at >= 0, needle);
  const before = text.slice(0, at);
  return { line: before.split('\n').length, column: before.length - before.lastIndexOf('\n') };
};

/**
 * Each case: XML put at the end of a Eucalyptus instance, which parseInstance refuses at the
 * place of the text `at`, with that path and message.
 */
function refusedInOwn(cases: [xml: string, at: string, path: string, message: string][]): void {
  for (const [xml, at, path, message] of cases) {
    const text = euca().replace('</instance>', `  ${xml}\n</instance>`);
    const { line, column } = placeOf(text, at);
    assert.throws(() => parseInstance(text, { file: 'own.xml' }), (e: unknown) => {
      assert.ok(e instanceof InstanceError, String(e));
      assert.deepEqual([e.code, e.file, e.line, e.column, e.path, e.shortMessage], ['INSTANCE_INVALID', 'own.xml', line, column, path, message]);
      return true;
    }, xml);
  }
}

test("an unknown attribute on one of domforge's own elements is refused at its element, with its path, naming a close known one: it used to be kept, and what it asked for silently not done", () => {
  // Nobody else writes attributes on domforge's extensions: <hugepages pagesize="2048"/> (for
  // pageSizeKiB) launched an instance on the host's default page size, <configDrive labl="config"/> a drive labelled config-2.
  const cases: [string, string, string, string][] = [
    ['<features><hugepages enabled="true" pagesize="2048"/></features>', '<hugepages', '/instance/features/hugepages/@pagesize', '<hugepages> has only the attributes enabled, pageSizeKiB and nodeset, not pagesize; did you mean pageSizeKiB?'],
    ['<features><hugepages nodeSet="0"/></features>', '<hugepages', '/instance/features/hugepages/@nodeSet', '<hugepages> has only the attributes enabled, pageSizeKiB and nodeset, not nodeSet; did you mean nodeset?'],
    ['<configDrive path="/var/lib/x/cd.iso" labl="config"/>', '<configDrive', '/instance/configDrive/@labl', '<configDrive> has only the attributes path, label and layouts, not labl; did you mean label?'],
    ['<configDrive path="/var/lib/x/cd.iso" xmlns:f="urn:f" f:fs="vfat"/>', '<configDrive', '/instance/configDrive/@f:fs', '<configDrive> has only the attributes path, label and layouts, not f:fs'],
    ['<machine type="q35" arch="x86_64" chipset="ich9"/>', '<machine', '/instance/machine/@chipset', '<machine> has only the attributes type and arch, not chipset'],
    ['<features enabled="true"><hugepages/></features>', '<features', '/instance/features/@enabled', '<features> has no attributes, not enabled'],
    ['<features><legacyDiskBus bus="scsi">scsi</legacyDiskBus></features>', '<legacyDiskBus', '/instance/features/legacyDiskBus/@bus', '<legacyDiskBus> has no attributes, not bus'],
    ['<password encoding="plain">pw</password>', '<password', '/instance/password/@encoding', '<password> has no attributes, not encoding'],
    ['<availabilityZone region="r1">zone-a</availabilityZone>', '<availabilityZone', '/instance/availabilityZone/@region', '<availabilityZone> has no attributes, not region'],
    ['<metadata x-md="1"><item key="role">web</item></metadata>', '<metadata', '/instance/metadata/@x-md', '<metadata> has no attributes, not x-md'],
    ['<metadata><item key="tier">front</item>\n    <item key="role" value="web"/></metadata>', '<item key="role"', '/instance/metadata/item[2]/@value', '<item> has only the attribute key, not value'],
    // Named before the attribute it was meant to be is found missing.
    ['<metadata><item kye="role">web</item></metadata>', '<item', '/instance/metadata/item[1]/@kye', '<item> has only the attribute key, not kye; did you mean key?'],
    ['<extraNics mtu="9000"><nic mac="d0:0d:00:00:00:42" bridgeDeviceName="br1"/></extraNics>', '<extraNics', '/instance/extraNics/@mtu', '<extraNics> has no attributes, not mtu'],
    ['<extraNics>\n    <nic mac="d0:0d:00:00:00:42" bridgeDeviceName="br1"/>\n    <nic mac="d0:0d:00:00:00:43" bridge="br2"/>\n  </extraNics>', '<nic mac="d0:0d:00:00:00:43"', '/instance/extraNics/nic[2]/@bridge', '<nic> has only the attributes mac, bridgeDeviceName, model and privateIp, not bridge; did you mean bridgeDeviceName?'],
  ];
  refusedInOwn(cases);
  // Their own attributes, and namespace declarations (no attributes), read as before; Eucalyptus's elements keep theirs.
  const fine = euca()
    .replace('osVirtioNetwork="true"/>', 'osVirtioNetwork="true" futureAttr="x"/>')
    .replace('</instance>', '  <features><hugepages enabled="true" pageSizeKiB="2048" nodeset="0"/></features>\n  <machine xmlns:f="urn:f" type="q35" arch="x86_64"/>\n  <configDrive path="/var/lib/x/cd.iso" label="config" layouts="ec2"/>\n</instance>');
  const a = parseInstance(fine);
  assert.deepEqual([a.features, a.machine, a.configDrive, a.nics[0]!.unknownAttributes], [
    { hugepages: { enabled: true, pageSizeKiB: 2048, nodeset: '0' } },
    { type: 'q35', arch: 'x86_64' },
    { path: '/var/lib/x/cd.iso', label: 'config', layouts: ['ec2'] },
    [{ name: 'futureAttr', value: 'x' }],
  ]);
  assert.deepEqual(parseInstance(emitInstance(a)), a);
});

test("emitInstance refuses kept unknown attributes on domforge's own elements made in code, naming their path, so a launch's check refuses the record", () => {
  // Written, they would make a record parseInstance refuses. The model has no field for them; JavaScript (or an older domforge's Instance) may still carry one.
  const inst = parseInstance(withStrayAttributes(euca(), () => ''));
  const attrs = (name: string) => [{ name, value: '1' }];
  const carrying = <T extends object>(o: T, kept: object): T => ({ ...o, ...kept }) as T;
  const twoExtra = [...inst.extraNics, { mac: 'd0:0d:00:00:00:43', bridgeDeviceName: 'br2', model: 'e1000' }];
  const cases: [string, Instance][] = [
    ['/instance/features/hugepages/@x-hp', { ...inst, features: { ...inst.features, hugepages: carrying(inst.features.hugepages!, { unknownAttributes: attrs('x-hp') }) } }],
    ['/instance/features/@x-f', { ...inst, features: carrying(inst.features, { unknownAttributes: attrs('x-f') }) }],
    ['/instance/features/legacyDiskBus/@x-l', { ...inst, features: carrying(inst.features, { unknownAttributesOf: { legacyDiskBus: attrs('x-l') } }) }],
    ['/instance/machine/@x-m', { ...inst, machine: carrying(inst.machine!, { unknownAttributes: attrs('x-m') }) }],
    ['/instance/configDrive/@x-cd', { ...inst, configDrive: carrying(inst.configDrive!, { unknownAttributes: attrs('x-cd') }) }],
    ['/instance/extraNics/nic[2]/@x-e', { ...inst, extraNics: twoExtra.map((n, i) => (i === 1 ? carrying(n, { unknownAttributes: attrs('x-e') }) : n)) }],
    ['/instance/password/@x-p', { ...inst, unknownAttributesOf: { password: attrs('x-p') } }],
    ['/instance/availabilityZone/@x-z', { ...inst, unknownAttributesOf: { availabilityZone: attrs('x-z') } }],
    ['/instance/metadata/@x-md', { ...inst, unknownAttributesOf: { metadata: attrs('x-md') } }],
    ['/instance/metadata/item[1]/@x-i', { ...inst, unknownAttributesOf: { 'metadata/item[1]': attrs('x-i') } }],
    ['/instance/extraNics/@x-xn', { ...inst, unknownAttributesOf: { extraNics: attrs('x-xn') } }],
  ];
  for (const [path, made] of cases) {
    const element = /([^/[]+)(\[\d+\])?\/@/.exec(path)![1];
    const name = path.slice(path.lastIndexOf('@') + 1);
    const message = `<${element}> is domforge's own element and keeps no unknown attributes: ${name}, written on it, would be refused when read back`;
    assert.throws(() => emitInstance(made), (e: unknown) => e instanceof InstanceError && e.path === path && e.shortMessage === message, path);
    assert.throws(() => checkRecord(made, '/tmp/never/instance.xml', undefined), (e: unknown) => e instanceof InstanceError && e.path === path && e.shortMessage === message, path);
  }
  // An empty list loses nothing, and is not written.
  const empty = { ...inst, machine: carrying(inst.machine!, { unknownAttributes: [] }) };
  assert.equal(emitInstance(empty), emitInstance(inst));
});

test("an unknown element in one of domforge's own elements is refused at its line and column, with its path, naming a close known one: it used to be kept, and what it asked for silently not done", () => {
  // Nobody else writes domforge's extensions: <extraNics><Nic …/></extraNics> launched without that NIC.
  const nic = (mac: string, inner = '') => `<nic mac="d0:0d:00:00:00:${mac}" bridgeDeviceName="br1"${inner ? `>${inner}</nic>` : '/>'}`;
  const cases: [string, string, string, string][] = [
    [`<extraNics><Nic mac="d0:0d:00:00:00:42" bridgeDeviceName="br1"/></extraNics>`, '<Nic mac', '/instance/extraNics/Nic', '<extraNics> holds only <nic> elements, not <Nic>; did you mean <nic>?'],
    [`<extraNics>\n    ${nic('42')}\n    <x-extra-future/>\n  </extraNics>`, '<x-extra-future', '/instance/extraNics/x-extra-future', '<extraNics> holds only <nic> elements, not <x-extra-future>'],
    [`<extraNics>${nic('42', '<x-vlan id="7"/>')}</extraNics>`, '<x-vlan', '/instance/extraNics/nic/x-vlan', '<nic> holds no elements, not <x-vlan>'],
    [`<extraNics>\n    ${nic('42')}\n    ${nic('43', '\n      <model type="e1000"/>\n    ')}\n  </extraNics>`, '<model type="e1000"', '/instance/extraNics/nic[2]/model', '<nic> holds no elements, not <model>'],
    ['<features><hugepages enabled="true"><x-numa node="0"/></hugepages></features>', '<x-numa', '/instance/features/hugepages/x-numa', '<hugepages> holds no elements, not <x-numa>'],
    ['<machine type="q35" arch="x86_64">\n    <x-firmware>uefi</x-firmware>\n  </machine>', '<x-firmware', '/instance/machine/x-firmware', '<machine> holds no elements, not <x-firmware>'],
    ['<configDrive path="/var/lib/x/cd.iso"><x-file path="/etc/motd"/></configDrive>', '<x-file', '/instance/configDrive/x-file', '<configDrive> holds no elements, not <x-file>'],
    // Named before an attribute of the element is found missing.
    ['<extraNics><nic bridgeDeviceName="br1"><mac>d0:0d:00:00:00:42</mac></nic></extraNics>', '<mac>', '/instance/extraNics/nic/mac', '<nic> holds no elements, not <mac>'],
  ];
  refusedInOwn(cases);
  // Whitespace and comments in them are not elements: they read, and are written back, as before.
  const own = '  <features><hugepages enabled="true" pageSizeKiB="2048"/></features>\n  <machine type="q35" arch="x86_64"/>\n  <configDrive path="/var/lib/x/cd.iso" label="config"/>\n  <extraNics><nic mac="d0:0d:00:00:00:42" bridgeDeviceName="br1"/></extraNics>\n';
  const spaced = own
    .replace('pageSizeKiB="2048"/>', 'pageSizeKiB="2048">\n    </hugepages>')
    .replace('arch="x86_64"/>', 'arch="x86_64">\n    <!-- uefi later -->\n  </machine>')
    .replace('label="config"/>', 'label="config"> </configDrive>')
    .replace('<extraNics><nic mac="d0:0d:00:00:00:42" bridgeDeviceName="br1"/>', '<extraNics>\n    <!-- the storage network -->\n    <nic mac="d0:0d:00:00:00:42" bridgeDeviceName="br1">\n    </nic>\n  ');
  const a = parseInstance(euca().replace('</instance>', `${own}</instance>`));
  const b = parseInstance(euca().replace('</instance>', `${spaced}</instance>`));
  assert.deepEqual(b, a);
  assert.deepEqual([a.features, a.machine, a.configDrive, a.extraNics], [
    { hugepages: { enabled: true, pageSizeKiB: 2048, nodeset: undefined } },
    { type: 'q35', arch: 'x86_64' },
    { path: '/var/lib/x/cd.iso', label: 'config', layouts: ['openstack', 'ec2', 'cloudstack'] },
    [{ mac: 'd0:0d:00:00:00:42', bridgeDeviceName: 'br1', model: 'virtio', privateIp: undefined }],
  ]);
  assert.deepEqual(parseInstance(emitInstance(b)), a);
});

test("text in one of domforge's own elements is refused at the element: <machine>q35</machine> read as the default machine", () => {
  const cases: [string, string, string, string][] = [
    ['<machine arch="x86_64">q35</machine>', '<machine', '/instance/machine', '<machine> holds no elements and no text, not "q35" (its settings are attributes)'],
    ['<configDrive path="/var/lib/x/cd.iso"><![CDATA[config-2]]></configDrive>', '<configDrive', '/instance/configDrive', '<configDrive> holds no elements and no text, not "config-2" (its settings are attributes)'],
    ['<features>\n    <hugepages enabled="true"> 2048 </hugepages>\n  </features>', '<hugepages', '/instance/features/hugepages', '<hugepages> holds no elements and no text, not "2048" (its settings are attributes)'],
    ['<features>hugepages</features>', '<features', '/instance/features', '<features> holds only <hugepages> and <legacyDiskBus> and no text, not "hugepages"'],
    ['<extraNics>br1<nic mac="d0:0d:00:00:00:42" bridgeDeviceName="br1"/></extraNics>', '<extraNics', '/instance/extraNics', '<extraNics> holds only <nic> elements and no text, not "br1"'],
  ];
  refusedInOwn(cases);
});

test("emitInstance refuses kept unknown elements in domforge's own elements made in code, naming their path, so a launch's check refuses the record", () => {
  // Written, they would make a record parseInstance refuses. The model has no field for them; JavaScript (or an older domforge's Instance) may still carry one.
  const inst = parseInstance(withStrayAttributes(euca(), () => ''));
  const elements = (name: string) => [{ name, xml: `<${name}/>` }];
  const carrying = <T extends object>(o: T, kept: object): T => ({ ...o, ...kept }) as T;
  const twoExtra = [...inst.extraNics, { mac: 'd0:0d:00:00:00:43', bridgeDeviceName: 'br2', model: 'e1000' }];
  const cases: [string, Instance][] = [
    ['/instance/features/hugepages/x-hp', { ...inst, features: { ...inst.features, hugepages: carrying(inst.features.hugepages!, { unknown: elements('x-hp') }) } }],
    ['/instance/features/x-f', { ...inst, features: carrying(inst.features, { unknown: elements('x-f') }) }],
    ['/instance/machine/x-m', { ...inst, machine: carrying(inst.machine!, { unknown: elements('x-m') }) }],
    ['/instance/configDrive/x-cd', { ...inst, configDrive: carrying(inst.configDrive!, { unknown: elements('x-cd') }) }],
    ['/instance/extraNics/nic/x-e', { ...inst, extraNics: inst.extraNics.map((n) => carrying(n, { unknown: elements('x-e') })) }],
    ['/instance/extraNics/nic[2]/x-e', { ...inst, extraNics: twoExtra.map((n, i) => (i === 1 ? carrying(n, { unknown: elements('x-e') }) : n)) }],
    ['/instance/extraNics/Nic', { ...inst, unknownChildren: { extraNics: [{ name: 'Nic', xml: '<Nic mac="d0:0d:00:00:00:44" bridgeDeviceName="br3"/>' }] } as Instance['unknownChildren'] }],
  ];
  for (const [path, made] of cases) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    const element = /([^/[]+)(\[\d+\])?\/[^/]+$/.exec(path)![1];
    const message = `<${element}> is domforge's own element and keeps no unknown elements: <${name}>, written in it, would be refused when read back`;
    assert.throws(() => emitInstance(made), (e: unknown) => e instanceof InstanceError && e.path === path && e.shortMessage === message, path);
    assert.throws(() => checkRecord(made, '/tmp/never/instance.xml', undefined), (e: unknown) => e instanceof InstanceError && e.path === path && e.shortMessage === message, path);
  }
  // An empty list loses nothing, and is not written.
  const empty = { ...inst, machine: carrying(inst.machine!, { unknown: [] }), extraNics: inst.extraNics.map((n) => carrying(n, { unknown: [] })) };
  assert.equal(emitInstance(empty), emitInstance(inst));
});

test('emitInstance refuses a kept attribute it could not write back as it is, naming its path: one of the element\'s own, not a name, twice, a namespace declaration, a prefix without its namespace', () => {
  const inst = parseInstance(euca());
  const nic = (attrs: UnknownAttribute[]): Instance => ({ ...inst, nics: [{ ...inst.nics[0]!, unknownAttributes: attrs }] });
  const cases: [string, Instance, RegExp][] = [
    // One of the element's own: written twice, or (isKeyInjected, Eucalyptus 3.3's doInjectKey) read back as its field.
    ['/instance/nics/nic/@mac', nic([{ name: 'mac', value: 'd0:0d:00:00:00:99' }]), /a kept unknown attribute of <nic> cannot be named mac: <nic> has an attribute of that name itself/],
    ['/instance/key/@isKeyInjected', { ...inst, key: { ...inst.key, unknownAttributes: [{ name: 'isKeyInjected', value: 'false' }] } }, /cannot be named isKeyInjected/],
    ['/instance/@xml-version', { ...inst, unknownAttributes: [{ name: 'xml-version', value: '3' }] }, /cannot be named xml-version/],
    ['/instance/backing/root/@type', { ...inst, backing: { ...inst.backing, unknownAttributesOf: { root: [{ name: 'type', value: 'image' }] } } }, /a kept unknown attribute of <root> cannot be named type: <root> has an attribute of that name itself/],
    // Not a name: it would add attributes, or close the element.
    ['/instance/nics/nic/@a="1" device="7"', nic([{ name: 'a="1" device="7"', value: '' }]), /"a=\\"1\\" device=\\"7\\"" is not an XML attribute name, so it cannot be kept on <nic>/],
    ['/instance/cores/@x/><y', { ...inst, unknownAttributesOf: { cores: [{ name: 'x/><y', value: '' }] } }, /not an XML attribute name/],
    ['/instance/nics/nic/@x-a', nic([{ name: 'x-a', value: '1' }, { name: 'x-a', value: '2' }]), /the unknown attribute x-a is kept twice on <nic>/],
    ['/instance/nics/nic/@g:x', nic([{ name: 'f:x', value: '1', namespace: 'urn:f' }, { name: 'g:x', value: '2', namespace: 'urn:f' }]), /the unknown attribute g:x is kept twice on <nic> \(once its prefix is resolved\)/],
    // Namespaces: the elements domforge writes declare none of their own, so a prefix is declared from its attribute's namespace.
    ['/instance/nics/nic/@xmlns:f', nic([{ name: 'xmlns:f', value: 'urn:f' }]), /a namespace declaration is not kept as an attribute of <nic>/],
    ['/instance/nics/nic/@f:zone', nic([{ name: 'f:zone', value: 'z1' }]), /the kept unknown attribute f:zone has the prefix f but no namespace to declare it as/],
    ['/instance/nics/nic/@f:zone', nic([{ name: 'f:zone', value: 'z1', namespace: 'a b' }]), /the prefix of the kept unknown attribute f:zone cannot be declared: the namespace name 'a b' is not a URI reference/],
    ['/instance/nics/nic/@f:b', nic([{ name: 'f:a', value: '1', namespace: 'urn:a' }, { name: 'f:b', value: '2', namespace: 'urn:b' }]), /the prefix f of kept unknown attributes of <nic> is bound to two namespaces, urn:a and urn:b/],
    ['/instance/nics/nic/@zone', nic([{ name: 'zone', value: 'z1', namespace: 'urn:f' }]), /has a namespace but no prefix/],
    // An element that is not written (absent, or no such one): its attributes would be lost.
    ['/instance/kernel', { ...inst, unknownAttributesOf: { kernel: [{ name: 'x', value: '1' }] } }, /unknown attributes are kept for "kernel", which names no element written here/],
    ['/instance/vbrs/vbr[2]/idd', { ...inst, vbrs: inst.vbrs.map((v, i) => (i === 1 ? { ...v, unknownAttributesOf: { idd: [{ name: 'x', value: '1' }] } } : v)) }, /"idd", which names no element written here/],
  ];
  for (const [path, made, message] of cases) {
    assert.throws(() => emitInstance(made), (e: unknown) => e instanceof InstanceError && e.path === path && message.test(e.message), path);
  }
  // A code-built record is refused by the launch's check with the same path.
  assert.throws(() => checkRecord(cases[0]![1], '/tmp/never/instance.xml', undefined), (e: unknown) => e instanceof InstanceError && e.path === '/instance/nics/nic/@mac');
  // A prefix is declared on the element, once, before its first attribute; `xml` is declared already. Read back the same.
  const prefixed = nic([{ name: 'f:zone', value: 'z1', namespace: 'urn:f' }, { name: 'xml:lang', value: 'en', namespace: 'http://www.w3.org/XML/1998/namespace' }, { name: 'f:rack', value: '7', namespace: 'urn:f' }]);
  const written = emitInstance(prefixed);
  assert.match(written, / osVirtioNetwork="true" xmlns:f="urn:f" f:zone="z1" xml:lang="en" f:rack="7"\/>/);
  assert.deepEqual(parseInstance(written), prefixed);
});

test('a namespace declared in instance.xml is not kept: a default namespace leaves the elements as domforge reads them, a prefix is declared where a kept attribute uses it', () => {
  // A transform matches domforge's elements in no namespace (a rewrite must not put them in one).
  const t = euca().replace('<instance xml-version="2">', '<instance xml-version="2" xmlns="urn:x" xmlns:f="urn:future">').replace(/(<nic [^>]*)\/>/, '$1 f:zone="z1"/>');
  const a = parseInstance(t);
  assert.equal(a.unknownAttributes, undefined);
  assert.deepEqual(a.nics[0]!.unknownAttributes, [{ name: 'f:zone', value: 'z1', namespace: 'urn:future' }]);
  const emitted = emitInstance(a);
  assert.match(emitted, /\n<instance xml-version="2">\n/);
  assert.match(emitted, / xmlns:f="urn:future" f:zone="z1"\/>/);
  assert.deepEqual(parseInstance(emitted), a);
});

test('an unknown element inside an element domforge reads the attributes of is kept, and emitInstance writes it back inside that element', () => {
  // Each used to be dropped: <nic …><x-qos rate="100"/></nic> was written back as <nic …/>.
  const text = withAttributeOnlyStrays(euca(), (x) => x);
  const a = parseInstance(text, { file: 'kept.xml' });
  assert.deepEqual(attributeOnlyStraysOf(a), ATTRIBUTE_ONLY_STRAYS);
  // Nothing else changes, and an element holding none has no `unknown`.
  const plain = parseInstance(withAttributeOnlyStrays(euca(), () => ''));
  assert.deepEqual(without(a, ['unknown', 'unknownChildren']), without(plain, ['unknown', 'unknownChildren']));
  assert.deepEqual(plain.unknown, []);
  assert.doesNotMatch(JSON.stringify(plain), /"unknown":\[\{|unknownChildren/);

  // Written back inside its own element, after nothing (those elements hold nothing else), and nowhere else.
  const emitted = emitInstance(a);
  const d = diffXml(text, emitted);
  assert.equal(d, undefined, d && `${d.path}: ${d.message}`);
  assert.match(emitted, /\n {4}<nic [^>]* osVirtioNetwork="true">\n {6}<x-qos rate="100"\/>\n {6}<x-sg>sg-1<\/x-sg>\n {4}<\/nic>\n/);
  assert.match(emitted, /\n {2}<backing>\n {4}<root type="ebs">\n {6}<x-snapshot id="snap-1"\/>\n {4}<\/root>\n {2}<\/backing>\n/);
  const again = parseInstance(emitted);
  assert.deepEqual(again, a);
  assert.equal(emitInstance(again), emitted);
});

test('a kept element inside an element domforge reads the attributes of has the limits of any kept element', () => {
  // In a <nic> it is level 3, so 253 <a> in it reach level 256.
  const deep = (n: number) => euca().replace(/(<nic [^>]*)\/>/, `$1><x-deep>${nested(n)}</x-deep></nic>`);
  const kept = parseInstance(deep(253));
  assert.equal(kept.nics[0]!.unknown?.[0]?.xml, `<x-deep>${nested(253).replace('<a></a>', '<a/>')}</x-deep>`);
  assert.deepEqual(parseInstance(emitInstance(kept)), kept);
  assert.throws(() => parseInstance(deep(254)), /nested too deeply/);
  // Made in code: refused by emitInstance, naming where it would be written.
  const inst = parseInstance(euca());
  // In <os> it is level 2, so 254 <a> in it reach level 256.
  assert.doesNotThrow(() => emitInstance({ ...inst, os: { ...inst.os, unknown: [{ name: 'x', xml: `<x>${nested(254)}</x>` }] } }));
  const cases: [string, Instance, RegExp][] = [
    ['/instance/nics/nic/x', { ...inst, nics: [{ ...inst.nics[0]!, unknown: [{ name: 'x', xml: '<x/></nic><nic mac="d0:0d:00:00:00:99"/><nic>' }] }] }, /not one well-formed XML element/],
    ['/instance/os/x', { ...inst, os: { ...inst.os, unknown: [{ name: 'x', xml: `<x>${nested(255)}</x>` }] } }, /would be more than 256 levels below the root element/],
    ['/instance/backing/type', { ...inst, backing: { ...inst.backing, unknownChildren: { type: [{ name: 'x', xml: '<x/>' }] } as Instance['backing']['unknownChildren'] } }, /<type> is not the <root> of <backing> \(root\), so it cannot hold kept unknown children/],
  ];
  for (const [path, made, message] of cases) {
    assert.throws(() => emitInstance(made), (e: unknown) => e instanceof InstanceError && e.path === path && message.test(e.message), path);
  }
});

test("a volume's <libvirt> keeps every element, not only its first, and emitInstance writes them back after it", () => {
  // Only the first (the <disk>) used to be kept: a record rewrite dropped the others, which a transform copying libvirt/* renders.
  const text = euca().replace(/(<serial>vol-1a1b1c1d-dev-sdf<\/serial>\s*<\/disk>)/, '$1\n        <x-mirror dev="/dev/sdz">\n          <x-detail/>\n        </x-mirror>\n        <disk type="file"><source file="/x"/></disk>');
  const a = parseInstance(text, { file: 'kept.xml' });
  const plain = parseInstance(euca());
  assert.equal(a.volumes[1]!.libvirt, plain.volumes[1]!.libvirt);
  assert.deepEqual(a.volumes[1]!.unknownChildren, {
    libvirt: [
      { name: 'x-mirror', xml: '<x-mirror dev="/dev/sdz"><x-detail/></x-mirror>' },
      { name: 'disk', xml: '<disk type="file"><source file="/x"/></disk>' },
    ],
  });
  assert.deepEqual(without(a, ['unknownChildren']), plain);
  const emitted = emitInstance(a);
  const d = diffXml(text, emitted);
  assert.equal(d, undefined, d && `${d.path}: ${d.message}`);
  assert.match(emitted, /<serial>vol-1a1b1c1d-dev-sdf<\/serial><\/disk>\n {8}<x-mirror dev="\/dev\/sdz"><x-detail\/><\/x-mirror>\n {8}<disk type="file"><source file="\/x"\/><\/disk>\n {6}<\/libvirt>\n/);
  const again = parseInstance(emitted);
  assert.deepEqual(again, a);
  assert.equal(emitInstance(again), emitted);

  // Made in code: refused where it could not be read back as it is, naming the place.
  const at = (v: Partial<Instance['volumes'][number]>): Instance => ({ ...plain, volumes: plain.volumes.map((x, i) => (i === 1 ? { ...x, ...v } : x)) });
  const cases: [string, Instance, RegExp][] = [
    ['/instance/volumes/volume[2]/libvirt', at({ libvirt: undefined, unknownChildren: { libvirt: [{ name: 'x', xml: '<x/>' }] } }), /the volume has no libvirt: the first of them would be read back as it/],
    ['/instance/volumes/volume[2]/id', at({ unknownChildren: { id: [{ name: 'x', xml: '<x/>' }] } as Instance['volumes'][number]['unknownChildren'] }), /<id> is not the <libvirt> of <volume> \(libvirt\)/],
    ['/instance/volumes/volume[2]/libvirt/x', at({ unknownChildren: { libvirt: [{ name: 'x', xml: '<x/></libvirt><libvirt>' }] } }), /not one well-formed XML element/],
    ['/instance/volumes/volume[2]/libvirt/x', at({ unknownChildren: { libvirt: [{ name: 'x', xml: `<x>${nested(253)}</x>` }] } }), /would be more than 256 levels below the root element/],
  ];
  for (const [path, made, message] of cases) {
    assert.throws(() => emitInstance(made), (e: unknown) => e instanceof InstanceError && e.path === path && message.test(e.message), path);
  }
  assert.doesNotThrow(() => emitInstance(at({ unknownChildren: { libvirt: [{ name: 'x', xml: `<x>${nested(252)}</x>` }] } })));
});

test('an eni- or vol- stub keeps the attributes and elements domforge does not know, and emitStub writes them back in place', () => {
  // Each used to be dropped, so the transform, which renders the stub as written back, never saw them.
  const nic = '<?xml version="1.0" encoding="UTF-8"?>\n<nic xml-version="2" vlan="-1" networkIndex="-1" mac="d0:0d:00:00:00:01" publicIp="0.0.0.0" privateIp="172.31.1.1" bridgeDeviceName="br0" device="1" futureAttr="x"><x-qos rate="100"/></nic>\n';
  const n = parseStub(nic, { file: 'eni-1.xml' });
  assert.ok(n.kind === 'nic');
  assert.deepEqual([n.data.unknownAttributes, n.data.unknown], [[{ name: 'futureAttr', value: 'x' }], [{ name: 'x-qos', xml: '<x-qos rate="100"/>' }]]);
  assert.equal(emitStub(n), nic);
  const volume = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<volume x-v="1">',
    '  <hypervisor type="kvm" capability="hw" bitness="64" x-numa="2"><x-cpu model="host"/></hypervisor>',
    '  <id xmlns:f="urn:future" f:origin="sc">vol-1</id>',
    '  <user>AIDAOPSEXAMPLE</user>',
    '  <instancePath x-p="1">/var/lib/domforge/instances/i-0a000001</instancePath>',
    '  <os platform="linux" virtioRoot="true" virtioDisk="true" virtioNetwork="true" x-distro="centos"><x-release>7.9</x-release></os>',
    '  <backing x-b="1"><root type="image" x-size="10"><x-snapshot id="snap-1"/></root><x-backing-future/></backing>',
    '  <diskPath targetDeviceType="disk" targetDeviceName="sdf" targetDeviceBus="virtio" sourceType="block" serial="euca-bdm-vol-1-dev-sdf" newattr="1">/dev/v</diskPath>',
    '  <x-extra a="1"><b/></x-extra>',
    '  <x-second/>',
    '</volume>',
    '',
  ].join('\n');
  const v = parseStub(volume, { file: 'vol-1.xml' });
  assert.ok(v.kind === 'volume');
  assert.deepEqual(
    [v.data.unknownAttributes, v.data.unknownAttributesOf, v.data.unknown, v.data.hypervisor.unknown, v.data.os.unknownAttributes, v.data.backing, v.data.diskPath.unknownAttributes],
    [
      [{ name: 'x-v', value: '1' }],
      { id: [{ name: 'f:origin', value: 'sc', namespace: 'urn:future' }], instancePath: [{ name: 'x-p', value: '1' }] },
      [{ name: 'x-extra', xml: '<x-extra a="1"><b/></x-extra>' }, { name: 'x-second', xml: '<x-second/>' }],
      [{ name: 'x-cpu', xml: '<x-cpu model="host"/>' }],
      [{ name: 'x-distro', value: 'centos' }],
      {
        rootType: 'image',
        unknown: [{ name: 'x-backing-future', xml: '<x-backing-future/>' }],
        unknownAttributes: [{ name: 'x-b', value: '1' }],
        unknownAttributesOf: { root: [{ name: 'x-size', value: '10' }] },
        unknownChildren: { root: [{ name: 'x-snapshot', xml: '<x-snapshot id="snap-1"/>' }] },
      },
      [{ name: 'newattr', value: '1' }],
    ],
  );
  assert.equal(emitStub(v), volume);
  assert.deepEqual(parseStub(emitStub(v)), v);
  // Without any, a stub reads and is written as before.
  const plain = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<volume>',
    '  <hypervisor type="kvm" capability="hw" bitness="64"/>',
    '  <id>vol-1</id>',
    '  <user>AIDAOPSEXAMPLE</user>',
    '  <instancePath>/var/lib/domforge/instances/i-0a000001</instancePath>',
    '  <os platform="linux" virtioRoot="true" virtioDisk="true" virtioNetwork="true"/>',
    '  <backing><root type="image"/></backing>',
    '  <diskPath targetDeviceType="disk" targetDeviceName="sdf" targetDeviceBus="virtio" sourceType="block" serial="euca-bdm-vol-1-dev-sdf">/dev/v</diskPath>',
    '</volume>',
    '',
  ].join('\n');
  assert.doesNotMatch(JSON.stringify(parseStub(plain)), /unknown/);
  assert.equal(emitStub(parseStub(plain)), plain);

  // Made in code: refused as in an instance, naming the place.
  const cases: [string, Stub, RegExp][] = [
    ['/nic/@xml-version', { kind: 'nic', data: { ...n.data, unknownAttributes: [{ name: 'xml-version', value: '3' }] } }, /cannot be named xml-version/],
    ['/nic/x', { kind: 'nic', data: { ...n.data, unknown: [{ name: 'x', xml: '<x/></nic><nic>' }] } }, /not one well-formed XML element/],
    ['/volume/diskPath/@f:origin', { kind: 'volume', data: { ...v.data, diskPath: { ...v.data.diskPath, unknownAttributes: [{ name: 'f:origin', value: 'sc' }] } } }, /has the prefix f but no namespace/],
    ['/volume/kernel', { kind: 'volume', data: { ...v.data, unknownAttributesOf: { kernel: [{ name: 'x', value: '1' }] } } }, /"kernel", which names no element written here/],
  ];
  for (const [path, made, message] of cases) {
    assert.throws(() => emitStub(made), (e: unknown) => e instanceof InstanceError && e.path === path && message.test(e.message), path);
  }
});

test('emitInstance refuses a kept unknown element named as a child domforge reads in that element, naming its path', () => {
  // Written, it would be a second <memoryKB> (refused as given twice when read back), or read as
  // a field (a kept <nic> in <nics> would come back as a NIC): the Instance would not read back the same.
  const inst = parseInstance(euca());
  const one = (name: string, xml = `<${name}/>`) => [{ name, xml }];
  const cases: [string, Instance, string][] = [
    ['/instance/memoryKB', { ...inst, unknown: one('memoryKB', '<memoryKB>1</memoryKB>') }, 'a kept unknown element of <instance> cannot be <memoryKB>: domforge reads <memoryKB> there itself, so it would be written twice or read back as that field'],
    ['/instance/nics', { ...inst, unknown: one('nics') }, 'a kept unknown element of <instance> cannot be <nics>: domforge reads <nics> there itself, so it would be written twice or read back as that field'],
    ['/instance/nics/nic', { ...inst, unknownChildren: { nics: one('nic', '<nic mac="d0:0d:00:00:00:99" bridgeDeviceName="evil"/>') } }, 'a kept unknown element of <nics> cannot be <nic>: domforge reads <nic> there itself, so it would be written twice or read back as that field'],
    ['/instance/disks/root', { ...inst, unknownChildren: { disks: one('root', '<root device="vdz"/>') } }, 'a kept unknown element of <disks> cannot be <root>: domforge reads <root> there itself, so it would be written twice or read back as that field'],
    ['/instance/vbrs/vbr[2]/id', { ...inst, vbrs: inst.vbrs.map((v, i) => (i === 1 ? { ...v, unknown: one('id', '<id>x</id>') } : v)) }, 'a kept unknown element of <vbr> cannot be <id>: domforge reads <id> there itself, so it would be written twice or read back as that field'],
    ['/instance/volumes/volume[1]/libvirt', { ...inst, volumes: inst.volumes.map((v, i) => (i === 0 ? { ...v, unknown: one('libvirt') } : v)) }, 'a kept unknown element of <volume> cannot be <libvirt>: domforge reads <libvirt> there itself, so it would be written twice or read back as that field'],
    ['/instance/backing/root', { ...inst, backing: { ...inst.backing, unknown: one('root', '<root type="image"/>') } }, 'a kept unknown element of <backing> cannot be <root>: domforge reads <root> there itself, so it would be written twice or read back as that field'],
    // Named as another element than it holds: read back, it is named by what it holds.
    ['/instance/x-note', { ...inst, unknown: [{ name: 'x-note', xml: '<memoryKB>1</memoryKB>' }] }, 'the kept unknown element named "x-note" holds <memoryKB>, which would be read back under that name'],
  ];
  for (const [path, made, message] of cases) {
    assert.throws(() => emitInstance(made), (e: unknown) => e instanceof InstanceError && e.path === path && e.shortMessage === message, path);
  }
  // A code-built record is refused by the launch's check, with the path.
  assert.throws(() => checkRecord(cases[0]![1], '/tmp/never/instance.xml', undefined), (e: unknown) => e instanceof InstanceError && e.path === '/instance/memoryKB');
  // A vol- stub's own children likewise.
  const stub = parseStub('<volume><hypervisor type="kvm"/><id>vol-1</id><diskPath targetDeviceName="sdf" targetDeviceBus="virtio">/dev/v</diskPath></volume>');
  assert.ok(stub.kind === 'volume');
  assert.throws(() => emitStub({ kind: 'volume', data: { ...stub.data, unknown: one('diskPath', '<diskPath targetDeviceName="sdg" targetDeviceBus="virtio">/dev/w</diskPath>') } }), (e: unknown) => e instanceof InstanceError && e.path === '/volume/diskPath');
  // A name domforge reads elsewhere, but not in that element, is kept there and read back the same.
  const elsewhere: Instance = { ...inst, unknown: one('nic', '<nic mac="x"/>'), unknownChildren: { disks: one('memoryKB', '<memoryKB>1</memoryKB>') } };
  assert.deepEqual(parseInstance(emitInstance(elsewhere)), elsewhere);
});
