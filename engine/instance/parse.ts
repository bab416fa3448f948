import { InstanceError } from '../errors.js';
import { parseXml, lineOf, columnOf, NODE, type Document, type Element } from '../xml/parse.js';
import { serializeXml } from '../xml/serialize.js';
import { firstTooDeep, tooDeepMessage } from '../xml/depth.js';
import { checkDeclaredEncoding } from '../xml/decode.js';
import { ElementReader } from './reader.js';
import { readInputText, withJsonHint } from './input.js';
import { validateInstance, vbrCountProblem, type Locator } from './validate.js';
import { rememberSource } from './source.js';
import {
  CONFIG_DRIVE_LAYOUTS,
  DEVICE_TYPES,
  DISK_BUSES,
  HYPERVISOR_TYPES,
  LEGACY_DISK_BUSES,
  LIST_CONTAINERS,
  PLATFORMS,
  SOURCE_TYPES,
  type Backing,
  type DiskPath,
  type DiskRoot,
  type Disks,
  type ExtraNic,
  type Hypervisor,
  type Instance,
  type Key,
  type ListContainer,
  type Nic,
  type Os,
  type UnknownAttribute,
  type UnknownAttributesOf,
  type UnknownChildren,
  type UnknownElement,
  type Vbr,
  type Volume,
} from './model.js';
import { DEFAULT_LABEL } from '../configdrive/label.js';
import { closestName } from './did-you-mean.js';

/** Simple text children of `<instance>` in the order Eucalyptus writes them (kernel/ramdisk are optional). */
export const TEXT_FIELDS = [
  'name', 'uuid', 'reservation', 'user', 'owner', 'account', 'imageId', 'kernelId', 'ramdiskId',
  'dnsName', 'privateDnsName', 'instancePath', 'kernel', 'ramdisk', 'xmlFilePath', 'libvirtFilePath',
  'consoleLogPath', 'userData', 'launchIndex',
] as const;

/** The children of `<instance>` domforge reads; any other is kept (Instance.unknown). */
export const INSTANCE_CHILDREN: ReadonlySet<string> = new Set<string>([
  'hypervisor', 'backing', ...TEXT_FIELDS, 'hasFloppy', 'cpuPassthrough', 'cores', 'memoryKB', 'diskGB', 'VmType',
  'NicType', 'NicDevice', 'rootDirective', 'key', 'os', 'groupNames', 'disks', 'vbrs', 'volumes', 'nics', 'states',
  'timestamps', 'features', 'machine', 'configDrive', 'password', 'availabilityZone', 'metadata', 'extraNics',
]);

/**
 * The children of `<instance>` from Eucalyptus's schema domforge reads into a plain value or a
 * list, not an object of its own: their unknown attributes are kept in
 * Instance.unknownAttributesOf, by name. (domforge's own, `<password>` say, keep none: see OWN_ATTRIBUTES.)
 */
export const PLAIN_CHILDREN = [
  ...TEXT_FIELDS, 'hasFloppy', 'cpuPassthrough', 'cores', 'memoryKB', 'diskGB', 'VmType', 'NicType', 'NicDevice',
  'rootDirective', 'groupNames', 'vbrs', 'volumes', 'nics', 'states', 'timestamps',
] as const;

/**
 * The attributes domforge reads of each element of Eucalyptus's schema it reads attributes
 * of (`root`: the one in `<backing>`; `diskRoot`: the one in `<disks>`; `key` also the
 * `isKeyInjected` of Eucalyptus 3.3). Any other attribute of these, and every attribute of
 * one of its elements not named here, is kept as unknown (see UnknownAttribute): a newer
 * Eucalyptus may add some. domforge's own elements keep none (see OWN_ATTRIBUTES).
 */
export const KNOWN_ATTRIBUTES = {
  instance: ['xml-version'],
  hypervisor: ['type', 'capability', 'bitness', 'requiresDisk'],
  root: ['type'],
  key: ['doInjectKey', 'sshKey', 'isKeyInjected'],
  os: ['platform', 'virtioRoot', 'virtioDisk', 'virtioNetwork'],
  diskPath: ['targetDeviceType', 'targetDeviceName', 'targetDeviceNameVirtio', 'targetDeviceBusVirtio', 'targetDeviceBus', 'sourceType', 'serial'],
  diskRoot: ['device', 'uuid'],
  nic: [
    'vlan', 'networkIndex', 'mac', 'publicIp', 'privateIp', 'bridgeDeviceName', 'guestDeviceName', 'device', 'stateName',
    'hypervisorType', 'osPlatform', 'osVirtioNetwork', 'attachmentId',
  ],
} as const satisfies Record<string, readonly string[]>;

/**
 * domforge's own elements (its extensions, which Eucalyptus's schema does not have), by their
 * path below `<instance>` without indexes, with the attributes each has. Nobody else writes
 * attributes on them, so another is a misspelling (`<hugepages pagesize="2048"/>` for
 * `pageSizeKiB`, `<configDrive labl="config"/>`) that, kept, would leave what the admin asked
 * for silently not done: parseInstance refuses it at its element, naming a known one it is a
 * close spelling of, and emitInstance refuses one made in code.
 */
export const OWN_ATTRIBUTES = {
  features: [],
  'features/hugepages': ['enabled', 'pageSizeKiB', 'nodeset'],
  'features/legacyDiskBus': [],
  machine: ['type', 'arch'],
  configDrive: ['path', 'label', 'layouts'],
  password: [],
  availabilityZone: [],
  metadata: [],
  'metadata/item': ['key'],
  extraNics: [],
  'extraNics/nic': ['mac', 'bridgeDeviceName', 'model', 'privateIp'],
} as const satisfies Record<string, readonly string[]>;

/**
 * The children each list container of Eucalyptus's schema is read by; any other is kept as
 * unknown (Instance.unknownChildren). domforge's own `<extraNics>` holds only its `<nic>`s.
 */
export const CONTAINER_CHILDREN: Readonly<Record<ListContainer, readonly string[]>> = {
  groupNames: ['name'],
  disks: ['floppyPath', 'diskPath', 'root'],
  vbrs: ['vbr'],
  volumes: ['volume'],
  nics: ['nic'],
};

export const VBR_FIELDS = [
  'resourceLocation', 'guestDeviceName', 'sizeBytes', 'formatName', 'id', 'typeName', 'type', 'locationType', 'format',
  'diskNumber', 'partitionNumber', 'guestDeviceType', 'guestDeviceBus', 'backingType', 'backingPath',
  'preparedResourceLocation', 'guestDeviceSerialId',
] as const;
const VBR_NUMERIC = new Set(['sizeBytes', 'diskNumber', 'partitionNumber']);

/** The elements `<features>` (domforge's own) may hold; any other is refused (see {@link ownChildrenOnly}). */
const FEATURES: readonly string[] = ['hugepages', 'legacyDiskBus'];

/** The children of a `<volume>` domforge reads (`localDev`, `localDevReal`: Eucalyptus 3.4–4.0); any other is kept as unknown. */
export const VOLUME_FIELDS = ['id', 'attachmentToken', 'devName', 'stateName', 'connectionString', 'localDev', 'localDevReal', 'libvirt'] as const;

export interface ParseInstanceOptions {
  /** File name for error messages. */
  file?: string;
  /** The text already parsed strictly (with {@link parseXml}), so it is not parsed twice. */
  document?: Document;
}

/** Reads and parses an instance.xml file (a regular file, or standard input as `-` or `/dev/stdin`). */
export async function readInstanceFile(file: string): Promise<Instance> {
  return parseInstance(await readInputText(file, 'instance file'), { file });
}

/**
 * Parses an `instance.xml` (any Eucalyptus form from 3.4 on, plus domforge extensions),
 * strictly, and validates it. Errors name file, line and path (`/instance/cores`).
 */
export function parseInstance(text: string, options: ParseInstanceOptions = {}): Instance {
  const file = options.file;
  checkDeclaredEncoding(text, undefined, file);
  let doc = options.document;
  if (!doc) {
    try {
      doc = parseXml(text, { file });
    } catch (e) {
      throw withJsonHint(e, text);
    }
  }
  // Before anything walks the tree: a volume's <disk> is copied with recursion, and the
  // transform's libxslt would refuse the document with a message of its own, naming no file.
  const deep = firstTooDeep(doc.documentElement!);
  if (deep) throw new InstanceError(tooDeepMessage(deep), { file, line: lineOf(deep), column: columnOf(deep) });
  const { instance, locate } = readDocument(doc, file);
  validateInstance(instance, { file, locate });
  rememberSource(instance, { file, locate: rereading(text, file) });
  return instance;
}

/**
 * A locator that parses `text` again when asked (only when a later check fails): keeping
 * the parse's own would keep the whole document alive as long as the Instance.
 */
function rereading(text: string, file: string | undefined): Locator {
  return (path) => readDocument(parseXml(text, { file }), file).locate(path);
}

/** The instance in a parsed document, and the lines of its elements by path. */
function readDocument(doc: Document, file: string | undefined): { instance: Instance; locate: Locator } {
  const root = doc.documentElement!;
  if (root.nodeName !== 'instance') {
    throw new InstanceError(`expected root element <instance>, found <${root.nodeName}>`, { file, line: lineOf(root), column: columnOf(root), path: `/${root.nodeName}` });
  }
  const r = new ElementReader(root, '/instance', file);
  const lines = new Map<string, Element>();
  const instance = readInstance(r, lines);
  const locate: Locator = (path) => {
    // Walk up the path until an element we recorded (attributes and indexes map to their element).
    let p = path;
    while (p) {
      const el = lines.get(p);
      if (el) return { line: lineOf(el), column: columnOf(el) };
      p = p.replace(/\/[^/]*$/, '');
    }
    return {};
  };
  return { instance, locate };
}

function readInstance(r: ElementReader, lines: Map<string, Element>): Instance {
  for (const el of r.elements()) if (!lines.has(`/instance/${el.nodeName}`)) lines.set(`/instance/${el.nodeName}`, el);
  const text = (name: string) => r.childText(name);
  const hv = r.requireChild('hypervisor');
  const os = r.requireChild('os');
  const key = r.child('key');
  const disks = r.child('disks');

  const inst: Instance = {
    xmlVersion: r.attr('xml-version'),
    hypervisor: readHypervisor(hv),
    backing: readBacking(r.child('backing')),
    name: requiredText(r, 'name'),
    uuid: requiredText(r, 'uuid'),
    reservation: text('reservation') ?? '',
    user: text('user') ?? '',
    owner: text('owner') ?? '',
    account: text('account') ?? '',
    imageId: text('imageId') ?? '',
    kernelId: text('kernelId') ?? '',
    ramdiskId: text('ramdiskId') ?? '',
    dnsName: text('dnsName') ?? '',
    privateDnsName: text('privateDnsName') ?? '',
    instancePath: text('instancePath') ?? '',
    kernel: text('kernel'),
    ramdisk: text('ramdisk'),
    xmlFilePath: text('xmlFilePath') ?? '',
    libvirtFilePath: text('libvirtFilePath') ?? '',
    consoleLogPath: text('consoleLogPath') ?? '',
    userData: (text('userData') ?? '').trim(),
    launchIndex: text('launchIndex') ?? '0',
    hasFloppy: r.bool(text('hasFloppy'), r.sub('hasFloppy')) ?? false,
    cpuPassthrough: r.bool(text('cpuPassthrough'), r.sub('cpuPassthrough')) ?? false,
    cores: r.int(requiredText(r, 'cores'), r.sub('cores'))!,
    memoryKB: r.int(requiredText(r, 'memoryKB'), r.sub('memoryKB'))!,
    diskGB: r.int(text('diskGB') || undefined, r.sub('diskGB')) ?? 0,
    VmType: text('VmType') ?? '',
    NicType: text('NicType') ?? '',
    NicDevice: text('NicDevice') ?? '',
    rootDirective: text('rootDirective') ?? '',
    key: withKept<Key>({
      // Eucalyptus 3.3 and older wrote isKeyInjected.
      doInjectKey: key ? (key.bool(key.attr('doInjectKey') ?? key.attr('isKeyInjected'), key.at('doInjectKey')) ?? false) : false,
      sshKey: key?.attr('sshKey') ?? '',
    }, { unknownAttributes: unknownAttributes(key, KNOWN_ATTRIBUTES.key), unknown: unknownOf(key, []) }),
    os: withKept<Os>({
      platform: os.oneOf(os.requireAttr('platform'), PLATFORMS, os.at('platform'))!,
      virtioRoot: os.bool(os.attr('virtioRoot'), os.at('virtioRoot')) ?? false,
      virtioDisk: os.bool(os.attr('virtioDisk'), os.at('virtioDisk')) ?? false,
      virtioNetwork: os.bool(os.attr('virtioNetwork'), os.at('virtioNetwork')) ?? false,
    }, { unknownAttributes: unknownAttributes(os, KNOWN_ATTRIBUTES.os), unknown: unknownOf(os, []) }),
    groupNames: (r.child('groupNames')?.children('name') ?? []).map((n) => n.text()),
    disks: { floppyPath: disks?.childText('floppyPath') ?? '', diskPaths: [] },
    vbrs: readVbrs(r.child('vbrs')),
    volumes: (r.child('volumes')?.children('volume') ?? []).map((v) => (lines.set(v.path, v.el), readVolume(v))),
    nics: (r.child('nics')?.children('nic') ?? []).map((n) => readNic(n, lines)),
    states: readPairs(r.child('states'), lines),
    timestamps: readPairs(r.child('timestamps'), lines),
    features: {},
    metadata: [],
    extraNics: [],
    unknown: [],
  };
  if (disks) {
    for (const d of disks.children('diskPath')) {
      lines.set(d.path, d.el);
      inst.disks.diskPaths.push(readDiskPath(d));
    }
    const root = disks.child('root');
    if (root) inst.disks.root = withKept<DiskRoot>({ device: root.attr('device') ?? '', uuid: root.attr('uuid') }, { unknownAttributes: unknownAttributes(root, KNOWN_ATTRIBUTES.diskRoot), unknown: unknownOf(root, []) });
    withKept<Disks>(inst.disks, { unknownAttributes: unknownAttributes(disks), unknownAttributesOf: attributesOf([['floppyPath', disks.child('floppyPath')]]) });
  }
  readExtensions(r, inst, lines);
  const kept = readUnknownChildren(r);
  if (Object.keys(kept).length) inst.unknownChildren = kept;
  withKept(inst, { unknownAttributes: unknownAttributes(r, KNOWN_ATTRIBUTES.instance), unknownAttributesOf: readPlainAttributes(r) });
  for (const el of r.elements()) {
    if (!INSTANCE_CHILDREN.has(el.nodeName)) inst.unknown.push(keptElement(el));
  }
  return inst;
}

/** `<hypervisor>` (of an instance or a volume stub), with what it holds that domforge does not know. */
export function readHypervisor(hv: ElementReader): Hypervisor {
  return withKept<Hypervisor>({
    type: hv.oneOf(hv.requireAttr('type'), HYPERVISOR_TYPES, hv.at('type'))!,
    capability: hv.attr('capability') ?? 'unknown',
    bitness: (hv.oneOf(hv.attr('bitness') ?? '64', ['32', '64'], hv.at('bitness')) === '32' ? 32 : 64),
    requiresDisk: hv.bool(hv.attr('requiresDisk'), hv.at('requiresDisk')),
  }, { unknownAttributes: unknownAttributes(hv, KNOWN_ATTRIBUTES.hypervisor), unknown: unknownOf(hv, []) });
}

/** The children of the list containers that are none of those read from them, kept. */
function readUnknownChildren(r: ElementReader): UnknownChildren {
  const out: UnknownChildren = {};
  for (const c of LIST_CONTAINERS) {
    const kept = unknownOf(r.child(c), CONTAINER_CHILDREN[c]);
    if (kept.length) out[c] = kept;
  }
  return out;
}

/** The child elements of `r` whose names are not in `known`, kept, in document order. */
export function unknownOf(r: ElementReader | undefined, known: readonly string[]): UnknownElement[] {
  return (r?.elements() ?? []).filter((e) => !known.includes(e.nodeName)).map(keptElement);
}

/** An element kept whole, by its name (see {@link keptXml}). */
function keptElement(el: Element): UnknownElement {
  return { name: el.nodeName, xml: keptXml(el) };
}

/**
 * The attributes of `r`'s element whose names are not in `known`, kept, in document order
 * (none when there is no element); a prefixed one with its namespace. Namespace declarations
 * are not attributes: domforge reads elements by name, and writes its own in no namespace.
 */
export function unknownAttributes(r: ElementReader | undefined, known: readonly string[] = []): UnknownAttribute[] {
  const out: UnknownAttribute[] = [];
  const attrs = r?.el.attributes;
  for (let i = 0; i < (attrs?.length ?? 0); i++) {
    const a = attrs!.item(i)!;
    if (known.includes(a.name) || a.name === 'xmlns' || a.name.startsWith('xmlns:')) continue;
    out.push(a.prefix ? { name: a.name, value: a.value, namespace: a.namespaceURI ?? undefined } : { name: a.name, value: a.value });
  }
  return out;
}

/**
 * Refuses an attribute of `r`'s element, one of domforge's own at `own` (see OWN_ATTRIBUTES),
 * that it does not have: at the element, with the attribute's path, naming a close spelling
 * of one it has. Namespace declarations are not attributes (see {@link unknownAttributes}).
 */
function ownAttributesOnly(r: ElementReader | undefined, own: keyof typeof OWN_ATTRIBUTES): void {
  const known: readonly string[] = OWN_ATTRIBUTES[own];
  for (const a of unknownAttributes(r, known)) {
    const names = known.length > 1 ? `s ${known.slice(0, -1).join(', ')} and ${known.at(-1)}` : ` ${known[0]}`;
    const has = known.length ? `has only the attribute${names}` : 'has no attributes';
    const close = closestName(a.name, known);
    r!.fail(`<${r!.el.nodeName}> ${has}, not ${a.name}${close === undefined ? '' : `; did you mean ${close}?`}`, r!.at(a.name));
  }
}

/**
 * Refuses a child element of `r`'s element, one of domforge's own, that is not one of `known`
 * (`holds`: what it holds, for the message): at that child's line and column, with its path,
 * naming a close spelling of a known one. Nobody else writes domforge's elements, so another
 * element in one is a misspelling (`<hugePages/>` in `<features>`) that, kept, would be
 * ignored and what it asked for silently not done. Text other than whitespace is refused
 * at the element, for the same reason.
 */
function ownChildrenOnly(r: ElementReader | undefined, known: readonly string[], holds: string): void {
  // Text is not read either: `<machine>q35</machine>` would give the default machine.
  for (const n of Array.from(r?.el.childNodes ?? [])) {
    if ((n.nodeType === NODE.TEXT || n.nodeType === NODE.CDATA) && n.nodeValue!.trim() !== '') {
      r!.fail(`<${r!.el.nodeName}> ${holds} and no text, not ${JSON.stringify(n.nodeValue!.trim())}${known.length ? '' : ' (its settings are attributes)'}`, r!.path);
    }
  }
  for (const e of r?.elements() ?? []) {
    if (known.includes(e.nodeName)) continue;
    const close = closestName(e.nodeName, known);
    r!.fail(`<${r!.el.nodeName}> ${holds}, not <${e.nodeName}>${close === undefined ? '' : `; did you mean <${close}>?`}`, `${r!.path}/${e.nodeName}`, e);
  }
}

/** An element read into a plain value: its path (see UnknownAttributesOf), the element, and its known attributes. */
export type PlainElement = [path: string, element: ElementReader | undefined, known?: readonly string[]];

/**
 * The unknown attributes of elements read into a plain value, by their path below the
 * object that keeps them (see UnknownAttributesOf); an absent element or one without any left out.
 */
export function attributesOf(elements: PlainElement[]): UnknownAttributesOf {
  const out: UnknownAttributesOf = {};
  for (const [path, r, known] of elements) {
    const kept = unknownAttributes(r, known);
    if (kept.length) out[path] = kept;
  }
  return out;
}

/** What an element holds that domforge does not know, as its object keeps it (see {@link withKept}). */
export interface Kept {
  unknown?: UnknownElement[];
  unknownAttributes?: UnknownAttribute[];
  unknownAttributesOf?: UnknownAttributesOf;
  /** Unknown elements inside a child read into a plain value (backing's `<root>`, a volume's `<libvirt>`), by its name. */
  unknownChildren?: Partial<Record<string, UnknownElement[]>>;
}

/**
 * Each kept part set only when there is some (unknownChildren: with its non-empty lists only),
 * so an element without any reads as it always has.
 */
export function withKept<T extends Kept>(out: T, kept: Kept): T {
  if (kept.unknown?.length) out.unknown = kept.unknown;
  if (kept.unknownAttributes?.length) out.unknownAttributes = kept.unknownAttributes;
  if (kept.unknownAttributesOf && Object.keys(kept.unknownAttributesOf).length) out.unknownAttributesOf = kept.unknownAttributesOf;
  const children = Object.entries(kept.unknownChildren ?? {}).filter(([, list]) => list?.length);
  if (children.length) out.unknownChildren = Object.fromEntries(children);
  return out;
}

/**
 * Instance.unknownAttributesOf: the unknown attributes of the children of `<instance>` read
 * into a plain value or a list, of the group names, and of the entries of `<states>` and
 * `<timestamps>`.
 */
function readPlainAttributes(r: ElementReader): UnknownAttributesOf {
  const entries = (name: 'states' | 'timestamps') => {
    const c = r.child(name);
    return (c?.elements() ?? []).map((e): PlainElement => [`${name}/${e.nodeName}`, c!.child(e.nodeName)]);
  };
  return attributesOf([
    ...PLAIN_CHILDREN.map((n): PlainElement => [n, r.child(n)]),
    ...(r.child('groupNames')?.children('name') ?? []).map((n, k): PlainElement => [`groupNames/name[${k + 1}]`, n]),
    ...entries('states'),
    ...entries('timestamps'),
  ]);
}

/** `<backing>` (of an instance or a volume stub): its root's type, with what it holds that domforge does not know. */
export function readBacking(b: ElementReader | undefined): Backing {
  const root = b?.child('root');
  return withKept<Backing>({ rootType: root?.attr('type') ?? 'unknown' }, {
    unknown: unknownOf(b, ['root']),
    unknownAttributes: unknownAttributes(b),
    unknownAttributesOf: attributesOf([['root', root, KNOWN_ATTRIBUTES.root]]),
    unknownChildren: { root: unknownOf(root, []) },
  });
}

function requiredText(r: ElementReader, name: string): string {
  const c = r.child(name);
  if (!c) r.fail(`missing required element <${name}>`, r.sub(name));
  const t = c.text().trim();
  if (t === '') c.fail(`<${name}> must not be empty`);
  return t;
}

export function readDiskPath(d: ElementReader): DiskPath {
  return withKept<DiskPath>({
    path: d.text().trim(),
    targetDeviceType: d.oneOf(d.attr('targetDeviceType') ?? 'disk', DEVICE_TYPES, d.at('targetDeviceType'))!,
    targetDeviceName: d.requireAttr('targetDeviceName'),
    targetDeviceNameVirtio: d.attr('targetDeviceNameVirtio'),
    targetDeviceBusVirtio: d.attr('targetDeviceBusVirtio'),
    targetDeviceBus: d.oneOf(d.requireAttr('targetDeviceBus'), DISK_BUSES, d.at('targetDeviceBus'))!,
    sourceType: d.oneOf(d.attr('sourceType') ?? 'file', SOURCE_TYPES, d.at('sourceType'))!,
    serial: d.attr('serial'),
  }, { unknownAttributes: unknownAttributes(d, KNOWN_ATTRIBUTES.diskPath) });
}

/** The `<vbr>`s of `<vbrs>`: more than validateInstance allows are refused at `<vbrs>` before any is read. */
function readVbrs(c: ElementReader | undefined): Vbr[] {
  const list = c?.children('vbr') ?? [];
  const problem = vbrCountProblem(list.length);
  if (problem) c!.fail(problem);
  return list.map(readVbr);
}

function readVbr(v: ElementReader): Vbr {
  const out: Record<string, string | number> = {};
  for (const f of VBR_FIELDS) {
    const t = v.childText(f) ?? '';
    out[f] = VBR_NUMERIC.has(f) ? (v.int(t.trim() === '' ? '0' : t, v.sub(f)) ?? 0) : t;
  }
  return withKept(out as unknown as Vbr, {
    unknown: unknownOf(v, VBR_FIELDS),
    unknownAttributes: unknownAttributes(v),
    unknownAttributesOf: attributesOf(VBR_FIELDS.map((f): PlainElement => [f, v.child(f)])),
  });
}

function readVolume(v: ElementReader): Volume {
  // The first element of <libvirt> is the volume's <disk>; a transform copies all of them.
  const [disk, ...more] = v.child('libvirt')?.elements() ?? [];
  return withKept<Volume>({
    id: v.childText('id') ?? '',
    attachmentToken: v.childText('attachmentToken') ?? '',
    devName: v.childText('devName') ?? '',
    stateName: v.childText('stateName') ?? '',
    connectionString: v.childText('connectionString') ?? '',
    libvirt: disk ? keptXml(disk) : undefined,
    localDev: v.childText('localDev'),
    localDevReal: v.childText('localDevReal'),
  }, {
    unknown: unknownOf(v, VOLUME_FIELDS),
    unknownAttributes: unknownAttributes(v),
    unknownAttributesOf: attributesOf(VOLUME_FIELDS.map((f): PlainElement => [f, v.child(f)])),
    unknownChildren: { libvirt: more.map(keptElement) },
  });
}

/**
 * An element kept as XML text (a volume's `<disk>`, an unknown element): a copy without
 * whitespace-only text, serialized. Its one canonical form, whatever the file's indentation,
 * which emitInstance writes back as it is.
 */
function keptXml(el: Element): string {
  return serializeXml(stripWhitespace(el.cloneNode(true) as Element));
}

/** Removes whitespace-only text nodes so kept XML snippets have one canonical form. */
export function stripWhitespace(el: Element): Element {
  for (let n = el.firstChild; n; ) {
    const next = n.nextSibling;
    if (n.nodeType === 3 && (n.nodeValue ?? '').trim() === '') el.removeChild(n);
    else if (n.nodeType === 1) stripWhitespace(n as Element);
    n = next;
  }
  return el;
}

/**
 * Reads the attributes of a `<nic>` element (also the root of an `eni-XXXX.xml` stub, which
 * also has `xml-version`: `known`), keeping the others.
 */
export function readNic(n: ElementReader, lines?: Map<string, Element>, known: readonly string[] = KNOWN_ATTRIBUTES.nic): Nic {
  lines?.set(n.path, n.el);
  const opt = (a: string) => n.attr(a);
  return withKept<Nic>({
    vlan: n.int(opt('vlan') ?? '-1', n.at('vlan'))!,
    networkIndex: n.int(opt('networkIndex') ?? '-1', n.at('networkIndex'))!,
    mac: n.requireAttr('mac'),
    publicIp: opt('publicIp') ?? '',
    privateIp: opt('privateIp') ?? '',
    bridgeDeviceName: opt('bridgeDeviceName') ?? '',
    guestDeviceName: opt('guestDeviceName'),
    device: n.int(opt('device'), n.at('device')),
    stateName: opt('stateName'),
    hypervisorType: opt('hypervisorType'),
    osPlatform: opt('osPlatform'),
    osVirtioNetwork: n.bool(opt('osVirtioNetwork'), n.at('osVirtioNetwork')),
    attachmentId: opt('attachmentId'),
  }, { unknownAttributes: unknownAttributes(n, known), unknown: unknownOf(n, []) });
}

/**
 * Name/value children, each name once: every field of `states` and `timestamps` holds one
 * value, so each is read as a single-valued child (a second is refused at its line, naming
 * the first's), and recorded at PATH/NAME (`/instance/timestamps/launchTime`, which the
 * config drive reads).
 */
function readPairs(r: ElementReader | undefined, lines: Map<string, Element>): [string, string][] {
  if (!r) return [];
  return r.elements().map((e) => {
    const field = r.child(e.nodeName)!;
    lines.set(field.path, field.el);
    return [e.nodeName, field.text()] as [string, string];
  });
}

/**
 * domforge's own elements, each checked to hold only its elements (see {@link ownChildrenOnly}:
 * `<hugepages>`, `<machine>`, `<configDrive>` and an extra `<nic>` hold none, `<extraNics>`
 * only `<nic>`s) and to have only its attributes (see OWN_ATTRIBUTES) before it is read, so a
 * misspelt one is named rather than a missing one it was meant to be. Whitespace and
 * comments in them are not read; other text is refused (see {@link ownChildrenOnly}).
 */
function readExtensions(r: ElementReader, inst: Instance, lines: Map<string, Element>): void {
  const f = r.child('features');
  if (f) {
    ownChildrenOnly(f, FEATURES, `holds only ${FEATURES.map((n) => `<${n}>`).join(' and ')}`);
    ownAttributesOnly(f, 'features');
    const hp = f.child('hugepages');
    if (hp) {
      lines.set(hp.path, hp.el);
      ownChildrenOnly(hp, [], 'holds no elements');
      ownAttributesOnly(hp, 'features/hugepages');
      inst.features.hugepages = {
        enabled: hp.bool(hp.attr('enabled') ?? 'true', hp.at('enabled'))!,
        pageSizeKiB: hp.int(hp.attr('pageSizeKiB'), hp.at('pageSizeKiB')),
        nodeset: hp.attr('nodeset'),
      };
    }
    const lb = f.child('legacyDiskBus');
    if (lb) {
      ownAttributesOnly(lb, 'features/legacyDiskBus');
      inst.features.legacyDiskBus = lb.oneOf(lb.text().trim(), LEGACY_DISK_BUSES, lb.path);
    }
  }
  const m = r.child('machine');
  if (m) {
    ownChildrenOnly(m, [], 'holds no elements');
    ownAttributesOnly(m, 'machine');
    inst.machine = { type: m.attr('type') ?? 'pc', arch: m.attr('arch') ?? 'x86_64' };
  }
  const cd = r.child('configDrive');
  if (cd) {
    ownChildrenOnly(cd, [], 'holds no elements');
    ownAttributesOnly(cd, 'configDrive');
    const layouts = (cd.attr('layouts') ?? CONFIG_DRIVE_LAYOUTS.join(','))
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => cd.oneOf(s, CONFIG_DRIVE_LAYOUTS, cd.at('layouts'))!);
    inst.configDrive = { path: cd.attr('path') ?? '', label: cd.attr('label') ?? DEFAULT_LABEL, layouts };
  }
  for (const name of ['password', 'availabilityZone'] as const) {
    const c = r.child(name);
    ownAttributesOnly(c, name);
    inst[name] = c?.text();
  }
  // Each item at /instance/metadata/item[N], even the only one: the path validateInstance and the KVP step name.
  const md = r.child('metadata');
  ownChildrenOnly(md, ['item'], 'holds only <item key="..."> elements');
  ownAttributesOnly(md, 'metadata');
  inst.metadata = (md?.children('item') ?? []).map((one, k) => {
    const i = new ElementReader(one.el, `/instance/metadata/item[${k + 1}]`, one.file);
    lines.set(i.path, i.el);
    ownAttributesOnly(i, 'metadata/item');
    return [i.requireAttr('key'), i.text()] as [string, string];
  });
  const xn = r.child('extraNics');
  ownChildrenOnly(xn, ['nic'], 'holds only <nic> elements');
  ownAttributesOnly(xn, 'extraNics');
  inst.extraNics = (xn?.children('nic') ?? []).map((n): ExtraNic => {
    lines.set(n.path, n.el);
    ownChildrenOnly(n, [], 'holds no elements');
    ownAttributesOnly(n, 'extraNics/nic');
    return {
      mac: n.requireAttr('mac'),
      bridgeDeviceName: n.requireAttr('bridgeDeviceName'),
      model: n.attr('model') ?? 'virtio',
      privateIp: n.attr('privateIp'),
    };
  });
}
