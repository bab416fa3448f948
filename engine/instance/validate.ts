import { posix } from 'node:path';
import { InstanceError } from '../errors.js';
import { compactBase64 } from './user-data.js';
import { itemPath } from './paths.js';
import { closestName } from './did-you-mean.js';
import { instanceStructureProblem } from './structure.js';
import { duplicateMetadataKey, duplicateMetadataMessage, metadataKeyPath } from './metadata.js';
import { volumeLabelProblem } from '../configdrive/label.js';
import { MAX_MEMORY_KIB, memoryTooLargeMessage, WHOLE_DISKS_ONLY, partitionOf, ARCH_NAMES, BRIDGE_NAME_RULE, DEVICE_NAME_RULE, DISK_SERIAL, DISK_SERIAL_RULE, DISK_SOURCE_RULE, NIC_MODEL_RULE, TAP_NAME_CHARS_RULE, TAP_NAME_LIMIT, TAP_NAME_MAX_BYTES, driveOf, hasDriveLetter, isAbsFilePath, isBridgeName, isDeviceName, isDiskSource, isNicModel, nodesetProblem, tapNameBytes, tapNameCharsProblem } from './libvirt-rules.js';
import { CONFIG_DRIVE_LAYOUTS, DEVICE_TYPES, DISK_BUSES, HYPERVISOR_TYPES, NIC_TYPES, PLATFORMS, SOURCE_TYPES, type DiskPath, type Instance, type UnknownAttribute } from './model.js';

/** Maps an instance path (`/instance/cores`) to the line/column it came from, when known. */
export type Locator = (path: string) => { line?: number; column?: number };

export interface ValidateInstanceOptions {
  file?: string;
  locate?: Locator;
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const DEV_NAME = /^[a-z]{2,6}[0-9]*$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Most `<vbr>`s an instance may hold: 16 times the most a Eucalyptus node controller holds
 * (EUCA_MAX_VBRS, 64: the size of its array of virtual boot records), so no instance a
 * controller wrote comes near it. Far more is no instance at all, and costs: each is written
 * back with all its 17 fields and rendered, so 200,000 (a 4 MB file) ran a render into its
 * time limit with the blame on the transform.
 */
export const MAX_VBRS = 1024;

/** What is said of `count` virtual boot records, when they are more than {@link MAX_VBRS}. */
export function vbrCountProblem(count: number): string | undefined {
  if (count <= MAX_VBRS) return undefined;
  return `too many virtual boot records: ${count} <vbr> elements, more than the ${MAX_VBRS} an instance may have (a Eucalyptus node controller holds at most 64, EUCA_MAX_VBRS)`;
}

/** A value refused below an element: `at` the attribute (`/@mac`), or `''` for the element itself, and why. */
export interface ValueProblem {
  at: string;
  message: string;
}

/** A {@link ValueProblem} of a NIC's field, with what the field must be (`a bridge name of …`) and what else to say of its value (`17 bytes`). */
export interface NicFieldProblem extends ValueProblem {
  field: 'mac' | 'bridgeDeviceName' | 'guestDeviceName';
  expected: string;
  note?: string;
}

/**
 * What libvirt refuses in where a NIC (of instance.xml, an `eni-XXX.xml` stub or an
 * attachment given in code) is plugged, or undefined: its bridge, the interface's `<source
 * bridge>`, and its tap name, the `<target dev>` the transforms write when it is not empty
 * (which Linux also holds to TAP_NAME_MAX_BYTES and TAP_NAME_CHARS_RULE).
 */
export function nicPlaceProblem(n: { bridgeDeviceName: string; guestDeviceName?: string }): NicFieldProblem | undefined {
  if (!isBridgeName(n.bridgeDeviceName)) {
    return { field: 'bridgeDeviceName', at: '/@bridgeDeviceName', expected: `a bridge name of ${BRIDGE_NAME_RULE}`, message: `the bridge name ${JSON.stringify(n.bridgeDeviceName)} may hold only ${BRIDGE_NAME_RULE}` };
  }
  if (!n.guestDeviceName) return undefined;
  const tap = JSON.stringify(n.guestDeviceName);
  if (!isDeviceName(n.guestDeviceName)) return { field: 'guestDeviceName', at: '/@guestDeviceName', expected: `a tap device name of ${DEVICE_NAME_RULE}`, message: `the tap device name ${tap} may hold only ${DEVICE_NAME_RULE}` };
  const bytes = tapNameBytes(n.guestDeviceName);
  if (bytes > TAP_NAME_MAX_BYTES) {
    return {
      field: 'guestDeviceName',
      at: '/@guestDeviceName',
      expected: `a tap device name of ${TAP_NAME_LIMIT}`,
      note: `${bytes} bytes`,
      message: `the tap device name ${tap} is ${bytes} bytes long; a network interface's name is ${TAP_NAME_LIMIT}, and the host would refuse to create the tap when the domain starts or the interface is attached`,
    };
  }
  const chars = tapNameCharsProblem(n.guestDeviceName);
  if (chars) {
    return {
      field: 'guestDeviceName',
      at: '/@guestDeviceName',
      expected: `a tap device name ${TAP_NAME_CHARS_RULE}`,
      note: chars,
      message: `the tap device name ${tap} ${chars}; a network interface is named ${TAP_NAME_CHARS_RULE}, and the host would refuse to create the tap when the domain starts or the interface is attached`,
    };
  }
  return undefined;
}

/**
 * What is wrong with a `<diskPath>` (of instance.xml, or a `<volume>` stub), or undefined:
 * what the transforms copy from it into the disk's `<source>`, `<target>` and `<serial>` held
 * to libvirt's rules on a `hypervisorType` domain (`hypervisor/@type` of the instance or
 * stub), and its types (which the parsers check; an Instance built in code is held to them too).
 */
export function diskPathProblem(d: DiskPath, hypervisorType: string): ValueProblem | undefined {
  if (!d.path) return { at: '', message: 'diskPath has no backing path' };
  if (!(SOURCE_TYPES as readonly string[]).includes(d.sourceType)) return { at: '/@sourceType', message: `unknown source type ${JSON.stringify(d.sourceType)} (expected ${SOURCE_TYPES.join(', ')})` };
  if (!(DEVICE_TYPES as readonly string[]).includes(d.targetDeviceType)) return { at: '/@targetDeviceType', message: `unknown device type ${JSON.stringify(d.targetDeviceType)} (expected ${DEVICE_TYPES.join(', ')})` };
  // The transforms write the path as the disk's <source file> or <source dev>, by sourceType.
  if (!isDiskSource(d.path, d.sourceType)) return { at: '', message: `the backing path of a ${d.sourceType} disk must be ${DISK_SOURCE_RULE[d.sourceType]}, got ${JSON.stringify(d.path)}` };
  const name = d.targetDeviceName;
  if (!DEV_NAME.test(name)) return { at: '/@targetDeviceName', message: `not a guest device name: ${JSON.stringify(name)} (expected e.g. vda, sda, hdb)` };
  if (!hasDriveLetter(name)) {
    const prefix = name.slice(0, name.length - driveOf(name).length);
    return { at: '/@targetDeviceName', message: `the guest device name ${JSON.stringify(name)} has no drive letter after its prefix ${prefix}: the disk libvirt is given is named by its bus's prefix and what follows, and libvirt needs a letter there (expected e.g. vda, sdb, xvdc)` };
  }
  if (!(DISK_BUSES as readonly string[]).includes(d.targetDeviceBus)) return { at: '/@targetDeviceBus', message: `unknown bus ${d.targetDeviceBus}` };
  // An empty serial is none (the transforms write <serial> only for a non-empty one).
  if (d.serial && !DISK_SERIAL.test(d.serial)) return { at: '/@serial', message: `the disk serial ${JSON.stringify(d.serial)} may hold only ${DISK_SERIAL_RULE}` };
  // Eucalyptus skips partitions on KVM; on Xen they are disks (sda1).
  const partition = partitionOf(name);
  if (partition > 0 && WHOLE_DISKS_ONLY.includes(hypervisorType)) {
    return { at: '/@targetDeviceName', message: `the guest device name ${JSON.stringify(name)} names partition ${partition} of a disk; on ${hypervisorType}, libvirt's QEMU driver attaches whole disks and refuses partitions in disk targets (Xen takes them)` };
  }
  return undefined;
}

/**
 * A `model` attribute kept on a Eucalyptus `<nic>` (of instance.xml, or an `eni-XXXX.xml`
 * stub), or undefined. Eucalyptus writes none, and a NIC's model follows osVirtioNetwork and
 * NicType; the shipped transforms would not agree on it (the XSLT's NIC template, which
 * serves extra NICs too, takes it; the Handlebars one does not see it), so it is refused
 * rather than kept.
 */
export function nicModelProblem(n: { unknownAttributes?: UnknownAttribute[] }): ValueProblem | undefined {
  const model = n.unknownAttributes?.find((a) => a.name === 'model' && a.namespace === undefined);
  if (!model) return undefined;
  return { at: '/@model', message: `a Eucalyptus <nic> has no model attribute (model=${JSON.stringify(model.value)}): its model follows osVirtioNetwork and NicType, and the shipped XSLT would take the attribute where the Handlebars template would not` };
}

/** What is wrong with a NIC's MAC address, or undefined: libvirt's `uniMacAddr`, six hex pairs, the first even (unicast). */
export function macProblem(mac: string): NicFieldProblem | undefined {
  const problem = (expected: string, message: string): NicFieldProblem => ({ field: 'mac', at: '/@mac', expected, message });
  if (!MAC.test(mac)) return problem('six colon-separated hex bytes such as d0:0d:12:34:56:78', `malformed MAC address ${JSON.stringify(mac)} (expected six hex pairs such as d0:0d:12:34:56:78)`);
  if (parseInt(mac.slice(0, 2), 16) & 1) return problem('a unicast MAC address (an even first byte, such as d0:0d:12:34:56:78)', `MAC address ${mac} is a multicast address`);
  return undefined;
}

/**
 * Checks that `inst` has the shape of an Instance: every field the type says, of the type it
 * says (instanceStructureProblem). The parsers build such objects; an Instance built or
 * changed in code may not. Throws an InstanceError naming the first field amiss by its path
 * (`/instance/nics`, `/instance/volumes/volume/devName`) and, through `locate`, its line.
 */
export function checkInstanceStructure(inst: unknown, options: ValidateInstanceOptions = {}): asserts inst is Instance {
  const p = instanceStructureProblem(inst);
  if (p) failAt(options, p.path, p.message);
}

function failAt(options: ValidateInstanceOptions, path: string, message: string): never {
  const loc = options.locate?.(path) ?? {};
  throw new InstanceError(message, { file: options.file, line: loc.line, column: loc.column, path });
}

/**
 * Checks the meaning of an instance's values, once its shape is checked
 * (checkInstanceStructure, first): identifiers, sizes, paths, MACs, device names, metadata
 * keys (each given once). Throws an InstanceError naming the first problem's path and,
 * through `locate`, its line.
 */
export function validateInstance(inst: Instance, options: ValidateInstanceOptions = {}): void {
  const fail = (path: string, message: string): never => failAt(options, path, message);
  checkInstanceStructure(inst, options);
  if (!(HYPERVISOR_TYPES as readonly string[]).includes(inst.hypervisor.type)) fail('/instance/hypervisor/@type', `unknown hypervisor type ${JSON.stringify(inst.hypervisor.type)} (expected ${HYPERVISOR_TYPES.join(', ')})`);
  if (!(PLATFORMS as readonly string[]).includes(inst.os.platform)) fail('/instance/os/@platform', `unknown platform ${JSON.stringify(inst.os.platform)} (expected ${PLATFORMS.join(', ')})`);
  if (!inst.name) fail('/instance/name', 'the instance name is missing');
  // instance.xml's <name> is read trimmed (the render reads the instance written back, and a
  // launch's record is read so): untrimmed, the name would not be the one rendered and kept.
  if (inst.name.trim() !== inst.name) {
    fail('/instance/name', inst.name.trim() ? `the instance name ${JSON.stringify(inst.name)} has whitespace before or after it, which instance.xml does not keep (<name> is read trimmed)` : `the instance name is only whitespace (${JSON.stringify(inst.name)})`);
  }
  if (inst.name.length > 200) fail('/instance/name', 'the instance name is longer than 200 characters');
  if (inst.name.includes('/') || CONTROL.test(inst.name)) fail('/instance/name', `the instance name ${JSON.stringify(inst.name)} contains "/" or a control character, which libvirt refuses`);
  if (!UUID.test(inst.uuid)) fail('/instance/uuid', `not a UUID: ${JSON.stringify(inst.uuid)}`);
  if (!Number.isInteger(inst.cores) || inst.cores < 1) fail('/instance/cores', `cores must be a whole number of at least 1, got ${inst.cores}`);
  if (inst.cores > 4096) fail('/instance/cores', `cores must be at most 4096, got ${inst.cores}`);
  if (!Number.isInteger(inst.memoryKB) || inst.memoryKB < 1024) fail('/instance/memoryKB', `memoryKB must be a whole number of at least 1024 (1 MiB), got ${inst.memoryKB}`);
  // Written as <memory unit="KiB"> and <currentMemory>, which libvirt takes up to its limit.
  if (inst.memoryKB > Number(MAX_MEMORY_KIB)) fail('/instance/memoryKB', memoryTooLargeMessage(`memoryKB ${inst.memoryKB}`));
  if (inst.diskGB < 0) fail('/instance/diskGB', `diskGB must not be negative, got ${inst.diskGB}`);
  // Kept as text (written back as given), but a whole number, as the config drive's launch_index needs it ('' is 0).
  if (inst.launchIndex !== '' && !/^\d{1,9}$/.test(inst.launchIndex)) {
    fail('/instance/launchIndex', `launchIndex ${JSON.stringify(inst.launchIndex)} is not a non-negative integer`);
  }
  for (const field of ['kernel', 'ramdisk'] as const) {
    const p = inst[field];
    if (p === undefined) continue;
    if (p.trim() === '') fail(`/instance/${field}`, `<${field}> is present but empty`);
    if (!p.startsWith('/')) fail(`/instance/${field}`, `the ${field} path must be absolute: ${p}`);
    // Normalised first: /tmp/../dev/sda, //dev/sda and /./dev/sda are all /dev/sda.
    if (posix.normalize(p).replace(/^\/+/, '/').startsWith('/dev/')) fail(`/instance/${field}`, `the ${field} must be a file, not a device under /dev/: ${p}`);
    // libvirt's schema (absFilePath) wants a name after the "/", and no line break (a newline before </kernel> is part of the path).
    if (!isAbsFilePath(p)) fail(`/instance/${field}`, `the ${field} path must name a file after its leading "/", on one line (libvirt's schema), got ${JSON.stringify(p)}`);
  }
  if (inst.ramdisk !== undefined && inst.kernel === undefined) fail('/instance/ramdisk', 'a ramdisk is given without a kernel');
  if (inst.userData && compactBase64(inst.userData) === undefined) fail('/instance/userData', 'userData is not base64 (letters, digits, + and /, padded with = to a multiple of four, or unpadded)');
  // Empty (or absent, before Eucalyptus 3.4) is none given: the NICs' model follows os/@virtioNetwork.
  if (inst.NicType && !(NIC_TYPES as readonly string[]).includes(inst.NicType)) {
    const near = closestName(inst.NicType.trim(), NIC_TYPES);
    fail('/instance/NicType', `NicType ${JSON.stringify(inst.NicType)} is not one of ${NIC_TYPES.join(', ')}, the NIC types Eucalyptus writes and the shipped transforms know${near ? `; did you mean ${near}?` : ''} (a NIC of another model goes in <extraNics>, with its model)`);
  }
  const vbrs = vbrCountProblem(inst.vbrs.length);
  if (vbrs) fail('/instance/vbrs', vbrs);

  const dp = (i: number) => itemPath('/instance/disks/diskPath', inst.disks.diskPaths.length, i);
  inst.disks.diskPaths.forEach((d, i) => {
    const p = diskPathProblem(d, inst.hypervisor.type);
    if (p) fail(`${dp(i)}${p.at}`, p.message);
  });

  const macs = new Map<string, string>();
  const nicPath = (i: number) => itemPath('/instance/nics/nic', inst.nics.length, i);
  const xnicPath = (i: number) => itemPath('/instance/extraNics/nic', inst.extraNics.length, i);
  const checkMac = (mac: string, path: string) => {
    const p = macProblem(mac);
    if (p) fail(`${path}${p.at}`, p.message);
    const key = mac.toLowerCase();
    const prev = macs.get(key);
    if (prev) fail(`${path}/@mac`, `MAC address ${mac} is already used by ${prev}`);
    macs.set(key, path);
  };
  const checkPlace = (n: { bridgeDeviceName: string; guestDeviceName?: string }, path: string) => {
    const p = nicPlaceProblem(n);
    if (p) fail(`${path}${p.at}`, p.message);
  };
  inst.nics.forEach((n, i) => {
    checkMac(n.mac, nicPath(i));
    checkPlace(n, nicPath(i));
    const model = nicModelProblem(n);
    if (model) fail(`${nicPath(i)}${model.at}`, `${model.message}; a NIC of another model goes in <extraNics>, with its model`);
  });
  inst.extraNics.forEach((n, i) => {
    checkMac(n.mac, xnicPath(i));
    if (!n.bridgeDeviceName) fail(`${xnicPath(i)}/@bridgeDeviceName`, 'an extra NIC needs a bridge');
    checkPlace(n, xnicPath(i));
    // Written as the interface's <model type>.
    if (!isNicModel(n.model)) fail(`${xnicPath(i)}/@model`, `the NIC model ${JSON.stringify(n.model)} may hold only ${NIC_MODEL_RULE}`);
  });

  const hp = inst.features.hugepages;
  if (hp?.pageSizeKiB !== undefined) {
    const s = hp.pageSizeKiB;
    if (s < 4 || (s & (s - 1)) !== 0) fail('/instance/features/hugepages/@pageSizeKiB', `page size must be a power of two in KiB (2048 for 2 MiB pages), got ${s}`);
    if (inst.memoryKB % s !== 0) fail('/instance/features/hugepages/@pageSizeKiB', `memoryKB ${inst.memoryKB} is not a multiple of the page size ${s} KiB`);
  }
  // Written as <numatune><memory nodeset>: libvirt's schema, then its bitmap parser at define time.
  const nodeset = hp?.nodeset === undefined ? undefined : nodesetProblem(hp.nodeset);
  if (nodeset) fail('/instance/features/hugepages/@nodeset', nodeset);
  if (inst.machine) {
    if (!/^[a-z][a-z0-9._-]*$/.test(inst.machine.type)) fail('/instance/machine/@type', `not a machine type: ${JSON.stringify(inst.machine.type)}`);
    // Written as <type arch>, which takes the architectures libvirt's schema lists (archnames).
    if (!ARCH_NAMES.includes(inst.machine.arch)) fail('/instance/machine/@arch', `not an architecture libvirt knows: ${JSON.stringify(inst.machine.arch)} (expected one of ${ARCH_NAMES.join(', ')}: libvirt's schema)`);
  }
  if (inst.configDrive) {
    const cd = inst.configDrive;
    if (!cd.path.startsWith('/')) fail('/instance/configDrive/@path', `the config drive path must be absolute, got ${JSON.stringify(cd.path)}`);
    // The transforms attach it as a CDROM's <source file> (absFilePath).
    if (!isAbsFilePath(cd.path)) fail('/instance/configDrive/@path', `the config drive path must name a file after its leading "/", on one line (libvirt's schema), got ${JSON.stringify(cd.path)}`);
    const labelProblem = volumeLabelProblem(cd.label);
    if (labelProblem) fail('/instance/configDrive/@label', labelProblem);
    for (const l of cd.layouts) if (!(CONFIG_DRIVE_LAYOUTS as readonly string[]).includes(l)) fail('/instance/configDrive/@layouts', `unknown layout ${l}`);
  }
  inst.metadata.forEach(([k], i) => {
    if (!k) fail(metadataKeyPath(i), 'a metadata item needs a key');
  });
  // Two values for one key is a producer's bug: the config drive and KVP keep one value a key, and the other would be lost.
  const dup = duplicateMetadataKey(inst.metadata);
  if (dup) {
    const first = options.locate?.(`/instance/metadata/item[${dup.first + 1}]`).line;
    fail(metadataKeyPath(dup.second), duplicateMetadataMessage(dup, first ? `line ${first}` : undefined));
  }
}
