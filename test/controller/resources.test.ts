import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeController, readHugepagePools, type ResourceReport } from '../../engine/controller/index.js';
import { readInstanceFile } from '../../engine/instance/index.js';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { IoError, UsageError } from '../../engine/errors.js';
import { sampleInstance, sandbox, shippedTransform, type Sandbox } from './fixtures.js';
import { lifecycleCli } from './cli-program.js';

let conn: LibvirtConnection;
const sandboxes: Sandbox[] = [];
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
});
test.after(async () => {
  await Promise.all(sandboxes.map((s) => s.cleanup()));
  await closeConnections();
});

/** A controller over an instances folder of its own, on the file's shared test:///default. */
async function controller(): Promise<{ sb: Sandbox; nc: NodeController }> {
  const sb = await sandbox();
  sandboxes.push(sb);
  return { sb, nc: await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), sandbox: false }) };
}

/** Two samples launched at 1 GiB each (the test driver's host has 3 GiB): 01-linux-virtio, and 08 with 2 MiB huge pages. */
async function launchTwo(nc: NodeController): Promise<string[]> {
  const plain = await sampleInstance('01-linux-virtio');
  const huge = await sampleInstance('08-hugepages-page-size');
  const a = await nc.launch({ ...plain, memoryKB: 1048576 });
  const b = await nc.launch({ ...huge, memoryKB: 1048576, cores: 3 });
  return [a.id, b.id].sort();
}

/** `virsh nodeinfo`'s memory (KiB) and CPUs: the oracle of the host figures. */
function virshHost(): { memoryKiB: number; cpus: number } {
  const out = execFileSync('virsh', ['-c', 'test:///default', 'nodeinfo'], { encoding: 'utf8' });
  return { memoryKiB: Number(/^Memory size:\s+(\d+) KiB$/m.exec(out)![1]), cpus: Number(/^CPU\(s\):\s+(\d+)$/m.exec(out)![1]) };
}

/** The sums of the records in the folders, read back from disk. */
async function recordSums(instances: string, ids: string[]): Promise<{ memoryKiB: number; cores: number }> {
  const records = await Promise.all(ids.map((id) => readInstanceFile(join(instances, id, 'instance.xml'))));
  return { memoryKiB: records.reduce((s, r) => s + r.memoryKB, 0), cores: records.reduce((s, r) => s + r.cores, 0) };
}

/** A copy of an instance's record in a folder of its own under a new id, with another state. */
function copyRecord(instances: string, from: string, to: string, state: string, edit: (t: string) => string = (t) => t): void {
  const text = readFileSync(join(instances, from, 'instance.xml'), 'utf8').split(from).join(to).replace('<stateName>Extant</stateName>', `<stateName>${state}</stateName>`);
  mkdirSync(join(instances, to));
  writeFileSync(join(instances, to, 'instance.xml'), edit(text));
}

test("describeResource: the host is libvirt's node; committed memory and vCPUs are the sums of the records; available is the host's minus them", async () => {
  const { sb, nc } = await controller();
  const ids = await launchTwo(nc);
  const r = await nc.describeResource();
  const host = virshHost();
  assert.deepEqual(r.host, await conn.nodeInfo());
  assert.equal(r.host.memoryKiB, host.memoryKiB);
  assert.equal(r.host.cpus, host.cpus);

  const sums = await recordSums(sb.instances, ids);
  assert.deepEqual(sums, { memoryKiB: 2097152, cores: 5 });
  assert.deepEqual(r.memory, { maxKiB: host.memoryKiB, committedKiB: sums.memoryKiB, availableKiB: host.memoryKiB - sums.memoryKiB });
  assert.deepEqual(r.cores, { maxCount: host.cpus, committedCount: sums.cores, availableCount: host.cpus - sums.cores });
  assert.ok(r.memory.availableKiB > 0 && r.cores.availableCount > 0);

  assert.equal(r.uri, 'test:///default');
  assert.equal(r.instancesDir, sb.instances);
  assert.equal(r.instancesDirExists, true);
  assert.deepEqual(r.unreadable, []);
  const [plain, huge] = ids.map((id) => r.instances.find((i) => i.id === id)!);
  assert.deepEqual(r.instances.map((i) => i.id), ids, "only the folder's instances (not the test driver's own domain `test`)");
  assert.deepEqual(plain, { id: plain.id, dir: join(sb.instances, plain.id), state: 'Extant', domain: 'running', mismatched: false, memoryKiB: 1048576, coreCount: 2, hugepages: false });
  assert.deepEqual(huge, { id: huge.id, dir: join(sb.instances, huge.id), state: 'Extant', domain: 'running', mismatched: false, memoryKiB: 1048576, coreCount: 3, hugepages: true, hugepageSizeKiB: 2048 });
  await nc.close();
});

test("the host's running domains without an instance folder are reported apart (untracked), with what they use, and not counted; the CLI prints them", async () => {
  const { sb, nc } = await controller();
  const ids = await launchTwo(nc);
  const r = await nc.describeResource();
  // test:///default runs a domain of its own, `test`, which no folder records.
  const info = await conn.getInfo('test');
  const mine = r.untracked.find((u) => u.name === 'test');
  assert.deepEqual(mine, { name: 'test', uuid: (await conn.lookup('test')).uuid, state: 'running', memoryKiB: info.memoryKiB, vcpus: info.vcpus });
  assert.deepEqual(r.untracked.filter((u) => ids.includes(u.name)), [], "the folder's instances are not among them");
  assert.ok(r.untracked.every((u) => u.state !== 'shutoff'), 'running domains only');
  assert.equal(r.memory.committedKiB, (await recordSums(sb.instances, ids)).memoryKiB, 'and they are not in the committed figures');
  await nc.close();
  const out = await lifecycleCli(['describe-resource'], ['--instances', sb.instances, '--uri', 'test:///default']);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /other domains running on this host, not counted above \(no instance folder\): \d+ KiB, \d+ vCPUs/);
  assert.match(out.stdout, new RegExp(`^test\\s+running\\s+${info.memoryKiB}\\s+${info.vcpus}$`, 'm'));
});

test('every instance folder counts whatever its state and its domain (Staging, Teardown, a stopped domain, none); over-commitment is a negative figure', async () => {
  const { sb, nc } = await controller();
  const ids = await launchTwo(nc);
  await conn.destroy(ids[0]); // a stopped domain: it starts again with the instance
  const staging = `${ids[0]}-s`;
  const teardown = `${ids[0]}-t`;
  copyRecord(sb.instances, ids[0], staging, 'Staging');
  copyRecord(sb.instances, ids[1], teardown, 'Teardown', (t) => t.replace(/<memoryKB>\d+<\/memoryKB>/, '<memoryKB>2097152</memoryKB>').replace(/<cores>\d+<\/cores>/, '<cores>16</cores>'));

  const r = await nc.describeResource();
  const all = [...ids, staging, teardown].sort();
  const sums = await recordSums(sb.instances, all);
  assert.deepEqual(sums, { memoryKiB: 5242880, cores: 23 });
  assert.deepEqual(r.instances.map((i) => [i.id, i.state, i.domain]), [
    [ids[0], 'Extant', 'shutoff'],
    [staging, 'Staging', null],
    [teardown, 'Teardown', null],
    [ids[1], 'Extant', 'running'],
  ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)));
  const host = virshHost();
  assert.deepEqual(r.memory, { maxKiB: host.memoryKiB, committedKiB: 5242880, availableKiB: host.memoryKiB - 5242880 });
  assert.deepEqual(r.cores, { maxCount: host.cpus, committedCount: 23, availableCount: host.cpus - 23 });
  assert.ok(r.memory.availableKiB < 0 && r.cores.availableCount < 0, 'signed, not clamped to 0');
  await nc.close();
});

test('memory sums past 2^53 are exact: a bigint in the report, its digits in the text, a string in JSON; within it, numbers as before', async () => {
  const { sb, nc } = await controller();
  const plain = await sampleInstance('01-linux-virtio');
  const { id } = await nc.launch({ ...plain, memoryKB: 1048576 });
  const max = Number.MAX_SAFE_INTEGER; // 9007199254740991 KiB, the most a record may say
  for (const n of [1, 2, 3]) copyRecord(sb.instances, id, `${id}-${n}`, 'Staging', (t) => t.replace(/<memoryKB>\d+<\/memoryKB>/, `<memoryKB>${max}</memoryKB>`));
  const host = virshHost();
  const committed = 1048576n + 3n * BigInt(max); // 27021597765271549, which a sum of numbers rounds to …548 or …550
  const available = BigInt(host.memoryKiB) - committed;
  const r = await nc.describeResource();
  assert.deepEqual(r.memory, { maxKiB: host.memoryKiB, committedKiB: committed, availableKiB: available });
  assert.ok(r.memory.availableKiB < 0);

  const cli = (...args: string[]) => lifecycleCli(['describe-resource', ...args], ['--instances', sb.instances, '--uri', 'test:///default']);
  const t = await cli();
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, new RegExp(`^memory\\s+KiB\\s+${host.memoryKiB}\\s+${committed}\\s+${available}$`, 'm'));
  assert.ok(t.stdout.includes(`memory is over-committed by ${-available} KiB\n`), t.stdout);
  const j = await cli('--json');
  assert.equal(j.code, 0, j.stderr);
  assert.deepEqual(JSON.parse(j.stdout).memory, { maxKiB: host.memoryKiB, committedKiB: String(committed), availableKiB: String(available) });
  await nc.close();
});

test('a folder whose record cannot be read is reported with its folder and file, not counted; the report goes on', async () => {
  const { sb, nc } = await controller();
  const ids = await launchTwo(nc);
  mkdirSync(join(sb.instances, 'i-damaged'));
  writeFileSync(join(sb.instances, 'i-damaged', 'instance.xml'), '<instance>\n  <name>i-damaged</name>\n  <cores>');
  mkdirSync(join(sb.instances, 'i-norecord'));
  const r = await nc.describeResource();
  assert.deepEqual(r.instances.map((i) => i.id), ids);
  assert.deepEqual(await recordSums(sb.instances, ids), { memoryKiB: r.memory.committedKiB, cores: r.cores.committedCount });
  assert.deepEqual(r.unreadable.map((u) => [u.id, u.dir, u.error.code, u.error.file]), [
    ['i-damaged', join(sb.instances, 'i-damaged'), 'XML_SYNTAX', join(sb.instances, 'i-damaged', 'instance.xml')],
    ['i-norecord', join(sb.instances, 'i-norecord'), 'STATE_CONFLICT', join(sb.instances, 'i-norecord', 'instance.xml')],
  ]);
  assert.match(r.unreadable[0].error.message, /i-damaged\/instance\.xml:3:/);
  assert.match(r.unreadable[1].error.message, /the folder of i-norecord has no instance\.xml/);
  await nc.close();
});

/** `df -B1 --output=size,avail DIR`: total and available bytes. */
function df(dir: string): { size: number; avail: number } {
  const [size, avail] = execFileSync('df', ['-B1', '--output=size,avail', dir], { encoding: 'utf8' }).trim().split('\n')[1].trim().split(/\s+/).map(Number);
  return { size, avail };
}

/** Available bytes move as other processes write: the report's must lie between df's just before and just after. */
function assertDisk(disk: ResourceReport['disk'], before: { size: number; avail: number }, after: { size: number; avail: number }): void {
  assert.equal(disk.maxBytes, before.size);
  assert.equal(disk.maxBytes, after.size);
  assert.ok(disk.availableBytes >= Math.min(before.avail, after.avail) && disk.availableBytes <= Math.max(before.avail, after.avail), `${disk.availableBytes} not between df's ${before.avail} and ${after.avail}`);
}

test("disk figures are df's (and stat -f's) of the instances folder's file system", async () => {
  const { sb, nc } = await controller();
  const before = df(sb.instances);
  const r = await nc.describeResource();
  const after = df(sb.instances);
  assert.equal(r.disk.path, sb.instances);
  assertDisk(r.disk, before, after);
  const [blockSize, blocks] = execFileSync('stat', ['-f', '-c', '%S %b', sb.instances], { encoding: 'utf8' }).trim().split(' ').map(Number);
  assert.equal(r.disk.maxBytes, blockSize * blocks);
  await nc.close();
});

test('a missing instances folder holds nothing, is measured where it would be created, and is not created', async () => {
  const sb = await sandbox();
  sandboxes.push(sb);
  const missing = join(sb.root, 'not', 'yet', 'instances');
  const nc = await NodeController.open({ instancesDir: missing, connection: conn, createInstancesDir: false });
  const before = df(sb.root);
  const r = await nc.describeResource();
  const after = df(sb.root);
  assert.equal(r.instancesDirExists, false);
  assert.equal(r.instancesDir, missing);
  assert.equal(r.disk.path, sb.root);
  assertDisk(r.disk, before, after);
  assert.deepEqual(r.instances, []);
  assert.deepEqual(r.unreadable, []);
  assert.deepEqual(r.memory, { maxKiB: r.host.memoryKiB, committedKiB: 0, availableKiB: r.host.memoryKiB });
  assert.deepEqual(r.cores, { maxCount: r.host.cpus, committedCount: 0, availableCount: r.host.cpus });
  assert.equal(existsSync(join(sb.root, 'not')), false);
  await nc.close();
});

/** The host's pools as the shell reads /sys/kernel/mm/hugepages: the oracle. */
function sysfsPools(): { pageSizeKiB: number; totalCount: number; freeCount: number; reservedCount: number }[] {
  const script = 'cd /sys/kernel/mm/hugepages 2>/dev/null || exit 0; for d in hugepages-*kB; do [ -d "$d" ] && echo "${d#hugepages-} $(cat $d/nr_hugepages) $(cat $d/free_hugepages) $(cat $d/resv_hugepages)"; done; true';
  const out = execFileSync('sh', ['-c', script], { encoding: 'utf8' }).trim();
  if (!out) return [];
  return out
    .split('\n')
    .map((l) => l.split(' '))
    .map(([size, total, free, resv]) => ({ pageSizeKiB: parseInt(size, 10), totalCount: Number(total), freeCount: Number(free), reservedCount: Number(resv), nodes: sysfsNodePools(size!) }))
    .sort((a, b) => a.pageSizeKiB - b.pageSizeKiB);
}

/** The oracle of a pool's NUMA nodes: /sys/devices/system/node/nodeN/hugepages/hugepages-SIZE, read by the shell. */
function sysfsNodePools(size: string): { node: number; totalCount: number; freeCount: number }[] {
  const script = `cd /sys/devices/system/node 2>/dev/null || exit 0; for n in node*; do d="$n/hugepages/hugepages-${size}"; [ -d "$d" ] && echo "\${n#node} $(cat $d/nr_hugepages) $(cat $d/free_hugepages)"; done; true`;
  const out = execFileSync('sh', ['-c', script], { encoding: 'utf8' }).trim();
  if (!out) return [];
  return out
    .split('\n')
    .map((l) => l.split(' ').map(Number))
    .map(([node, total, free]) => ({ node: node!, totalCount: total!, freeCount: free! }))
    .sort((a, b) => a.node - b.node);
}

test("huge pages: the host's pools are /sys/kernel/mm/hugepages's (none on a host without them)", async () => {
  const { nc } = await controller();
  const r = await nc.describeResource();
  assert.deepEqual(r.hugepages, sysfsPools());
  const none = await nc.describeResource({ hugepagesDir: join(tmpdir(), `domforge-no-hugepages-${process.pid}`) });
  assert.deepEqual(none.hugepages, []);
  await nc.close();
});

test('huge pages from a fake sysfs tree: two sizes, smallest first; other entries skipped; a bad count names its file', async () => {
  const root = await mkdtemp(join(tmpdir(), 'domforge-hugepages-'));
  try {
    const pool = (name: string, files: Record<string, string>) => {
      mkdirSync(join(root, name));
      for (const [f, v] of Object.entries(files)) writeFileSync(join(root, name, f), v);
    };
    pool('hugepages-1048576kB', { nr_hugepages: '4\n', free_hugepages: '3\n', resv_hugepages: '1\n', surplus_hugepages: '0\n' });
    pool('hugepages-2048kB', { nr_hugepages: '512\n', free_hugepages: '100\n', resv_hugepages: '0\n' });
    pool('not-a-pool', { nr_hugepages: 'x' });
    writeFileSync(join(root, 'hugepages-64kB'), 'a file, not a pool folder');
    const expected = [
      { pageSizeKiB: 2048, totalCount: 512, freeCount: 100, reservedCount: 0, nodes: [] },
      { pageSizeKiB: 1048576, totalCount: 4, freeCount: 3, reservedCount: 1, nodes: [] },
    ];
    const { nc } = await controller();
    assert.deepEqual((await nc.describeResource({ hugepagesDir: root })).hugepages, expected, 'a pools folder of its own reads none of the host’s nodes');

    // Two NUMA nodes; node 1 has memory for 2 MiB pages only, node 10 sorts after node 2.
    const nodes = join(root, 'nodes');
    const nodePool = (node: string, size: string, total: string, free: string) => {
      mkdirSync(join(nodes, node, 'hugepages', `hugepages-${size}kB`), { recursive: true });
      writeFileSync(join(nodes, node, 'hugepages', `hugepages-${size}kB`, 'nr_hugepages'), `${total}\n`);
      writeFileSync(join(nodes, node, 'hugepages', `hugepages-${size}kB`, 'free_hugepages'), `${free}\n`);
    };
    nodePool('node0', '2048', '256', '40');
    nodePool('node0', '1048576', '4', '3');
    nodePool('node10', '2048', '0', '0');
    nodePool('node1', '2048', '256', '60');
    mkdirSync(join(nodes, 'power'));
    writeFileSync(join(nodes, 'possible'), '0-1\n');
    const withNodes = await nc.describeResource({ hugepagesDir: root, numaNodesDir: nodes });
    assert.deepEqual(
      withNodes.hugepages.map((p) => [p.pageSizeKiB, p.nodes]),
      [
        [2048, [{ node: 0, totalCount: 256, freeCount: 40 }, { node: 1, totalCount: 256, freeCount: 60 }, { node: 10, totalCount: 0, freeCount: 0 }]],
        [1048576, [{ node: 0, totalCount: 4, freeCount: 3 }]],
      ],
    );
    writeFileSync(join(nodes, 'node1', 'hugepages', 'hugepages-2048kB', 'free_hugepages'), '-1\n');
    await assert.rejects(nc.describeResource({ hugepagesDir: root, numaNodesDir: nodes }), (e: unknown) => e instanceof IoError && e.file === join(nodes, 'node1', 'hugepages', 'hugepages-2048kB', 'free_hugepages'));
    await nc.close();

    writeFileSync(join(root, 'hugepages-2048kB', 'free_hugepages'), 'many\n');
    await assert.rejects(readHugepagePools(root), (e: unknown) => {
      assert.ok(e instanceof IoError);
      assert.equal(e.file, join(root, 'hugepages-2048kB', 'free_hugepages'));
      assert.match(e.message, /expected a whole number of huge pages, got "many"/);
      return true;
    });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('bad options are usage errors; a closed controller refuses', async () => {
  const { nc } = await controller();
  for (const hugepagesDir of ['', 7]) {
    await assert.rejects(nc.describeResource({ hugepagesDir } as never), (e: unknown) => e instanceof UsageError && /Expected `hugepagesDir` to be a non-empty string/.test(e.message));
  }
  await assert.rejects(nc.describeResource({ numaNodesDir: '' }), (e: unknown) => e instanceof UsageError && /Expected `numaNodesDir` to be a non-empty string/.test(e.message));
  await nc.close();
  await assert.rejects(nc.describeResource(), (e: unknown) => e instanceof UsageError && /closed/.test(e.message));
});
