import { DomforgeError, InstanceError } from '../errors.js';
import { parseXml, type Element } from '../xml/parse.js';
import { MAX_DEPTH, firstTooDeep } from '../xml/depth.js';
import { escapeAttr, escapeText, serializeXml, XML_NCNAME } from '../xml/serialize.js';
import { declarationProblem, XML_NAMESPACE } from '../xml/strict-handler.js';
import { LIST_CONTAINERS, type DiskPath, type Instance, type ListContainer, type Nic, type UnknownAttribute, type UnknownAttributesOf, type UnknownElement } from './model.js';
import { elementOfPath, itemPath } from './paths.js';
import { CONTAINER_CHILDREN, INSTANCE_CHILDREN, KNOWN_ATTRIBUTES, OWN_ATTRIBUTES, TEXT_FIELDS, VBR_FIELDS, VOLUME_FIELDS } from './parse.js';

/**
 * The kept unknown attributes of one element (see UnknownAttribute), with the element's path
 * for errors and the attribute names it has besides those the writer is given (`known`).
 */
export interface KeptAttributes {
  list: readonly UnknownAttribute[] | undefined;
  path: string;
  known?: readonly string[];
}

/** A tiny indenting XML writer: enough for the flat documents domforge emits. */
class Writer {
  private out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  private depth = 0;
  private pad() {
    return '  '.repeat(this.depth);
  }
  open(name: string, attrs: Attrs = {}, kept?: KeptAttributes) {
    this.out.push(`${this.pad()}<${name}${tagAttributes(attrs, kept)}>`);
    this.depth++;
  }
  close(name: string) {
    this.depth--;
    this.out.push(`${this.pad()}</${name}>`);
  }
  empty(name: string, attrs: Attrs = {}, kept?: KeptAttributes) {
    this.out.push(`${this.pad()}<${name}${tagAttributes(attrs, kept)}/>`);
  }
  /**
   * An element domforge writes the attributes of, with the unknown elements kept in it (each
   * `level` levels below `<instance>`, `path` the element's) when it has some.
   */
  element(name: string, attrs: Attrs, kept: KeptAttributes | undefined, children: readonly UnknownElement[] | undefined, path: string, level: number) {
    if (!children?.length) return this.empty(name, attrs, kept);
    this.open(name, attrs, kept);
    writeUnknown(this, children, path, level);
    this.close(name);
  }
  text(name: string, value: string | number | boolean | undefined, attrs: Attrs = {}, kept?: KeptAttributes) {
    if (value === undefined) return;
    const v = String(value);
    if (v === '') this.empty(name, attrs, kept);
    else this.out.push(`${this.pad()}<${name}${tagAttributes(attrs, kept)}>${escapeText(v)}</${name}>`);
  }
  /**
   * Kept XML, started at the current indentation. A line break in it belongs to a text or a
   * comment (kept XML has no whitespace-only text; one in an attribute is `&#10;`), so what
   * follows it is left as it is: indenting it would change that text at every rewrite.
   */
  raw(xml: string) {
    this.out.push(this.pad() + xml);
  }
  toString() {
    return this.out.join('\n') + '\n';
  }
}

/** Attribute values; undefined ones are left out. */
export type Attrs = Record<string, string | number | boolean | undefined>;

/** ` k="v"` for every defined attribute, in order, escaped. */
export function attrString(attrs: Attrs): string {
  let s = '';
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) s += ` ${k}="${escapeAttr(String(v))}"`;
  return s;
}

const NCNAME = XML_NCNAME.source.slice(1, -1);
/** An attribute name as a namespace-aware parser reads it: a name without a colon, or a prefix and a local name. */
const QNAME = new RegExp(`^${NCNAME}(?::${NCNAME})?$`);

/**
 * The attributes of a start tag: those given, then the kept ones, checked against them
 * (see {@link keptAttributes}).
 */
export function tagAttributes(attrs: Attrs, kept: KeptAttributes | undefined): string {
  const s = attrString(attrs);
  if (!kept?.list?.length) return s;
  return s + keptAttributes(kept.list, [...Object.keys(attrs), ...(kept.known ?? [])], kept.path);
}

/**
 * ` name="value"` for each kept unknown attribute of the element at `path`, in order, once
 * each is known to be written there and read back as it is: an XML name (so it cannot add
 * markup), none of the names the element has itself (`known`: it would be written twice, or
 * read back as that field), no namespace declaration, a string value, and given once. A
 * prefixed one is written with the declaration of its prefix (`xmlns:p`, its `namespace`)
 * before it, the first time the element uses that prefix: the elements domforge writes are
 * in no namespace and declare none of their own.
 */
export function keptAttributes(kept: readonly UnknownAttribute[] | undefined, known: readonly string[], path: string): string {
  if (!kept?.length) return '';
  const element = elementOfPath(path);
  const refused = (name: unknown, message: string) => new InstanceError(message, { path: `${path}/@${String(name)}` });
  const seen = new Set<string>();
  const declared = new Map<string, string>();
  let s = '';
  for (const a of kept) {
    const name = a.name;
    if (typeof name !== 'string' || !QNAME.test(name)) throw refused(name, `${JSON.stringify(name)} is not an XML attribute name, so it cannot be kept on <${element}>`);
    if (name === 'xmlns' || name.startsWith('xmlns:')) throw refused(name, `a namespace declaration is not kept as an attribute of <${element}>: a kept attribute's prefix is declared from its namespace`);
    if (known.includes(name)) throw refused(name, `a kept unknown attribute of <${element}> cannot be named ${name}: <${element}> has an attribute of that name itself, which would be written twice or read back as its field`);
    if (typeof a.value !== 'string') throw refused(name, `the value of the kept unknown attribute ${name} is not a string: ${JSON.stringify(a.value) ?? String(a.value)}`);
    const colon = name.indexOf(':');
    let key = name;
    if (colon < 0) {
      if (a.namespace !== undefined) throw refused(name, `the kept unknown attribute ${name} has a namespace but no prefix to write it with`);
    } else {
      const prefix = name.slice(0, colon);
      const ns = prefix === 'xml' ? (a.namespace ?? XML_NAMESPACE) : a.namespace;
      if (typeof ns !== 'string' || ns === '') throw refused(name, `the kept unknown attribute ${name} has the prefix ${prefix} but no namespace to declare it as`);
      const problem = declarationProblem(prefix, ns);
      if (problem) throw refused(name, `the prefix of the kept unknown attribute ${name} cannot be declared: ${problem}`);
      const bound = declared.get(prefix);
      if (bound !== undefined && bound !== ns) throw refused(name, `the prefix ${prefix} of kept unknown attributes of <${element}> is bound to two namespaces, ${bound} and ${ns}`);
      if (bound === undefined && prefix !== 'xml') s += ` xmlns:${prefix}="${escapeAttr(ns)}"`;
      declared.set(prefix, ns);
      key = `{${ns}}${name.slice(colon + 1)}`;
    }
    if (seen.has(key)) throw refused(name, `the unknown attribute ${name} is kept twice on <${element}>${key === name ? '' : ' (once its prefix is resolved)'}`);
    seen.add(key);
    s += ` ${name}="${escapeAttr(a.value)}"`;
  }
  return s;
}

/**
 * The kept unknown attributes of the elements inside one object's element (its
 * UnknownAttributesOf, `at` its path): each list is taken as its element is written, and one
 * left over when the object is written had no element to go on (a key naming none, or a field
 * that is absent), so it is refused rather than lost.
 */
export class AttributesOf {
  private readonly left: Set<string>;
  constructor(
    private readonly of: UnknownAttributesOf | undefined,
    private readonly at: string,
  ) {
    this.left = new Set(of ? Object.keys(of) : []);
  }
  /** Whether the element at `key` has kept attributes (a container holding nothing else is written for them). */
  has(key: string): boolean {
    return this.left.has(key);
  }
  /** The kept attributes of the element at `key`, which is being written, with the names it has itself (`known`). */
  take(key: string, known?: readonly string[]): KeptAttributes | undefined {
    if (!this.left.delete(key)) return undefined;
    return { list: this.of![key], path: `${this.at}/${key}`, known };
  }
  done(): void {
    for (const key of this.left) {
      throw new InstanceError(`unknown attributes are kept for ${JSON.stringify(key)}, which names no element written here (no field of that name, or one that is absent), so they would be lost`, { path: `${this.at}/${key}` });
    }
  }
}

/** The kept unknown attributes of an object's own element (its `unknownAttributes`), at `path`. */
export function own(o: { unknownAttributes?: UnknownAttribute[] } | undefined, path: string, known?: readonly string[]): KeptAttributes | undefined {
  return o?.unknownAttributes?.length ? { list: o.unknownAttributes, path, known } : undefined;
}

export function nicAttrs(n: Nic): Attrs {
  return {
    vlan: n.vlan,
    networkIndex: n.networkIndex,
    mac: n.mac,
    publicIp: n.publicIp,
    privateIp: n.privateIp,
    bridgeDeviceName: n.bridgeDeviceName,
    guestDeviceName: n.guestDeviceName,
    device: n.device,
    stateName: n.stateName,
    hypervisorType: n.hypervisorType,
    osPlatform: n.osPlatform,
    osVirtioNetwork: n.osVirtioNetwork,
    attachmentId: n.attachmentId,
  };
}

/** A diskPath's attributes in Eucalyptus's order. */
export function diskAttrs(d: DiskPath): Attrs {
  return {
    targetDeviceType: d.targetDeviceType,
    targetDeviceName: d.targetDeviceName,
    targetDeviceNameVirtio: d.targetDeviceNameVirtio,
    targetDeviceBusVirtio: d.targetDeviceBusVirtio,
    targetDeviceBus: d.targetDeviceBus,
    sourceType: d.sourceType,
    serial: d.serial,
  };
}

/**
 * Writes an instance as `instance.xml` in the newest Eucalyptus form (4.3+), Eucalyptus
 * elements first in their order, then domforge's extensions, then unknown elements kept
 * from the parsed file; those kept from a list container, a `<vbr>`, a `<volume>`,
 * `<backing>` or an element domforge reads the attributes of (a `<nic>`, `<os>`, ...) go back
 * into it, after its known children (a container written only when it has some is written
 * for them alone). Kept unknown attributes go back on their element, after its own (a
 * container holding nothing is written for them). domforge's own elements keep neither (see
 * {@link ownKeepNone}). `parseInstance(emitInstance(i))` gives back `i`.
 */
export function emitInstance(inst: Instance): string {
  ownKeepNone(inst);
  holdersOnly(inst.unknownChildren, LIST_CONTAINERS, '/instance', 'a list container');
  holdersOnly(inst.backing.unknownChildren, ['root'], '/instance/backing', 'the <root> of <backing>');
  const w = new Writer();
  const kept = (c: ListContainer) => inst.unknownChildren?.[c] ?? [];
  const writeKept = (c: ListContainer) => writeUnknown(w, kept(c), `/instance/${c}`, 2, CONTAINER_CHILDREN[c]);
  // The kept attributes of the elements read into plain values, each taken as its element is written.
  const of = new AttributesOf(inst.unknownAttributesOf, '/instance');
  const text = (name: (typeof TEXT_FIELDS)[number] | 'hasFloppy' | 'cpuPassthrough' | 'cores' | 'memoryKB' | 'diskGB' | 'VmType' | 'NicType' | 'NicDevice' | 'rootDirective' | 'password' | 'availabilityZone') => {
    const v = inst[name];
    if (v !== undefined) w.text(name, v, {}, of.take(name));
  };
  /** A container written when it holds something, kept children or has kept attributes; `always`: else written empty. */
  const container = (c: ListContainer, count: number, always: boolean, body: () => void) => {
    if (count || kept(c).length || of.has(c)) {
      w.open(c, {}, of.take(c));
      body();
      writeKept(c);
      w.close(c);
    } else if (always) w.empty(c);
  };
  w.open('instance', { 'xml-version': inst.xmlVersion ?? '2' }, own(inst, '/instance', KNOWN_ATTRIBUTES.instance));
  const hv = inst.hypervisor;
  w.element('hypervisor', { type: hv.type, capability: hv.capability, bitness: hv.bitness, requiresDisk: hv.requiresDisk }, own(hv, '/instance/hypervisor', KNOWN_ATTRIBUTES.hypervisor), hv.unknown, '/instance/hypervisor', 2);
  const backing = new AttributesOf(inst.backing.unknownAttributesOf, '/instance/backing');
  w.open('backing', {}, own(inst.backing, '/instance/backing'));
  w.element('root', { type: inst.backing.rootType }, backing.take('root', KNOWN_ATTRIBUTES.root), inst.backing.unknownChildren?.root, '/instance/backing/root', 3);
  writeUnknown(w, inst.backing.unknown, '/instance/backing', 2, ['root']);
  w.close('backing');
  backing.done();
  for (const f of TEXT_FIELDS) text(f);
  text('hasFloppy');
  text('cpuPassthrough');
  text('cores');
  text('memoryKB');
  text('diskGB');
  text('VmType');
  text('NicType');
  text('NicDevice');
  text('rootDirective');
  const { key, os } = inst;
  w.element('key', { doInjectKey: key.doInjectKey, sshKey: key.sshKey }, own(key, '/instance/key', KNOWN_ATTRIBUTES.key), key.unknown, '/instance/key', 2);
  w.element('os', { platform: os.platform, virtioRoot: os.virtioRoot, virtioDisk: os.virtioDisk, virtioNetwork: os.virtioNetwork }, own(os, '/instance/os', KNOWN_ATTRIBUTES.os), os.unknown, '/instance/os', 2);
  container('groupNames', inst.groupNames.length, true, () => {
    inst.groupNames.forEach((g, i) => w.text('name', g, {}, of.take(`groupNames/name[${i + 1}]`)));
  });
  const disks = new AttributesOf(inst.disks.unknownAttributesOf, '/instance/disks');
  w.open('disks', {}, own(inst.disks, '/instance/disks'));
  w.text('floppyPath', inst.disks.floppyPath, {}, disks.take('floppyPath'));
  const root = inst.disks.root;
  const writeRoot = (r: NonNullable<typeof root>) => w.element('root', { device: r.device, uuid: r.uuid }, own(r, '/instance/disks/root', KNOWN_ATTRIBUTES.diskRoot), r.unknown, '/instance/disks/root', 3);
  if (root && inst.disks.diskPaths.length === 0) writeRoot(root);
  inst.disks.diskPaths.forEach((d, i) => {
    w.text('diskPath', d.path, diskAttrs(d), own(d, itemPath('/instance/disks/diskPath', inst.disks.diskPaths.length, i), KNOWN_ATTRIBUTES.diskPath));
    if (i === 0 && root) writeRoot(root);
  });
  writeKept('disks');
  w.close('disks');
  disks.done();
  container('vbrs', inst.vbrs.length, true, () => {
    inst.vbrs.forEach((v, i) => {
      const at = `/instance/vbrs/vbr[${i + 1}]`;
      const fields = new AttributesOf(v.unknownAttributesOf, at);
      w.open('vbr', {}, own(v, at));
      for (const f of VBR_FIELDS) w.text(f, v[f], {}, fields.take(f));
      writeUnknown(w, v.unknown, at, 3, VBR_FIELDS);
      w.close('vbr');
      fields.done();
    });
  });
  container('volumes', inst.volumes.length, true, () => {
    inst.volumes.forEach((v, i) => {
      const at = `/instance/volumes/volume[${i + 1}]`;
      const fields = new AttributesOf(v.unknownAttributesOf, at);
      const field = (name: 'id' | 'attachmentToken' | 'devName' | 'stateName' | 'connectionString' | 'localDev' | 'localDevReal') => {
        if (v[name] !== undefined) w.text(name, v[name], {}, fields.take(name));
      };
      holdersOnly(v.unknownChildren, ['libvirt'], at, 'the <libvirt> of <volume>');
      const more = v.unknownChildren?.libvirt;
      if (v.libvirt === undefined && more?.length) {
        throw new InstanceError('elements are kept after the <disk> of <libvirt> but the volume has no libvirt: the first of them would be read back as it', { path: `${at}/libvirt` });
      }
      w.open('volume', {}, own(v, at));
      field('id');
      field('attachmentToken');
      field('devName');
      field('stateName');
      field('connectionString');
      field('localDev');
      field('localDevReal');
      if (v.libvirt !== undefined) {
        w.open('libvirt', {}, fields.take('libvirt'));
        w.raw(oneElement(v.libvirt, `${at}/libvirt`, 4));
        writeUnknown(w, more, `${at}/libvirt`, 4);
        w.close('libvirt');
      }
      writeUnknown(w, v.unknown, at, 3, VOLUME_FIELDS);
      w.close('volume');
      fields.done();
    });
  });
  const nicPath = (i: number) => itemPath('/instance/nics/nic', inst.nics.length, i);
  container('nics', inst.nics.length, false, () => {
    inst.nics.forEach((n, i) => w.element('nic', nicAttrs(n), own(n, nicPath(i), KNOWN_ATTRIBUTES.nic), n.unknown, nicPath(i), 3));
  });
  pairs(w, 'states', inst.states, of);
  pairs(w, 'timestamps', inst.timestamps, of);

  // domforge extensions
  const f = inst.features;
  if (f.hugepages || f.legacyDiskBus) {
    w.open('features');
    const hp = f.hugepages;
    if (hp) w.empty('hugepages', { enabled: hp.enabled, pageSizeKiB: hp.pageSizeKiB, nodeset: hp.nodeset });
    if (f.legacyDiskBus !== undefined) w.text('legacyDiskBus', f.legacyDiskBus);
    w.close('features');
  }
  const m = inst.machine;
  if (m) w.empty('machine', { type: m.type, arch: m.arch });
  const cd = inst.configDrive;
  if (cd) w.empty('configDrive', { path: cd.path, label: cd.label, layouts: cd.layouts.join(',') });
  text('password');
  text('availabilityZone');
  if (inst.metadata.length) {
    w.open('metadata');
    for (const [k, v] of inst.metadata) w.text('item', v, { key: k });
    w.close('metadata');
  }
  if (inst.extraNics.length) {
    w.open('extraNics');
    for (const n of inst.extraNics) w.empty('nic', { mac: n.mac, bridgeDeviceName: n.bridgeDeviceName, model: n.model, privateIp: n.privateIp });
    w.close('extraNics');
  }
  writeUnknown(w, inst.unknown, '/instance', 1, INSTANCE_CHILDREN);
  w.close('instance');
  of.done();
  return w.toString();
}

/**
 * Refuses kept unknown attributes and elements on domforge's own elements (see OWN_ATTRIBUTES),
 * which keep none: written, they would make a file parseInstance refuses. Their objects have no
 * such fields, and Instance.unknownAttributesOf and Instance.unknownChildren no key for them,
 * but an Instance made in JavaScript (or by an older domforge, which kept them) may carry
 * some; an empty list loses nothing.
 */
function ownKeepNone(inst: Instance): void {
  const refuse = (path: string, list: unknown, what: 'attributes' | 'elements') => {
    if (!Array.isArray(list) || !list.length) return;
    const name = String((list[0] as UnknownAttribute | UnknownElement | undefined)?.name);
    const element = elementOfPath(path);
    if (what === 'attributes') throw new InstanceError(`<${element}> is domforge's own element and keeps no unknown attributes: ${name}, written on it, would be refused when read back`, { path: `${path}/@${name}` });
    throw new InstanceError(`<${element}> is domforge's own element and keeps no unknown elements: <${name}>, written in it, would be refused when read back`, { path: `${path}/${name}` });
  };
  const kept = (o: object | undefined) => o as { unknown?: unknown; unknownAttributes?: unknown; unknownAttributesOf?: Record<string, unknown> } | undefined;
  /** The object of an own element at `path`: neither kind on it. */
  const none = (path: string, o: object | undefined) => {
    refuse(path, kept(o)?.unknownAttributes, 'attributes');
    refuse(path, kept(o)?.unknown, 'elements');
  };
  const features = kept(inst.features);
  none('/instance/features', inst.features);
  for (const [key, list] of Object.entries(features?.unknownAttributesOf ?? {})) refuse(`/instance/features/${key}`, list, 'attributes');
  none('/instance/features/hugepages', inst.features.hugepages);
  none('/instance/machine', inst.machine);
  none('/instance/configDrive', inst.configDrive);
  inst.extraNics.forEach((n, i) => none(itemPath('/instance/extraNics/nic', inst.extraNics.length, i), n));
  for (const [key, list] of Object.entries(inst.unknownAttributesOf ?? {})) {
    if (Object.prototype.hasOwnProperty.call(OWN_ATTRIBUTES, key.replace(/\[\d+\]/g, ''))) refuse(`/instance/${key}`, list, 'attributes');
  }
  refuse('/instance/extraNics', (inst.unknownChildren as Record<string, unknown> | undefined)?.extraNics, 'elements');
}

/**
 * Refuses a key of an unknownChildren map (`children`, of the element at `path`) that names
 * none of the elements that hold them there (`holders`, described as `what`).
 */
export function holdersOnly(children: object | undefined, holders: readonly string[], path: string, what: string) {
  for (const c of Object.keys(children ?? {})) {
    if (!holders.includes(c)) throw new InstanceError(`<${c}> is not ${what} (${holders.join(', ')}), so it cannot hold kept unknown children`, { path: `${path}/${c}` });
  }
}

/** The names of the children domforge reads in an element. */
type Known = readonly string[] | ReadonlySet<string>;

/**
 * Kept unknown elements of the element at `parent`, each `level` levels below `<instance>`
 * (see {@link keptElement}; `known`: the children domforge reads there).
 */
function writeUnknown(w: Writer, kept: readonly UnknownElement[] | undefined, parent: string, level: number, known: Known = []) {
  for (const u of kept ?? []) w.raw(keptElement(u, parent, level, known));
}

/** Kept unknown elements of the element at `parent`, each `level` levels below the root, checked as emitInstance checks them, run together. */
export function keptElements(kept: readonly UnknownElement[] | undefined, parent: string, level: number, known: Known = []): string {
  return (kept ?? []).map((u) => keptElement(u, parent, level, known)).join('');
}

/**
 * A kept unknown element as written into the element at `parent`: the one element its XML
 * holds (see {@link oneElement}), named as `name` says (read back, it is named by its XML),
 * and none of the children domforge reads there itself (`known`: `<memoryKB>` in
 * `<instance>`, `<diskPath>` in `<disks>`, `<id>` in a `<vbr>`), which would be written twice,
 * refused as given twice, or read back as that field.
 */
function keptElement(u: UnknownElement, parent: string, level: number, known: Known): string {
  const path = `${parent}/${u.name}`;
  const root = oneRoot(u.xml, path, level);
  const where = elementOfPath(parent);
  if (root.nodeName !== u.name) throw new InstanceError(`the kept unknown element named ${JSON.stringify(u.name)} holds <${root.nodeName}>, which would be read back under that name`, { path });
  if (Array.isArray(known) ? known.includes(root.nodeName) : (known as ReadonlySet<string>).has(root.nodeName)) {
    throw new InstanceError(`a kept unknown element of <${where}> cannot be <${root.nodeName}>: domforge reads <${root.nodeName}> there itself, so it would be written twice or read back as that field`, { path });
  }
  return serializeXml(root);
}

/** `<states>` or `<timestamps>`: written when it has entries or kept attributes (`of`: the instance's, which also holds its entries'). */
function pairs(w: Writer, name: 'states' | 'timestamps', list: [string, string][], of: AttributesOf) {
  if (!list.length && !of.has(name)) return;
  w.open(name, {}, of.take(name));
  list.forEach(([k, v], i) => {
    if (!XML_NCNAME.test(k)) throw new InstanceError(`${JSON.stringify(k)} is not an XML element name, so it cannot be a <${name}> entry`, { path: `/instance/${name}/item[${i + 1}]` });
    w.text(k, v, {}, of.take(`${name}/${k}`));
  });
  w.close(name);
}

/**
 * XML kept as text (a volume's `<disk>`, an unknown element) is written only as the one
 * element it must be, re-serialised from a strict parse: whatever the string holds, it
 * cannot close the element it is written into and add others after it, nor nest elements
 * deeper than libxml2 reads (`level`: how far below `<instance>` it is written).
 */
function oneElement(xml: string, path: string, level: number): string {
  return serializeXml(oneRoot(xml, path, level));
}

/** The one element XML kept as text holds, checked as {@link oneElement} says. */
function oneRoot(xml: string, path: string, level: number): Element {
  let root;
  try {
    root = parseXml(xml).documentElement!;
  } catch (e) {
    throw new InstanceError(`not one well-formed XML element: ${e instanceof DomforgeError ? e.shortMessage : (e as Error).message}`, { path, cause: e });
  }
  const deep = firstTooDeep(root, MAX_DEPTH - level);
  if (deep) throw new InstanceError(`elements nested too deeply: <${deep.nodeName}> would be more than ${MAX_DEPTH} levels below the root element of instance.xml (libxml2, and so xsltproc, refuses a document nested deeper)`, { path });
  return root;
}
