/**
 * A domain's counters, for monitoring: what a Eucalyptus NC's sensors sample (its
 * ncDescribeSensors: CPUUtilization, NetworkIn/Out, DiskReadOps...) and what Nova's
 * `get_diagnostics` reports.
 *
 * CPU time, vCPUs and memory come from virDomainGetInfo through the binding, on every URI.
 * Per-disk and per-interface counters need virDomainBlockStats / virDomainInterfaceStats, which
 * @unraid/libvirt 2.2.1 does not expose: they come from one `virsh domstats --raw --block
 * --interface DOMAIN` (libvirt's bulk stats, about 27 ms), on daemon URIs. A `test://` URI's
 * domains live inside this process, where virsh cannot reach them: there the stats have no
 * disks or interfaces, and `unavailable` says why.
 */
import { UsageError } from '../errors.js';
import type { DomainStateName } from './domain-state.js';
import { isTestDriverUri } from './uri.js';
import { runVirsh } from './virsh.js';
import { LibvirtUnavailableError } from './errors.js';

/** One disk's counters since its domain started (libvirt's `block.N.*`). */
export interface DiskStats {
  /** The target device, e.g. `vda`. */
  name: string;
  /** Its source, when libvirt says (`block.N.path`). */
  path?: string;
  readOps: number;
  readBytes: number;
  writeOps: number;
  writeBytes: number;
}

/** One interface's counters since its domain started (libvirt's `net.N.*`). */
export interface InterfaceStats {
  /** The host side of the interface, e.g. `vnet3`. */
  name: string;
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDrops: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDrops: number;
}

export interface DomainStats {
  /** When the counters were read (epoch ms). */
  takenAtMs: number;
  state: DomainStateName;
  /** CPU time used by the domain since it started, ns. */
  cpuTimeNs: number;
  vcpus: number;
  memoryKiB: number;
  maxMemoryKiB: number;
  /** Per disk; undefined where they cannot be read (see `unavailable`). */
  disks?: DiskStats[];
  /** Per interface; undefined where they cannot be read. */
  interfaces?: InterfaceStats[];
  /** Why `disks` and `interfaces` are missing. */
  unavailable?: string;
}

/** `virsh domstats --raw` output for one domain: a `Domain: 'NAME'` line, then `  key=value` lines. */
export function parseDomstats(text: string): Map<string, string> {
  return [...parseDomstatsByDomain(text).values()][0] ?? new Map();
}

/** `virsh domstats --raw` output for several domains: each one's fields, by its name. */
export function parseDomstatsByDomain(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let fields: Map<string, string> | undefined;
  for (const line of text.split('\n')) {
    const d = /^Domain: '(.*)'\s*$/.exec(line);
    if (d) out.set(d[1]!, (fields = new Map()));
    const m = /^\s+([\w.]+)=(.*)$/.exec(line);
    if (m && fields) fields.set(m[1]!, m[2]!);
  }
  return out;
}

const counter = (fields: Map<string, string>, key: string): number => {
  const v = fields.get(key);
  if (v === undefined) return 0; // libvirt leaves out a counter the hypervisor does not keep
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : 0;
};

/** The disks and interfaces of parsed `virsh domstats --raw` output, in libvirt's order. */
export function devicesOfDomstats(fields: Map<string, string>): { disks: DiskStats[]; interfaces: InterfaceStats[] } {
  const disks: DiskStats[] = [];
  for (let i = 0; i < counter(fields, 'block.count'); i++) {
    const p = `block.${i}.`;
    const name = fields.get(`${p}name`);
    if (!name) continue;
    const path = fields.get(`${p}path`);
    disks.push({
      name,
      ...(path ? { path } : {}),
      readOps: counter(fields, `${p}rd.reqs`),
      readBytes: counter(fields, `${p}rd.bytes`),
      writeOps: counter(fields, `${p}wr.reqs`),
      writeBytes: counter(fields, `${p}wr.bytes`),
    });
  }
  const interfaces: InterfaceStats[] = [];
  for (let i = 0; i < counter(fields, 'net.count'); i++) {
    const p = `net.${i}.`;
    const name = fields.get(`${p}name`);
    if (!name) continue;
    interfaces.push({
      name,
      rxBytes: counter(fields, `${p}rx.bytes`),
      rxPackets: counter(fields, `${p}rx.pkts`),
      rxErrors: counter(fields, `${p}rx.errs`),
      rxDrops: counter(fields, `${p}rx.drop`),
      txBytes: counter(fields, `${p}tx.bytes`),
      txPackets: counter(fields, `${p}tx.pkts`),
      txErrors: counter(fields, `${p}tx.errs`),
      txDrops: counter(fields, `${p}tx.drop`),
    });
  }
  return { disks, interfaces };
}

export interface DeviceStatsOptions {
  uri: string;
  /** The domain's name. */
  domain: string;
  virsh?: string;
  timeoutMs?: number;
}

type Devices = { disks: DiskStats[]; interfaces: InterfaceStats[] };

/** Per-disk and per-interface counters of a domain on a daemon URI, through `virsh domstats`; undefined with a reason on a test:// URI. */
export async function readDeviceStats(o: DeviceStatsOptions): Promise<Devices | { unavailable: string }> {
  if (!o.domain) throw new UsageError('Expected a domain name');
  const all = await readDevicesOfDomains({ uri: o.uri, domains: [o.domain], virsh: o.virsh, timeoutMs: o.timeoutMs });
  return all instanceof Map ? (all.get(o.domain) ?? { disks: [], interfaces: [] }) : all;
}

/**
 * The same for several domains with one `virsh domstats` (one process, about 27 ms, however
 * many domains: libvirt's bulk stats), by name. A domain virsh does not report has no entry.
 */
export async function readDevicesOfDomains(o: { uri: string; domains: string[]; virsh?: string; timeoutMs?: number }): Promise<Map<string, Devices> | { unavailable: string }> {
  if (isTestDriverUri(o.uri)) {
    return { unavailable: `per-disk and per-interface counters are not available on ${o.uri}: its domains live in this process, where virsh cannot reach them` };
  }
  if (o.domains.length === 0) return new Map();
  try {
    const r = await runVirsh(['domstats', '--raw', '--block', '--interface', '--', ...o.domains], {
      uri: o.uri,
      virsh: o.virsh,
      timeoutMs: o.timeoutMs ?? 10_000,
      operation: 'read disk and interface counters',
      domain: o.domains.length === 1 ? o.domains[0] : undefined,
    });
    return new Map([...parseDomstatsByDomain(r.stdout)].map(([name, fields]) => [name, devicesOfDomstats(fields)]));
  } catch (e) {
    // No virsh: the counters the binding gives are still worth having.
    if (e instanceof LibvirtUnavailableError) return { unavailable: e.message };
    throw e;
  }
}

/** Eucalyptus's sensor names, with their units, as derived from two samples. */
export interface SensorValues {
  /** Milliseconds between the samples. */
  intervalMs: number;
  /** Percent of the domain's vCPUs' time used in the interval (100 = every vCPU busy all the time). */
  CPUUtilization: number;
  /** Bytes and packets, summed over the interfaces; undefined without interface counters. */
  NetworkIn?: number;
  NetworkOut?: number;
  NetworkPacketsIn?: number;
  NetworkPacketsOut?: number;
  /** Operations and bytes, summed over the disks; undefined without disk counters. */
  DiskReadOps?: number;
  DiskWriteOps?: number;
  DiskReadBytes?: number;
  DiskWriteBytes?: number;
  /** A counter went down between the samples (the domain was started again): its value since then is used. */
  countersRestarted: boolean;
}

/**
 * The sensor values over the interval between two samples of one domain (`earlier` first).
 * A device present in only one sample counts from zero; a counter lower in the later sample
 * (the domain restarted) counts its later value, as Eucalyptus shifts such metrics.
 */
export function sensorValues(earlier: DomainStats, later: DomainStats): SensorValues {
  const intervalMs = later.takenAtMs - earlier.takenAtMs;
  if (!(intervalMs > 0)) throw new UsageError(`Expected the second sample to be later than the first (${intervalMs} ms apart)`);
  let restarted = false;
  const delta = (a: number, b: number) => {
    if (b >= a) return b - a;
    restarted = true;
    return b;
  };
  const vcpus = Math.max(1, later.vcpus);
  const cpu = delta(earlier.cpuTimeNs, later.cpuTimeNs);
  const out: SensorValues = { intervalMs, CPUUtilization: round2((cpu / (intervalMs * 1e6 * vcpus)) * 100), countersRestarted: false };
  if (earlier.interfaces && later.interfaces) {
    const before = new Map(earlier.interfaces.map((i) => [i.name, i]));
    const sum = (k: keyof Omit<InterfaceStats, 'name'>) => later.interfaces!.reduce((s, i) => s + delta(before.get(i.name)?.[k] ?? 0, i[k]), 0);
    Object.assign(out, { NetworkIn: sum('rxBytes'), NetworkOut: sum('txBytes'), NetworkPacketsIn: sum('rxPackets'), NetworkPacketsOut: sum('txPackets') });
  }
  if (earlier.disks && later.disks) {
    const before = new Map(earlier.disks.map((d) => [d.name, d]));
    const sum = (k: 'readOps' | 'writeOps' | 'readBytes' | 'writeBytes') => later.disks!.reduce((s, d) => s + delta(before.get(d.name)?.[k] ?? 0, d[k]), 0);
    Object.assign(out, { DiskReadOps: sum('readOps'), DiskWriteOps: sum('writeOps'), DiskReadBytes: sum('readBytes'), DiskWriteBytes: sum('writeBytes') });
  }
  out.countersRestarted = restarted;
  return out;
}

const round2 = (x: number) => Math.round(x * 100) / 100;
