/**
 * One test file's share of the real hypervisor: a NodeController over a temporary
 * instances folder on qemu:///system, and a cleanup that leaves nothing behind (every
 * domain this file named is destroyed and undefined, the folder removed), even when a
 * test failed half-way.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NodeController, type LaunchResult, type NodeControllerOptions } from '../../engine/controller/index.js';
import { connect, closeConnections, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { requireHypervisor, type HypervisorEnv } from './env.js';
import { guestInstance, type GuestInstance, type GuestInstanceOptions } from './instance.js';
import { waitForConsole, type GuestReport } from './console.js';

/** Generous: a guest boots in about 2 s under TCG on an idle machine, several times that on a busy one. */
export const BOOT_TIMEOUT_MS = 120_000;
/** Per test: a boot or two, hot-plug round trips, teardown. */
export const TEST_TIMEOUT_MS = 300_000;

export interface Tier {
  env: HypervisorEnv;
  conn: LibvirtConnection;
  /** The temporary folder: `instances/` for the controller, `disks/` for images. */
  root: string;
  instancesDir: string;
  /** A controller over `instancesDir` (more can be opened over the same folder with `controller()`). */
  nc: NodeController;
  controller(extra?: Partial<NodeControllerOptions>): Promise<NodeController>;
  /** A test-guest instance whose disk lives under `root/disks/<label>`; its name is remembered for cleanup. */
  instance(o: Omit<GuestInstanceOptions, 'dir'>): Promise<GuestInstance>;
  /** Launches through the controller and waits for the guest's config-drive marker. */
  launchAndBoot(g: GuestInstance): Promise<{ launched: LaunchResult; report: GuestReport; bootMs: number }>;
  consoleOf(id: string): string;
  cleanup(): Promise<void>;
}

/**
 * Holds a lock on the tier (flock(1) on a file in its state folder, held by a child process
 * until released): shared by every test file that uses libvirtd, exclusive for one that
 * restarts it (libvirtd-restart.test.ts), which so waits until no other file uses the daemon
 * and keeps the others waiting while it is down. The test runner runs two files at a time.
 */
async function lockTier(stateDir: string, exclusive: boolean): Promise<() => Promise<void>> {
  const holder = spawn('flock', [exclusive ? '-x' : '-s', join(stateDir, 'tier.lock'), 'sh', '-c', 'echo locked; exec cat'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    holder.stdout.once('data', () => resolve());
    holder.once('error', reject);
    holder.once('exit', (code) => reject(new Error(`flock exited with code ${code} before taking the tier's lock`)));
  });
  return async () => {
    if (holder.exitCode !== null) return;
    const exited = new Promise((r) => holder.once('exit', r));
    holder.stdin.end();
    await exited;
  };
}

export async function openTier(o: { exclusive?: boolean } = {}): Promise<Tier> {
  const env = requireHypervisor();
  const unlock = await lockTier(env.stateDir, o.exclusive === true);
  const root = await mkdtemp(join(tmpdir(), 'domforge-hv-'));
  const instancesDir = join(root, 'instances');
  const conn = await connect({ uri: env.uri });
  const names = new Set<string>();
  const controller = (extra: Partial<NodeControllerOptions> = {}) => NodeController.open({ instancesDir, connection: conn, ...extra });
  const nc = await controller();
  const tier: Tier = {
    env,
    conn,
    root,
    instancesDir,
    nc,
    controller,
    async instance(o) {
      const g = await guestInstance(env, { ...o, dir: join(root, 'disks', o.label) });
      names.add(g.name);
      return g;
    },
    async launchAndBoot(g) {
      const t0 = performance.now();
      const launched = await nc.launch(g.instance);
      const report = await waitForConsole(launched.instance.consoleLogPath, (r) => r.done, { timeoutMs: BOOT_TIMEOUT_MS, what: `${g.name}'s config-drive marker` });
      return { launched, report, bootMs: Math.round(performance.now() - t0) };
    },
    consoleOf: (id) => nc.layout.consoleLog(id),
    async cleanup() {
      try {
        for (const name of names) await removeDomain(conn, name);
        await rm(root, { recursive: true, force: true });
        await closeConnections();
      } finally {
        await unlock();
      }
    },
  };
  return tier;
}

/** Destroys (if running) and undefines a domain; a domain already gone is fine. */
export async function removeDomain(conn: LibvirtConnection, name: string): Promise<void> {
  const d = await conn.find(name);
  if (!d) return;
  if (d.id !== null) await conn.destroy(name).catch(() => undefined);
  if ((await conn.find(name)) && (await conn.isPersistent(name).catch(() => false))) await conn.undefine(name, { everything: true });
}

/** Polls `f` until it returns a value other than undefined, or throws `what` after `timeoutMs`. */
export async function eventually<T>(f: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(200);
  }
}

/** `/proc/meminfo`'s hugepage counters (in pages). */
export async function hugepages(): Promise<{ total: number; free: number; reserved: number; inUse: number }> {
  const text = await readFile('/proc/meminfo', 'utf8');
  const get = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  const total = get('HugePages_Total');
  const free = get('HugePages_Free');
  const reserved = get('HugePages_Rsvd');
  // Pages handed out, plus pages promised to a mapping but not yet touched.
  return { total, free, reserved, inUse: total - free + reserved };
}

/** Sets the size of the 2 MiB hugepage pool (`vm.nr_hugepages`) and returns what the kernel kept. */
export async function setHugepagePool(pages: number): Promise<number> {
  await writeFile('/proc/sys/vm/nr_hugepages', `${pages}\n`);
  return Number((await readFile('/proc/sys/vm/nr_hugepages', 'utf8')).trim());
}

/**
 * A hooks folder under `root` with one hook that does nothing for every event, and an empty
 * `filters.d`: an operation then runs its filters and hook steps, as in production.
 */
export async function noopHooksFolder(root: string): Promise<string> {
  const hooks = join(root, 'hooks');
  await mkdir(join(hooks, 'filters.d'), { recursive: true });
  await writeFile(join(hooks, '10-noop'), '#!/bin/sh\nexit 0\n');
  await chmod(join(hooks, '10-noop'), 0o755);
  return hooks;
}
