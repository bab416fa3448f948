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
  // Without <memory>, libvirt takes the NUMA cells' total as the domain's memory.
  { name: 'memory-from-cells', xml: domain('memory-from-cells', numa(GiB, GiB)), refusedBy: 'none' },
  // A <currentMemory> of 0 is none to libvirt: it takes <memory>.
  { name: 'current-memory-0', xml: domain('current-memory-0', memory(GiB) + `<currentMemory unit='MiB'>0</currentMemory>`), refusedBy: 'none' },
  // A <memory> of 0 is none to libvirt: it takes the cells' total there too.
  { name: 'memory-0-from-cells', xml: domain('memory-0-from-cells', `<memory unit='MiB'>0</memory>` + numa(GiB, GiB)), refusedBy: 'none' },
  {
    name: 'memory-0-cells-past-max',
    xml: domain('memory-0-cells-past-max', maxMemory(2n * GiB) + memory(0n) + numa(GiB, GiB), dimm(GiB)),
    refusedBy: 'both',
    libvirt: /maximum memory size must be equal or greater than the actual memory size/,
    at: '/domain/maxMemory',
    message: /^<maxMemory> 2097152 KiB \(2 GiB\) is smaller than 3145728 KiB \(3 GiB\), the NUMA cells' 2097152 KiB \(2 GiB\) and the memory devices' 1048576 KiB \(1 GiB\) together: libvirt takes that sum as the domain's memory$/,
  },
  {
    name: 'no-memory-no-cells',
    xml: domain('no-memory-no-cells', ''),
    refusedBy: 'both',
    libvirt: /Memory size must be specified via <memory> or in the <numa> configuration/,
    at: '/domain',
    message: /^the domain has no <memory> and no NUMA cells to take it from; libvirt needs the memory size$/,
  },
];

/** A virtio-mem device of `size`, `block` and `requested` (each a KiB count, or a size and its unit; none for absent) in a domain with room for it. */
const virtioMem = (name: string, size: string, block?: string, requested?: string): string => {
  const el = (tag: string, v?: string) => (v === undefined ? '' : `<${tag} unit='${v.split(' ')[1] ?? 'KiB'}'>${v.split(' ')[0]}</${tag}>`);
  return domain(name, maxMemory(8n * GiB, 2) + memory(2n * GiB) + numa(GiB), `<memory model='virtio-mem'><target>${el('size', size)}<node>0</node>${el('block', block)}${el('requested', requested)}</target></memory>`);
};

/** A virtio-mem device's block and requested sizes. */
export const VIRTIO_MEM_CASES: MemoryCase[] = [
  { name: 'vmem-ok', xml: virtioMem('vmem-ok', '1048576', '2048', '524288'), refusedBy: 'none' },
  { name: 'vmem-requested-all', xml: virtioMem('vmem-requested-all', '1048576', '2048', '1048576'), refusedBy: 'none' },
  { name: 'vmem-no-requested', xml: virtioMem('vmem-no-requested', '1048576', '2048'), refusedBy: 'none' },
  { name: 'vmem-block-1g', xml: virtioMem('vmem-block-1g', '1048576', '1048576', '0'), refusedBy: 'none' },
  // libvirt rounds <size> up to a whole number of blocks when the domain starts: taken.
  { name: 'vmem-size-not-multiple', xml: virtioMem('vmem-size-not-multiple', '1049600', '2048', '0'), refusedBy: 'none' },
  {
    name: 'vmem-requested-not-multiple',
    xml: virtioMem('vmem-requested-not-multiple', '1048576', '2048', '1024'),
    refusedBy: 'both',
    libvirt: /requested size must be an integer multiple of block size/,
    at: '/domain/devices/memory/target/requested',
    message: /^virtio-mem <requested> 1024 KiB \(1 MiB\) is not a whole number of blocks of 2048 KiB \(2 MiB\), which libvirt refuses$/,
  },
  {
    name: 'vmem-requested-rounded-up',
    xml: virtioMem('vmem-requested-rounded-up', '1048576', '2 MiB', '2097153 b'),
    refusedBy: 'both',
    libvirt: /requested size must be an integer multiple of block size/,
    at: '/domain/devices/memory/target/requested',
    message: /^virtio-mem <requested> 2049 KiB is not a whole number of blocks of 2048 KiB \(2 MiB\)/,
  },
  {
    name: 'vmem-requested-past-size',
    xml: virtioMem('vmem-requested-past-size', '1048576', '2048', '2097152'),
    refusedBy: 'both',
    libvirt: /requested size must be smaller than or equal to @size \(1048576KiB\)/,
    at: '/domain/devices/memory/target/requested',
    message: /^virtio-mem <requested> 2097152 KiB \(2 GiB\) is larger than the device's <size> 1048576 KiB \(1 GiB\), which libvirt refuses$/,
  },
  {
    name: 'vmem-block-not-power-of-two',
    xml: virtioMem('vmem-block-not-power-of-two', '1050624', '3072', '0'),
    refusedBy: 'both',
    libvirt: /block size must be a power of two/,
    at: '/domain/devices/memory/target/block',
    message: /^virtio-mem <block> 3072 KiB \(3 MiB\) is not a power of two, which libvirt refuses$/,
  },
  {
    name: 'vmem-block-small',
    xml: virtioMem('vmem-block-small', '1048576', '1024', '0'),
    refusedBy: 'both',
    libvirt: /block size too small, must be at least 2048KiB/,
    at: '/domain/devices/memory/target/block',
    message: /^virtio-mem <block> 1024 KiB \(1 MiB\) is smaller than 2048 KiB \(2 MiB\), the host's transparent hugepage size on x86_64/,
  },
  {
    name: 'vmem-no-block',
    xml: virtioMem('vmem-no-block', '1048576', undefined, '0'),
    refusedBy: 'both',
    libvirt: /block size must be a power of two/,
    at: '/domain/devices/memory/target',
    message: /^a virtio-mem device needs a <block> size/,
  },
];

const hugepages = (nodeset: string): string => `<memoryBacking><hugepages><page size='2048' unit='KiB' nodeset='${nodeset}'/></hugepages></memoryBacking>`;
const pmem = (node = ''): string => `<memory model='virtio-pmem' access='shared'><source><path>/var/lib/domforge/pmem</path></source><target><size unit='MiB'>128</size>${node}</target></memory>`;
const withDevice = (name: string, cells: string, device: string): string => domain(name, maxMemory(8n * GiB, 2) + memory(2n * GiB) + cells, device);

/** What names a NUMA cell: a memory device's <target><node>, a hugepage nodeset. */
export const NODE_CASES: MemoryCase[] = [
  { name: 'node-1-of-2', xml: withDevice('node-1-of-2', numa(GiB / 2n, GiB / 2n), dimm(GiB / 2n, '<node>1</node>')), refusedBy: 'none' },
  {
    name: 'node-2-of-2',
    xml: withDevice('node-2-of-2', numa(GiB / 2n, GiB / 2n), dimm(GiB / 2n, '<node>2</node>')),
    refusedBy: 'both',
    libvirt: /can't add memory backend for guest node '2' as the guest has only '2' NUMA nodes configured/,
    at: '/domain/devices/memory/target/node',
    message: /^memory device <target><node> 2 names a NUMA cell the domain does not have: the domain's NUMA cells are 0 to 1$/,
  },
  {
    name: 'node-without-numa',
    xml: withDevice('node-without-numa', '', dimm(GiB / 2n)),
    refusedBy: 'both',
    libvirt: /can't add memory backend as guest has no NUMA nodes configured/,
    at: '/domain/devices/memory/target/node',
    message: /^memory device <target><node> 0 names a NUMA cell the domain does not have: the domain has no NUMA cells \(<cpu><numa><cell>\)$/,
  },
  { name: 'pmem', xml: withDevice('pmem', numa(GiB), pmem()), refusedBy: 'none' },
  {
    name: 'pmem-node',
    xml: withDevice('pmem-node', numa(GiB), pmem('<node>0</node>')),
    refusedBy: 'both',
    libvirt: /virtio-pmem does not support NUMA nodes/,
    at: '/domain/devices/memory/target/node',
    message: /^a virtio-pmem device takes no NUMA node/,
  },
  { name: 'hugepages-1-of-2', xml: domain('hugepages-1-of-2', memory(GiB) + hugepages('1') + numa(GiB / 2n, GiB / 2n)), refusedBy: 'none' },
  {
    name: 'hugepages-2-of-2',
    xml: domain('hugepages-2-of-2', memory(GiB) + hugepages('0,2') + numa(GiB / 2n, GiB / 2n)),
    refusedBy: 'both',
    libvirt: /hugepages: node 2 not found/,
    at: '/domain/memoryBacking/hugepages/page/@nodeset',
    message: /^hugepage nodeset "0,2" names NUMA cell 2, which the domain does not have: the domain's NUMA cells are 0 to 1$/,
  },
  {
    name: 'hugepages-1-of-1',
    xml: domain('hugepages-1-of-1', memory(GiB) + hugepages('1') + numa(GiB)),
    refusedBy: 'both',
    libvirt: /hugepages: node 1 not found/,
    at: '/domain/memoryBacking/hugepages/page/@nodeset',
    message: /names NUMA cell 1, which the domain does not have: the domain's NUMA cells are 0$/,
  },
  { name: 'hugepages-0-without-numa', xml: domain('hugepages-0-without-numa', memory(GiB) + hugepages('0')), refusedBy: 'none' },
  {
    name: 'hugepages-0-1-without-numa',
    xml: domain('hugepages-0-1-without-numa', memory(GiB) + hugepages('0-1')),
    refusedBy: 'both',
    libvirt: /hugepages: node 0 not found/,
    at: '/domain/memoryBacking/hugepages/page/@nodeset',
    message: /^hugepage nodeset "0-1" names NUMA cell 0, which the domain does not have: the domain has no NUMA cells \(<cpu><numa><cell>\) \(libvirt drops a nodeset of node 0 alone\)$/,
  },
];

const vmem = (node = '<node>0</node>'): string =>
  `<memory model='virtio-mem'><target><size unit='MiB'>512</size>${node}<block unit='MiB'>2</block><requested unit='MiB'>0</requested></target></memory>`;
const nvdimm = (node = '<node>0</node>'): string =>
  `<memory model='nvdimm'><source><path>/var/lib/domforge/nvdimm</path></source><target><size unit='MiB'>128</size>${node}</target></memory>`;
const hotplug = (name: string, max: string, cells: string, devices: string): string => domain(name, max + memory(3n * GiB) + cells, devices);
const MAX = maxMemory(8n * GiB, 2);

/** Memory hotplug: <maxMemory> and its slots, NUMA cells, and a device's <node>. */
export const HOTPLUG_CASES: MemoryCase[] = [
  { name: 'slots-full', xml: hotplug('slots-full', MAX, numa(GiB), dimm(GiB / 2n) + dimm(GiB / 2n)), refusedBy: 'none' },
  { name: 'nvdimm', xml: hotplug('nvdimm', MAX, numa(GiB), nvdimm()), refusedBy: 'none' },
  { name: 'max-without-devices', xml: hotplug('max-without-devices', MAX, numa(GiB), ''), refusedBy: 'none' },
  {
    name: 'slots-0',
    xml: hotplug('slots-0', maxMemory(8n * GiB, 0), numa(GiB), ''),
    refusedBy: 'both',
    libvirt: /both maximum memory size and memory slot count must be specified/,
    at: '/domain/maxMemory/@slots',
    message: /^<maxMemory> needs a slot count of at least 1 \(slots="N"\): libvirt refuses a maximum memory size without memory slots$/,
  },
  // libvirt reads a <maxMemory> of 0 as none: no hotplug, and slots without it refused.
  { name: 'max-0-slots-0', xml: hotplug('max-0-slots-0', maxMemory(0n, 0), numa(GiB), ''), refusedBy: 'none' },
  {
    name: 'max-0-slots-2',
    xml: hotplug('max-0-slots-2', maxMemory(0n, 2), numa(GiB), ''),
    refusedBy: 'both',
    libvirt: /both maximum memory size and memory slot count must be specified/,
    at: '/domain/maxMemory',
    message: /^<maxMemory> of 0 with slots="2": libvirt reads a maximum memory size of 0 as none, and refuses memory slots without one$/,
  },
  {
    name: 'slots-past',
    xml: hotplug('slots-past', MAX, numa(GiB), dimm(GiB / 2n) + dimm(GiB / 2n) + dimm(GiB / 2n)),
    refusedBy: 'qemu',
    libvirt: /failed to find an empty memory slot/,
    at: '/domain/devices/memory[3]',
    message: /^memory device 3 of 3, past <maxMemory slots="2">: libvirt's QEMU driver gives each memory device a slot$/,
  },
  {
    name: 'slots-past-mixed',
    xml: hotplug('slots-past-mixed', MAX, numa(GiB), dimm(GiB / 2n) + vmem() + nvdimm()),
    refusedBy: 'qemu',
    libvirt: /memory device count '3' exceeds slots count '2'|failed to find an empty memory slot/,
    at: '/domain/devices/memory[3]',
    message: /^memory device 3 of 3, past <maxMemory slots="2">/,
  },
  {
    name: 'device-without-max',
    xml: hotplug('device-without-max', '', numa(GiB), dimm(GiB / 2n)),
    refusedBy: 'qemu',
    libvirt: /cannot use\/hotplug a memory device when domain 'maxMemory' is not defined/,
    at: '/domain/devices/memory',
    message: /^a memory device needs <maxMemory> \(with slots\) on kvm: libvirt's QEMU driver refuses memory devices in a domain without one$/,
  },
  {
    name: 'max-without-numa',
    xml: hotplug('max-without-numa', MAX, '', ''),
    refusedBy: 'qemu',
    libvirt: /At least one numa node has to be configured when enabling memory hotplug/,
    at: '/domain/maxMemory',
    message: /^<maxMemory> enables memory hotplug, for which libvirt's QEMU driver needs at least one NUMA cell \(<cpu><numa><cell>\)$/,
  },
  {
    name: 'dimm-without-node',
    xml: hotplug('dimm-without-node', MAX, numa(GiB), dimm(GiB / 2n, '')),
    refusedBy: 'qemu',
    libvirt: /target NUMA node needs to be specified for memory device/,
    at: '/domain/devices/memory/target',
    message: /^a dimm device needs a <node> in its <target> on kvm: libvirt's QEMU driver refuses one without a NUMA cell to plug it into$/,
  },
  {
    name: 'virtio-mem-without-node',
    xml: hotplug('virtio-mem-without-node', MAX, numa(GiB), vmem('')),
    refusedBy: 'qemu',
    libvirt: /target NUMA node needs to be specified for memory device/,
    at: '/domain/devices/memory/target',
    message: /^a virtio-mem device needs a <node>/,
  },
  {
    name: 'nvdimm-without-node',
    xml: hotplug('nvdimm-without-node', MAX, numa(GiB), nvdimm('')),
    refusedBy: 'qemu',
    libvirt: /target NUMA node needs to be specified for memory device/,
    at: '/domain/devices/memory/target',
    message: /^a nvdimm device needs a <node>/,
  },
];
