import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeController } from '../../engine/controller/index.js';
import { readInstanceFile } from '../../engine/instance/index.js';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { lifecycleCli } from './cli-program.js';
import { printReport } from '../../engine/cli/resources.js';
import { XSL, sampleInstance, sandbox, shippedTransform, type Sandbox } from './fixtures.js';

let conn: LibvirtConnection;
const sandboxes: Sandbox[] = [];
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
});
test.after(async () => {
  await Promise.all(sandboxes.map((s) => s.cleanup()));
  await closeConnections();
});

/**
 * An instances folder with two samples launched in this process (test:///default lives in
 * it, and the CLI run in-process shares its connection): 01-linux-virtio (2 GiB, 2 vCPUs) and
 * 08-hugepages-page-size (4 GiB, 2 vCPUs, 2 MiB pages), 6 GiB on the test driver's 3 GiB host.
 */
async function twoLaunched(): Promise<{ sb: Sandbox; ids: string[] }> {
  const sb = await sandbox();
  sandboxes.push(sb);
  const nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), sandbox: false });
  const ids = [(await nc.launch(await sampleInstance('01-linux-virtio'))).id, (await nc.launch(await sampleInstance('08-hugepages-page-size'))).id].sort();
  await nc.close();
  return { sb, ids };
}

const cli = (instances: string, ...args: string[]) => lifecycleCli(args, ['--instances', instances, '--uri', 'test:///default', '--transform', XSL]);

/** The oracles: `virsh nodeinfo`, the records on disk, `df`, /sys/kernel/mm/hugepages. */
function virshHost(): { memoryKiB: number; cpus: number } {
  const out = execFileSync('virsh', ['-c', 'test:///default', 'nodeinfo'], { encoding: 'utf8' });
  return { memoryKiB: Number(/^Memory size:\s+(\d+) KiB$/m.exec(out)![1]), cpus: Number(/^CPU\(s\):\s+(\d+)$/m.exec(out)![1]) };
}
async function recordSums(instances: string, ids: string[]): Promise<{ memoryKiB: number; cores: number }> {
  const records = await Promise.all(ids.map((id) => readInstanceFile(join(instances, id, 'instance.xml'))));
  return { memoryKiB: records.reduce((s, r) => s + r.memoryKB, 0), cores: records.reduce((s, r) => s + r.cores, 0) };
}
function dfSize(dir: string): number {
  return Number(execFileSync('df', ['-B1', '--output=size', dir], { encoding: 'utf8' }).trim().split('\n')[1].trim());
}
function sysfsPools(): string[] {
  const script = 'cd /sys/kernel/mm/hugepages 2>/dev/null || exit 0; for d in hugepages-*kB; do [ -d "$d" ] && echo "${d#hugepages-} $(cat $d/nr_hugepages) $(cat $d/free_hugepages) $(cat $d/resv_hugepages)"; done; true';
  const out = execFileSync('sh', ['-c', script], { encoding: 'utf8' }).trim();
  return out ? out.split('\n').sort((a, b) => parseInt(a, 10) - parseInt(b, 10)).map((l) => l.replace(/^(\d+)kB/, '$1')) : [];
}

/** The cells of the table line that starts with `first` (whitespace-separated). */
function row(stdout: string, first: string): string[] {
  const line = stdout.split('\n').find((l) => l.split(/\s+/)[0] === first);
  assert.ok(line, `no line for ${first} in:\n${stdout}`);
  return line.trim().split(/\s+/);
}

test('describe-resource prints the host, a table of max / committed / available (signed, over-commitment said), huge pages and the instances counted', async () => {
  const { sb, ids } = await twoLaunched();
  const r = await cli(sb.instances, 'describe-resource');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const host = virshHost();
  const sums = await recordSums(sb.instances, ids);
  assert.deepEqual(sums, { memoryKiB: 6291456, cores: 4 });
  assert.match(r.stdout, new RegExp(`^host: ${host.cpus} CPUs \\(.*\\), ${host.memoryKiB} KiB memory, from test:///default$`, 'm'));
  assert.match(r.stdout, new RegExp(`^instances folder: ${sb.instances}: 2 instances counted$`, 'm'));
  assert.deepEqual(row(r.stdout, 'RESOURCE'), ['RESOURCE', 'UNIT', 'MAX', 'COMMITTED', 'AVAILABLE']);
  assert.deepEqual(row(r.stdout, 'memory'), ['memory', 'KiB', `${host.memoryKiB}`, `${sums.memoryKiB}`, `${host.memoryKiB - sums.memoryKiB}`]);
  assert.deepEqual(row(r.stdout, 'cores'), ['cores', 'count', `${host.cpus}`, `${sums.cores}`, `${host.cpus - sums.cores}`]);
  const disk = row(r.stdout, 'disk');
  assert.deepEqual(disk.slice(0, 4), ['disk', 'bytes', `${dfSize(sb.instances)}`, '-']);
  assert.match(disk[4], /^\d+$/);
  assert.match(r.stdout, new RegExp(`^memory is over-committed by ${sums.memoryKiB - host.memoryKiB} KiB$`, 'm'));
  assert.doesNotMatch(r.stdout, /cores are over-committed/);

  const pools = sysfsPools();
  if (pools.length === 0) assert.match(r.stdout, /^huge pages: none on this host$/m);
  else for (const p of pools) assert.deepEqual(row(r.stdout, p.split(' ')[0]), p.split(' '));

  assert.deepEqual(row(r.stdout, 'ID'), ['ID', 'RECORD', 'DOMAIN', 'MEMORY', 'KiB', 'CORES', 'HUGE', 'PAGES']);
  assert.deepEqual(row(r.stdout, ids[0]), [ids[0], 'Extant', 'running', '2097152', '2', '-']);
  assert.deepEqual(row(r.stdout, ids[1]), [ids[1], 'Extant', 'running', '4194304', '2', '2048', 'KiB']);

  const alias = await cli(sb.instances, 'resources');
  assert.equal(alias.code, 0, alias.stderr);
  assert.deepEqual(row(alias.stdout, 'memory'), row(r.stdout, 'memory'));
});

test('describe-resource --json is the library report; an unreadable folder is named, on stderr in text, not counted', async () => {
  const { sb, ids } = await twoLaunched();
  mkdirSync(join(sb.instances, 'i-damaged'));
  writeFileSync(join(sb.instances, 'i-damaged', 'instance.xml'), '<instance>\n  <name>i-damaged</name>\n  <cores>');
  const r = await cli(sb.instances, 'describe-resource', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const j = JSON.parse(r.stdout);
  const nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, createInstancesDir: false });
  const lib = await nc.describeResource();
  await nc.close();
  for (const k of ['uri', 'instancesDir', 'instancesDirExists', 'host', 'memory', 'cores', 'hugepages', 'instances'] as const) assert.deepEqual(j[k], lib[k], k);
  assert.equal(j.disk.path, sb.instances);
  assert.equal(j.disk.maxBytes, dfSize(sb.instances));
  assert.equal(typeof j.disk.availableBytes, 'number');
  assert.deepEqual(j.instances.map((i: { id: string }) => i.id), ids);
  const sums = await recordSums(sb.instances, ids);
  assert.equal(j.memory.committedKiB, sums.memoryKiB);
  assert.equal(j.cores.committedCount, sums.cores);
  assert.equal(j.unreadable.length, 1);
  assert.equal(j.unreadable[0].id, 'i-damaged');
  assert.equal(j.unreadable[0].dir, join(sb.instances, 'i-damaged'));
  assert.equal(j.unreadable[0].error.code, 'XML_SYNTAX');
  assert.equal(j.unreadable[0].error.file, join(sb.instances, 'i-damaged', 'instance.xml'));

  const t = await cli(sb.instances, 'describe-resource');
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /: 2 instances counted, 1 not counted \(unreadable\)$/m);
  assert.match(t.stderr, new RegExp(`^domforge: warning: i-damaged not counted \\(${join(sb.instances, 'i-damaged')}\\): ${join(sb.instances, 'i-damaged', 'instance.xml')}:3:`, 'm'));
  assert.equal(row(t.stdout, 'memory')[3], `${sums.memoryKiB}`);
});

test('describe-resource on a missing instances folder: nothing committed, the folder not created, a note saying where the disk was measured', async () => {
  const sb = await sandbox();
  sandboxes.push(sb);
  const missing = join(sb.root, 'nowhere', 'instances');
  const host = virshHost();
  const t = await cli(missing, 'describe-resource');
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, new RegExp(`^instances folder: ${missing}: does not exist, nothing committed$`, 'm'));
  assert.deepEqual(row(t.stdout, 'memory'), ['memory', 'KiB', `${host.memoryKiB}`, '0', `${host.memoryKiB}`]);
  assert.deepEqual(row(t.stdout, 'cores'), ['cores', 'count', `${host.cpus}`, '0', `${host.cpus}`]);
  assert.equal(row(t.stdout, 'disk')[2], `${dfSize(sb.root)}`);
  assert.equal(t.stderr, `domforge: note: the instances folder ${missing} does not exist: the disk figures are those of ${sb.root}, where it would be created\n`);
  assert.doesNotMatch(t.stdout, /^ID\s/m);
  const j = await cli(missing, 'describe-resource', '--json');
  assert.equal(j.code, 0, j.stderr);
  const report = JSON.parse(j.stdout);
  assert.equal(report.instancesDirExists, false);
  assert.deepEqual(report.instances, []);
  assert.deepEqual(report.memory, { maxKiB: host.memoryKiB, committedKiB: 0, availableKiB: host.memoryKiB });
  assert.deepEqual(report.cores, { maxCount: host.cpus, committedCount: 0, availableCount: host.cpus });
  assert.equal(existsSync(join(sb.root, 'nowhere')), false);
});

test('describe-resource: an extra argument, an unknown or empty option, a bad --hook-timeout are usage errors (exit 2), as JSON under --json', async () => {
  const sb = await sandbox();
  sandboxes.push(sb);
  const never = join(sb.root, 'never');
  const extra = await cli(never, 'describe-resource', 'i-1');
  assert.equal(extra.code, 2);
  assert.match(extra.stderr, /too many arguments for 'describe-resource'/);
  const unknown = await cli(never, 'describe-resource', '--bogus', '--json');
  assert.equal(unknown.code, 2);
  assert.deepEqual(JSON.parse(unknown.stderr), { error: { code: 'USAGE', message: "unknown option '--bogus'" } });
  const empty = await lifecycleCli(['describe-resource', '--instances', ''], ['--uri', 'test:///default']);
  assert.equal(empty.code, 2);
  assert.equal(empty.stderr, 'domforge: --instances must not be empty\n');
  const timeout = await cli(never, 'resources', '--hook-timeout', '1e3');
  assert.equal(timeout.code, 2);
  assert.equal(timeout.stderr, 'domforge: Expected `--hook-timeout` to be a non-negative integer (ms), got "1e3"\n');
  assert.equal(existsSync(never), false);
});

test('describe-resource on a host of several NUMA nodes prints where the huge pages are, node by node; on one node it does not', async () => {
  const { sb } = await twoLaunched();
  const nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, createInstancesDir: false });
  const report = await nc.describeResource();
  await nc.close();
  const printed = (r: typeof report) => {
    let out = '';
    printReport({ stdout: (t) => void (out += String(t)), stderr: () => undefined }, r);
    return out;
  };
  const pools = [
    { pageSizeKiB: 2048, totalCount: 512, freeCount: 100, reservedCount: 0, nodes: [{ node: 0, totalCount: 256, freeCount: 40 }, { node: 1, totalCount: 256, freeCount: 60 }] },
    { pageSizeKiB: 1048576, totalCount: 4, freeCount: 3, reservedCount: 1, nodes: [{ node: 0, totalCount: 4, freeCount: 3 }] },
  ];
  const two = printed({ ...report, hugepages: pools });
  const lines = two.split('\n');
  const head = lines.findIndex((l) => /^HUGE PAGE KiB\s+NUMA NODE\s+TOTAL\s+FREE$/.test(l));
  assert.ok(head > 0, two);
  assert.deepEqual(lines.slice(head + 1, head + 4).map((l) => l.trim().split(/\s+/)), [['2048', '0', '256', '40'], ['2048', '1', '256', '60'], ['1048576', '0', '4', '3']]);
  const one = printed({ ...report, hugepages: pools.map((p) => ({ ...p, nodes: p.nodes.slice(0, 1) })) });
  assert.doesNotMatch(one, /NUMA NODE/);
  assert.match(one, /^HUGE PAGE KiB\s+TOTAL\s+FREE\s+RESERVED$/m);
});
