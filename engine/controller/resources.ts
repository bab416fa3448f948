import { UsageError, type DomforgeError } from '../errors.js';
import { expectOptions } from '../option-checks.js';
import type { Instance } from '../instance/model.js';
import type { DomainStateName } from '../libvirt/domain-state.js';
import type { DomainSummary, NodeInfo } from '../libvirt/connection.js';
import { fileSystemSpace, readHugepagePools, HUGEPAGES_SYSFS_DIR, type HugepagePool } from './host-resources.js';
import type { ControllerContext } from './options.js';
import { readRecord, stateOf } from './record.js';
import { readNodeState } from './node-state.js';
import { asDomforgeError } from './steps.js';
import { isOtherInstance } from './summary.js';

/**
 * What a Eucalyptus NC answers to `ncDescribeResource`, for the cluster controller's
 * scheduler: memory, cores and disk, each as a maximum and as what is available, with what
 * the instances commit in between. Every figure says its unit in its name.
 *
 * Policy, where domforge differs from Eucalyptus's NC on purpose:
 * - Every instance folder with a readable record counts, whatever its state (`Staging`,
 *   `Extant`, `Teardown`) and whether or not libvirt runs its domain: each comes back with
 *   `adopt` or is still being launched or torn down (a `Teardown` folder may still hold its
 *   domain). Eucalyptus leaves out TEARDOWN, where its domain is already gone.
 * - Available = maximum − committed, signed: a negative figure is over-commitment, shown as
 *   it is (Eucalyptus clamps it to 0, which hides it).
 * - The maximum is the host as libvirt reports it; no reserve for the host itself is taken off.
 */
export interface ResourceReport {
  /** Eucalyptus's `nodeStatus`: whether the node takes new instances (`INSTANCES/nc_state.xml`, see node-state.ts). */
  nodeStatus: 'enabled' | 'disabled';
  /** The libvirt URI the host figures come from. */
  uri: string;
  instancesDir: string;
  /** False when the instances folder does not exist: it holds no instances, and nothing is committed. */
  instancesDirExists: boolean;
  /** The host as libvirt reports it (virNodeGetInfo). */
  host: NodeInfo;
  /**
   * `memorySizeMax` / `memorySizeAvailable` of Eucalyptus, in KiB: the host's memory and what
   * the instances' `memoryKB` leave of it. The sum and the difference are exact: a number
   * while they are within ±(2^53 − 1), a bigint past it (see {@link Exact}).
   */
  memory: { maxKiB: number; committedKiB: Exact; availableKiB: Exact };
  /** `numberOfCoresMax` / `numberOfCoresAvailable`: the host's CPUs and what the instances' `cores` (vCPUs) leave of them. */
  cores: { maxCount: number; committedCount: number; availableCount: number };
  /** `diskSizeMax` / `diskSizeAvailable`, in bytes: the file system of the instances folder, where config drives and instance files go. */
  disk: { path: string; maxBytes: number; availableBytes: number };
  /** The host's huge page pools, smallest page first (none on a host without them). */
  hugepages: HugepagePool[];
  /** The instances counted, sorted by id. */
  instances: CommittedInstance[];
  /** Folders whose record could not be read, so not counted: each with the error naming its file. */
  unreadable: { id: string; dir: string; error: DomforgeError }[];
  /**
   * The host's running domains that no instance folder records (another tool's guests), with
   * what they use now. Not in `committedKiB` / `committedCount`, as Eucalyptus counts only its
   * instances; a scheduler sharing the host with them subtracts them itself.
   */
  untracked: UntrackedDomain[];
}

/** A running domain of the host with no instance folder, and what it uses (virDomainGetInfo). */
export interface UntrackedDomain {
  name: string;
  uuid: string;
  state: DomainStateName;
  memoryKiB: number;
  vcpus: number;
}

/** One instance's share, from its record. */
export interface CommittedInstance {
  id: string;
  dir: string;
  /** The record's `states/stateName`. */
  state: string;
  /** libvirt's domain state, or null when libvirt has no domain by that name. */
  domain: DomainStateName | null;
  /**
   * That domain's uuid is not the record's: it is another instance's (see InstanceSummary.mismatched),
   * and `domain` is its state. The record commits its figures all the same, as with no domain.
   */
  mismatched: boolean;
  /** The record's `memoryKB` (KiB, whatever Eucalyptus's name says). */
  memoryKiB: number;
  /** The record's `cores`: vCPUs. */
  coreCount: number;
  /** Guest memory backed by huge pages (`features/hugepages`, enabled). */
  hugepages: boolean;
  /** Their size, KiB, when the record names one (absent: the host's default size). */
  hugepageSizeKiB?: number;
}

export interface DescribeResourceOptions {
  /** Where the huge page pools are listed. Default `/sys/kernel/mm/hugepages`. */
  hugepagesDir?: string;
  /**
   * Where the NUMA nodes are listed, each with its pools. Default `/sys/devices/system/node`
   * with the default `hugepagesDir`; with a `hugepagesDir` of its own, none unless given.
   */
  numaNodesDir?: string;
}

/** The host's resources and what the instances of the instances folder commit of them. */
export async function describeResource(ctx: ControllerContext, o: DescribeResourceOptions = {}): Promise<ResourceReport> {
  checkOptions(o);
  const { layout, connection: conn } = ctx;
  const [host, ids, domains, hugepages, space, node] = await Promise.all([
    conn.nodeInfo(),
    layout.ids(),
    conn.list(),
    readHugepagePools(o.hugepagesDir ?? HUGEPAGES_SYSFS_DIR, o.numaNodesDir),
    fileSystemSpace(layout.root),
    readNodeState(layout),
  ]);
  const byName = new Map(domains.map((d) => [d.name, d]));
  const instances: CommittedInstance[] = [];
  const unreadable: ResourceReport['unreadable'] = [];
  for (const id of ids) {
    const dir = layout.dir(id);
    try {
      instances.push(committedBy(await readRecord(layout, id), dir, byName.get(id) ?? null));
    } catch (e) {
      const error = asDomforgeError(e);
      if (!error) throw e;
      unreadable.push({ id, dir, error });
    }
  }
  const folders = new Set(ids);
  const untracked = await Promise.all(
    domains
      .filter((d) => d.active && !folders.has(d.name))
      .map(async (d): Promise<UntrackedDomain | undefined> => {
        // A domain gone since the listing is simply not there any more.
        const info = await conn.getInfo(d).catch(() => undefined);
        return info && { name: d.name, uuid: d.uuid, state: info.state, memoryKiB: info.memoryKiB, vcpus: info.vcpus };
      }),
  );
  return {
    nodeStatus: node.enabled ? 'enabled' : 'disabled',
    uri: conn.uri,
    instancesDir: layout.root,
    instancesDirExists: space.path === layout.root,
    host,
    ...budget(host, instances),
    disk: { path: space.path, maxBytes: space.totalBytes, availableBytes: space.availableBytes },
    hugepages,
    instances,
    unreadable,
    untracked: untracked.filter((u): u is UntrackedDomain => u !== undefined).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}

/** An instance's share, from its record. */
export function committedBy(record: Instance, dir: string, domain: Pick<DomainSummary, 'state' | 'uuid'> | null): CommittedInstance {
  const hp = record.features?.hugepages;
  const hugepages = hp?.enabled === true;
  return {
    id: record.name,
    dir,
    state: stateOf(record),
    domain: domain?.state ?? null,
    mismatched: domain !== null && isOtherInstance(domain, record),
    memoryKiB: record.memoryKB,
    coreCount: record.cores,
    hugepages,
    ...(hugepages && hp?.pageSizeKiB !== undefined ? { hugepageSizeKiB: hp.pageSizeKiB } : {}),
  };
}

/**
 * A whole number computed exactly: a number while it is one exactly (within ±(2^53 − 1)),
 * else a bigint. A record's `memoryKB` may be up to 2^53 − 1 KiB (libvirt's limit), so the
 * sum of a few passes what a number holds, and would be rounded in silence. Compare it with
 * `<`, `>`, `==` against a number as it is; convert with `BigInt(x)` for arithmetic.
 */
export type Exact = number | bigint;

/** `n` as a number when that is exact, else the bigint itself. */
export const exact = (n: bigint): Exact => (n >= -BigInt(Number.MAX_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n);

/** The exact sum of whole numbers (see {@link Exact}). */
export const exactSum = (values: Iterable<number>): Exact => {
  let sum = 0n;
  for (const v of values) sum += BigInt(v);
  return exact(sum);
};

/** Memory and cores: the host's, the sums of the instances', and the difference, signed (negative = over-committed). */
export function budget(host: NodeInfo, instances: readonly CommittedInstance[]): Pick<ResourceReport, 'memory' | 'cores'> {
  const committedKiB = exactSum(instances.map((i) => i.memoryKiB));
  // At most 4096 vCPUs a record: their sum stays far within what a number holds exactly.
  const committedCount = instances.reduce((sum, i) => sum + i.coreCount, 0);
  return {
    memory: { maxKiB: host.memoryKiB, committedKiB, availableKiB: exact(BigInt(host.memoryKiB) - BigInt(committedKiB)) },
    cores: { maxCount: host.cpus, committedCount, availableCount: host.cpus - committedCount },
  };
}

function checkOptions(o: DescribeResourceOptions): void {
  expectOptions('describeResource', o);
  for (const k of ['hugepagesDir', 'numaNodesDir'] as const) {
    const dir = o[k];
    if (dir !== undefined && (typeof dir !== 'string' || dir === '')) {
      throw new UsageError(`Expected \`${k}\` to be a non-empty string, got \`${String(dir)}\` (${typeof dir})`);
    }
  }
}
