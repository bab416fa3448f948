/**
 * Memory devices (`<devices><memory model>`), NUMA cells (`<cpu><numa><cell memory>`) and
 * `<maxMemory>`: how libvirt adds them up, and what it refuses of them when it defines the
 * domain (libvirt 9.0: virDomainDefPostParseMemory, virDomainMemoryDefValidate; each rule
 * was tried with `virsh define` on test:///default and, for the QEMU driver's, on
 * qemu:///system).
 *
 * libvirt's QEMU driver defines a domain with its ABI updated: with NUMA cells, it takes
 * the domain's memory as the cells' and the memory devices' sum and writes that as
 * `<memory>`, whatever `<memory>` said. Other drivers (the test driver among them) keep
 * `<memory>` and count the devices in it. domforge holds a KVM or QEMU domain to both
 * readings, so what it passes defines on test:///default and on qemu:///system alike.
 */
import { childElements, firstChild, lineOf, type Element } from '../xml/parse.js';
import { Findings, attr } from './findings.js';
import { formatKiB, toMemoryKiB } from './scaled-integer.js';
import { MAX_MEMORY_KIB, QEMU_DRIVER_TYPES, nodesetNodes } from '../instance/libvirt-rules.js';

/** The domain's NUMA cells (`<cpu><numa><cell>`), in order: libvirt numbers them from 0. */
export function numaCellsOf(root: Element): Element[] {
  const numa = firstChild(firstChild(root, 'cpu') ?? root, 'numa');
  return numa && numa.parentNode !== root ? childElements(numa, 'cell') : [];
}

/** The domain's memory devices (`<devices><memory>`), in order. */
export function memoryDevicesOf(root: Element): Element[] {
  return childElements(root, 'devices').flatMap((d) => childElements(d, 'memory'));
}

/** The `<page>` elements of `<memoryBacking><hugepages>`. */
export function hugepagePagesOf(root: Element): Element[] {
  const hugepages = firstChild(firstChild(root, 'memoryBacking') ?? root, 'hugepages');
  return hugepages && hugepages.parentNode !== root ? childElements(hugepages, 'page') : [];
}

/** The element at `path` below `el` (`['target', 'size']`), if there is one. */
export function descendant(el: Element, path: readonly string[]): Element | undefined {
  return path.reduce<Element | undefined>((at, name) => at && firstChild(at, name), el);
}

/** An element's memory size in KiB (its text in its `unit`), or undefined when absent or not a size libvirt takes (reported where it is read). */
export function kibOf(el: Element | undefined): bigint | undefined {
  if (!el) return undefined;
  const r = toMemoryKiB(el.textContent ?? '', el.getAttribute('unit'));
  return r.ok ? r.kib : undefined;
}

/** A NUMA cell's `memory` in KiB, or undefined as for {@link kibOf}. */
export function cellKiB(cell: Element): bigint | undefined {
  const memory = cell.getAttribute('memory');
  if (memory === null) return undefined;
  const r = toMemoryKiB(memory, cell.getAttribute('unit'));
  return r.ok ? r.kib : undefined;
}

const sum = (sizes: bigint[]): bigint => sizes.reduce((a, b) => a + b, 0n);
const pastLimit = (kib: bigint): string => (kib > MAX_MEMORY_KIB ? `, past ${MAX_MEMORY_KIB} KiB, libvirt's limit on a memory size` : '');

/**
 * The memory devices must fit in the domain's memory:
 * - libvirt counts them in `<memory>`, whose part left over is the guest's initial memory: a
 *   total of devices past `<memory>` is refused ("Total size of memory devices exceeds the
 *   total memory size"), and one equal to it leaves no initial memory ("Memory size must be
 *   specified via <memory> or in the <numa> configuration"). Placed at the `<target><size>` of
 *   the device that reaches `<memory>`.
 * - where the domain's memory is its NUMA cells and devices together (no `<memory>`, or a
 *   KVM or QEMU domain, whose driver takes it so), `<maxMemory>` must hold that sum ("maximum
 *   memory size must be equal or greater than the actual memory size"): as `<maxMemory>` is
 *   within libvirt's limit, a sum past the limit is refused with it. Placed at `<maxMemory>`.
 * Sizes that are missing or not taken are reported where they are read, and leave the totals
 * unchecked.
 */
export function checkMemoryTotals(root: Element, f: Findings, domainType?: string): void {
  const devices = memoryDevicesOf(root);
  const sizes = devices.map((d) => kibOf(descendant(d, ['target', 'size'])));
  if (sizes.some((s) => s === undefined)) return;
  const deviceKiB = sizes as bigint[];
  // A <memory> of 0 is none to libvirt (virDomainDefPostParseMemory), which then takes the NUMA cells' total.
  const given = firstChild(root, 'memory');
  const memoryEl = kibOf(given) === 0n ? undefined : given;
  const memory = kibOf(memoryEl);
  if (memory !== undefined) {
    let total = 0n;
    for (const [i, device] of devices.entries()) {
      total += deviceKiB[i]!;
      if (total < memory) continue;
      const what = devices.length > 1 ? `the memory devices add up to ${formatKiB(total)} by this one` : `the memory device's size is ${formatKiB(total)}`;
      const how = total > memory ? `more than <memory> ${formatKiB(memory)} (line ${lineOf(memoryEl) ?? '?'})` : `all of <memory> (line ${lineOf(memoryEl) ?? '?'})`;
      f.error(descendant(device, ['target', 'size'])!, `${what}, ${how}: libvirt counts memory devices in <memory> and refuses them unless some memory is left besides them`);
      break;
    }
  }
  const cells = numaCellsOf(root);
  const cellSizes = cells.map(cellKiB);
  const maxEl = firstChild(root, 'maxMemory');
  const max = kibOf(maxEl) || undefined; // 0 is none to libvirt
  if (cells.length === 0 || cellSizes.some((s) => s === undefined) || max === undefined) return;
  const qemu = domainType !== undefined && QEMU_DRIVER_TYPES.includes(domainType);
  if (memoryEl && !qemu) return; // libvirt keeps <memory>, which checkMemory holds to <maxMemory>
  if (memory !== undefined && max < memory) return; // already said by checkMemory
  const cellTotal = sum(cellSizes as bigint[]);
  const total = cellTotal + sum(deviceKiB);
  if (total <= max) return;
  const parts = devices.length ? `the NUMA cells' ${formatKiB(cellTotal)} and the memory devices' ${formatKiB(sum(deviceKiB))} together` : `the NUMA cells' total`;
  const who = memoryEl ? "libvirt's QEMU driver takes that sum as the domain's memory, whatever <memory> says" : 'libvirt takes that sum as the domain\'s memory';
  f.error(maxEl!, `<maxMemory> ${formatKiB(max)} is smaller than ${formatKiB(total)}, ${parts}${pastLimit(total)}: ${who}`);
}

/**
 * The smallest virtio-mem block libvirt takes, in KiB: the host's transparent hugepage size,
 * which it reads from the host (falling back to 2 MiB); 2 MiB on x86_64, the hosts domforge
 * checks for.
 */
export const VIRTIO_MEM_MIN_BLOCK_KIB = 2048n;

/**
 * A virtio-mem device's `<target>` (virDomainMemoryDefValidate): `<requested>` no larger than
 * `<size>`; a `<block>` given (libvirt reads none as 0, "not a power of two"), a power of two
 * of at least {@link VIRTIO_MEM_MIN_BLOCK_KIB}; `<requested>` a whole number of blocks. Each
 * size in KiB, rounded up as libvirt reads it. A `<size>` that is not a whole number of blocks
 * is taken: libvirt rounds it up to one when the domain starts.
 */
export function checkVirtioMem(root: Element, f: Findings): void {
  for (const device of memoryDevicesOf(root).filter((d) => d.getAttribute('model') === 'virtio-mem')) {
    const target = firstChild(device, 'target');
    if (!target) continue; // the schema requires it
    const [sizeEl, blockEl, requestedEl] = ['size', 'block', 'requested'].map((name) => firstChild(target, name));
    const size = kibOf(sizeEl);
    const requested = kibOf(requestedEl);
    if (requested !== undefined && size !== undefined && requested > size)
      f.error(requestedEl!, `virtio-mem <requested> ${formatKiB(requested)} is larger than the device's <size> ${formatKiB(size)}, which libvirt refuses`);
    if (!blockEl) {
      f.error(target, 'a virtio-mem device needs a <block> size: libvirt reads none as 0 and refuses it as not a power of two');
      continue;
    }
    const block = kibOf(blockEl);
    if (block === undefined) continue;
    if (block === 0n || (block & (block - 1n)) !== 0n) {
      f.error(blockEl, `virtio-mem <block> ${formatKiB(block)} is not a power of two, which libvirt refuses`);
      continue;
    }
    if (block < VIRTIO_MEM_MIN_BLOCK_KIB) {
      f.error(blockEl, `virtio-mem <block> ${formatKiB(block)} is smaller than ${formatKiB(VIRTIO_MEM_MIN_BLOCK_KIB)}, the host's transparent hugepage size on x86_64, below which libvirt refuses it`);
      continue;
    }
    if (requested !== undefined && requested % block !== 0n)
      f.error(requestedEl!, `virtio-mem <requested> ${formatKiB(requested)} is not a whole number of blocks of ${formatKiB(block)}, which libvirt refuses`);
  }
}

/**
 * What names a NUMA cell must name one the domain has, libvirt numbering its cells from 0: a
 * memory device's `<target><node>` (virDomainMemoryDefValidate: "can't add memory backend for
 * guest node '2' as the guest has only '2' NUMA nodes configured", or "… as guest has no NUMA
 * nodes configured"), which a virtio-pmem device may not have at all ("virtio-pmem does not
 * support NUMA nodes"); the nodes of a hugepage `<page nodeset>` (virDomainDefMemtuneValidate:
 * "hugepages: node 2 not found"), of which, with no NUMA cells, libvirt drops a nodeset of node
 * 0 alone and refuses any other. A nodeset libvirt cannot read is left to the schema.
 */
export function checkNumaNodes(root: Element, f: Findings): void {
  const cells = numaCellsOf(root).length;
  const has = cells === 0 ? 'the domain has no NUMA cells (<cpu><numa><cell>)' : `the domain's NUMA cells are ${cells === 1 ? '0' : `0 to ${cells - 1}`}`;
  for (const device of memoryDevicesOf(root)) {
    const node = descendant(device, ['target', 'node']);
    if (!node) continue;
    if (device.getAttribute('model') === 'virtio-pmem') {
      f.error(node, 'a virtio-pmem device takes no NUMA node: libvirt refuses a <target><node> on one');
      continue;
    }
    const text = (node.textContent ?? '').trim();
    if (/^\d+$/.test(text) && Number(text) >= cells) f.error(node, `memory device <target><node> ${text} names a NUMA cell the domain does not have: ${has}`);
  }
  for (const page of hugepagePagesOf(root)) {
    const nodeset = page.getAttribute('nodeset');
    const nodes = nodeset === null ? undefined : nodesetNodes(nodeset);
    if (!nodes || (cells === 0 && nodes.length === 1 && nodes[0] === 0)) continue;
    const missing = nodes.find((n) => n >= cells);
    if (missing !== undefined)
      f.error(attr(page, 'nodeset'), `hugepage nodeset "${nodeset}" names NUMA cell ${missing}, which the domain does not have: ${has}${cells === 0 ? ' (libvirt drops a nodeset of node 0 alone)' : ''}`);
  }
}

/** The memory device models libvirt's QEMU driver plugs into a NUMA cell, and refuses without a `<target><node>`. */
const NODE_MODELS = ['dimm', 'nvdimm', 'virtio-mem'];

/**
 * Memory hotplug: `<maxMemory>` with a slot count of at least 1, as libvirt requires of every
 * domain ("both maximum memory size and memory slot count must be specified"); and on `kvm` and
 * `qemu`, what libvirt's QEMU driver refuses at define: a memory device without `<maxMemory>`
 * ("cannot use/hotplug a memory device when domain 'maxMemory' is not defined"), `<maxMemory>`
 * without a NUMA cell ("At least one numa node has to be configured when enabling memory
 * hotplug"), more memory devices than slots ("memory device count '3' exceeds slots count '2'";
 * for dimms "failed to find an empty memory slot"), and a dimm, nvdimm or virtio-mem device
 * without a `<target><node>` ("target NUMA node needs to be specified for memory device").
 */
export function checkMemoryHotplug(root: Element, f: Findings, domainType?: string): void {
  const given = firstChild(root, 'maxMemory');
  const slots = given?.getAttribute('slots');
  const noSlots = slots === null || slots === undefined || /^\+?0*$/.test(slots.trim());
  // libvirt reads a <maxMemory> of 0 as none: no hotplug, unless it has slots, which it refuses.
  const maxEl = kibOf(given) === 0n ? undefined : given;
  if (given && !maxEl && !noSlots)
    f.error(given, `<maxMemory> of 0 with slots="${slots}": libvirt reads a maximum memory size of 0 as none, and refuses memory slots without one`);
  if (maxEl && noSlots)
    f.error(slots ? attr(maxEl, 'slots') : maxEl, `<maxMemory> needs a slot count of at least 1 (slots="N"): libvirt refuses a maximum memory size without memory slots`);
  if (domainType === undefined || !QEMU_DRIVER_TYPES.includes(domainType)) return;
  const devices = memoryDevicesOf(root);
  if (devices.length > 0 && !maxEl)
    f.error(devices[0]!, `a memory device needs <maxMemory> (with slots) on ${domainType}: libvirt's QEMU driver refuses memory devices in a domain without one`);
  if (maxEl && numaCellsOf(root).length === 0)
    f.error(maxEl, `<maxMemory> enables memory hotplug, for which libvirt's QEMU driver needs at least one NUMA cell (<cpu><numa><cell>)`);
  const count = maxEl && slots && /^\+?\d+$/.test(slots.trim()) ? Number(slots) : undefined;
  if (count !== undefined && count > 0 && devices.length > count)
    f.error(devices[count]!, `memory device ${count + 1} of ${devices.length}, past <maxMemory slots="${slots}">: libvirt's QEMU driver gives each memory device a slot`);
  for (const device of devices) {
    const target = firstChild(device, 'target');
    if (target && NODE_MODELS.includes(device.getAttribute('model') ?? '') && !firstChild(target, 'node'))
      f.error(target, `a ${device.getAttribute('model')} device needs a <node> in its <target> on ${domainType}: libvirt's QEMU driver refuses one without a NUMA cell to plug it into`);
  }
}
