import type { RegisterCommand } from './commands.js';
import { checkInstanceId } from '../controller/layout.js';
import { sensorValues, type SensorValues } from '../libvirt/domstats.js';
import type { InstanceStats } from '../controller/inspect.js';
import { common, json, withController, type CommonOptions } from './lifecycle.js';
import { integerFlag } from './number-flags.js';
import { printTable, type CliIo } from './io.js';

/** The default time between the two samples `stats` takes. */
export const DEFAULT_STATS_INTERVAL_MS = 1000;
/** The longest interval `stats` waits: an hour. */
const MAX_STATS_INTERVAL_MS = 3_600_000;

/**
 * `domforge stats ID [--interval MS]`: an instance's counters, sampled twice `--interval` apart
 * (default 1000 ms; 0 = one sample, counters only), and the sensor values a Eucalyptus NC
 * reports over that interval (CPUUtilization, NetworkIn/Out, DiskReadOps…).
 */
export const registerStats: RegisterCommand = (program, io) => {
  common(
    program
      .command('stats')
      .description(
        "Show an instance's counters (CPU time, memory, per disk and per interface) and, from two samples --interval apart, the sensor values a Eucalyptus NC reports (CPUUtilization, NetworkIn/Out, DiskReadOps...). Changes nothing.",
      )
      .argument('[id...]', 'instance ids (default: every instance folder; with one id, its disks and interfaces are listed too)')
      .option('--interval <ms>', `time between the two samples (default ${DEFAULT_STATS_INTERVAL_MS}; 0 takes one sample, counters only)`),
  ).action(async (ids: string[], o: CommonOptions & { interval?: string }) => {
    for (const id of ids) checkInstanceId(id);
    const intervalMs = o.interval === undefined ? DEFAULT_STATS_INTERVAL_MS : integerFlag('--interval', o.interval, 0, 'ms', { value: MAX_STATS_INTERVAL_MS, why: 'an hour' });
    if (ids.length !== 1) return sweep(io, o, ids, intervalMs);
    const id = ids[0]!;
    const { sample, sensors } = await withController(io, o, async (nc) => {
      const first = await nc.stats(id);
      if (intervalMs === 0) return { sample: first, sensors: undefined };
      await new Promise((r) => setTimeout(r, intervalMs));
      const second = await nc.stats(id);
      return { sample: second, sensors: sensorValues(first, second) };
    });
    if (o.json) return json(io, { ...sample, ...(sensors ? { sensors } : {}) });
    printStats(io, sample, sensors);
  });
};

/** Several instances (or every one): one sample each, twice, with one `virsh domstats` per sample; a table of the sensors. */
async function sweep(io: CliIo, o: CommonOptions, ids: string[], intervalMs: number): Promise<void> {
  const { first, second } = await withController(io, o, async (nc) => {
    const first = await nc.statsAll(ids.length ? ids : undefined);
    if (intervalMs === 0) return { first, second: undefined };
    await new Promise((r) => setTimeout(r, intervalMs));
    return { first, second: await nc.statsAll(first.stats.map((s) => s.id)) };
  });
  const earlier = new Map(first.stats.map((s) => [s.id, s]));
  const rows = (second ?? first).stats.map((s) => {
    const a = earlier.get(s.id);
    return { sample: s, sensors: second && a ? sensorValues(a, s) : undefined };
  });
  const skipped = [...first.skipped, ...(second?.skipped ?? []).filter((x) => !first.skipped.some((y) => y.id === x.id))];
  if (o.json) return json(io, { stats: rows.map((r) => ({ ...r.sample, ...(r.sensors ? { sensors: r.sensors } : {}) })), skipped });
  const num = (v: number | undefined) => (v === undefined ? '-' : v);
  printTable(io, [
    second ? ['ID', 'STATE', 'VCPUS', 'CPU %', 'NET IN', 'NET OUT', 'DISK READ', 'DISK WRITE'] : ['ID', 'STATE', 'VCPUS', 'CPU TIME S', 'MEMORY KiB'],
    ...rows.map(({ sample: s, sensors: v }) =>
      v
        ? [s.id, s.state, s.vcpus, v.CPUUtilization, num(v.NetworkIn), num(v.NetworkOut), num(v.DiskReadBytes), num(v.DiskWriteBytes)]
        : [s.id, s.state, s.vcpus, (s.cpuTimeNs / 1e9).toFixed(3), s.memoryKiB],
    ),
  ]);
  if (second) io.stdout(`(over ${intervalMs} ms; network and disk in bytes)\n`);
  const unavailable = rows.find((r) => r.sample.unavailable)?.sample.unavailable;
  if (unavailable) io.stderr(`domforge: note: ${unavailable}\n`);
  for (const x of skipped) io.stderr(`domforge: ${x.id} skipped: ${x.reason}\n`);
}

function printStats(io: CliIo, s: InstanceStats, sensors: SensorValues | undefined): void {
  io.stdout(`${s.id}: domain ${s.state}, ${s.vcpus} vCPU${s.vcpus === 1 ? '' : 's'}, memory ${s.memoryKiB} of ${s.maxMemoryKiB} KiB, CPU time ${(s.cpuTimeNs / 1e9).toFixed(3)} s\n`);
  if (s.unavailable) io.stderr(`domforge: note: ${s.unavailable}\n`);
  if (sensors) {
    io.stdout(`\nsensors over ${Math.round(sensors.intervalMs)} ms${sensors.countersRestarted ? ' (the domain started again in between: counted from its start)' : ''}:\n`);
    const rows: (string | number)[][] = [['SENSOR', 'UNIT', 'VALUE'], ['CPUUtilization', 'Percent', sensors.CPUUtilization]];
    const add = (name: keyof SensorValues, unit: string) => sensors[name] !== undefined && rows.push([name, unit, sensors[name] as number]);
    add('NetworkIn', 'Bytes');
    add('NetworkOut', 'Bytes');
    add('NetworkPacketsIn', 'Count');
    add('NetworkPacketsOut', 'Count');
    add('DiskReadOps', 'Count');
    add('DiskWriteOps', 'Count');
    add('DiskReadBytes', 'Bytes');
    add('DiskWriteBytes', 'Bytes');
    printTable(io, rows);
  }
  if (s.disks?.length) {
    io.stdout('\n');
    printTable(io, [['DISK', 'READ OPS', 'READ BYTES', 'WRITE OPS', 'WRITE BYTES', 'SOURCE'], ...s.disks.map((d) => [d.name, d.readOps, d.readBytes, d.writeOps, d.writeBytes, d.path ?? '-'])]);
  }
  if (s.interfaces?.length) {
    io.stdout('\n');
    printTable(io, [
      ['INTERFACE', 'RX BYTES', 'RX PACKETS', 'RX ERRORS', 'RX DROPS', 'TX BYTES', 'TX PACKETS', 'TX ERRORS', 'TX DROPS'],
      ...s.interfaces.map((i) => [i.name, i.rxBytes, i.rxPackets, i.rxErrors, i.rxDrops, i.txBytes, i.txPackets, i.txErrors, i.txDrops]),
    ]);
  }
}
