/**
 * Guest device names (`vda`, `hdb`, `sdc1`, `xvda`): the prefix names the bus, the letter
 * the slot, trailing digits a partition. Pure functions behind the device-name helpers.
 */
import { keptXml } from '../../instance/kept-xml.js';
import type { Instance } from '../../instance/model.js';

/** The name prefix libvirt and guest kernels use for a disk bus. */
export function prefixOfBus(bus: string): string {
  switch (bus) {
    case 'virtio':
      return 'vd';
    case 'xen':
      return 'xvd';
    case 'ide':
      return 'hd';
    case 'fdc':
      return 'fd';
    default:
      return 'sd'; // scsi, sata, usb
  }
}

/** What follows the name's prefix: `a1` for `sda1`, `b` for `xvdb`. */
export function suffixOfName(name: string): string {
  return name.startsWith('xvd') ? name.slice(3) : name.slice(2);
}

/** The name a disk takes on another bus: `sda` on `ide` is `hda`, on `virtio` `vda`. */
export function nameOnBus(name: string, bus: string): string {
  return prefixOfBus(bus) + suffixOfName(name);
}

/** Whether the name ends in a partition number (`sda1`, `xvda2`). */
export function hasPartition(name: string): boolean {
  return /[0-9]$/.test(name);
}

/** A disk is on virtio when the controller chose that bus for it or named it `v...`. */
function onVirtio(d: { targetDeviceBus: string; targetDeviceName: string }): boolean {
  return d.targetDeviceBus === 'virtio' || d.targetDeviceName.startsWith('v');
}

/** `<target dev>` of a volume's kept `<disk>` element, if it has one. */
function volumeTargetDev(xml: string | undefined): string | undefined {
  return xml ? keptXml(xml).targetDev : undefined;
}

/**
 * The first `<prefix><letter>` (a..z) no disk and no volume of the instance takes, or ''
 * when all 26 are taken. A disk not on virtio takes its letter on every non-virtio bus
 * (the transform may move `sdb` to `hdb`); a volume takes the name in its `<target dev>`.
 */
export function nextFreeName(instance: Pick<Instance, 'disks' | 'volumes'>, prefix: string): string {
  const taken = new Set<string>();
  for (const d of instance.disks.diskPaths) if (!onVirtio(d)) taken.add(suffixOfName(d.targetDeviceName).charAt(0));
  const volumeNames = new Set(instance.volumes.map((v) => volumeTargetDev(v.libvirt)).filter((x): x is string => !!x));
  for (const l of 'abcdefghijklmnopqrstuvwxyz') {
    if (!taken.has(l) && !volumeNames.has(prefix + l)) return prefix + l;
  }
  return '';
}
