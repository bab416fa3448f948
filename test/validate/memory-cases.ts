/**
 * Domains with memory devices, NUMA cells and `<maxMemory>` on each side of a rule libvirt
 * holds them to at define time, with who refuses each: libvirt's test driver (the generic
 * checks, test/validate/memory-devices.test.ts defines every case on test:///default), its
 * QEMU driver (test/hypervisor/memory-devices.test.ts defines them on qemu:///system), both,
 * or neither; and where domforge places its problem. domforge must refuse a KVM domain that
 * either driver refuses, and nothing else.
 */

/** Who refuses the domain at define time. */
export type RefusedBy = 'both' | 'test' | 'qemu' | 'none';

export interface MemoryCase {
  name: string;
  xml: string;
  refusedBy: RefusedBy;
  /** What libvirt says when it refuses (the test driver's words, else the QEMU driver's). */
  libvirt?: RegExp;
  /** Where domforge places its problem, and what it says; absent when nobody refuses. */
  at?: string;
  message?: RegExp;
}

/** 2^53 − 1 KiB, libvirt's largest memory size. */
export const L = 9007199254740991n;
const GiB = 1048576n;

/** A KVM domain (machine pc, which both drivers take) around `parts` (children of `<domain>`) and `devices`. */
export const domain = (name: string, parts: string, devices = ''): string => `<domain type='kvm'>
  <name>dfhv-memory-${name}</name>
  ${parts}
  <vcpu>2</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>${devices}</devices>
</domain>`;

/** NUMA cells of these sizes; one cell holds both vCPUs, two hold one each. */
export const numa = (...kib: bigint[]): string =>
  `<cpu><numa>${kib.map((k, i) => `<cell id='${i}' cpus='${kib.length === 1 ? '0-1' : i}' memory='${k}' unit='KiB'/>`).join('')}</numa></cpu>`;
export const memory = (kib: bigint): string => `<memory unit='KiB'>${kib}</memory>`;
export const maxMemory = (kib: bigint, slots = 4): string => `<maxMemory slots='${slots}' unit='KiB'>${kib}</maxMemory>`;
export const dimm = (kib: bigint, node = '<node>0</node>'): string => `<memory model='dimm'><target><size unit='KiB'>${kib}</size>${node}</target></memory>`;

/** The memory devices must leave `<memory>` some memory of its own, and NUMA cells and devices together fit in `<maxMemory>`. */
export const TOTAL_CASES: MemoryCase[] = [
  { name: 'devices-fit', xml: domain('devices-fit', maxMemory(L) + memory(L) + numa(GiB), dimm(L - GiB)), refusedBy: 'none' },
  {
    name: 'devices-one-past',
    xml: domain('devices-one-past', maxMemory(L) + memory(L) + numa(GiB), dimm(L - GiB + 1n)),
    refusedBy: 'qemu',
    libvirt: /maximum memory size must be equal or greater than the actual memory size/,
    at: '/domain/maxMemory',
    message: /^<maxMemory> 9007199254740991 KiB is smaller than 9007199254740992 KiB \(8388608 TiB\), the NUMA cells' 1048576 KiB \(1 GiB\) and the memory devices' 9007199253692416 KiB \(8589934591 GiB\) together, past 9007199254740991 KiB, libvirt's limit on a memory size: libvirt's QEMU driver takes that sum as the domain's memory, whatever <memory> says$/,
  },
  {
    name: 'devices-all-of-memory',
    xml: domain('devices-all-of-memory', maxMemory(L) + memory(L) + numa(GiB), dimm(L)),
    refusedBy: 'both',
    libvirt: /Memory size must be specified via <memory> or in the <numa> configuration/,
    at: '/domain/devices/memory/target/size',
    message: /^the memory device's size is 9007199254740991 KiB, all of <memory> \(line 3\): libvirt counts memory devices in <memory> and refuses them unless some memory is left besides them$/,
  },
  {
    name: 'devices-past-memory',
    xml: domain('devices-past-memory', maxMemory(L) + memory(L) + numa(GiB), dimm(2n ** 52n) + dimm(2n ** 52n)),
    refusedBy: 'both',
    libvirt: /Total size of memory devices exceeds the total memory size/,
    at: '/domain/devices/memory[2]/target/size',
    message: /^the memory devices add up to 9007199254740992 KiB \(8388608 TiB\) by this one, more than <memory> 9007199254740991 KiB \(line 3\)/,
  },
  // The QEMU driver sets <memory> to the cells' and devices' sum: this one it takes, the test driver does not.
  {
    name: 'device-is-memory',
    xml: domain('device-is-memory', maxMemory(8n * GiB) + memory(GiB) + numa(GiB), dimm(GiB)),
    refusedBy: 'test',
    libvirt: /Memory size must be specified via <memory> or in the <numa> configuration/,
    at: '/domain/devices/memory/target/size',
    message: /^the memory device's size is 1048576 KiB \(1 GiB\), all of <memory> \(line 3\)/,
  },
  { name: 'device-beside-memory', xml: domain('device-beside-memory', maxMemory(8n * GiB) + memory(2n * GiB) + numa(GiB), dimm(GiB)), refusedBy: 'none' },
  { name: 'sum-is-max', xml: domain('sum-is-max', maxMemory(2n * GiB) + memory(2n * GiB) + numa(GiB), dimm(GiB)), refusedBy: 'none' },
  {
    name: 'sum-past-max',
    xml: domain('sum-past-max', maxMemory(GiB) + memory(GiB) + numa(GiB), dimm(GiB / 2n)),
    refusedBy: 'qemu',
    libvirt: /maximum memory size must be equal or greater than the actual memory size/,
    at: '/domain/maxMemory',
    message: /^<maxMemory> 1048576 KiB \(1 GiB\) is smaller than 1572864 KiB \(1536 MiB\), the NUMA cells' 1048576 KiB \(1 GiB\) and the memory devices' 524288 KiB \(512 MiB\) together: libvirt's QEMU driver/,
  },
  {
    name: 'cells-past-max',
    xml: domain('cells-past-max', maxMemory(L) + memory(L) + numa(2n ** 52n, 2n ** 52n)),
    refusedBy: 'qemu',
    libvirt: /maximum memory size must be equal or greater than the actual memory size/,
    at: '/domain/maxMemory',
    message: /^<maxMemory> 9007199254740991 KiB is smaller than 9007199254740992 KiB \(8388608 TiB\), the NUMA cells' total, past 9007199254740991 KiB, libvirt's limit on a memory size: libvirt's QEMU driver/,
  },
  { name: 'cells-at-max', xml: domain('cells-at-max', maxMemory(L) + memory(L) + numa(2n ** 52n, 2n ** 52n - 1n)), refusedBy: 'none' },
];
