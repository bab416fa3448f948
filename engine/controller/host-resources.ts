import { readdir, readFile, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { IoError } from '../errors.js';

/**
 * What the host has that libvirt's virNodeGetInfo does not tell: the huge page pools and the
 * space on the instances folder's file system. Both are read, never changed.
 */

/** Where Linux lists its huge page pools, one folder per page size (`hugepages-2048kB`), as hugetlbpage.rst describes. */
export const HUGEPAGES_SYSFS_DIR = '/sys/kernel/mm/hugepages';

/** One huge page pool of the host, with the kernel's counts (the files of its sysfs folder). */
export interface HugepagePool {
  /** The page size, KiB (from the folder's name, `hugepages-2048kB`). */
  pageSizeKiB: number;
  /** `nr_hugepages`: the pages of the persistent pool. */
  totalCount: number;
  /** `free_hugepages`: pages not yet allocated, reserved ones included. */
  freeCount: number;
  /** `resv_hugepages`: free pages promised to a mapping that has not touched them yet. */
  reservedCount: number;
  /**
   * The pool on each NUMA node, by node number (`/sys/devices/system/node/nodeN/hugepages/`):
   * a guest whose pages must come from given nodes (`features/hugepages/@nodeset`) fits only
   * where those nodes have them free. Empty when the kernel lists no node for this size.
   */
  nodes: HugepageNodePool[];
}

/** One NUMA node's share of a huge page pool (the kernel keeps no per-node reservation count). */
export interface HugepageNodePool {
  node: number;
  /** The node's `nr_hugepages`. */
  totalCount: number;
  /** The node's `free_hugepages`. */
  freeCount: number;
}

/** Where Linux lists the NUMA nodes, each with its own huge page pools (`node0/hugepages/hugepages-2048kB`). */
export const NUMA_NODES_SYSFS_DIR = '/sys/devices/system/node';
const NODE_FOLDER = /^node(\d+)$/;

const POOL_FOLDER = /^hugepages-(\d+)kB$/;

/**
 * The host's huge page pools, smallest page first, each with its NUMA nodes' shares. A host
 * without huge page support has no such folder: no pools. `dir` and `nodesDir` are
 * injectable so tests can give trees of their own; with a `dir` of its own and no `nodesDir`,
 * no node is read (the host's nodes would not match made-up pools).
 */
export async function readHugepagePools(dir = HUGEPAGES_SYSFS_DIR, nodesDir: string | undefined = dir === HUGEPAGES_SYSFS_DIR ? NUMA_NODES_SYSFS_DIR : undefined): Promise<HugepagePool[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new IoError(`cannot list the huge page pools: ${(e as Error).message}`, { file: dir, cause: e });
  }
  const nodes = nodesDir === undefined ? [] : await numaNodes(nodesDir);
  const pools = await Promise.all(
    entries.flatMap((d) => {
      const m = d.isDirectory() ? POOL_FOLDER.exec(d.name) : null;
      return m ? [readPool(join(dir, d.name), Number(m[1]), nodes)] : [];
    }),
  );
  return pools.sort((a, b) => a.pageSizeKiB - b.pageSizeKiB);
}

async function readPool(dir: string, pageSizeKiB: number, nodes: readonly { node: number; dir: string }[]): Promise<HugepagePool> {
  const [totalCount, freeCount, reservedCount] = await Promise.all(['nr_hugepages', 'free_hugepages', 'resv_hugepages'].map((f) => readCount(join(dir, f))));
  const shares = await Promise.all(nodes.map((n) => readNodePool(join(n.dir, 'hugepages', `hugepages-${pageSizeKiB}kB`), n.node)));
  return { pageSizeKiB, totalCount, freeCount, reservedCount, nodes: shares.filter((x): x is HugepageNodePool => x !== undefined) };
}

/** The NUMA nodes the kernel lists (`nodeN` folders), by number; none when there is no such folder (no NUMA support). */
async function numaNodes(dir: string): Promise<{ node: number; dir: string }[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new IoError(`cannot list the NUMA nodes: ${(e as Error).message}`, { file: dir, cause: e });
  }
  return entries
    .flatMap((d) => {
      const m = d.isDirectory() || d.isSymbolicLink() ? NODE_FOLDER.exec(d.name) : null;
      return m ? [{ node: Number(m[1]), dir: join(dir, d.name) }] : [];
    })
    .sort((a, b) => a.node - b.node);
}

/** A node's pool of one size, or undefined when the node has no folder for it (a memoryless node). */
async function readNodePool(dir: string, node: number): Promise<HugepageNodePool | undefined> {
  try {
    await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new IoError(`cannot list the huge page pool of NUMA node ${node}: ${(e as Error).message}`, { file: dir, cause: e });
  }
  const [totalCount, freeCount] = await Promise.all(['nr_hugepages', 'free_hugepages'].map((f) => readCount(join(dir, f))));
  return { node, totalCount, freeCount };
}

/** A sysfs file holding one whole number; anything else names the file. */
async function readCount(file: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new IoError(`cannot read the huge page count: ${(e as Error).message}`, { file, cause: e });
  }
  const value = text.trim();
  if (!/^\d+$/.test(value)) throw new IoError(`expected a whole number of huge pages, got ${JSON.stringify(value)}`, { file });
  return Number(value);
}

/** Space on the file system of a folder, as `df` counts it. */
export interface FileSystemSpace {
  /** The folder measured: the one asked for, or its nearest existing parent when it does not exist (where it would be created). */
  path: string;
  /** `f_blocks × f_bsize`: the file system's size (`df`'s `1B-blocks`). */
  totalBytes: number;
  /** `f_bavail × f_bsize`: what an unprivileged process can still write (`df`'s `Avail`; root's reserved blocks not counted). */
  availableBytes: number;
}

/**
 * statfs(2) of `dir`, or of its nearest existing parent when `dir` does not exist, so that a
 * missing instances folder is measured where a launch would create it. Node's statfs gives
 * the block size `f_bsize`; df multiplies by the fragment size `f_frsize`, which Linux's file
 * systems report equal to it.
 */
export async function fileSystemSpace(dir: string): Promise<FileSystemSpace> {
  for (let path = dir; ; path = dirname(path)) {
    try {
      const s = await statfs(path);
      return { path, totalBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(path) === path) {
        throw new IoError(`cannot measure the file system: ${(e as Error).message}`, { file: path, cause: e });
      }
    }
  }
}
