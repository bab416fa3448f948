/**
 * Figure 5 again, against the shell pipeline as the issue writes it: one process per
 * command, through a libvirt daemon,
 *
 *     xsltproc --nonet libvirt.xsl instance.xml | virsh -c URI define /dev/stdin &&
 *     virsh -c URI start ID && virsh -c URI destroy ID && virsh -c URI undefine ID
 *
 * which is how an admin drives a production node (every `virsh` connects to libvirtd,
 * does one thing and exits). bench/launch.ts cannot run that on `test:///default`: the
 * test driver lives inside the process that opens it, so a second `virsh` would not see
 * the domain, and it measures the cheapest pipeline instead (one `virsh` running the four
 * commands). Here the test driver runs inside libvirtd, reached as
 * `test+unix:///default`; libvirtd shares its `test:///default` between the connections
 * open at the same time and drops it when the last one closes, so the domforge
 * controller's connection, open for the whole figure, is what lets one `virsh` see what
 * the previous one defined.
 *
 * domforge runs through the same daemon (the like-for-like row, which carries the
 * target) and, for comparison, in-process on `test:///default` as in bench/launch.ts.
 * The three alternate in one loop after an untimed warm-up; then the throughput, each side
 * at its best width as in bench/launch.ts, in alternating chunks. Every pipeline gets an
 * instance file of its own (a fresh id and uuid, written before the timing), so pipelines
 * running at once define different domains.
 *
 * Needs a libvirtd that answers on `test+unix:///default` (as root: the system daemon,
 * which `scripts/hypervisor-up.sh` installs and starts); without one the figure says so
 * and is not measured.
 *
 * Run alone: `node dist/bench/launch-daemon.js [--quick]`.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, emitInstance, readInstanceFile } from '../engine/index.js';
import { BENCH_SAMPLE, BENCH_XSL, CHUNK, IN_FLIGHT, PIPELINE_PER_CPU, alternatingThroughput, benchController, timedScript } from './launch.js';
import { medianAndP95, quantile, round, type Figure } from './lib.js';

/** libvirtd's own test driver, over its UNIX socket. */
export const DAEMON_URI = 'test+unix:///default';
/** The pipeline runs an eighth as many instances a throughput chunk as domforge (it is several times slower). */
const THEIR_SHARE = 8;

/** Why the figure cannot be measured here, or undefined when a daemon answers on DAEMON_URI. */
export function daemonUnavailable(): string | undefined {
  const r = spawnSync('virsh', ['-q', '-c', DAEMON_URI, 'uri'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return `virsh cannot run (${r.error.message}); run scripts/setup.sh`;
  if (r.status === 0) return undefined;
  const why = (r.stderr || '').trim().split('\n').filter(Boolean).at(-1) ?? `virsh exited with ${String(r.status)}`;
  return `no libvirtd answers on ${DAEMON_URI} (${why}); bash scripts/hypervisor-run.sh npm run bench brings one up`;
}

/** The pipeline for one instance file (domain `id`); resolves to its wall time in ms. */
export function daemonPipelineOnce(instanceFile: string, id: string): Promise<number> {
  const v = `virsh -q -c ${DAEMON_URI}`;
  const script = `xsltproc --nonet "$1" "$2" | ${v} define /dev/stdin >/dev/null && ${v} start "$3" >/dev/null && ${v} destroy "$3" >/dev/null && ${v} undefine "$3" >/dev/null`;
  return timedScript(script, [BENCH_XSL, instanceFile, id], `the reference pipeline for ${id}`);
}

export interface BenchDaemonOptions {
  quick: boolean;
  /** Timed rounds (each: one cycle of every side). Default 40, quick 2. */
  samples?: number;
  /** Throughput chunks. Default 4, quick 1. */
  chunks?: number;
}

/** The figures, or why they were not measured. */
export async function benchLaunchDaemon(o: BenchDaemonOptions): Promise<Figure[] | string> {
  const unavailable = daemonUnavailable();
  if (unavailable) return `not measured: ${unavailable}`;
  const samples = o.samples ?? (o.quick ? 2 : 40);
  const warmup = o.quick ? 1 : 3;
  const jitWarmup = o.quick ? 2 : 30;
  const chunks = o.chunks ?? (o.quick ? 1 : 4);
  const ours = o.quick ? IN_FLIGHT : CHUNK;
  const theirs = Math.max(1, ours / THEIR_SHARE);

  const viaDaemon = await benchController({ hooks: false, tag: 'd', uri: DAEMON_URI });
  const inProcess = await benchController({ hooks: false, tag: 'n' });
  const work = await mkdtemp(join(tmpdir(), 'domforge-bench-daemon-'));
  const prefix = `i-p${process.pid.toString(16)}`;
  try {
    // One instance file per pipeline run, written before any timing.
    const base = await readInstanceFile(BENCH_SAMPLE);
    const files: { file: string; id: string }[] = [];
    for (let i = 0; i < warmup + samples + chunks * theirs; i++) {
      const id = `${prefix}${i.toString(16).padStart(5, '0')}`;
      const file = join(work, `${id}.xml`);
      await writeFile(file, emitInstance({ ...base, name: id, uuid: randomUUID() }));
      files.push({ file, id });
    }
    let used = 0;
    const pipeline = () => {
      const f = files[used++];
      return daemonPipelineOnce(f.file, f.id);
    };

    for (let i = 0; i < jitWarmup; i++) {
      await viaDaemon.cycle();
      await inProcess.cycle();
    }
    const total = (c: { launchMs: number; terminateMs: number }) => c.launchMs + c.terminateMs;
    const d: number[] = [];
    const n: number[] = [];
    const p: number[] = [];
    for (let i = 0; i < warmup + samples; i++) {
      const x = total(await viaDaemon.cycle());
      const y = total(await inProcess.cycle());
      const z = await pipeline();
      if (i < warmup) continue;
      d.push(x);
      n.push(y);
      p.push(z);
    }

    const t = await alternatingThroughput({ chunks, ours, theirShare: THEIR_SHARE }, () => viaDaemon.cycle(), pipeline);

    const ref = 'the issue’s pipeline, xsltproc | virsh define, virsh start, virsh destroy, virsh undefine, one process each, through the same daemon';
    const inProc = quantile(n, 0.5);
    const pMed = quantile(p, 0.5);
    return [
      ...medianAndP95(`Launch + terminate through libvirtd (${DAEMON_URI}), no hooks`, 'ms/instance', d, p, ref),
      {
        name: `Launch + terminate in-process on test:///default (as in the figure above), no hooks, median (vs the same pipeline through the daemon, median)`,
        unit: 'ms/instance',
        domforge: round(inProc, 4),
        reference: round(pMed, 4),
        ratio: round(inProc / pMed, 4),
        samples: n.length,
        info: true,
      },
      {
        name: `Launch + terminate throughput through libvirtd, no hooks: ${IN_FLIGHT} in flight (vs the issue’s pipeline through the daemon, ${t.width} at once, ${PIPELINE_PER_CPU} per CPU), wall time per instance`,
        unit: 'ms/instance',
        domforge: round(t.ours, 4),
        reference: round(t.theirs, 4),
        ratio: round(t.ours / t.theirs, 4),
        samples: t.samples,
      },
    ];
  } finally {
    await removeLeftovers(prefix);
    await viaDaemon.cleanup();
    await inProcess.cleanup();
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Destroys and undefines any pipeline domain a failed run left in the daemon, through
 * domforge's pooled connection (left open: the controllers share it).
 */
async function removeLeftovers(prefix: string): Promise<void> {
  const conn = await connect({ uri: DAEMON_URI });
  for (const dom of await conn.list()) {
    if (!dom.name.startsWith(prefix)) continue;
    if (dom.id !== null) await conn.destroy(dom.name).catch(() => undefined);
    await conn.undefine(dom.name).catch(() => undefined);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await benchLaunchDaemon({ quick: process.argv.includes('--quick') });
  if (typeof r === 'string') console.log(r);
  else for (const f of r) console.log(JSON.stringify(f));
}
