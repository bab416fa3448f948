import { test } from 'node:test';
import assert from 'node:assert/strict';
import { devicesOfDomstats, parseDomstats, sensorValues, type DomainStats } from '../../engine/libvirt/domstats.js';
import { closeConnections, connect } from '../../engine/libvirt/index.js';
import { DomforgeError } from '../../engine/errors.js';

test.after(() => closeConnections());

// `virsh domstats --raw --block --interface` output, in the keys libvirt documents for its
// bulk stats (virConnectGetAllDomainStats: block.N.*, net.N.*), for a guest with two disks
// (one with no source) and one interface.
const RAW = `Domain: 'i-12345678'
  block.count=2
  block.0.name=vda
  block.0.path=/var/lib/domforge/instances/i-12345678/root.img
  block.0.backingIndex=1
  block.0.rd.reqs=1510
  block.0.rd.bytes=43991040
  block.0.rd.times=922306611
  block.0.wr.reqs=37
  block.0.wr.bytes=151552
  block.0.wr.times=67116640
  block.0.fl.reqs=12
  block.0.allocation=0
  block.0.capacity=17179869184
  block.1.name=hdd
  block.1.rd.reqs=64
  block.1.rd.bytes=264192
  net.count=1
  net.0.name=vnet7
  net.0.rx.bytes=10526
  net.0.rx.pkts=120
  net.0.rx.errs=0
  net.0.rx.drop=3
  net.0.tx.bytes=2940
  net.0.tx.pkts=42
  net.0.tx.errs=0
  net.0.tx.drop=0

`;

test('virsh domstats --raw: disks and interfaces with their counters; a counter libvirt leaves out is 0', () => {
  const { disks, interfaces } = devicesOfDomstats(parseDomstats(RAW));
  assert.deepEqual(disks, [
    { name: 'vda', path: '/var/lib/domforge/instances/i-12345678/root.img', readOps: 1510, readBytes: 43991040, writeOps: 37, writeBytes: 151552 },
    { name: 'hdd', readOps: 64, readBytes: 264192, writeOps: 0, writeBytes: 0 },
  ]);
  assert.deepEqual(interfaces, [{ name: 'vnet7', rxBytes: 10526, rxPackets: 120, rxErrors: 0, rxDrops: 3, txBytes: 2940, txPackets: 42, txErrors: 0, txDrops: 0 }]);
  // An inactive domain: the state only.
  assert.deepEqual(devicesOfDomstats(parseDomstats("Domain: 'x'\n  state.state=5\n  state.reason=1\n")), { disks: [], interfaces: [] });
});

const sample = (at: number, cpuS: number, o: Partial<DomainStats> = {}): DomainStats => ({
  takenAtMs: at,
  state: 'running',
  cpuTimeNs: cpuS * 1e9,
  vcpus: 2,
  memoryKiB: 1024,
  maxMemoryKiB: 1024,
  ...o,
});
const disk = (name: string, r: number, rb: number, w: number, wb: number) => ({ name, readOps: r, readBytes: rb, writeOps: w, writeBytes: wb });
const nic = (name: string, rx: number, rxp: number, tx: number, txp: number) => ({ name, rxBytes: rx, rxPackets: rxp, rxErrors: 0, rxDrops: 0, txBytes: tx, txPackets: txp, txErrors: 0, txDrops: 0 });

test('sensor values over an interval: CPU as a percent of the vCPUs, network and disk as the sums of the devices\' increments', () => {
  const a = sample(1_000, 10, { disks: [disk('vda', 100, 4096, 10, 512)], interfaces: [nic('vnet0', 1000, 10, 500, 5)] });
  const b = sample(3_000, 11, {
    disks: [disk('vda', 150, 8192, 10, 512), disk('vdf', 7, 700, 1, 100)], // vdf attached in between: counted from zero
    interfaces: [nic('vnet0', 1600, 16, 900, 9)],
  });
  assert.deepEqual(sensorValues(a, b), {
    intervalMs: 2_000,
    // 1 s of CPU over 2 s on 2 vCPUs
    CPUUtilization: 25,
    NetworkIn: 600,
    NetworkOut: 400,
    NetworkPacketsIn: 6,
    NetworkPacketsOut: 4,
    DiskReadOps: 57,
    DiskWriteOps: 1,
    DiskReadBytes: 4796,
    DiskWriteBytes: 100,
    countersRestarted: false,
  });
  // The domain started again between the samples: its counters fell, and count from its start.
  const c = sample(4_000, 0.5, { disks: [disk('vda', 20, 2048, 1, 512)], interfaces: [nic('vnet1', 10, 1, 20, 2)] });
  const r = sensorValues(b, c);
  assert.equal(r.countersRestarted, true);
  assert.equal(r.CPUUtilization, 25);
  assert.deepEqual([r.DiskReadOps, r.NetworkIn], [20, 10]);
  // Without device counters (a test:// URI), only the CPU.
  assert.deepEqual(Object.keys(sensorValues(sample(0, 0), sample(1000, 0.5))), ['intervalMs', 'CPUUtilization', 'countersRestarted']);
  assert.throws(() => sensorValues(b, a), (e: DomforgeError) => e.code === 'USAGE' && /later than the first/.test(e.message));
});

test('LibvirtConnection.stats on test:///default: CPU time, vCPUs and memory from getInfo; no device counters, and why', async () => {
  const conn = await connect({ uri: 'test:///default' });
  const before = Date.now();
  const s = await conn.stats('test');
  assert.ok(s.takenAtMs >= before - 1 && s.takenAtMs <= Date.now() + 1);
  const info = await conn.getInfo('test');
  assert.deepEqual([s.state, s.vcpus, s.memoryKiB, s.maxMemoryKiB], [info.state, info.vcpus, info.memoryKiB, info.maxMemoryKiB]);
  assert.ok(s.cpuTimeNs > 0);
  assert.equal(s.disks, undefined);
  assert.equal(s.interfaces, undefined);
  assert.match(s.unavailable ?? '', /not available on test:\/\/\/default: its domains live in this process/);
  await assert.rejects(conn.stats('no-such-domain'), (e: DomforgeError) => e.code === 'LIBVIRT_ERROR');
});

test('without virsh, a daemon URI still gives the binding\'s counters, and says why the devices are missing', async () => {
  const { readDeviceStats } = await import('../../engine/libvirt/domstats.js');
  const r = await readDeviceStats({ uri: 'qemu:///system', domain: 'i-12345678', virsh: '/nonexistent/virsh' });
  assert.ok('unavailable' in r);
  assert.match(r.unavailable, /virsh \(\/nonexistent\/virsh\) is needed to read disk and interface counters on qemu:\/\/\/system: install libvirt-clients/);
});

test('virsh domstats for several domains: each one\'s devices, by name, from one process', async () => {
  const { parseDomstatsByDomain, readDevicesOfDomains } = await import('../../engine/libvirt/domstats.js');
  const two = `${RAW}Domain: 'i-87654321'\n  block.count=1\n  block.0.name=vda\n  block.0.rd.reqs=5\n  block.0.rd.bytes=2048\n  net.count=0\n\n`;
  const parsed = parseDomstatsByDomain(two);
  assert.deepEqual([...parsed.keys()], ['i-12345678', 'i-87654321']);
  assert.equal(parsed.get('i-87654321')!.get('block.0.rd.bytes'), '2048');
  assert.equal(parsed.get('i-12345678')!.get('net.0.name'), 'vnet7');

  // A stand-in virsh that answers with that text and records how it was called.
  const { mkdtempSync, writeFileSync, chmodSync, readFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'domforge-domstats-'));
  try {
    writeFileSync(join(dir, 'out.txt'), two);
    const virsh = join(dir, 'virsh');
    writeFileSync(virsh, `#!/bin/sh\necho "$@" >> '${join(dir, 'calls')}'\ncat '${join(dir, 'out.txt')}'\n`);
    chmodSync(virsh, 0o755);
    const r = await readDevicesOfDomains({ uri: 'qemu:///system', domains: ['i-12345678', 'i-87654321'], virsh });
    assert.ok(r instanceof Map);
    assert.deepEqual(r.get('i-87654321'), { disks: [{ name: 'vda', readOps: 5, readBytes: 2048, writeOps: 0, writeBytes: 0 }], interfaces: [] });
    assert.equal(r.get('i-12345678')!.interfaces[0]!.rxBytes, 10526);
    assert.equal(readFileSync(join(dir, 'calls'), 'utf8'), '-q -c qemu:///system domstats --raw --block --interface -- i-12345678 i-87654321\n', 'one process for both');
    assert.deepEqual(await readDevicesOfDomains({ uri: 'qemu:///system', domains: [], virsh }), new Map());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
