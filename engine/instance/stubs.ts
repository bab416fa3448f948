/**
 * The hot-plug stubs Eucalyptus writes beside instance.xml and renders through the same
 * transform: `<nic>` (`eni-XXXX.xml`, a `/nic` entry point) and `<volume>` (`vol-XXXX.xml`,
 * a `/volume` entry point). Parsed strictly into typed objects, and written back by
 * `emitStub`, like the instance: `parseStub(emitStub(s))` gives back `s`.
 */
import { InstanceError } from '../errors.js';
import { parseXml, lineOf, columnOf, type Document } from '../xml/parse.js';
import { ElementReader } from './reader.js';
import { KNOWN_ATTRIBUTES, readDiskPath, readNic } from './parse.js';
import { escapeText } from '../xml/serialize.js';
import { attrString as attrs, diskAttrs, nicAttrs } from './emit.js';
import { HYPERVISOR_TYPES, PLATFORMS, type DiskPath, type Hypervisor, type Nic, type Platform } from './model.js';

/** `eni-XXXX.xml`: one `<nic>` element, the same attributes as `/instance/nics/nic`. */
export type NicStub = Nic;

/** The attributes of an `eni-XXXX.xml` stub's `<nic>` domforge reads (`xml-version` is written as 2). */
const NIC_STUB_ATTRIBUTES = [...KNOWN_ATTRIBUTES.nic, 'xml-version'];

/** `vol-XXXX.xml`: a `<volume>` to attach, with what the transform needs to choose its bus. */
export interface VolumeStub {
  hypervisor: Hypervisor;
  id: string;
  user: string;
  instancePath: string;
  os: { platform: Platform; virtioRoot: boolean; virtioDisk: boolean; virtioNetwork: boolean };
  backing: { rootType: string };
  diskPath: DiskPath;
}

export type Stub = { kind: 'nic'; data: NicStub } | { kind: 'volume'; data: VolumeStub };

export interface ParseStubOptions {
  file?: string;
  /** The strictly parsed document, when the caller already has it. */
  document?: Document;
}

/** Parses a `<nic>` or `<volume>` stub; errors name the file, line and path. */
export function parseStub(text: string, options: ParseStubOptions = {}): Stub {
  const doc = options.document ?? parseXml(text, { file: options.file });
  const root = doc.documentElement!;
  const r = new ElementReader(root, `/${root.nodeName}`, options.file);
  if (root.nodeName === 'nic') return { kind: 'nic', data: readNic(r, undefined, NIC_STUB_ATTRIBUTES) };
  if (root.nodeName === 'volume') return { kind: 'volume', data: readVolumeStub(r) };
  throw new InstanceError(`expected root element <nic> or <volume>, found <${root.nodeName}>`, {
    file: options.file,
    line: lineOf(root),
    column: columnOf(root),
    path: `/${root.nodeName}`,
  });
}

function readVolumeStub(r: ElementReader): VolumeStub {
  const hv = r.requireChild('hypervisor');
  const os = r.child('os');
  return {
    hypervisor: {
      type: hv.oneOf(hv.requireAttr('type'), HYPERVISOR_TYPES, hv.at('type'))!,
      capability: hv.attr('capability') ?? 'unknown',
      bitness: hv.oneOf(hv.attr('bitness') ?? '64', ['32', '64'], hv.at('bitness')) === '32' ? 32 : 64,
      requiresDisk: hv.bool(hv.attr('requiresDisk'), hv.at('requiresDisk')),
    },
    id: r.childText('id')?.trim() ?? '',
    user: r.childText('user')?.trim() ?? '',
    instancePath: r.childText('instancePath')?.trim() ?? '',
    os: {
      platform: os ? os.oneOf(os.attr('platform') ?? 'linux', PLATFORMS, os.at('platform'))! : 'linux',
      virtioRoot: (os && os.bool(os.attr('virtioRoot'), os.at('virtioRoot'))) ?? false,
      virtioDisk: (os && os.bool(os.attr('virtioDisk'), os.at('virtioDisk'))) ?? false,
      virtioNetwork: (os && os.bool(os.attr('virtioNetwork'), os.at('virtioNetwork'))) ?? false,
    },
    backing: { rootType: r.child('backing')?.child('root')?.attr('type') ?? 'unknown' },
    diskPath: readDiskPath(r.requireChild('diskPath')),
  };
}


/**
 * `eni-XXXX.xml`: `<nic xml-version="2" …/>`, the attributes in the order Eucalyptus's
 * `prep_nic_xml_node` writes them (undefined ones left out).
 */
export function emitNicStub(nic: NicStub): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<nic${attrs({ 'xml-version': '2', ...nicAttrs(nic) })}/>\n`;
}

/** `vol-XXXX.xml` in Eucalyptus's `gen_volume_xml` order: hypervisor, id, user, instancePath, os, backing/root, diskPath. */
export function emitVolumeStub(v: VolumeStub): string {
  const h = v.hypervisor;
  const d = v.diskPath;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<volume>',
    `  <hypervisor${attrs({ type: h.type, capability: h.capability, bitness: h.bitness, requiresDisk: h.requiresDisk })}/>`,
    `  <id>${escapeText(v.id)}</id>`,
    `  <user>${escapeText(v.user)}</user>`,
    `  <instancePath>${escapeText(v.instancePath)}</instancePath>`,
    `  <os${attrs(v.os)}/>`,
    `  <backing><root${attrs({ type: v.backing.rootType })}/></backing>`,
    `  <diskPath${attrs(diskAttrs(d))}>${escapeText(d.path)}</diskPath>`,
    '</volume>',
    '',
  ].join('\n');
}

/** Writes a stub of either kind. */
export function emitStub(stub: Stub): string {
  return stub.kind === 'nic' ? emitNicStub(stub.data) : emitVolumeStub(stub.data);
}
