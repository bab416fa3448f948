/**
 * What a domain must hold of the instance it was rendered from. A transform (or a pre-boot
 * filter, or a hook editing libvirt.xml) that leaves out an attached volume or a NIC gives
 * libvirt a valid domain all the same: the guest boots without its EBS volume, or without
 * its network, and nothing says so. These checks compare the domain with the instance:
 *
 * - every volume the record says is attached (or attaching) must be a `<disk>` whose
 *   `<target dev>` is its `<libvirt>` disk's (else its `devName`) — what the shipped
 *   transforms copy;
 * - every NIC (unless `NicType` is `none`, where Eucalyptus writes none, or the NIC is
 *   `detaching`) and every extra NIC must be an `<interface>` with its MAC address, by which
 *   the cloud's network knows it.
 *
 * How a transform writes a disk's source or a NIC's model is its own business; only the
 * device's presence, by the name the guest and the network know it by, is checked.
 *
 * A hot-plugged device is held to the same rule (checkFragmentCoversStub): the `<interface>`
 * rendered from a `<nic>` stub, and what filters and pre-attach hooks make of it, must keep
 * the stub's MAC address, which the record then lists. A `<volume>` stub's `<disk>` needs no
 * check: the record keeps that very `<disk>` as the volume's `<libvirt>`, whatever its target.
 */
import { DomainInvalidError, type DomforgeError } from '../errors.js';
import { DETACHING, type Instance, type Volume } from '../instance/model.js';
import type { Stub } from '../instance/stubs.js';
import { itemPath } from '../instance/paths.js';
import { placeOf, type InstanceSource } from '../instance/source.js';
import { keptXml } from '../instance/kept-xml.js';
import { childElements, columnOf, firstChild, lineOf, type Document } from '../xml/parse.js';

/** The volume states whose `<disk>` is in the domain (the shipped transforms' selection). */
export const VOLUME_STATES_IN_DOMAIN: readonly string[] = ['attached', 'attaching'];


export interface CoversOptions {
  /** The domain's label in errors (`TRANSFORM (output for FILE)`, `output of filters.d/NAME`, libvirt.xml's path). */
  file: string;
  /** Where the instance was read from, so errors name its line too. */
  source?: InstanceSource;
}

/**
 * Throws a DomainInvalidError when the domain lacks a device of the instance (the first
 * missing one in the message, every one in `problems`); its place is the domain's
 * `<devices>`, and the message names the instance's element and where it was read.
 */
export function checkDomainCoversInstance(instance: Instance, document: Document, options: CoversOptions): void {
  const problems = domainCoverageProblems(instance, document, options);
  if (problems.length === 0) return;
  const first = problems[0]!;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more device${problems.length > 2 ? 's' : ''} of the instance)` : '';
  throw new DomainInvalidError(`${first.shortMessage}${more}`, { file: first.file, line: first.line, column: first.column, path: first.path, problems });
}

/** Every device of the instance the domain lacks, as errors at the domain's `<devices>`. */
export function domainCoverageProblems(instance: Instance, document: Document, options: CoversOptions): DomforgeError[] {
  const root = document.documentElement!;
  const devices = firstChild(root, 'devices');
  const at = devices ?? root;
  const place = { file: options.file, line: lineOf(at), column: columnOf(at), path: devices ? '/domain/devices' : '/domain' };
  const devs = new Set<string>();
  const macs = new Set<string>();
  for (const d of devices ? childElements(devices) : []) {
    if (d.nodeName === 'disk') {
      const dev = firstChild(d, 'target')?.getAttribute('dev');
      if (dev) devs.add(dev);
    } else if (d.nodeName === 'interface') {
      const mac = firstChild(d, 'mac')?.getAttribute('address');
      if (mac) macs.add(mac.toLowerCase());
    }
  }
  const where = (path: string) => {
    const p = placeOf(options.source, path);
    return p.file !== undefined || p.line !== undefined ? ` (${[p.file ?? 'the instance', p.line].filter((x) => x !== undefined).join(':')})` : '';
  };
  const problems: DomforgeError[] = [];
  instance.volumes.forEach((v, i) => {
    if (!VOLUME_STATES_IN_DOMAIN.includes(v.stateName)) return;
    const { dev, from } = volumeTarget(v);
    if (dev !== undefined && devs.has(dev)) return;
    const path = itemPath('/instance/volumes/volume', instance.volumes.length, i);
    const what = `volume ${v.id || '(no id)'}, ${v.stateName}${where(path)}`;
    const why =
      v.libvirt === undefined
        ? `it has no <libvirt> <disk> for a transform to copy (an instance.xml from Eucalyptus 3.4–4.0 records only localDev/localDevReal, not the host's device), and no <disk> has its devName${dev === undefined ? '' : `, ${JSON.stringify(dev)},`} as target dev`
        : `no <disk> has target dev ${JSON.stringify(dev)} (${from})`;
    problems.push(new DomainInvalidError(`the domain has no <disk> for ${what}: ${why}; libvirt would start the guest without it`, place));
  });
  const nics: { mac: string; path: string }[] = [];
  instance.nics.forEach((n, i) => {
    if (instance.NicType !== 'none' && n.stateName !== DETACHING) nics.push({ mac: n.mac, path: itemPath('/instance/nics/nic', instance.nics.length, i) });
  });
  instance.extraNics.forEach((n, i) => nics.push({ mac: n.mac, path: itemPath('/instance/extraNics/nic', instance.extraNics.length, i) }));
  for (const n of nics) {
    if (macs.has(n.mac.toLowerCase())) continue;
    problems.push(new DomainInvalidError(`the domain has no <interface> with MAC address ${n.mac.toLowerCase()}, the instance's NIC${where(n.path)}; libvirt would start the guest without it`, place));
  }
  return problems;
}

/** The guest device an attached volume is known by: its `<libvirt>` disk's `<target dev>`, else its devName (without `/dev/`). */
function volumeTarget(v: Volume): { dev: string | undefined; from: string } {
  if (v.libvirt !== undefined) {
    // The parse the Handlebars helpers keep of each volume's <disk> (a text that does not parse has no target).
    let dev: string | undefined;
    try {
      dev = keptXml(v.libvirt).targetDev;
    } catch {
      dev = undefined;
    }
    if (dev) return { dev, from: "its <libvirt> disk's" };
  }
  const name = v.devName.replace(/^\/dev\//, '');
  return { dev: name || undefined, from: 'its devName' };
}

/**
 * Throws a DomainInvalidError, at the `<mac>` (or the `<interface>` when it has none), when
 * the `<interface>` rendered from a `<nic>` stub does not carry the stub's MAC address: the
 * record would list a NIC the domain does not have. `from` names the stub in the message
 * (its file, or `interface eni-XXX`). A `<volume>` stub's `<disk>` always passes (see above).
 */
export function checkFragmentCoversStub(stub: Stub, document: Document, options: { file: string; from?: string }): void {
  if (stub.kind !== 'nic') return;
  const want = stub.data.mac.toLowerCase();
  const root = document.documentElement!;
  const mac = firstChild(root, 'mac');
  const got = mac?.getAttribute('address') ?? undefined;
  if (got?.toLowerCase() === want) return;
  const from = options.from === undefined ? 'the <nic> stub' : `the <nic> of ${options.from}`;
  const has = got === undefined ? 'it has no <mac> (libvirt would make one up)' : `it has ${got.toLowerCase()}`;
  throw new DomainInvalidError(
    `the <interface> has no MAC address ${want}, the NIC's (${from}): ${has}; instance.xml records the NIC by that MAC, and the domain must hold every NIC of the record with its MAC`,
    mac ? { file: options.file, line: lineOf(mac), column: columnOf(mac), path: `/${root.nodeName}/mac/@address` } : { file: options.file, line: lineOf(root), column: columnOf(root), path: `/${root.nodeName}/mac` },
  );
}
