/**
 * Checks on `<disk>` and `<interface>` devices, shared by whole domains and hot-plug
 * fragments (a fragment is checked together with the domain's existing devices, so
 * a duplicate target or MAC is caught before libvirt is called).
 */
import { firstChild, lineOf, type Element } from '../xml/parse.js';
import { Findings, attr } from './findings.js';
import { WHOLE_DISKS_ONLY } from '../instance/libvirt-rules.js';

/** The x86 machine family, which decides what IDE allows: https://libvirt.org/formatdomain.html#bios-bootloader */
export type MachineKind = 'pc' | 'q35' | 'other';

/**
 * `q35` for `pc-q35-*`/`q35`; `pc` for `pc`, `pc-i440fx-*`, `pc-1.x` or no machine on an
 * x86 KVM/QEMU HVM guest (libvirt's default there is i440fx); `other` for the rest.
 */
export function machineOf(root: Element): MachineKind {
  const type = firstChild(firstChild(root, 'os') ?? root, 'type');
  const domType = root.getAttribute('type') ?? '';
  if (!['kvm', 'qemu'].includes(domType) || !type || type.parentNode === root) return 'other';
  const arch = type.getAttribute('arch');
  if (arch && !['x86_64', 'i686'].includes(arch)) return 'other';
  const machine = type.getAttribute('machine') ?? '';
  if (/q35/.test(machine)) return 'q35';
  if (machine === '' || /^pc($|-i440fx|-\d)/.test(machine)) return 'pc';
  return 'other';
}

/** The device-name prefix libvirt and guests use on each bus (libvirt's virDiskNameParse). */
const PREFIX_OF_BUS: Record<string, string[]> = {
  virtio: ['vd'],
  ide: ['hd'],
  scsi: ['sd'],
  sata: ['sd'],
  usb: ['sd'],
  xen: ['xvd'],
  fdc: ['fd'],
  uml: ['ubd'],
  sd: ['sd', 'mmcblk'],
};
/** The bus libvirt picks when `<target>` names none, by prefix (virDomainDiskDefAssignAddress). */
const BUS_OF_PREFIX: Record<string, string> = { hd: 'ide', sd: 'scsi', vd: 'virtio', xvd: 'xen', fd: 'fdc', ubd: 'uml' };

/** A disk name as libvirt parses it (virDiskNameParse): a prefix, letters, and an optional partition number. */
const DISK_NAME = /^(?:ioemu:)?(hd|sd|vd|xvd|ubd|fd)([a-z]+)(\d*)$/;


/** Index of a disk name's letters: a=0 … z=25, aa=26 (libvirt's virDiskNameToIndex). */
export function diskIndex(letters: string): number {
  let idx = 0;
  for (const ch of letters) idx = idx * 26 + (ch.charCodeAt(0) - 96);
  return idx - 1;
}

/**
 * Unique `<target dev>`; a name libvirt can parse; no partition number on a KVM/QEMU domain
 * (`vdb1`: its QEMU driver refuses partitions in disk targets; Xen takes them, as Eucalyptus's
 * partition images use); a prefix that fits the bus (warning: libvirt accepts `vda` on IDE,
 * guests then see `hda`); at most 4 IDE disks, `hda`–`hdd`, on `pc` (two buses, two units);
 * no IDE at all on `q35`. `domainType`: the domain's `type`, when known.
 */
export function checkDisks(devices: Element[], machine: MachineKind, f: Findings, domainType?: string): void {
  const seen = new Map<string, Element>();
  let ide = 0;
  for (const ctl of devices.filter((d) => d.nodeName === 'controller' && d.getAttribute('type') === 'ide')) {
    if (machine === 'q35') f.error(attr(ctl, 'type'), `q35 machines have no IDE controller; remove it and put disks on bus="sata"`);
  }
  for (const disk of devices.filter((d) => d.nodeName === 'disk')) {
    const target = firstChild(disk, 'target');
    const dev = target?.getAttribute('dev');
    if (!target || !dev) continue; // the schema requires both
    const devNode = attr(target, 'dev');
    const first = seen.get(dev);
    if (first) f.error(devNode, `target dev "${dev}" is used twice (first at line ${lineOf(first) ?? '?'}); each disk needs its own`);
    else seen.set(dev, target);

    const m = DISK_NAME.exec(dev);
    if (!m) {
      f.error(devNode, `target dev "${dev}" is not a disk name libvirt can parse (hdX, sdX, vdX, xvdX, fdX: a prefix, letters, and a partition number only where the hypervisor takes one)`);
      continue;
    }
    if (Number(m[3] || 0) > 0 && domainType !== undefined && WHOLE_DISKS_ONLY.includes(domainType)) {
      f.error(devNode, `target dev "${dev}" names partition ${Number(m[3])} of a disk; libvirt's QEMU driver attaches whole disks and refuses partitions in disk targets (use ${dev.replace(/\d+$/, '')})`);
      continue;
    }
    const prefix = m[1]!;
    const bus = target.getAttribute('bus') ?? BUS_OF_PREFIX[prefix]!;
    const want = PREFIX_OF_BUS[bus];
    if (want && !want.includes(prefix))
      f.warn(devNode, `target dev "${dev}" does not fit bus "${bus}", whose disks are named ${want.map((p) => p + '*').join(' or ')}; the guest will not see it as ${dev}`);
    if (bus !== 'ide') continue;
    if (machine === 'q35') {
      f.error(target.getAttribute('bus') ? attr(target, 'bus') : devNode, `q35 machines have no IDE bus; use bus="sata" with an sd* name for "${dev}"`);
      continue;
    }
    if (machine === 'pc') {
      ide++;
      if (ide > 4) f.error(devNode, `more than 4 IDE disks on a pc machine ("${dev}" is number ${ide}); pc has two IDE buses with two units each`);
      else if (prefix === 'hd' && diskIndex(m[2]!) > 3) f.error(devNode, `"${dev}" is past hdd; a pc machine has IDE units hda to hdd only`);
    }
  }
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** `<mac address>`: six colon-separated hex bytes, unicast (lowest bit of the first byte 0), not all zero, unique. */
export function checkInterfaces(interfaces: Element[], f: Findings): void {
  const seen = new Map<string, Element>();
  for (const nic of interfaces) {
    const mac = firstChild(nic, 'mac');
    const address = mac?.getAttribute('address');
    if (!mac || address === null || address === undefined) continue; // libvirt generates one
    const node = attr(mac, 'address');
    if (!MAC.test(address)) {
      f.error(node, `MAC address "${address}" is not six colon-separated hex bytes (like 52:54:00:12:34:56)`);
      continue;
    }
    if (parseInt(address.slice(0, 2), 16) & 1) {
      f.error(node, `MAC address "${address}" is a multicast address (odd first byte); a NIC needs a unicast one`);
      continue;
    }
    if (/^(00:){5}00$/.test(address)) {
      f.error(node, `MAC address "${address}" is all zeros`);
      continue;
    }
    const key = address.toLowerCase();
    const first = seen.get(key);
    if (first) f.error(node, `MAC address "${address}" is used twice (first at line ${lineOf(first) ?? '?'}); each NIC needs its own`);
    else seen.set(key, mac);
  }
}
