/**
 * instance.xml documents for the test guest: what a Eucalyptus CC would send a node,
 * with domforge's extensions (machine, hugepages, config drive) and the guest's own
 * kernel and initramfs for direct kernel boot. Disks are small sparse files.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseInstance, type Instance } from '../../engine/instance/index.js';
import type { HypervisorEnv } from './env.js';

/** Every domain the tier defines is named with this prefix, so leftovers can be found and removed. */
export const NAME_PREFIX = 'dfhv-';

export interface GuestInstanceOptions {
  /** After NAME_PREFIX; a random suffix keeps concurrent runs apart. */
  label: string;
  /** QEMU machine type. Default `pc`. */
  machine?: 'pc' | 'q35';
  /** Disks and NICs on virtio (`vda`), or legacy (`sda` in instance.xml, IDE/SATA). Default true. */
  virtio?: boolean;
  /** `<features><hugepages enabled="true" pageSizeKiB="2048"/>`. Default false. */
  hugepages?: boolean;
  /** Default 131072 (128 MiB, 64 hugepages). */
  memoryKB?: number;
  /** User data bytes. Default: 300 random bytes (not valid UTF-8, on purpose). */
  userData?: Buffer;
  /** Default: a made-up ed25519 key with this instance's name as comment. */
  sshKey?: string;
  /** Folder for the disk image and, when not launched through a NodeController, the console log and drive. */
  dir: string;
}

export interface GuestInstance {
  name: string;
  uuid: string;
  hostname: string;
  userData: Buffer;
  sshKey: string;
  mac: string;
  xml: string;
  instance: Instance;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A locally administered unicast MAC (first octet 0xd2). */
export function randomMac(): string {
  return ['d2', ...[...randomBytes(5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** Writes the instance's disk image and returns the instance (text and parsed). */
export async function guestInstance(env: HypervisorEnv, o: GuestInstanceOptions): Promise<GuestInstance> {
  const name = `${NAME_PREFIX}${o.label}-${randomBytes(3).toString('hex')}`;
  const uuid = randomUUID();
  const hostname = `${name}.internal`;
  const userData = o.userData ?? Buffer.concat([Buffer.from('#!/bin/sh\necho domforge\n'), randomBytes(276)]);
  const sshKey = o.sshKey ?? `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA${randomBytes(24).toString('base64')} ${name}@domforge-test`;
  const virtio = o.virtio ?? true;
  const mac = randomMac();
  await mkdir(o.dir, { recursive: true });
  const disk = join(o.dir, 'root.img');
  await writeFile(disk, '');
  await truncate(disk, 8 * 1024 * 1024);
  const dev = virtio ? 'vda' : 'sda';
  const bus = virtio ? 'virtio' : 'ide';
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<instance xml-version="2">
  <hypervisor type="qemu" capability="hw" bitness="64" requiresDisk="false"/>
  <backing><root type="image"/></backing>
  <name>${name}</name>
  <uuid>${uuid}</uuid>
  <reservation>r-dfhv0001</reservation>
  <user>AIDADOMFORGETEST</user>
  <owner>000000000000</owner>
  <account>000000000000</account>
  <imageId>emi-dfhv0001</imageId>
  <kernelId>eki-dfhv0001</kernelId>
  <ramdiskId>eri-dfhv0001</ramdiskId>
  <dnsName/>
  <privateDnsName>${hostname}</privateDnsName>
  <instancePath>${esc(o.dir)}</instancePath>
  <kernel>${esc(env.kernel)}</kernel>
  <ramdisk>${esc(env.initrd)}</ramdisk>
  <xmlFilePath>${esc(join(o.dir, 'instance.xml'))}</xmlFilePath>
  <libvirtFilePath>${esc(join(o.dir, 'libvirt.xml'))}</libvirtFilePath>
  <consoleLogPath>${esc(join(o.dir, 'console.log'))}</consoleLogPath>
  <userData>${userData.toString('base64')}</userData>
  <launchIndex>0</launchIndex>
  <hasFloppy>false</hasFloppy>
  <cpuPassthrough>false</cpuPassthrough>
  <cores>1</cores>
  <memoryKB>${o.memoryKB ?? 131072}</memoryKB>
  <diskGB>1</diskGB>
  <VmType>t1.micro</VmType>
  <NicType>${virtio ? 'virtio' : 'e1000'}</NicType>
  <NicDevice>${esc(env.bridge)}</NicDevice>
  <rootDirective/>
  <key doInjectKey="true" sshKey="${esc(sshKey)}"/>
  <os platform="linux" virtioRoot="${virtio}" virtioDisk="${virtio}" virtioNetwork="${virtio}"/>
  <groupNames><name>default</name></groupNames>
  <disks>
    <floppyPath/>
    <diskPath targetDeviceType="disk" targetDeviceName="${dev}" targetDeviceNameVirtio="vda" targetDeviceBusVirtio="virtio" targetDeviceBus="${bus}" sourceType="file">${esc(disk)}</diskPath>
    <root device="${dev}"/>
  </disks>
  <vbrs/>
  <volumes/>
  <nics>
    <nic vlan="-1" networkIndex="-1" mac="${mac}" publicIp="0.0.0.0" privateIp="0.0.0.0" bridgeDeviceName="${esc(env.bridge)}" device="0" stateName="attached" hypervisorType="qemu" osPlatform="linux" osVirtioNetwork="${virtio}"/>
  </nics>
${o.hugepages ? '  <features><hugepages enabled="true" pageSizeKiB="2048"/></features>\n' : ''}  <machine type="${o.machine ?? 'pc'}" arch="x86_64"/>
  <configDrive path="${esc(join(o.dir, 'config.iso'))}" label="config-2" layouts="openstack"/>
</instance>
`;
  return { name, uuid, hostname, userData, sshKey, mac, xml, instance: parseInstance(xml, { file: `${name}/instance.xml` }) };
}
