/**
 * The shape of an Instance, checked before its values: an Instance built or changed in code
 * (`{ ...instance, nics: null }`, a volume without `devName`) must have every field the type
 * says, of the type it says, before validateInstance reads its values and emitInstance
 * writes them, or they would fail on it with a bare TypeError (or write `undefined`). The
 * parsers build well-formed Instances; this is for the rest.
 *
 * The shape is declared once below, field by field, with where each field is in instance.xml
 * (so a refusal names the path an admin knows, `/instance/disks/diskPath[2]/@sourceType`, and
 * the line of a file the Instance was read from). Its keys and which of them are optional are
 * those of model.ts's types, which the compiler holds it to (`Fields<T>`): a field added to
 * the model without a line here does not compile. Only types are checked here; what the
 * values mean (a MAC, a hypervisor type) is validateInstance's.
 */
import type { Backing, ConfigDrive, DiskPath, DiskRoot, Disks, ExtraNic, Features, Hugepages, Hypervisor, Instance, Key, Machine, Nic, Os, UnknownAttribute, UnknownElement, Vbr, Volume } from './model.js';
import { itemPath } from './paths.js';

/** Where a field is in instance.xml, from its owner's element: `cores`, `@type`, `root/@type`, or `''` for the owner itself. */
type At = string;

type Shape =
  | { kind: 'string' | 'number' | 'boolean' }
  | { kind: 'object'; fields: Record<string, Field> }
  /**
   * A list; its items are the elements `item` in the list's element (`nic` in `nics`), indexed
   * as the parser names them (only when there are several, or always); `null`: at the list's
   * own path (a value of one attribute, kept attributes on their element).
   */
  | { kind: 'list'; item: string | null; of: Shape }
  /** `[name, value][]`: `states` and `timestamps` (items at the list's path), `metadata` (items `item[N]`, always indexed). */
  | { kind: 'pairs'; item?: string }
  /** `Record<string, T>` (UnknownAttributesOf). */
  | { kind: 'map'; of: Shape };

type Kind = Shape['kind'];

interface Field<K extends Kind = Kind, O extends boolean = boolean> {
  at: At;
  /** `shape.kind`, for the compiler to compare with the model's type. */
  kind: K;
  shape: Shape;
  optional: O;
}

/** The kind of shape a field of type `V` has. */
type KindOf<V> = [V] extends [string] ? 'string' : [V] extends [number] ? 'number' : [V] extends [boolean] ? 'boolean' : [V] extends [[string, string][]] ? 'pairs' : [V] extends [readonly unknown[]] ? 'list' : 'object' | 'map';

/** Every key of `T`, required and optional alike, each declared as `T` declares it: optional or not, and of its kind. */
type Fields<T> = { [K in keyof T]-?: Field<KindOf<NonNullable<T[K]>>, {} extends Pick<T, K> ? true : false> };

const req = <S extends Shape>(at: At, shape: S): Field<S['kind'], false> => ({ at, kind: shape.kind, shape, optional: false });
const opt = <S extends Shape>(at: At, shape: S): Field<S['kind'], true> => ({ at, kind: shape.kind, shape, optional: true });
const object = <T>(fields: Fields<T>) => ({ kind: 'object', fields: fields as unknown as Record<string, Field> }) as const;
const list = (item: string | null, of: Shape) => ({ kind: 'list', item, of }) as const;
const STRING = { kind: 'string' } as const;
const NUMBER = { kind: 'number' } as const;
const BOOLEAN = { kind: 'boolean' } as const;

// What instance.xml keeps that domforge does not know: on the owner's element.
const UNKNOWN_ELEMENTS = list(null, object<UnknownElement>({ name: req('', STRING), xml: req('', STRING) }));
const UNKNOWN_ATTRIBUTES = list(null, object<UnknownAttribute>({ name: req('', STRING), value: req('', STRING), namespace: opt('', STRING) }));
const UNKNOWN_ATTRIBUTES_OF = { kind: 'map', of: UNKNOWN_ATTRIBUTES } as const;
const kept = { unknownAttributes: opt('', UNKNOWN_ATTRIBUTES), unknown: opt('', UNKNOWN_ELEMENTS) } as const;

const HYPERVISOR = object<Hypervisor>({
  type: req('@type', STRING),
  capability: req('@capability', STRING),
  bitness: req('@bitness', NUMBER),
  requiresDisk: opt('@requiresDisk', BOOLEAN),
  ...kept,
});

const BACKING = object<Backing>({
  rootType: req('root/@type', STRING),
  unknown: opt('', UNKNOWN_ELEMENTS),
  unknownAttributes: opt('', UNKNOWN_ATTRIBUTES),
  unknownAttributesOf: opt('', UNKNOWN_ATTRIBUTES_OF),
  unknownChildren: opt('root', object<NonNullable<Backing['unknownChildren']>>({ root: opt('', UNKNOWN_ELEMENTS) })),
});

const KEY = object<Key>({ doInjectKey: req('@doInjectKey', BOOLEAN), sshKey: req('@sshKey', STRING), ...kept });

const OS = object<Os>({
  platform: req('@platform', STRING),
  virtioRoot: req('@virtioRoot', BOOLEAN),
  virtioDisk: req('@virtioDisk', BOOLEAN),
  virtioNetwork: req('@virtioNetwork', BOOLEAN),
  ...kept,
});

const DISK_PATH = object<DiskPath>({
  path: req('', STRING),
  targetDeviceType: req('@targetDeviceType', STRING),
  targetDeviceName: req('@targetDeviceName', STRING),
  targetDeviceNameVirtio: opt('@targetDeviceNameVirtio', STRING),
  targetDeviceBusVirtio: opt('@targetDeviceBusVirtio', STRING),
  targetDeviceBus: req('@targetDeviceBus', STRING),
  sourceType: req('@sourceType', STRING),
  serial: opt('@serial', STRING),
  unknownAttributes: opt('', UNKNOWN_ATTRIBUTES),
});

const DISKS = object<Disks>({
  floppyPath: req('floppyPath', STRING),
  diskPaths: req('', list('diskPath', DISK_PATH)),
  root: opt('root', object<DiskRoot>({ device: req('@device', STRING), uuid: opt('@uuid', STRING), ...kept })),
  unknownAttributes: opt('', UNKNOWN_ATTRIBUTES),
  unknownAttributesOf: opt('', UNKNOWN_ATTRIBUTES_OF),
});

const text = (name: string) => req(name, STRING);
const num = (name: string) => req(name, NUMBER);
const VBR = object<Vbr>({
  resourceLocation: text('resourceLocation'),
  guestDeviceName: text('guestDeviceName'),
  sizeBytes: num('sizeBytes'),
  formatName: text('formatName'),
  id: text('id'),
  typeName: text('typeName'),
  type: text('type'),
  locationType: text('locationType'),
  format: text('format'),
  diskNumber: num('diskNumber'),
  partitionNumber: num('partitionNumber'),
  guestDeviceType: text('guestDeviceType'),
  guestDeviceBus: text('guestDeviceBus'),
  backingType: text('backingType'),
  backingPath: text('backingPath'),
  preparedResourceLocation: text('preparedResourceLocation'),
  guestDeviceSerialId: text('guestDeviceSerialId'),
  unknown: opt('', UNKNOWN_ELEMENTS),
  unknownAttributes: opt('', UNKNOWN_ATTRIBUTES),
  unknownAttributesOf: opt('', UNKNOWN_ATTRIBUTES_OF),
});

const VOLUME = object<Volume>({
  id: text('id'),
  attachmentToken: text('attachmentToken'),
  devName: text('devName'),
  stateName: text('stateName'),
  connectionString: text('connectionString'),
  libvirt: opt('libvirt', STRING),
  localDev: opt('localDev', STRING),
  localDevReal: opt('localDevReal', STRING),
  unknown: opt('', UNKNOWN_ELEMENTS),
  unknownAttributes: opt('', UNKNOWN_ATTRIBUTES),
  unknownAttributesOf: opt('', UNKNOWN_ATTRIBUTES_OF),
  unknownChildren: opt('libvirt', object<NonNullable<Volume['unknownChildren']>>({ libvirt: opt('', UNKNOWN_ELEMENTS) })),
});

const NIC = object<Nic>({
  vlan: req('@vlan', NUMBER),
  networkIndex: req('@networkIndex', NUMBER),
  mac: req('@mac', STRING),
  publicIp: req('@publicIp', STRING),
  privateIp: req('@privateIp', STRING),
  bridgeDeviceName: req('@bridgeDeviceName', STRING),
  guestDeviceName: opt('@guestDeviceName', STRING),
  device: opt('@device', NUMBER),
  stateName: opt('@stateName', STRING),
  hypervisorType: opt('@hypervisorType', STRING),
  osPlatform: opt('@osPlatform', STRING),
  osVirtioNetwork: opt('@osVirtioNetwork', BOOLEAN),
  attachmentId: opt('@attachmentId', STRING),
  ...kept,
});

const EXTRA_NIC = object<ExtraNic>({ mac: req('@mac', STRING), bridgeDeviceName: req('@bridgeDeviceName', STRING), model: req('@model', STRING), privateIp: opt('@privateIp', STRING) });

const FEATURES = object<Features>({
  hugepages: opt('hugepages', object<Hugepages>({ enabled: req('@enabled', BOOLEAN), pageSizeKiB: opt('@pageSizeKiB', NUMBER), nodeset: opt('@nodeset', STRING) })),
  legacyDiskBus: opt('legacyDiskBus', STRING),
});

const INSTANCE = object<Instance>({
  xmlVersion: opt('@xml-version', STRING),
  unknownAttributes: opt('', UNKNOWN_ATTRIBUTES),
  hypervisor: req('hypervisor', HYPERVISOR),
  backing: req('backing', BACKING),
  name: text('name'),
  uuid: text('uuid'),
  reservation: text('reservation'),
  user: text('user'),
  owner: text('owner'),
  account: text('account'),
  imageId: text('imageId'),
  kernelId: text('kernelId'),
  ramdiskId: text('ramdiskId'),
  dnsName: text('dnsName'),
  privateDnsName: text('privateDnsName'),
  instancePath: text('instancePath'),
  kernel: opt('kernel', STRING),
  ramdisk: opt('ramdisk', STRING),
  xmlFilePath: text('xmlFilePath'),
  libvirtFilePath: text('libvirtFilePath'),
  consoleLogPath: text('consoleLogPath'),
  userData: text('userData'),
  launchIndex: text('launchIndex'),
  hasFloppy: req('hasFloppy', BOOLEAN),
  cpuPassthrough: req('cpuPassthrough', BOOLEAN),
  cores: num('cores'),
  memoryKB: num('memoryKB'),
  diskGB: num('diskGB'),
  VmType: text('VmType'),
  NicType: text('NicType'),
  NicDevice: text('NicDevice'),
  rootDirective: text('rootDirective'),
  key: req('key', KEY),
  os: req('os', OS),
  groupNames: req('groupNames', list('name', STRING)),
  disks: req('disks', DISKS),
  vbrs: req('vbrs', list('vbr', VBR)),
  volumes: req('volumes', list('volume', VOLUME)),
  nics: req('nics', list('nic', NIC)),
  states: req('states', { kind: 'pairs' }),
  timestamps: req('timestamps', { kind: 'pairs' }),
  features: req('features', FEATURES),
  machine: opt('machine', object<Machine>({ type: req('@type', STRING), arch: req('@arch', STRING) })),
  configDrive: opt('configDrive', object<ConfigDrive>({ path: req('@path', STRING), label: req('@label', STRING), layouts: req('@layouts', list(null, STRING)) })),
  password: opt('password', STRING),
  availabilityZone: opt('availabilityZone', STRING),
  metadata: req('metadata', { kind: 'pairs', item: 'item' }),
  extraNics: req('extraNics', list('nic', EXTRA_NIC)),
  unknown: req('', UNKNOWN_ELEMENTS),
  unknownChildren: opt('', object<NonNullable<Instance['unknownChildren']>>({
    groupNames: opt('groupNames', UNKNOWN_ELEMENTS),
    disks: opt('disks', UNKNOWN_ELEMENTS),
    vbrs: opt('vbrs', UNKNOWN_ELEMENTS),
    volumes: opt('volumes', UNKNOWN_ELEMENTS),
    nics: opt('nics', UNKNOWN_ELEMENTS),
  })),
  unknownAttributesOf: opt('', UNKNOWN_ATTRIBUTES_OF),
});

/** A field of the wrong type: its path in instance.xml, and why, naming the field as the caller wrote it (`Instance.disks.diskPaths[1]`). */
export interface StructureProblem {
  path: string;
  message: string;
}

const EXPECTED: Record<Shape['kind'], string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object',
  list: 'a list (an array)',
  pairs: 'a list of [name, value] pairs of strings',
  map: 'an object',
};

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `the ${typeof v} ${String(v)}`;
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

const join = (owner: string, at: At) => (at === '' ? owner : `${owner}/${at}`);

/** The first field of `instance` that is missing or not of its type, or undefined when its shape is an Instance's. */
export function instanceStructureProblem(instance: unknown): StructureProblem | undefined {
  return walk(instance, INSTANCE, '/instance', 'Instance');
}

function walk(v: unknown, shape: Shape, path: string, name: string): StructureProblem | undefined {
  const wrong = (): StructureProblem => ({ path, message: `${name} must be ${EXPECTED[shape.kind]}, got ${describe(v)}` });
  switch (shape.kind) {
    case 'string':
      return typeof v === 'string' ? undefined : wrong();
    case 'number':
      return typeof v === 'number' && !Number.isNaN(v) ? undefined : wrong();
    case 'boolean':
      return typeof v === 'boolean' ? undefined : wrong();
    case 'object': {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return wrong();
      const o = v as Record<string, unknown>;
      for (const [key, field] of Object.entries(shape.fields)) {
        const value = o[key];
        const at = join(path, field.at);
        if (value === undefined) {
          if (field.optional) continue;
          const missing = Object.entries(shape.fields).filter(([k, f]) => !f.optional && o[k] === undefined).map(([k]) => k);
          const others = missing.filter((k) => k !== key);
          return { path: at, message: `${name}.${key} is missing (${EXPECTED[field.shape.kind]} is required)${others.length ? `; so ${others.length > 1 ? 'are' : 'is'} ${others.join(', ')}` : ''}` };
        }
        const p = walk(value, field.shape, at, `${name}.${key}`);
        if (p) return p;
      }
      return undefined;
    }
    case 'list': {
      if (!Array.isArray(v)) return wrong();
      for (const [i, item] of v.entries()) {
        const p = walk(item, shape.of, shape.item === null ? path : itemPath(`${path}/${shape.item}`, v.length, i), `${name}[${i}]`);
        if (p) return p;
      }
      return undefined;
    }
    case 'pairs': {
      if (!Array.isArray(v)) return wrong();
      for (const [i, pair] of v.entries()) {
        if (Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string' && typeof pair[1] === 'string') continue;
        const at = shape.item === undefined ? path : `${path}/${shape.item}[${i + 1}]`;
        return { path: at, message: `${name}[${i}] must be a [name, value] pair of strings, got ${describe(pair)}` };
      }
      return undefined;
    }
    case 'map': {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return wrong();
      for (const [key, value] of Object.entries(v as Record<string, unknown>)) {
        const p = walk(value, shape.of, path, `${name}.${key}`);
        if (p) return p;
      }
      return undefined;
    }
  }
}
