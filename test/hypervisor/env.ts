/**
 * What scripts/hypervisor-up.sh left for the real-hypervisor tier (the README's real-hypervisor section):
 * its one-line status and the KEY=VALUE facts it recorded. Every test in this folder asks
 * `hypervisorEnv()` first and skips with its reason when the tier is not up.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/test/hypervisor/). */
export const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

export interface HypervisorEnv {
  uri: string;
  /** The test guest's kernel and initramfs (test/guest/build.sh). */
  kernel: string;
  initrd: string;
  /** A bridge with no uplink, for guest NICs. */
  bridge: string;
  /** `ok`, or why hugepages cannot be tested here. */
  hugepages: string;
  stateDir: string;
}

export type HypervisorStatus = { up: true; env: HypervisorEnv } | { up: false; skip?: string; fail?: string };

/** The state folder, chosen as hypervisor-up.sh chooses it. */
export function stateDir(): string {
  if (process.env.DOMFORGE_HV_STATE) return process.env.DOMFORGE_HV_STATE;
  return process.getuid?.() === 0 ? '/run/domforge-hv' : join(REPO, '.cache/hv-state');
}

let cached: HypervisorStatus | undefined;

/**
 * `up` with the facts, or why not: `skip` when this machine cannot run the tier (or
 * hypervisor-up.sh has not run), `fail` when it should have and did not.
 */
export function hypervisorStatus(): HypervisorStatus {
  if (cached) return cached;
  const dir = stateDir();
  let status: string;
  try {
    status = readFileSync(join(dir, 'status'), 'utf8').trim();
  } catch {
    const uid = process.getuid?.();
    const why = uid !== undefined && uid !== 0 ? `not root (uid ${uid}), and ` : '';
    return (cached = { up: false, skip: `the QEMU tier is not set up: ${why}no ${join(dir, 'status')} (run bash scripts/hypervisor-up.sh as root)` });
  }
  if (status.startsWith('skipped:')) return (cached = { up: false, skip: status.slice('skipped:'.length).trim() });
  if (status === 'down') return (cached = { up: false, skip: `the QEMU tier was taken down (scripts/hypervisor-down.sh); run scripts/hypervisor-up.sh` });
  if (status !== 'up') return (cached = { up: false, fail: `scripts/hypervisor-up.sh: ${status}` });
  const facts = new Map<string, string>();
  for (const line of readFileSync(join(dir, 'env'), 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) facts.set(line.slice(0, i), line.slice(i + 1));
  }
  const need = (k: string) => {
    const v = facts.get(k);
    if (!v) throw new Error(`${join(dir, 'env')} has no ${k}: run scripts/hypervisor-up.sh again`);
    return v;
  };
  return (cached = {
    up: true,
    env: { uri: need('uri'), kernel: need('kernel'), initrd: need('initrd'), bridge: need('bridge'), hugepages: need('hugepages'), stateDir: dir },
  });
}

/**
 * For `test(name, hypervisorTest(), fn)`: `{ skip: reason }` when the tier is not up
 * (node:test reports the test as skipped with the reason), else `{}`. A tier that
 * failed to come up is not skipped: `requireHypervisor()` then fails the test.
 */
export function tierOptions(extra: { timeout?: number } = {}): { skip?: string; timeout?: number } {
  const s = hypervisorStatus();
  return s.up || s.fail ? { ...extra } : { ...extra, skip: s.skip };
}

/** The tier's facts; throws (failing the test) with the reason when it did not come up. */
export function requireHypervisor(): HypervisorEnv {
  const s = hypervisorStatus();
  if (s.up) return s.env;
  throw new Error(s.fail ?? s.skip);
}
