import type { RegisterCommand } from './commands.js';
import { checkInstanceId } from '../controller/layout.js';
import { sensorValues, type SensorValues } from '../libvirt/domstats.js';
import type { InstanceStats } from '../controller/inspect.js';
import { UsageError } from '../errors.js';
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
      .argument('<id>', 'instance id')
      .option('--interval <ms>', `time between the two samples (default ${DEFAULT_STATS_INTERVAL_MS}; 0 takes one sample, counters only)`),
  ).action(async (id: string, o: CommonOptions & { interval?: string }) => {
    checkInstanceId(id);
    const intervalMs = o.interval === undefined ? DEFAULT_STATS_INTERVAL_MS : integerFlag('--interval', o.interval, 0, 'ms');
    if (intervalMs > MAX_STATS_INTERVAL_MS) throw new UsageError(`Expected \`--interval\` to be at most ${MAX_STATS_INTERVAL_MS} ms (an hour), got ${intervalMs}`);
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
