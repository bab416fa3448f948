/**
 * domforge's own checks on a parsed domain — what libvirt's schema cannot say but
 * libvirt or QEMU would refuse at define or start time, or what is very likely a
 * mistake. Pure: the only I/O (`checkPaths`) goes through an injectable `exists`.
 *
 * Each check cites the libvirt behaviour it mirrors. Errors stop the document;
 * warnings are returned to the caller.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import { childElements, firstChild, lineOf, type Document, type Element } from '../xml/parse.js';
import { Findings, attr } from './findings.js';
import { checkDisks, checkInterfaces, machineOf } from './device-checks.js';
import { toMemoryKiB, formatKiB } from './scaled-integer.js';
import { checkMemoryHotplug, checkMemoryTotals, checkNumaNodes, checkVirtioMem, descendant, hugepagePagesOf, memoryDevicesOf, numaCellsOf } from './memory-devices.js';

export interface SemanticOptions {
  /** File name for messages. */
  file?: string;
  /**
   * Check that files the domain refers to exist: disk `<source file|dev>`, `<kernel>`,
   * `<initrd>`, `<loader>`, and the folder of serial/console `<source path>` and `<log file>`.
   * Default: false (the document may be rendered on another host).
   */
  checkPaths?: boolean;
  /** How `checkPaths` asks whether a path exists. Default: `fs.existsSync`. */
  exists?: (path: string) => boolean;
}

/** Runs every check on a `<domain>` document. */
export function checkDomainSemantics(doc: Document, o: SemanticOptions = {}): Findings {
  const f = new Findings(o.file);
  const root = doc.documentElement!;
  if (root.nodeName !== 'domain') return f; // the schema reports it
  checkMemory(root, f);
  checkVcpus(root, f);
  checkHugepages(root, f);
  checkOtherMemorySizes(root, f);
  checkMemoryTotals(root, f, root.getAttribute('type') ?? undefined);
  checkVirtioMem(root, f);
  checkNumaNodes(root, f);
  checkMemoryHotplug(root, f, root.getAttribute('type') ?? undefined);
  const devices = childElements(root, 'devices').flatMap((d) => childElements(d));
  checkDisks(devices, machineOf(root), f, root.getAttribute('type') ?? undefined);
  checkInterfaces(devices.filter((d) => d.nodeName === 'interface'), f);
  checkAliases(devices, f);
  if (o.checkPaths) checkPaths(root, f, o.exists ?? existsSync);
  return f;
}

/**
 * `<memory>` positive (or 0 or absent beside NUMA cells, whose total libvirt then takes);
 * `<currentMemory>` ≤ `<memory>` ≤ `<maxMemory>`, where a `<currentMemory>` or `<maxMemory>`
 * of 0 is none; none past libvirt's limit, MAX_MEMORY_KIB of instance/libvirt-rules.ts
 * (libvirt refuses otherwise).
 */
export function checkMemory(root: Element, f: Findings): void {
  const cells = numaCellsOf(root).length;
  const read = (name: string): bigint | undefined => {
    const el = firstChild(root, name);
    if (!el) return undefined;
    const r = toMemoryKiB(el.textContent ?? '', el.getAttribute('unit'));
    if (!r.ok) {
      f.error(r.reason.startsWith('unit') ? attr(el, 'unit') : el, `<${name}>: ${r.reason}`);
      return undefined;
    }
    // libvirt reads a size of 0 as none given (virDomainDefPostParseMemory): a <memory> of 0
    // beside NUMA cells is their total, a <currentMemory> of 0 is <memory>, and a <maxMemory>
    // of 0 is no memory hotplug (checkMemoryHotplug refuses its slots).
    if (r.kib === 0n && ((name === 'memory' && cells > 0) || name === 'currentMemory' || name === 'maxMemory')) return undefined;
    if (r.kib === 0n) {
      f.error(el, `<${name}> must be positive, got ${(el.textContent ?? '').trim()} ${el.getAttribute('unit') ?? 'KiB'}`);
      return undefined;
    }
    return r.kib;
  };
  const memory = read('memory');
  const current = read('currentMemory');
  const max = read('maxMemory');
  // Without <memory> (or with 0), libvirt takes the NUMA cells' total (virDomainDefPostParseMemory).
  if (!firstChild(root, 'memory') && cells === 0) f.error(root, 'the domain has no <memory> and no NUMA cells to take it from; libvirt needs the memory size');
  if (memory !== undefined && current !== undefined && current > memory)
    f.error(firstChild(root, 'currentMemory')!, `<currentMemory> ${formatKiB(current)} is larger than <memory> ${formatKiB(memory)}`);
  if (memory !== undefined && max !== undefined && max < memory)
    f.error(firstChild(root, 'maxMemory')!, `<maxMemory> ${formatKiB(max)} is smaller than <memory> ${formatKiB(memory)}`);
}

/** `<vcpu>` ≥ 1, `current` between 1 and it; a `<cpu><topology>` must multiply out to it. */
export function checkVcpus(root: Element, f: Findings): void {
  const vcpu = firstChild(root, 'vcpu');
  if (!vcpu) return; // libvirt defaults to 1
  const text = (vcpu.textContent ?? '').trim();
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    f.error(vcpu, `<vcpu> must be a whole number of at least 1, got "${text}"`);
    return;
  }
  const n = Number(text);
  const current = vcpu.getAttribute('current');
  if (current !== null && (!/^\d+$/.test(current) || Number(current) < 1 || Number(current) > n))
    f.error(attr(vcpu, 'current'), `<vcpu current="${current}"> must be between 1 and the vcpu count ${n}`);
  const topo = firstChild(firstChild(root, 'cpu') ?? root, 'topology');
  if (topo && topo.parentNode !== root) {
    const parts = ['sockets', 'dies', 'clusters', 'cores', 'threads'].map((a) => Number(topo.getAttribute(a) ?? '1'));
    const product = parts.reduce((a, b) => a * b, 1);
    if (Number.isInteger(product) && product !== n)
      f.error(topo, `<cpu><topology> gives ${product} vCPUs (sockets × dies × clusters × cores × threads) but <vcpu> is ${n}; libvirt refuses the mismatch`);
  }
}

/** Page sizes the kernel offers on the architectures libvirt runs on, in KiB. */
const KNOWN_PAGE_KIB = new Set([4, 16, 64, 1024, 2048, 16384, 32768, 524288, 1048576, 16777216]);

/**
 * `<memoryBacking><hugepages><page size unit>`: a power of two of at least 4 KiB
 * (error otherwise); a size no common architecture has, or memory that is not a
 * multiple of it, is a warning (QEMU needs the backing to be page aligned).
 */
export function checkHugepages(root: Element, f: Findings): void {
  const memEl = firstChild(root, 'memory');
  const mem = memEl ? toMemoryKiB(memEl.textContent ?? '', memEl.getAttribute('unit')) : undefined;
  for (const page of hugepagePagesOf(root)) {
    const size = page.getAttribute('size');
    if (size === null) continue; // the schema requires it
    const r = toMemoryKiB(size, page.getAttribute('unit'));
    if (!r.ok) {
      f.error(attr(page, r.reason.startsWith('unit') ? 'unit' : 'size'), `hugepage size: ${r.reason}`);
      continue;
    }
    const bytes = r.bytes;
    if (bytes < 4096n || (bytes & (bytes - 1n)) !== 0n) {
      f.error(attr(page, 'size'), `hugepage size ${size} ${page.getAttribute('unit') ?? 'KiB'} is not a power of two of at least 4 KiB`);
      continue;
    }
    if (!KNOWN_PAGE_KIB.has(Number(r.kib)))
      f.warn(attr(page, 'size'), `hugepage size ${formatKiB(r.kib)} is unusual (x86_64 has 2048 KiB and 1048576 KiB pages); check the host's /sys/kernel/mm/hugepages`);
    else if (mem?.ok && mem.kib % r.kib !== 0n)
      f.warn(memEl!, `<memory> ${formatKiB(mem.kib)} is not a multiple of the hugepage size ${formatKiB(r.kib)}`);
  }
}

/** The sizes of a memory device libvirt reads as memory sizes, by their path below `<memory>`. */
const MEMORY_DEVICE_SIZES = [['target', 'size'], ['target', 'requested'], ['target', 'block'], ['target', 'label', 'size'], ['source', 'pagesize']];

/**
 * The other memory sizes libvirt reads (virDomainParseMemory) held to its limit,
 * MAX_MEMORY_KIB of instance/libvirt-rules.ts: a NUMA cell's `memory` (`<cpu><numa><cell memory unit>`), and a
 * memory device's `<target>` `<size>`, `<requested>`, `<block>` and `<label><size>` and its
 * `<source><pagesize>`. How they add up is checked in memory-devices.ts.
 */
export function checkOtherMemorySizes(root: Element, f: Findings): void {
  for (const cell of numaCellsOf(root)) {
    const memory = cell.getAttribute('memory');
    if (memory === null) continue; // the schema requires it
    const r = toMemoryKiB(memory, cell.getAttribute('unit'));
    if (!r.ok) f.error(attr(cell, r.reason.startsWith('unit') ? 'unit' : 'memory'), `NUMA cell memory: ${r.reason}`);
  }
  for (const device of memoryDevicesOf(root)) {
    for (const path of MEMORY_DEVICE_SIZES) {
      const el = descendant(device, path);
      if (!el) continue;
      const r = toMemoryKiB(el.textContent ?? '', el.getAttribute('unit'));
      if (!r.ok) f.error(r.reason.startsWith('unit') ? attr(el, 'unit') : el, `memory device <${path.join('><')}>: ${r.reason}`);
    }
  }
}

/**
 * `<alias name>` must be unique (libvirt refuses duplicates), and libvirt keeps a
 * user alias in a persistent definition only if it starts with `ua-`.
 */
export function checkAliases(devices: Element[], f: Findings): void {
  const seen = new Map<string, Element>();
  const visit = (el: Element): void => {
    if (el.nodeName !== 'alias') {
      for (const c of childElements(el)) visit(c);
      return;
    }
    const name = el.getAttribute('name') ?? '';
    const first = seen.get(name);
    if (first) f.error(attr(el, 'name'), `alias "${name}" is used twice (first at line ${lineOf(first) ?? '?'}); aliases must be unique`);
    else seen.set(name, el);
    if (name && !name.startsWith('ua-')) f.warn(attr(el, 'name'), `alias "${name}" does not start with "ua-"; libvirt drops such aliases when it defines the domain`);
  };
  for (const d of devices) visit(d);
}

/**
 * Files the domain points at must exist on this host; for files libvirt creates
 * (serial output, console logs) the folder must. Relative paths are a warning:
 * libvirtd resolves them against its own working directory.
 */
export function checkPaths(root: Element, f: Findings, exists: (p: string) => boolean): void {
  const must = pathChecker(f, exists);
  const os = firstChild(root, 'os');
  for (const name of ['kernel', 'initrd', 'loader', 'dtb']) {
    const el = os && firstChild(os, name);
    if (el) {
      const p = (el.textContent ?? '').trim();
      if (p && !isAbsolute(p)) f.warn(el, `<${name}> ${p} is a relative path`);
      else if (p && !exists(p)) f.error(el, `<${name}> ${p} does not exist`);
    }
  }
  for (const dev of childElements(root, 'devices').flatMap((d) => childElements(d))) {
    checkDevicePaths(dev, must);
  }
}

/** The path checks of one device (also used for hot-plug fragments). */
export function checkDevicePaths(dev: Element, must: (node: Element, name: string, path: string | null, what: 'file' | 'folder') => void): void {
  const source = firstChild(dev, 'source');
  if (dev.nodeName === 'disk' && source) {
    const type = dev.getAttribute('type') ?? 'file';
    if (type === 'file') must(source, 'file', source.getAttribute('file'), 'file');
    if (type === 'block') must(source, 'dev', source.getAttribute('dev'), 'file');
  }
  if (['serial', 'console', 'parallel', 'channel'].includes(dev.nodeName)) {
    if (source && dev.getAttribute('type') === 'file') must(source, 'path', source.getAttribute('path'), 'folder');
    const log = firstChild(dev, 'log');
    if (log) must(log, 'file', log.getAttribute('file'), 'folder');
  }
}

/** Builds the `must` callback of {@link checkDevicePaths} for a Findings and `exists`. */
export function pathChecker(f: Findings, exists: (p: string) => boolean) {
  return (node: Element, name: string, path: string | null, what: 'file' | 'folder'): void => {
    if (!path) return;
    const target = what === 'folder' ? dirname(path) : path;
    const at = attr(node, name);
    if (!isAbsolute(path)) f.warn(at, `${path} is a relative path; libvirt resolves it against libvirtd's working directory`);
    else if (!exists(target)) f.error(at, what === 'file' ? `${path} does not exist` : `the folder ${target} for ${path} does not exist`);
  };
}
