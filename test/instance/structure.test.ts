import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { InstanceError, readInstanceFile, validateInstance, type Instance } from '../../engine/index.js';

const SAMPLES = new URL('../../../samples/', import.meta.url).pathname;

/** Sample 01 with every optional field of the Instance type (and of its parts) given, so every field can be spoiled. */
async function fullInstance(): Promise<Instance> {
  const s = await readInstanceFile(join(SAMPLES, '01-linux-virtio', 'instance.xml'));
  const attrs = (name: string) => [{ name, value: 'v' }];
  const elements = (name: string) => [{ name, xml: `<${name}/>` }];
  return {
    ...s,
    xmlVersion: '2',
    unknownAttributes: [{ name: 'p:a', value: 'v', namespace: 'urn:x' }],
    hypervisor: { ...s.hypervisor, unknownAttributes: attrs('numa'), unknown: elements('cpuModel') },
    backing: { rootType: 'image', unknown: elements('snapshot'), unknownAttributes: attrs('tier'), unknownAttributesOf: { root: attrs('zone') }, unknownChildren: { root: elements('x') } },
    kernel: '/boot/vmlinuz',
    ramdisk: '/boot/initrd',
    key: { ...s.key, unknownAttributes: attrs('k'), unknown: elements('k') },
    os: { ...s.os, unknownAttributes: attrs('o'), unknown: elements('o') },
    disks: {
      ...s.disks,
      diskPaths: s.disks.diskPaths.map((d) => ({ ...d, serial: 'root', unknownAttributes: attrs('d') })),
      root: { device: 'vda', uuid: 'u', unknownAttributes: attrs('r'), unknown: elements('r') },
      unknownAttributes: attrs('ds'),
      unknownAttributesOf: { floppyPath: attrs('f') },
    },
    vbrs: [
      {
        resourceLocation: 'r', guestDeviceName: 'vda', sizeBytes: 1, formatName: 'ext3', id: 'emi-1', typeName: 'machine', type: 'image', locationType: 'objectstorage',
        format: 'ext3', diskNumber: 0, partitionNumber: 0, guestDeviceType: 'disk', guestDeviceBus: 'virtio', backingType: 'block', backingPath: '/dev/x',
        preparedResourceLocation: 'p', guestDeviceSerialId: 's', unknown: elements('v'), unknownAttributes: attrs('v'), unknownAttributesOf: { id: attrs('i') },
      },
    ],
    volumes: [
      {
        id: 'vol-1', attachmentToken: 't', devName: 'sdf', stateName: 'attached', connectionString: 'c',
        libvirt: '<disk type="block" device="disk"><source dev="/dev/x"/><target dev="vdf" bus="virtio"/></disk>', localDev: 'sdf', localDevReal: 'vdf',
        unknown: elements('w'), unknownAttributes: attrs('w'), unknownAttributesOf: { id: attrs('i') }, unknownChildren: { libvirt: elements('y') },
      },
    ],
    nics: s.nics.map((n) => ({ ...n, attachmentId: 'eni-attach-1', unknownAttributes: attrs('n'), unknown: elements('n') })),
    states: [['stateName', 'Extant']],
    timestamps: [['launchTime', '1']],
    features: { hugepages: { enabled: true, pageSizeKiB: 2048, nodeset: '0' }, legacyDiskBus: 'ide' },
    machine: { type: 'q35', arch: 'x86_64' },
    configDrive: { path: '/var/lib/domforge/config.iso', label: 'config-2', layouts: ['openstack'] },
    password: 'secret',
    availabilityZone: 'zone-a',
    metadata: [['role', 'web']],
    extraNics: [{ mac: 'd0:0d:00:00:00:99', bridgeDeviceName: 'br1', model: 'e1000', privateIp: '10.0.0.9' }],
    unknown: elements('x-future'),
    unknownChildren: { groupNames: elements('g'), disks: elements('d'), vbrs: elements('v'), volumes: elements('w'), nics: elements('n') },
    unknownAttributesOf: { cores: attrs('c') },
  };
}

// Every field of fullInstance(), by its place in the object (`disks.diskPaths[0].path`), and
// the path in instance.xml an error about it names. Lists are spoiled as a whole and in their
// first item; a list of one item names it without an index, as the parser does.
const WHERE: Record<string, string> = {
  xmlVersion: '/instance/@xml-version',
  unknownAttributes: '/instance',
  'unknownAttributes[0]': '/instance',
  'unknownAttributes[0].name': '/instance',
  'unknownAttributes[0].value': '/instance',
  'unknownAttributes[0].namespace': '/instance',
  hypervisor: '/instance/hypervisor',
  'hypervisor.type': '/instance/hypervisor/@type',
  'hypervisor.capability': '/instance/hypervisor/@capability',
  'hypervisor.bitness': '/instance/hypervisor/@bitness',
  'hypervisor.requiresDisk': '/instance/hypervisor/@requiresDisk',
  'hypervisor.unknownAttributes': '/instance/hypervisor',
  'hypervisor.unknownAttributes[0]': '/instance/hypervisor',
  'hypervisor.unknownAttributes[0].name': '/instance/hypervisor',
  'hypervisor.unknownAttributes[0].value': '/instance/hypervisor',
  'hypervisor.unknown': '/instance/hypervisor',
  'hypervisor.unknown[0]': '/instance/hypervisor',
  'hypervisor.unknown[0].name': '/instance/hypervisor',
  'hypervisor.unknown[0].xml': '/instance/hypervisor',
  backing: '/instance/backing',
  'backing.rootType': '/instance/backing/root/@type',
  'backing.unknown': '/instance/backing',
  'backing.unknown[0]': '/instance/backing',
  'backing.unknown[0].name': '/instance/backing',
  'backing.unknown[0].xml': '/instance/backing',
  'backing.unknownAttributes': '/instance/backing',
  'backing.unknownAttributes[0]': '/instance/backing',
  'backing.unknownAttributes[0].name': '/instance/backing',
  'backing.unknownAttributes[0].value': '/instance/backing',
  'backing.unknownAttributesOf': '/instance/backing',
  'backing.unknownAttributesOf.root': '/instance/backing',
  'backing.unknownAttributesOf.root[0]': '/instance/backing',
  'backing.unknownAttributesOf.root[0].name': '/instance/backing',
  'backing.unknownAttributesOf.root[0].value': '/instance/backing',
  'backing.unknownChildren': '/instance/backing/root',
  'backing.unknownChildren.root': '/instance/backing/root',
  'backing.unknownChildren.root[0]': '/instance/backing/root',
  'backing.unknownChildren.root[0].name': '/instance/backing/root',
  'backing.unknownChildren.root[0].xml': '/instance/backing/root',
  name: '/instance/name',
  uuid: '/instance/uuid',
  reservation: '/instance/reservation',
  user: '/instance/user',
  owner: '/instance/owner',
  account: '/instance/account',
  imageId: '/instance/imageId',
  kernelId: '/instance/kernelId',
  ramdiskId: '/instance/ramdiskId',
  dnsName: '/instance/dnsName',
  privateDnsName: '/instance/privateDnsName',
  instancePath: '/instance/instancePath',
  kernel: '/instance/kernel',
  ramdisk: '/instance/ramdisk',
  xmlFilePath: '/instance/xmlFilePath',
  libvirtFilePath: '/instance/libvirtFilePath',
  consoleLogPath: '/instance/consoleLogPath',
  userData: '/instance/userData',
  launchIndex: '/instance/launchIndex',
  hasFloppy: '/instance/hasFloppy',
  cpuPassthrough: '/instance/cpuPassthrough',
  cores: '/instance/cores',
  memoryKB: '/instance/memoryKB',
  diskGB: '/instance/diskGB',
  VmType: '/instance/VmType',
  NicType: '/instance/NicType',
  NicDevice: '/instance/NicDevice',
  rootDirective: '/instance/rootDirective',
  key: '/instance/key',
  'key.doInjectKey': '/instance/key/@doInjectKey',
  'key.sshKey': '/instance/key/@sshKey',
  'key.unknownAttributes': '/instance/key',
  'key.unknownAttributes[0]': '/instance/key',
  'key.unknownAttributes[0].name': '/instance/key',
  'key.unknownAttributes[0].value': '/instance/key',
  'key.unknown': '/instance/key',
  'key.unknown[0]': '/instance/key',
  'key.unknown[0].name': '/instance/key',
  'key.unknown[0].xml': '/instance/key',
  os: '/instance/os',
  'os.platform': '/instance/os/@platform',
  'os.virtioRoot': '/instance/os/@virtioRoot',
  'os.virtioDisk': '/instance/os/@virtioDisk',
  'os.virtioNetwork': '/instance/os/@virtioNetwork',
  'os.unknownAttributes': '/instance/os',
  'os.unknownAttributes[0]': '/instance/os',
  'os.unknownAttributes[0].name': '/instance/os',
  'os.unknownAttributes[0].value': '/instance/os',
  'os.unknown': '/instance/os',
  'os.unknown[0]': '/instance/os',
  'os.unknown[0].name': '/instance/os',
  'os.unknown[0].xml': '/instance/os',
  groupNames: '/instance/groupNames',
  'groupNames[0]': '/instance/groupNames/name',
  disks: '/instance/disks',
  'disks.floppyPath': '/instance/disks/floppyPath',
  'disks.diskPaths': '/instance/disks',
  'disks.diskPaths[0]': '/instance/disks/diskPath[1]',
  'disks.diskPaths[0].path': '/instance/disks/diskPath[1]',
  'disks.diskPaths[0].targetDeviceType': '/instance/disks/diskPath[1]/@targetDeviceType',
  'disks.diskPaths[0].targetDeviceName': '/instance/disks/diskPath[1]/@targetDeviceName',
  'disks.diskPaths[0].targetDeviceNameVirtio': '/instance/disks/diskPath[1]/@targetDeviceNameVirtio',
  'disks.diskPaths[0].targetDeviceBusVirtio': '/instance/disks/diskPath[1]/@targetDeviceBusVirtio',
  'disks.diskPaths[0].targetDeviceBus': '/instance/disks/diskPath[1]/@targetDeviceBus',
  'disks.diskPaths[0].sourceType': '/instance/disks/diskPath[1]/@sourceType',
  'disks.diskPaths[0].serial': '/instance/disks/diskPath[1]/@serial',
  'disks.diskPaths[0].unknownAttributes': '/instance/disks/diskPath[1]',
  'disks.diskPaths[0].unknownAttributes[0]': '/instance/disks/diskPath[1]',
  'disks.diskPaths[0].unknownAttributes[0].name': '/instance/disks/diskPath[1]',
  'disks.diskPaths[0].unknownAttributes[0].value': '/instance/disks/diskPath[1]',
  'disks.root': '/instance/disks/root',
  'disks.root.device': '/instance/disks/root/@device',
  'disks.root.uuid': '/instance/disks/root/@uuid',
  'disks.root.unknownAttributes': '/instance/disks/root',
  'disks.root.unknownAttributes[0]': '/instance/disks/root',
  'disks.root.unknownAttributes[0].name': '/instance/disks/root',
  'disks.root.unknownAttributes[0].value': '/instance/disks/root',
  'disks.root.unknown': '/instance/disks/root',
  'disks.root.unknown[0]': '/instance/disks/root',
  'disks.root.unknown[0].name': '/instance/disks/root',
  'disks.root.unknown[0].xml': '/instance/disks/root',
  'disks.unknownAttributes': '/instance/disks',
  'disks.unknownAttributes[0]': '/instance/disks',
  'disks.unknownAttributes[0].name': '/instance/disks',
  'disks.unknownAttributes[0].value': '/instance/disks',
  'disks.unknownAttributesOf': '/instance/disks',
  'disks.unknownAttributesOf.floppyPath': '/instance/disks',
  'disks.unknownAttributesOf.floppyPath[0]': '/instance/disks',
  'disks.unknownAttributesOf.floppyPath[0].name': '/instance/disks',
  'disks.unknownAttributesOf.floppyPath[0].value': '/instance/disks',
  vbrs: '/instance/vbrs',
  'vbrs[0]': '/instance/vbrs/vbr',
  ...Object.fromEntries(
    ['resourceLocation', 'guestDeviceName', 'sizeBytes', 'formatName', 'id', 'typeName', 'type', 'locationType', 'format', 'diskNumber', 'partitionNumber', 'guestDeviceType', 'guestDeviceBus', 'backingType', 'backingPath', 'preparedResourceLocation', 'guestDeviceSerialId'].map((f) => [`vbrs[0].${f}`, `/instance/vbrs/vbr/${f}`]),
  ),
  'vbrs[0].unknown': '/instance/vbrs/vbr',
  'vbrs[0].unknown[0]': '/instance/vbrs/vbr',
  'vbrs[0].unknown[0].name': '/instance/vbrs/vbr',
  'vbrs[0].unknown[0].xml': '/instance/vbrs/vbr',
  'vbrs[0].unknownAttributes': '/instance/vbrs/vbr',
  'vbrs[0].unknownAttributes[0]': '/instance/vbrs/vbr',
  'vbrs[0].unknownAttributes[0].name': '/instance/vbrs/vbr',
  'vbrs[0].unknownAttributes[0].value': '/instance/vbrs/vbr',
  'vbrs[0].unknownAttributesOf': '/instance/vbrs/vbr',
  'vbrs[0].unknownAttributesOf.id': '/instance/vbrs/vbr',
  'vbrs[0].unknownAttributesOf.id[0]': '/instance/vbrs/vbr',
  'vbrs[0].unknownAttributesOf.id[0].name': '/instance/vbrs/vbr',
  'vbrs[0].unknownAttributesOf.id[0].value': '/instance/vbrs/vbr',
  volumes: '/instance/volumes',
  'volumes[0]': '/instance/volumes/volume',
  ...Object.fromEntries(['id', 'attachmentToken', 'devName', 'stateName', 'connectionString', 'libvirt', 'localDev', 'localDevReal'].map((f) => [`volumes[0].${f}`, `/instance/volumes/volume/${f}`])),
  'volumes[0].unknown': '/instance/volumes/volume',
  'volumes[0].unknown[0]': '/instance/volumes/volume',
  'volumes[0].unknown[0].name': '/instance/volumes/volume',
  'volumes[0].unknown[0].xml': '/instance/volumes/volume',
  'volumes[0].unknownAttributes': '/instance/volumes/volume',
  'volumes[0].unknownAttributes[0]': '/instance/volumes/volume',
  'volumes[0].unknownAttributes[0].name': '/instance/volumes/volume',
  'volumes[0].unknownAttributes[0].value': '/instance/volumes/volume',
  'volumes[0].unknownAttributesOf': '/instance/volumes/volume',
  'volumes[0].unknownAttributesOf.id': '/instance/volumes/volume',
  'volumes[0].unknownAttributesOf.id[0]': '/instance/volumes/volume',
  'volumes[0].unknownAttributesOf.id[0].name': '/instance/volumes/volume',
  'volumes[0].unknownAttributesOf.id[0].value': '/instance/volumes/volume',
  'volumes[0].unknownChildren': '/instance/volumes/volume/libvirt',
  'volumes[0].unknownChildren.libvirt': '/instance/volumes/volume/libvirt',
  'volumes[0].unknownChildren.libvirt[0]': '/instance/volumes/volume/libvirt',
  'volumes[0].unknownChildren.libvirt[0].name': '/instance/volumes/volume/libvirt',
  'volumes[0].unknownChildren.libvirt[0].xml': '/instance/volumes/volume/libvirt',
  nics: '/instance/nics',
  'nics[0]': '/instance/nics/nic',
  ...Object.fromEntries(
    ['vlan', 'networkIndex', 'mac', 'publicIp', 'privateIp', 'bridgeDeviceName', 'guestDeviceName', 'device', 'stateName', 'hypervisorType', 'osPlatform', 'osVirtioNetwork', 'attachmentId'].map((f) => [`nics[0].${f}`, `/instance/nics/nic/@${f}`]),
  ),
  'nics[0].unknownAttributes': '/instance/nics/nic',
  'nics[0].unknownAttributes[0]': '/instance/nics/nic',
  'nics[0].unknownAttributes[0].name': '/instance/nics/nic',
  'nics[0].unknownAttributes[0].value': '/instance/nics/nic',
  'nics[0].unknown': '/instance/nics/nic',
  'nics[0].unknown[0]': '/instance/nics/nic',
  'nics[0].unknown[0].name': '/instance/nics/nic',
  'nics[0].unknown[0].xml': '/instance/nics/nic',
  states: '/instance/states',
  'states[0]': '/instance/states',
  'states[0][0]': '/instance/states',
  'states[0][1]': '/instance/states',
  timestamps: '/instance/timestamps',
  'timestamps[0]': '/instance/timestamps',
  'timestamps[0][0]': '/instance/timestamps',
  'timestamps[0][1]': '/instance/timestamps',
  features: '/instance/features',
  'features.hugepages': '/instance/features/hugepages',
  'features.hugepages.enabled': '/instance/features/hugepages/@enabled',
  'features.hugepages.pageSizeKiB': '/instance/features/hugepages/@pageSizeKiB',
  'features.hugepages.nodeset': '/instance/features/hugepages/@nodeset',
  'features.legacyDiskBus': '/instance/features/legacyDiskBus',
  machine: '/instance/machine',
  'machine.type': '/instance/machine/@type',
  'machine.arch': '/instance/machine/@arch',
  configDrive: '/instance/configDrive',
  'configDrive.path': '/instance/configDrive/@path',
  'configDrive.label': '/instance/configDrive/@label',
  'configDrive.layouts': '/instance/configDrive/@layouts',
  'configDrive.layouts[0]': '/instance/configDrive/@layouts',
  password: '/instance/password',
  availabilityZone: '/instance/availabilityZone',
  metadata: '/instance/metadata',
  'metadata[0]': '/instance/metadata/item[1]',
  'metadata[0][0]': '/instance/metadata/item[1]',
  'metadata[0][1]': '/instance/metadata/item[1]',
  extraNics: '/instance/extraNics',
  'extraNics[0]': '/instance/extraNics/nic',
  'extraNics[0].mac': '/instance/extraNics/nic/@mac',
  'extraNics[0].bridgeDeviceName': '/instance/extraNics/nic/@bridgeDeviceName',
  'extraNics[0].model': '/instance/extraNics/nic/@model',
  'extraNics[0].privateIp': '/instance/extraNics/nic/@privateIp',
  unknown: '/instance',
  'unknown[0]': '/instance',
  'unknown[0].name': '/instance',
  'unknown[0].xml': '/instance',
  unknownChildren: '/instance',
  ...Object.fromEntries(
    ['groupNames', 'disks', 'vbrs', 'volumes', 'nics'].flatMap((c) => [
      [`unknownChildren.${c}`, `/instance/${c}`],
      [`unknownChildren.${c}[0]`, `/instance/${c}`],
      [`unknownChildren.${c}[0].name`, `/instance/${c}`],
      [`unknownChildren.${c}[0].xml`, `/instance/${c}`],
    ]),
  ),
  unknownAttributesOf: '/instance',
  'unknownAttributesOf.cores': '/instance',
  'unknownAttributesOf.cores[0]': '/instance',
  'unknownAttributesOf.cores[0].name': '/instance',
  'unknownAttributesOf.cores[0].value': '/instance',
};

type Place = (string | number)[];
const named = (p: Place) => p.map((k, i) => (typeof k === 'number' ? `[${k}]` : i ? `.${k}` : k)).join('');

/** Every place in `v`: each key of each object, each list and its first item, both strings of a `[name, value]` pair. */
function places(v: unknown, at: Place = []): Place[] {
  const pair = Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'string');
  if (Array.isArray(v)) return (pair ? [0, 1] : v.length ? [0] : []).flatMap((i) => [[...at, i], ...places(v[i], [...at, i])]);
  if (v === null || typeof v !== 'object') return [];
  return Object.entries(v).flatMap(([k, x]) => [[...at, k], ...places(x, [...at, k])]);
}

/** A copy of `inst` with the value at `place` replaced. */
function spoiled(inst: Instance, place: Place, value: unknown): Instance {
  const copy = structuredClone(inst) as unknown as Record<string | number, unknown>;
  let o = copy;
  for (const k of place.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  o[place.at(-1)!] = value;
  return copy as unknown as Instance;
}

/** A value of another type than `v`'s. */
function otherType(v: unknown): unknown {
  if (typeof v === 'string') return 42;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return { 0: v[0] };
  return 'x';
}

test('the full instance of this test is valid, and the table names every field of it (and no other)', async () => {
  const full = await fullInstance();
  validateInstance(full);
  const found = places(full).map(named);
  assert.deepEqual(found.filter((p) => !(p in WHERE)), [], 'fields of the instance the table does not name');
  assert.deepEqual(Object.keys(WHERE).filter((p) => !found.includes(p)), [], 'places the table names that the instance does not have');
});

test("every field of an Instance set to null, or to a value of another type, is an INSTANCE_INVALID at the field's path in instance.xml, naming it as the Instance has it", async () => {
  const full = await fullInstance();
  for (const place of places(full)) {
    const field = named(place);
    for (const value of [null, otherType(placeValue(full, place))]) {
      assert.throws(
        () => validateInstance(spoiled(full, place, value), { file: 'built in code' }),
        (e: unknown) => {
          assert.ok(e instanceof InstanceError, `${field} = ${JSON.stringify(value)}: ${String(e)}`);
          assert.equal(e.path, WHERE[field], `${field} = ${JSON.stringify(value)}: ${e.message}`);
          assert.equal(e.file, 'built in code');
          const spot = field.replace(/\[0\]\[[01]\]$/, '[0]'); // a pair's element: the pair is named
          assert.ok(e.shortMessage.startsWith(`Instance.${spot} must be `), `${field} = ${JSON.stringify(value)}: ${e.shortMessage}`);
          return true;
        },
      );
    }
  }
});

function placeValue(v: unknown, place: Place): unknown {
  return place.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], v);
}

test('a field the type requires, left out, is named with the others missing beside it; an optional one may be left out', async () => {
  const full = await fullInstance();
  // What a caller writes for a volume: its id and state only (render would fail on the missing devName).
  assert.throws(
    () => validateInstance({ ...full, volumes: [{ id: 'vol-1', stateName: 'attached' } as Instance['volumes'][number]] }),
    (e: unknown) =>
      e instanceof InstanceError &&
      e.path === '/instance/volumes/volume/attachmentToken' &&
      e.shortMessage === 'Instance.volumes[0].attachmentToken is missing (a string is required); so are devName, connectionString',
  );
  const { hypervisor: _h, ...noHypervisor } = full;
  assert.throws(() => validateInstance(noHypervisor as Instance), (e: unknown) => e instanceof InstanceError && e.path === '/instance/hypervisor' && /^Instance\.hypervisor is missing \(an object is required\)$/.test(e.shortMessage));
  // The second of two disk paths, by its index.
  assert.throws(() => validateInstance({ ...full, disks: { ...full.disks, diskPaths: [full.disks.diskPaths[0]!, null as never] } }), (e: unknown) => e instanceof InstanceError && e.path === '/instance/disks/diskPath[2]' && e.shortMessage === 'Instance.disks.diskPaths[1] must be an object, got null');
  // Optional fields left out (undefined, as a spread that drops them leaves them) are fine.
  validateInstance({ ...full, kernel: undefined, ramdisk: undefined, machine: undefined, configDrive: undefined, password: undefined, unknownChildren: undefined });
  // Not an object at all.
  assert.throws(() => validateInstance(null as unknown as Instance), (e: unknown) => e instanceof InstanceError && e.path === '/instance' && e.shortMessage === 'Instance must be an object, got null');
});
