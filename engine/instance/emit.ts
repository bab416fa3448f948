import { DomforgeError, InstanceError } from '../errors.js';
import { parseXml } from '../xml/parse.js';
import { MAX_DEPTH, firstTooDeep } from '../xml/depth.js';
import { escapeAttr, escapeText, serializeXml, XML_NCNAME } from '../xml/serialize.js';
import { LIST_CONTAINERS, type DiskPath, type Instance, type ListContainer, type Nic, type UnknownElement } from './model.js';
import { TEXT_FIELDS, VBR_FIELDS } from './parse.js';

/** A tiny indenting XML writer: enough for the flat documents domforge emits. */
class Writer {
  private out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  private depth = 0;
  private pad() {
    return '  '.repeat(this.depth);
  }
  open(name: string, attrs: Attrs = {}) {
    this.out.push(`${this.pad()}<${name}${attrString(attrs)}>`);
    this.depth++;
  }
  close(name: string) {
    this.depth--;
    this.out.push(`${this.pad()}</${name}>`);
  }
  empty(name: string, attrs: Attrs = {}) {
    this.out.push(`${this.pad()}<${name}${attrString(attrs)}/>`);
  }
  text(name: string, value: string | number | boolean | undefined, attrs: Attrs = {}) {
    if (value === undefined) return;
    const v = String(value);
    if (v === '') this.empty(name, attrs);
    else this.out.push(`${this.pad()}<${name}${attrString(attrs)}>${escapeText(v)}</${name}>`);
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
 * from the parsed file; those kept from a list container, a `<vbr>`, a `<volume>` or
 * `<backing>` go back into it, after its known children (a container written only when it
 * has some is written for them alone). `parseInstance(emitInstance(i))` gives back `i`.
 */
export function emitInstance(inst: Instance): string {
  for (const c of Object.keys(inst.unknownChildren ?? {})) {
    if (!(LIST_CONTAINERS as readonly string[]).includes(c)) throw new InstanceError(`<${c}> is not a list container (${LIST_CONTAINERS.join(', ')}), so it cannot hold kept unknown children`, { path: `/instance/${c}` });
  }
  const w = new Writer();
  const kept = (c: ListContainer) => inst.unknownChildren?.[c] ?? [];
  const writeKept = (c: ListContainer) => writeUnknown(w, kept(c), `/instance/${c}`, 2);
  w.open('instance', { 'xml-version': inst.xmlVersion ?? '2' });
  w.empty('hypervisor', { type: inst.hypervisor.type, capability: inst.hypervisor.capability, bitness: inst.hypervisor.bitness, requiresDisk: inst.hypervisor.requiresDisk });
  w.open('backing');
  w.empty('root', { type: inst.backing.rootType });
  writeUnknown(w, inst.backing.unknown, '/instance/backing', 2);
  w.close('backing');
  for (const f of TEXT_FIELDS) {
    w.text(f, inst[f]);
  }
  w.text('hasFloppy', inst.hasFloppy);
  w.text('cpuPassthrough', inst.cpuPassthrough);
  w.text('cores', inst.cores);
  w.text('memoryKB', inst.memoryKB);
  w.text('diskGB', inst.diskGB);
  w.text('VmType', inst.VmType);
  w.text('NicType', inst.NicType);
  w.text('NicDevice', inst.NicDevice);
  w.text('rootDirective', inst.rootDirective);
  w.empty('key', { doInjectKey: inst.key.doInjectKey, sshKey: inst.key.sshKey });
  w.empty('os', { platform: inst.os.platform, virtioRoot: inst.os.virtioRoot, virtioDisk: inst.os.virtioDisk, virtioNetwork: inst.os.virtioNetwork });
  if (inst.groupNames.length || kept('groupNames').length) {
    w.open('groupNames');
    for (const g of inst.groupNames) w.text('name', g);
    writeKept('groupNames');
    w.close('groupNames');
  } else w.empty('groupNames');
  w.open('disks');
  w.text('floppyPath', inst.disks.floppyPath);
  const root = inst.disks.root;
  if (root && inst.disks.diskPaths.length === 0) w.empty('root', { device: root.device, uuid: root.uuid });
  inst.disks.diskPaths.forEach((d, i) => {
    w.text('diskPath', d.path, diskAttrs(d));
    if (i === 0 && root) w.empty('root', { device: root.device, uuid: root.uuid });
  });
  writeKept('disks');
  w.close('disks');
  if (inst.vbrs.length || kept('vbrs').length) {
    w.open('vbrs');
    inst.vbrs.forEach((v, i) => {
      w.open('vbr');
      for (const f of VBR_FIELDS) w.text(f, v[f]);
      writeUnknown(w, v.unknown, `/instance/vbrs/vbr[${i + 1}]`, 3);
      w.close('vbr');
    });
    writeKept('vbrs');
    w.close('vbrs');
  } else w.empty('vbrs');
  if (inst.volumes.length || kept('volumes').length) {
    w.open('volumes');
    inst.volumes.forEach((v, i) => {
      const at = `/instance/volumes/volume[${i + 1}]`;
      w.open('volume');
      w.text('id', v.id);
      w.text('attachmentToken', v.attachmentToken);
      w.text('devName', v.devName);
      w.text('stateName', v.stateName);
      w.text('connectionString', v.connectionString);
      w.text('localDev', v.localDev);
      w.text('localDevReal', v.localDevReal);
      if (v.libvirt !== undefined) {
        w.open('libvirt');
        w.raw(oneElement(v.libvirt, `${at}/libvirt`, 4));
        w.close('libvirt');
      }
      writeUnknown(w, v.unknown, at, 3);
      w.close('volume');
    });
    writeKept('volumes');
    w.close('volumes');
  } else w.empty('volumes');
  if (inst.nics.length || kept('nics').length) {
    w.open('nics');
    for (const n of inst.nics) w.empty('nic', nicAttrs(n));
    writeKept('nics');
    w.close('nics');
  }
  pairs(w, 'states', inst.states);
  pairs(w, 'timestamps', inst.timestamps);

  // domforge extensions
  const f = inst.features;
  if (f.hugepages || f.legacyDiskBus) {
    w.open('features');
    if (f.hugepages) w.empty('hugepages', { enabled: f.hugepages.enabled, pageSizeKiB: f.hugepages.pageSizeKiB, nodeset: f.hugepages.nodeset });
    w.text('legacyDiskBus', f.legacyDiskBus);
    w.close('features');
  }
  if (inst.machine) w.empty('machine', { type: inst.machine.type, arch: inst.machine.arch });
  if (inst.configDrive) w.empty('configDrive', { path: inst.configDrive.path, label: inst.configDrive.label, layouts: inst.configDrive.layouts.join(',') });
  w.text('password', inst.password);
  w.text('availabilityZone', inst.availabilityZone);
  if (inst.metadata.length) {
    w.open('metadata');
    for (const [k, v] of inst.metadata) w.text('item', v, { key: k });
    w.close('metadata');
  }
  if (inst.extraNics.length || kept('extraNics').length) {
    w.open('extraNics');
    for (const n of inst.extraNics) w.empty('nic', { mac: n.mac, bridgeDeviceName: n.bridgeDeviceName, model: n.model, privateIp: n.privateIp });
    writeKept('extraNics');
    w.close('extraNics');
  }
  writeUnknown(w, inst.unknown, '/instance', 1);
  w.close('instance');
  return w.toString();
}

/** Kept unknown elements of the element at `parent`, each `level` levels below `<instance>`. */
function writeUnknown(w: Writer, kept: readonly UnknownElement[] | undefined, parent: string, level: number) {
  for (const u of kept ?? []) w.raw(oneElement(u.xml, `${parent}/${u.name}`, level));
}

function pairs(w: Writer, name: string, list: [string, string][]) {
  if (!list.length) return;
  w.open(name);
  list.forEach(([k, v], i) => {
    if (!XML_NCNAME.test(k)) throw new InstanceError(`${JSON.stringify(k)} is not an XML element name, so it cannot be a <${name}> entry`, { path: `/instance/${name}/item[${i + 1}]` });
    w.text(k, v);
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
  let root;
  try {
    root = parseXml(xml).documentElement!;
  } catch (e) {
    throw new InstanceError(`not one well-formed XML element: ${e instanceof DomforgeError ? e.shortMessage : (e as Error).message}`, { path, cause: e });
  }
  const deep = firstTooDeep(root, MAX_DEPTH - level);
  if (deep) throw new InstanceError(`elements nested too deeply: <${deep.nodeName}> would be more than ${MAX_DEPTH} levels below the root element of instance.xml (libxml2, and so xsltproc, refuses a document nested deeper)`, { path });
  return serializeXml(root);
}
