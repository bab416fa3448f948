/**
 * Launch to guest, on the real hypervisor (QEMU under TCG through libvirtd, the test
 * guest of test/guest/): the time from `NodeController.launch()` being called to the
 * guest's first console line (its kernel's first message) and to its config-drive marker
 * (/init has found the drive, read it and printed it). The reference is libvirt alone:
 * the same domain XML and config drive, prepared beforehand, started with
 * `virsh create`, timed to the same two lines. The difference is what domforge's launch
 * (render, validate, config drive, hooks, define, start, record) costs on top of booting.
 *
 * Needs the tier up (bash scripts/hypervisor-up.sh, as root); otherwise it says why and
 * returns no figures. Run alone: `node dist/bench/hypervisor.js [runs]` (default 3).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { configDriveInputFromInstance, configDriveOptionsFromInstance, writeConfigDrive } from '../engine/configdrive/index.js';
import { NodeController } from '../engine/controller/index.js';
import { closeConnections, connect } from '../engine/libvirt/index.js';
import { renderText } from '../engine/render/index.js';
import { defaultTransformPath } from '../engine/transform/defaults.js';
import { parseConsole, readConsole } from '../test/hypervisor/console.js';
import { hypervisorStatus, type HypervisorEnv } from '../test/hypervisor/env.js';
import { removeDomain } from '../test/hypervisor/harness.js';
import { guestInstance } from '../test/hypervisor/instance.js';
import { quantile, round, type Figure } from './lib.js';

export interface BenchHypervisorOptions {
  /** Launches per side (domforge, virsh), interleaved. Default 3. */
  runs?: number;
  /** Per boot. Default 180000 ms. */
  timeoutMs?: number;
}

interface Timing {
  firstLineMs: number;
  markerMs: number;
}

/** Polls the console every 10 ms and notes when its first line, then the marker, appear (ms after t0). */
async function watchConsole(path: string, t0: number, timeoutMs: number): Promise<Timing> {
  let firstLineMs: number | undefined;
  const deadline = t0 + timeoutMs;
  while (performance.now() < deadline) {
    const text = await readConsole(path);
    if (firstLineMs === undefined && text.includes('\n')) firstLineMs = performance.now() - t0;
    if (firstLineMs !== undefined && parseConsole(text).done) return { firstLineMs, markerMs: performance.now() - t0 };
    await sleep(10);
  }
  throw new Error(`no config-drive marker on ${path} after ${timeoutMs} ms`);
}

async function viaDomforge(env: HypervisorEnv, root: string, run: number, timeoutMs: number): Promise<Timing> {
  const conn = await connect({ uri: env.uri });
  const nc = await NodeController.open({ instancesDir: join(root, 'instances'), connection: conn });
  const g = await guestInstance(env, { label: `bench-nc-${run}`, dir: join(root, `nc-${run}`) });
  try {
    const t0 = performance.now();
    await nc.launch(g.instance);
    return await watchConsole(nc.layout.consoleLog(g.name), t0, timeoutMs);
  } finally {
    await nc.terminate(g.name).catch(() => removeDomain(conn, g.name));
    await nc.close();
  }
}

async function viaVirsh(env: HypervisorEnv, root: string, run: number, timeoutMs: number): Promise<Timing> {
  const dir = join(root, `virsh-${run}`);
  const g = await guestInstance(env, { label: `bench-virsh-${run}`, dir });
  const rendered = await renderText(g.xml, { transform: defaultTransformPath() });
  await writeConfigDrive(g.instance.configDrive!.path, configDriveInputFromInstance(g.instance), configDriveOptionsFromInstance(g.instance));
  const file = join(dir, 'libvirt.xml');
  await writeFile(file, rendered.xml);
  const conn = await connect({ uri: env.uri });
  try {
    const t0 = performance.now();
    await promisify(execFile)('virsh', ['-q', '-c', env.uri, 'create', file]);
    return await watchConsole(g.instance.consoleLogPath, t0, timeoutMs);
  } finally {
    await removeDomain(conn, g.name);
  }
}

/** The figures, or undefined (with the reason on stderr) when the tier is not up. */
export async function benchHypervisor(o: BenchHypervisorOptions = {}): Promise<Figure[] | undefined> {
  const status = hypervisorStatus();
  if (!status.up) {
    process.stderr.write(`bench hypervisor: not run: ${status.skip ?? status.fail}\n`);
    return undefined;
  }
  const runs = o.runs ?? 3;
  const timeoutMs = o.timeoutMs ?? 180_000;
  const root = await mkdtemp(join(tmpdir(), 'domforge-bench-hv-'));
  const ours: Timing[] = [];
  const theirs: Timing[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      ours.push(await viaDomforge(status.env, root, i, timeoutMs));
      theirs.push(await viaVirsh(status.env, root, i, timeoutMs));
    }
  } finally {
    await closeConnections();
    await rm(root, { recursive: true, force: true });
  }
  const figure = (what: string, key: keyof Timing): Figure => {
    const d = quantile(ours.map((t) => t[key]), 0.5);
    const r = quantile(theirs.map((t) => t[key]), 0.5);
    return { name: `launch → ${what}, median (vs virsh create of the same XML and drive)`, unit: 'ms', domforge: round(d, 0), reference: round(r, 0), ratio: round(d / r, 3), samples: runs };
  };
  return [figure("guest's first console line", 'firstLineMs'), figure('config-drive marker', 'markerMs')];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const runs = process.argv[2] ? Number(process.argv[2]) : undefined;
  const figures = await benchHypervisor({ runs });
  for (const f of figures ?? []) {
    console.log(`${f.name}: domforge ${f.domforge} ${f.unit}, virsh ${f.reference} ${f.unit} (ratio ${f.ratio}, ${f.samples} runs)`);
  }
}
