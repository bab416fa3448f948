import { readdir } from 'node:fs/promises';
import { readRegularText } from '../fs/regular-file.js';
import { readInputText } from '../instance/input.js';
import { basename, join } from 'node:path';
import { InstanceError, UsageError } from '../errors.js';
import { ATTACHING, DETACHING, type Instance, type Nic, type UnknownAttribute, type UnknownElement } from '../instance/model.js';
import { withKept } from '../instance/parse.js';
import { emitNicStub, parseStub, type NicStub } from '../instance/stubs.js';
import { macProblem, nicPlaceProblem } from '../instance/validate.js';
import { validateStub } from '../instance/validate-stub.js';
import { columnOf, lineOf, parseXml } from '../xml/parse.js';
import { escapeAttr } from '../xml/serialize.js';
import type { AttachSpec } from './devices.js';
import type { DetachSpec, RecordedDevice } from './detach.js';
import { stillDetaching } from './unfinished.js';
import { StateConflictError } from './errors.js';
import { DEVICE_ID_RULE, checkDeviceId, isDeviceId } from './layout.js';

/**
 * A network interface (Eucalyptus VPC ENI) to attach to a running instance: the
 * attributes of its `<nic>` stub, as Eucalyptus's ncAttachNetworkInterface receives them
 * in its netConfig, plus the interface id that names the stub files.
 */
export interface InterfaceAttachment {
  /** The ENI id, `eni-XXXXXXXX`: names `eni-XXXXXXXX.xml` and `eni-XXXXXXXX-libvirt.xml` (Eucalyptus's `interfaceId`). */
  interfaceId: string;
  /** The attachment id (`eni-attach-XXXXXXXX`): the key of `detachInterface`. Unique per instance. */
  attachmentId: string;
  /** The guest's MAC address; unique per instance. */
  mac: string;
  /** The device index the cloud gave (0 is the primary interface); unique per instance. */
  device: number;
  /** The host bridge the interface joins. */
  bridgeDeviceName: string;
  /** Host-side tap name (`<target dev>`): a name Linux takes for an interface, at most 15 bytes (its IFNAMSIZ), no `:` or `/`, not `.` or `..`. Eucalyptus uses `vn_<interface id>`. Default: none (libvirt names it). */
  guestDeviceName?: string;
  /** Default -1. */
  vlan?: number;
  /** Default -1. */
  networkIndex?: number;
  /** Default `0.0.0.0`. */
  publicIp?: string;
  /** Default `0.0.0.0`. */
  privateIp?: string;
  /** For the transform's choice of model. Default: the instance's `hypervisor/@type`. */
  hypervisorType?: string;
  /** Default: the instance's `os/@platform`. */
  osPlatform?: string;
  /** Default: the instance's `os/@virtioNetwork`. */
  osVirtioNetwork?: boolean;
  /**
   * What an `eni-XXX.xml` stub's `<nic>` holds that domforge does not know (its attributes,
   * its elements; see Nic), carried into the `eni-XXX.xml` domforge writes and the record's
   * `<nic>`. Left out when none.
   */
  unknownAttributes?: UnknownAttribute[];
  unknown?: UnknownElement[];
}

const got = (v: unknown) => `\`${String(v)}\` (${typeof v})`;

/** The first refused field of an attachment: its name, what it must be, its value, and what else to say of it. */
export interface InterfaceProblem {
  field: keyof InterfaceAttachment;
  expected: string;
  value: unknown;
  /** After the value: `17 bytes`. */
  note?: string;
}

/** What is wrong with the fields of `a`, first refused first; undefined when it can be attached. The rules of checkInterfaceAttachment. */
export function interfaceProblem(a: InterfaceAttachment): InterfaceProblem | undefined {
  const problem = (field: keyof InterfaceAttachment, expected: string, note?: string): InterfaceProblem => ({ field, expected, value: a[field], ...(note ? { note } : {}) });
  if (!isDeviceId(a.interfaceId)) return problem('interfaceId', `an interface id of ${DEVICE_ID_RULE}`);
  if (!isDeviceId(a.attachmentId)) return problem('attachmentId', `an attachment id of ${DEVICE_ID_RULE}`);
  // libvirt's schema takes a unicast MAC only (uniMacAddr), as in instance.xml and a stub; a value not a string is as malformed as ''.
  const mac = macProblem(typeof a.mac === 'string' ? a.mac : '');
  if (mac) return problem('mac', mac.expected);
  if (!Number.isSafeInteger(a.device) || a.device < 0) return problem('device', 'a non-negative integer (the device index; 0 is the primary interface)');
  if (typeof a.bridgeDeviceName !== 'string' || a.bridgeDeviceName === '') return problem('bridgeDeviceName', 'a non-empty string');
  for (const k of ['vlan', 'networkIndex'] as const) {
    if (a[k] !== undefined && !Number.isSafeInteger(a[k])) return problem(k, 'an integer');
  }
  for (const k of ['guestDeviceName', 'publicIp', 'privateIp', 'hypervisorType', 'osPlatform'] as const) {
    if (a[k] !== undefined && typeof a[k] !== 'string') return problem(k, 'a string');
  }
  // The bridge and tap name (the interface's <target dev> when not empty), held to libvirt's and Linux's rules as in instance.xml and a stub.
  const place = nicPlaceProblem({ bridgeDeviceName: a.bridgeDeviceName, guestDeviceName: a.guestDeviceName });
  if (place) return problem(place.field, place.expected, place.note);
  if (a.osVirtioNetwork !== undefined && typeof a.osVirtioNetwork !== 'boolean') return problem('osVirtioNetwork', 'a boolean');
  for (const k of ['unknownAttributes', 'unknown'] as const) {
    if (a[k] !== undefined && !Array.isArray(a[k])) return problem(k, 'a list (what a stub keeps that domforge does not know)');
  }
  return undefined;
}

export function checkInterfaceAttachment(a: InterfaceAttachment): InterfaceAttachment {
  if (typeof a !== 'object' || a === null) {
    throw new UsageError('Expected the interface to be an object with `interfaceId`, `attachmentId`, `mac`, `device` and `bridgeDeviceName`, or the path of an eni-XXX.xml stub');
  }
  const p = interfaceProblem(a);
  // The ids are worded as every device id is.
  if (p?.field === 'interfaceId') checkDeviceId(a.interfaceId, 'interface id');
  if (p?.field === 'attachmentId') checkDeviceId(a.attachmentId, 'attachment id');
  if (p) throw new UsageError(`Expected \`${p.field}\` to be ${p.expected}, got ${got(p.value)}${p.note ? `, ${p.note}` : ''}`);
  return a;
}

/**
 * The attachment described by a parsed `eni-XXX.xml` stub. Its interface id is the file's
 * base name, as Eucalyptus names the file after the ENI (`<instancePath>/<interfaceId>.xml`).
 */
export function interfaceAttachmentFromStub(stub: NicStub, interfaceId: string, file?: string, place: { line?: number; column?: number } = {}): InterfaceAttachment {
  // What the stub must say for an attachment: refused at the stub's <nic> (file, line, attribute) when it is a file.
  const missing = (attribute: string, why: string) =>
    file
      ? new InstanceError(`the <nic> stub has no ${attribute}: ${why}`, { file, ...place, path: `/nic/@${attribute}` })
      : new UsageError(`the <nic> stub has no ${attribute}: ${why}`);
  if (stub.attachmentId === undefined) throw missing('attachmentId', 'it is what detach-interface names the interface by');
  if (stub.device === undefined) throw missing('device', 'the device index (0 is the primary interface)');
  if (!stub.bridgeDeviceName) throw missing('bridgeDeviceName', 'the bridge the interface joins');
  const { stateName: _state, ...rest } = stub;
  const a: InterfaceAttachment = { ...rest, interfaceId, attachmentId: stub.attachmentId, device: stub.device };
  const p = file ? interfaceProblem(a) : undefined;
  // A stub's attribute is refused at its <nic>, as the volume stub's fields are; the interface id is the file's name, not an attribute.
  if (p && p.field !== 'interfaceId') {
    const note = p.note ? `, ${p.note}` : '';
    throw new InstanceError(`${p.field} must be ${p.expected}, got ${JSON.stringify(p.value)}${note}`, { file, ...place, path: `/nic/@${p.field}` });
  }
  return checkInterfaceAttachment(a);
}

/**
 * Reads an `eni-XXX.xml` stub (`<nic xml-version="2" …/>`) as an attachment; the interface
 * id is the file's base name (`eni-1a2b3c4d.xml` → `eni-1a2b3c4d`).
 */
export async function readInterfaceStubFile(file: string): Promise<InterfaceAttachment> {
  if (typeof file !== 'string' || file === '') throw new UsageError(`Expected an InterfaceAttachment or the path of an eni-XXX.xml stub, got ${got(file)}`);
  // Read as every input file is (and as attach-volume reads its stub): encodings, `-` for stdin.
  const text = await readInputText(file, 'the interface stub');
  const document = parseXml(text, { file });
  const stub = parseStub(text, { file, document, expect: 'nic' });
  // What the transform copies from it (MAC, bridge, tap name) is refused at the stub's line, as render --instance refuses it.
  validateStub(stub, { file, document });
  const root = document.documentElement;
  return interfaceAttachmentFromStub(stub.data, basename(file).replace(/\.xml$/i, ''), file, { line: lineOf(root), column: columnOf(root) });
}

/**
 * The `<nic>` as recorded and as written to the stub; the hypervisor and OS fields default to
 * the instance's. The attachment's kept unknown attributes and elements (from a stub file) go
 * on it, so the record and the stub keep the same.
 */
export function nicOf(instance: Instance, a: InterfaceAttachment, stateName: string): Nic {
  return withKept<Nic>({
    vlan: a.vlan ?? -1,
    networkIndex: a.networkIndex ?? -1,
    mac: a.mac,
    publicIp: a.publicIp ?? '0.0.0.0',
    privateIp: a.privateIp ?? '0.0.0.0',
    bridgeDeviceName: a.bridgeDeviceName,
    guestDeviceName: a.guestDeviceName,
    device: a.device,
    stateName,
    hypervisorType: a.hypervisorType ?? instance.hypervisor.type,
    osPlatform: a.osPlatform ?? instance.os.platform,
    osVirtioNetwork: a.osVirtioNetwork ?? instance.os.virtioNetwork,
    attachmentId: a.attachmentId,
  }, { unknownAttributes: a.unknownAttributes, unknown: a.unknown });
}

/** A recorded NIC's device index: Eucalyptus records before 4.3 have one NIC and no `device`, the primary. */
const indexOf = (n: Nic) => n.device ?? 0;

function describeNic(n: Nic): string {
  const index = indexOf(n);
  return `${index === 0 ? 'the primary interface' : `interface device ${index}`}${n.attachmentId ? ` (attachment ${n.attachmentId})` : ''}`;
}

/**
 * Why `a` cannot be attached to `instance`: its attachment id, MAC (compared without case,
 * over `nics` and domforge's `extraNics`) or device index is already in use, or its
 * interface id names the stub of an interface still attached.
 */
export async function interfaceConflict(instance: Instance, a: InterfaceAttachment, dir: string): Promise<string | undefined> {
  const same = instance.nics.find((n) => n.attachmentId === a.attachmentId);
  if (same?.stateName === DETACHING) return `attachment ${a.attachmentId} ${stillDetaching('detach-interface', instance.name, a.attachmentId)}`;
  if (same) return `attachment ${a.attachmentId} is already attached (MAC ${same.mac}, device ${indexOf(same)})`;
  const mac = a.mac.toLowerCase();
  const byMac = instance.nics.find((n) => n.mac.toLowerCase() === mac);
  if (byMac) return `MAC ${a.mac} is already used by ${describeNic(byMac)}`;
  if (instance.extraNics.some((n) => n.mac.toLowerCase() === mac)) return `MAC ${a.mac} is already used by one of the instance's extraNics`;
  const byIndex = instance.nics.find((n) => indexOf(n) === a.device);
  if (byIndex) return `device index ${a.device} is already used by ${describeNic(byIndex)}`;
  const stub = await readNicStub(join(dir, `${a.interfaceId}.xml`));
  if (stub?.attachmentId && instance.nics.some((n) => n.attachmentId === stub.attachmentId)) {
    return `${a.interfaceId} is already attached as ${stub.attachmentId}`;
  }
  return undefined;
}

export function attachInterfaceSpec(a: InterfaceAttachment): AttachSpec {
  checkInterfaceAttachment(a);
  return {
    operation: 'attach-interface',
    deviceId: a.interfaceId,
    label: `interface ${a.interfaceId}`,
    detach: detachInterfaceSpec(a.attachmentId),
    state: (r) => {
      const nic = r.nics.find((n) => n.attachmentId === a.attachmentId);
      return nic && (nic.stateName ?? '');
    },
    differs: (r) => {
      const recorded = r.nics.find((n) => n.attachmentId === a.attachmentId);
      // The whole <nic> is the attachment's: any field told otherwise is another attach.
      return recorded && emitNicStub({ ...recorded, stateName: ATTACHING }) !== emitNicStub(nicOf(r, a, ATTACHING)) ? `the record's <nic> of ${a.attachmentId} says otherwise` : undefined;
    },
    conflict: (r, dir) => interfaceConflict(r, a, dir),
    stub: (r) => emitNicStub(nicOf(r, a, ATTACHING)),
    recorded: (r, _xml, stateName) => {
      const nic = nicOf(r, a, stateName);
      return r.nics.some((n) => n.attachmentId === a.attachmentId)
        ? { ...r, nics: r.nics.map((n) => (n.attachmentId === a.attachmentId ? nic : n)) }
        : { ...r, nics: [...r.nics, nic] };
    },
  };
}

export function detachInterfaceSpec(attachmentId: string): DetachSpec {
  checkDeviceId(attachmentId, 'attachment id');
  return {
    operation: 'detach-interface',
    label: `interface attachment ${attachmentId}`,
    key: attachmentId,
    recorded: async (r, dir) => {
      const nic = r.nics.find((n) => n.attachmentId === attachmentId);
      if (!nic) return undefined;
      // An attach of device 0 that did not finish (`attaching`) is not yet the instance's primary interface: its detach removes it, as its rollback would have.
      if (indexOf(nic) === 0 && nic.stateName !== ATTACHING) {
        throw new StateConflictError(`attachment ${attachmentId} is the primary interface (device 0) of ${r.name}, which cannot be detached; it goes with the instance`, { instanceId: r.name });
      }
      return recordedInterface(nic, dir);
    },
    marked: (r, stateName) => ({ ...r, nics: r.nics.map((n) => (n.attachmentId === attachmentId ? { ...n, stateName } : n)) }),
    detached: (r) => ({ ...r, nics: r.nics.filter((n) => n.attachmentId !== attachmentId) }),
  };
}

/**
 * Where a recorded interface's files are: the `eni-XXX.xml` stub in the instance folder
 * whose attachmentId is the NIC's; else the interface id Eucalyptus reads back from
 * `guestDeviceName` (`vn_<interface id>`); else the attachment id. The XML fallback (when
 * `eni-XXX-libvirt.xml` is gone) is the NIC by its MAC on its bridge, which is how libvirt
 * finds an interface to detach.
 */
async function recordedInterface(nic: Nic, dir: string): Promise<RecordedDevice> {
  const stateName = nic.stateName ?? '';
  const xml = `<interface type="bridge"><mac address="${escapeAttr(nic.mac.toLowerCase())}"/><source bridge="${escapeAttr(nic.bridgeDeviceName)}"/></interface>`;
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch {
    // no folder listing: fall through to the record
  }
  for (const name of names.filter(isStubName).sort()) {
    const stub = await readNicStub(join(dir, name));
    if (stub?.attachmentId === nic.attachmentId) return { deviceId: name.slice(0, -'.xml'.length), xml, stateName };
  }
  const fromTap = nic.guestDeviceName?.includes('_') ? nic.guestDeviceName.slice(nic.guestDeviceName.indexOf('_') + 1) : undefined;
  let deviceId = nic.attachmentId!;
  try {
    if (fromTap) deviceId = checkDeviceId(fromTap);
  } catch {
    // not a usable file name: keep the attachment id
  }
  return { deviceId, xml, stateName };
}

const isStubName = (name: string) => name.endsWith('.xml') && !name.startsWith('.') && !name.endsWith('-libvirt.xml') && name !== 'instance.xml' && name !== 'libvirt.xml';

/** The `<nic>` stub in `file`, or undefined when the file is missing or is not a readable `<nic>` stub. */
async function readNicStub(file: string): Promise<NicStub | undefined> {
  let text: string;
  try {
    text = await readRegularText(file);
  } catch {
    return undefined;
  }
  try {
    const stub = parseStub(text, { file });
    return stub.kind === 'nic' ? stub.data : undefined;
  } catch {
    return undefined; // someone else's file: not one of ours
  }
}
