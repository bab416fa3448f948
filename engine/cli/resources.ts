import { dirname } from 'node:path';
import { exactSum, type ResourceReport } from '../controller/resources.js';
import { UsageError } from '../errors.js';
import { printTable, type CliIo } from './io.js';
import type { RegisterCommand } from './commands.js';
import { common, json, MISMATCHED, withController, type CommonOptions } from './lifecycle.js';

/**
 * domforge describe-resource (alias `resources`): what a Eucalyptus NC answers to
 * ncDescribeResource — the host's memory, cores and disk, what the instance folders commit,
 * and what is left (negative when over-committed) — as a table, or the report as JSON.
 */
export const registerResources: RegisterCommand = (program, io) => {
  common(
    program
      .command('describe-resource')
      .alias('resources')
      .description(
        "Show the host's memory, cores and disk (as libvirt and the instances folder's file system report them), what every instance folder commits of them whatever its state, what is left (negative when over-committed), and the huge page pools.",
      ),
  ).action(async (o: CommonOptions) => {
    const r = await withController(io, o, (nc) => nc.describeResource());
    if (o.json) return json(io, r);
    printReport(io, r);
  });

  common(
    program
      .command('node')
      .description(
        "Show or change whether this node takes new instances (Eucalyptus's ModifyNode): `disable` refuses every launch and start — also a controller already running on the same instances folder — until `enable`; what runs keeps running. Recorded in INSTANCES/nc_state.xml.",
      )
      .argument('[action]', 'status (default), enable or disable', 'status'),
  ).action(async (action: string, o: CommonOptions) => {
    if (action !== 'status' && action !== 'enable' && action !== 'disable') {
      throw new UsageError(`Expected the action to be status, enable or disable, got ${JSON.stringify(action)}`);
    }
    if (action === 'status') {
      const state = await withController(io, o, (nc) => nc.nodeState());
      if (o.json) return json(io, state);
      const where = state.recorded ? `recorded in ${state.file}${state.version ? ` by ${state.version}` : ''}` : `no ${state.file}: enabled by default`;
      io.stdout(`node ${state.enabled ? 'enabled' : 'disabled: launch and start are refused'} (${where})\n`);
      return;
    }
    const state = await withController(io, o, (nc) => nc.modifyNode(action === 'enable' ? 'enabled' : 'disabled'));
    if (o.json) return json(io, state);
    if (state.createdFolder) io.stderr(`domforge: note: created the instances folder ${dirname(state.file)} to hold the node's state\n`);
    io.stdout(state.enabled ? `node enabled (${state.file})\n` : `node disabled: launch and start are refused until \`domforge node enable\` (${state.file})\n`);
  });
};

/** The report as describe-resource prints it (exported for tests). */
export function printReport(io: CliIo, r: ResourceReport): void {
  const h = r.host;
  io.stdout(`node: ${r.nodeStatus}${r.nodeStatus === 'disabled' ? ' (launch and start are refused: domforge node enable)' : ''}\n`);
  io.stdout(
    `host: ${h.cpus} CPUs (${h.nodes} NUMA nodes × ${h.socketsPerNode} sockets × ${h.coresPerSocket} cores × ${h.threadsPerCore} threads, ${h.model}, ${h.mhz} MHz), ${h.memoryKiB} KiB memory, from ${r.uri}\n`,
  );
  const counted = `${r.instances.length} instance${r.instances.length === 1 ? '' : 's'} counted${r.unreadable.length ? `, ${r.unreadable.length} not counted (unreadable)` : ''}`;
  io.stdout(`instances folder: ${r.instancesDir}: ${r.instancesDirExists ? counted : 'does not exist, nothing committed'}\n\n`);
  if (!r.instancesDirExists) io.stderr(`domforge: note: the instances folder ${r.instancesDir} does not exist: the disk figures are those of ${r.disk.path}, where it would be created\n`);

  printTable(io, [
    ['RESOURCE', 'UNIT', 'MAX', 'COMMITTED', 'AVAILABLE'],
    ['memory', 'KiB', r.memory.maxKiB, r.memory.committedKiB, r.memory.availableKiB],
    ['cores', 'count', r.cores.maxCount, r.cores.committedCount, r.cores.availableCount],
    ['disk', 'bytes', r.disk.maxBytes, '-', r.disk.availableBytes],
  ]);
  if (r.memory.availableKiB < 0) io.stdout(`memory is over-committed by ${-r.memory.availableKiB} KiB\n`);
  if (r.cores.availableCount < 0) io.stdout(`cores are over-committed by ${-r.cores.availableCount} vCPUs\n`);

  io.stdout('\n');
  if (r.hugepages.length === 0) io.stdout('huge pages: none on this host\n');
  else printTable(io, [['HUGE PAGE KiB', 'TOTAL', 'FREE', 'RESERVED'], ...r.hugepages.map((p) => [p.pageSizeKiB, p.totalCount, p.freeCount, p.reservedCount])]);
  // On a host of several NUMA nodes, where the pages are: a guest pinned to nodes fits only where they are free.
  if (r.hugepages.some((p) => p.nodes.length > 1)) {
    io.stdout('\n');
    printTable(io, [['HUGE PAGE KiB', 'NUMA NODE', 'TOTAL', 'FREE'], ...r.hugepages.flatMap((p) => p.nodes.map((n) => [p.pageSizeKiB, n.node, n.totalCount, n.freeCount]))]);
  }

  if (r.instances.length) {
    io.stdout('\n');
    printTable(io, [
      ['ID', 'RECORD', 'DOMAIN', 'MEMORY KiB', 'CORES', 'HUGE PAGES'],
      ...r.instances.map((i) => [i.id, i.state || '-', i.domain ? `${i.domain}${i.mismatched ? MISMATCHED : ''}` : '-', i.memoryKiB, i.coreCount, i.hugepages ? (i.hugepageSizeKiB === undefined ? 'default size' : `${i.hugepageSizeKiB} KiB`) : '-']),
    ]);
  }
  if (r.untracked.length) {
    const memory = exactSum(r.untracked.map((u) => u.memoryKiB));
    const vcpus = r.untracked.reduce((n, u) => n + u.vcpus, 0);
    io.stdout(`\nother domains running on this host, not counted above (no instance folder): ${memory} KiB, ${vcpus} vCPUs\n`);
    printTable(io, [['DOMAIN', 'STATE', 'MEMORY KiB', 'VCPUS'], ...r.untracked.map((u) => [u.name, u.state, u.memoryKiB, u.vcpus])]);
  }
  for (const u of r.unreadable) io.stderr(`domforge: warning: ${u.id} not counted (${u.dir}): ${u.error.message}\n`);
}
