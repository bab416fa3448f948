/**
 * The hot-plug stubs Eucalyptus writes beside instance.xml and renders through the same
 * transform: `<nic>` (`eni-XXXX.xml`, a `/nic` entry point) and `<volume>` (`vol-XXXX.xml`,
 * a `/volume` entry point). Parsed strictly into typed objects, and written back by
 * `emitStub`, like the instance: `parseStub(emitStub(s))` gives back `s`.
 */
import { InstanceError } from '../errors.js';
import { parseXml, lineOf, columnOf, type Document } from '../xml/parse.js';
import { ElementReader } from './reader.js';
import { KNOWN_ATTRIBUTES, attributesOf, readBacking, readDiskPath, readHypervisor, readNic, unknownAttributes, unknownOf, withKept, type PlainElement } from './parse.js';
import { escapeText } from '../xml/serialize.js';
import { AttributesOf, diskAttrs, holdersOnly, keptElements, nicAttrs, own, tagAttributes } from './emit.js';
import { PLATFORMS, type Backing, type DiskPath, type Hypervisor, type Nic, type Os, type UnknownAttribute, type UnknownAttributesOf, type UnknownElement } from './model.js';

/** `eni-XXXX.xml`: one `<nic>` element, the same attributes as `/instance/nics/nic` (and what it holds that domforge does not know, kept). */
export type NicStub = Nic;

/** The attributes of an `eni-XXXX.xml` stub's `<nic>` domforge reads (`xml-version` is written as 2). */
const NIC_STUB_ATTRIBUTES = [...KNOWN_ATTRIBUTES.nic, 'xml-version'];

/**
 * `vol-XXXX.xml`: a `<volume>` to attach, with what the transform needs to choose its bus.
 * What the stub holds that domforge does not know is kept as in an Instance (see
 * UnknownElement, UnknownAttribute): on the objects (`hypervisor`, `os`, `backing`,
 * `diskPath`) and here, for `<volume>` and its text fields.
 */
export interface VolumeStub {
  hypervisor: Hypervisor;
  id: string;
  user: string;
  instancePath: string;
  os: Os;
  backing: Backing;
  diskPath: DiskPath;
  /** Attributes of `<volume>`; left out when none. */
  unknownAttributes?: UnknownAttribute[];
  /** Elements of `<volume>` besides those above, written back after them; left out when none. */
  unknown?: UnknownElement[];
  /** Attributes of `<id>`, `<user>` and `<instancePath>`, by name (see UnknownAttributesOf); left out when none. */
  unknownAttributesOf?: UnknownAttributesOf;
}

export type Stub = { kind: 'nic'; data: NicStub } | { kind: 'volume'; data: VolumeStub };

export interface ParseStubOptions {
  file?: string;
  /** The strictly parsed document, when the caller already has it. */
  document?: Document;
  /**
   * The stub the caller needs: any other root (a `<volume>` for a `<nic>`, even one lacking
   * what a volume stub must hold) is refused at the root as not that stub. Default: either.
   */
  expect?: Stub['kind'];
}

/** The file each stub is, for messages. */
const STUB_FILES: Record<Stub['kind'], string> = { nic: 'an eni-XXX.xml', volume: 'a vol-XXX.xml' };

/** Parses a `<nic>` or `<volume>` stub (the one `expect` names, when given); errors name the file, line and path. */
export function parseStub<K extends Stub['kind']>(text: string, options: ParseStubOptions & { expect: K }): Extract<Stub, { kind: K }>;
export function parseStub(text: string, options?: ParseStubOptions): Stub;
export function parseStub(text: string, options: ParseStubOptions = {}): Stub {
  const doc = options.document ?? parseXml(text, { file: options.file });
  const root = doc.documentElement!;
  const place = { file: options.file, line: lineOf(root), column: columnOf(root), path: `/${root.nodeName}` };
  if (options.expect && root.nodeName !== options.expect) {
    throw new InstanceError(`expected a <${options.expect}> stub (${STUB_FILES[options.expect]}), found <${root.nodeName}>`, place);
  }
  const r = new ElementReader(root, `/${root.nodeName}`, options.file);
  if (root.nodeName === 'nic') return { kind: 'nic', data: readNic(r, undefined, NIC_STUB_ATTRIBUTES) };
  if (root.nodeName === 'volume') return { kind: 'volume', data: readVolumeStub(r) };
  throw new InstanceError(`expected root element <nic> or <volume>, found <${root.nodeName}>`, place);
}

/** The children of a `<volume>` stub domforge reads; any other is kept (VolumeStub.unknown). */
const VOLUME_STUB_FIELDS = ['hypervisor', 'id', 'user', 'instancePath', 'os', 'backing', 'diskPath'];

function readVolumeStub(r: ElementReader): VolumeStub {
  const hv = r.requireChild('hypervisor');
  const os = r.child('os');
  return withKept<VolumeStub>({
    hypervisor: readHypervisor(hv),
    id: r.childText('id')?.trim() ?? '',
    user: r.childText('user')?.trim() ?? '',
    instancePath: r.childText('instancePath')?.trim() ?? '',
    os: withKept<Os>({
      platform: os ? os.oneOf(os.attr('platform') ?? 'linux', PLATFORMS, os.at('platform'))! : 'linux',
      virtioRoot: (os && os.bool(os.attr('virtioRoot'), os.at('virtioRoot'))) ?? false,
      virtioDisk: (os && os.bool(os.attr('virtioDisk'), os.at('virtioDisk'))) ?? false,
      virtioNetwork: (os && os.bool(os.attr('virtioNetwork'), os.at('virtioNetwork'))) ?? false,
    }, { unknownAttributes: unknownAttributes(os, KNOWN_ATTRIBUTES.os), unknown: unknownOf(os, []) }),
    backing: readBacking(r.child('backing')),
    diskPath: readDiskPath(r.requireChild('diskPath')),
  }, {
    unknownAttributes: unknownAttributes(r),
    unknown: unknownOf(r, VOLUME_STUB_FIELDS),
    unknownAttributesOf: attributesOf((['id', 'user', 'instancePath'] as const).map((f): PlainElement => [f, r.child(f)])),
  });
}

/** `<name attrs/>`, or the element holding `inner` (kept XML, on the same line). */
const element = (name: string, attrs: string, inner: string) => (inner ? `<${name}${attrs}>${inner}</${name}>` : `<${name}${attrs}/>`);

/**
 * `eni-XXXX.xml`: `<nic xml-version="2" …/>`, the attributes in the order Eucalyptus's
 * `prep_nic_xml_node` writes them (undefined ones left out), then the kept unknown ones, and
 * the kept unknown elements in it, checked as emitInstance checks them.
 */
export function emitNicStub(nic: NicStub): string {
  const attrs = tagAttributes({ 'xml-version': '2', ...nicAttrs(nic) }, own(nic, '/nic', NIC_STUB_ATTRIBUTES));
  return `<?xml version="1.0" encoding="UTF-8"?>\n${element('nic', attrs, keptElements(nic.unknown, '/nic', 1))}\n`;
}

/**
 * `vol-XXXX.xml` in Eucalyptus's `gen_volume_xml` order: hypervisor, id, user, instancePath,
 * os, backing/root, diskPath; then the unknown elements kept from the stub. Kept unknown
 * attributes go on their element, kept elements in theirs, checked as emitInstance checks them.
 */
export function emitVolumeStub(v: VolumeStub): string {
  const h = v.hypervisor;
  const d = v.diskPath;
  const b = v.backing;
  holdersOnly(b.unknownChildren, ['root'], '/volume/backing', 'the <root> of <backing>');
  const fields = new AttributesOf(v.unknownAttributesOf, '/volume');
  const backing = new AttributesOf(b.unknownAttributesOf, '/volume/backing');
  const text = (name: 'id' | 'user' | 'instancePath') => `  <${name}${tagAttributes({}, fields.take(name))}>${escapeText(v[name])}</${name}>`;
  const hvAttrs = tagAttributes({ type: h.type, capability: h.capability, bitness: h.bitness, requiresDisk: h.requiresDisk }, own(h, '/volume/hypervisor', KNOWN_ATTRIBUTES.hypervisor));
  const os = v.os;
  const osAttrs = tagAttributes({ platform: os.platform, virtioRoot: os.virtioRoot, virtioDisk: os.virtioDisk, virtioNetwork: os.virtioNetwork }, own(os, '/volume/os', KNOWN_ATTRIBUTES.os));
  const rootAttrs = tagAttributes({ type: b.rootType }, backing.take('root', KNOWN_ATTRIBUTES.root));
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<volume${tagAttributes({}, own(v, '/volume'))}>`,
    `  ${element('hypervisor', hvAttrs, keptElements(h.unknown, '/volume/hypervisor', 2))}`,
    text('id'),
    text('user'),
    text('instancePath'),
    `  ${element('os', osAttrs, keptElements(os.unknown, '/volume/os', 2))}`,
    `  <backing${tagAttributes({}, own(b, '/volume/backing'))}>${element('root', rootAttrs, keptElements(b.unknownChildren?.root, '/volume/backing/root', 3))}${keptElements(b.unknown, '/volume/backing', 2)}</backing>`,
    `  <diskPath${tagAttributes(diskAttrs(d), own(d, '/volume/diskPath', KNOWN_ATTRIBUTES.diskPath))}>${escapeText(d.path)}</diskPath>`,
    ...(v.unknown ?? []).map((u) => `  ${keptElements([u], '/volume', 1, VOLUME_STUB_FIELDS)}`),
    '</volume>',
    '',
  ].join('\n');
  fields.done();
  backing.done();
  return out;
}

/** Writes a stub of either kind. */
export function emitStub(stub: Stub): string {
  return stub.kind === 'nic' ? emitNicStub(stub.data) : emitVolumeStub(stub.data);
}
