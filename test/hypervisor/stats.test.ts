/**
 * stats on a real guest: the per-disk and per-interface counters come from libvirt's bulk
 * stats through `virsh domstats`, which the test driver cannot serve. They are checked against
 * `virsh domblkstat` / `virsh domifstat` read right after, and the guest's boot shows in them:
 * it read its config drive, and its CPU time grew while it ran.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { sensorValues } from '../../engine/libvirt/index.js';
import { tierOptions } from './env.js';
import { openTier, TEST_TIMEOUT_MS, type Tier } from './harness.js';

let tier: Tier | undefined;
before(async () => {
  if (!tierOptions().skip) tier = await openTier();
});
after(async () => tier?.cleanup());

/** `virsh domblkstat DOMAIN DEV` or `domifstat DOMAIN IFACE` as a map of its counters. */
function virshCounters(uri: string, command: 'domblkstat' | 'domifstat', domain: string, dev: string): Map<string, number> {
  const out = execFileSync('virsh', ['-q', '-c', uri, command, domain, dev], { encoding: 'utf8' });
  return new Map(out.trim().split('\n').map((l) => l.trim().split(/\s+/)).map((f) => [f[1]!, Number(f[2])]));
}

test('stats: disk and interface counters of a running guest, as virsh reports them; the sensors over an interval', tierOptions({ timeout: TEST_TIMEOUT_MS }), async () => {
  const t = tier!;
  const g = await t.instance({ label: 'stats' });
  const { launched } = await t.launchAndBoot(g);
  const liveXml = launched.domainXml;

  const a = await t.nc.stats(g.name);
  assert.equal(a.unavailable, undefined);
  assert.equal(a.state, 'running');
  // Every <disk> and <interface> of the live domain is there, by target and host device.
  const targets = [...liveXml.matchAll(/<target dev=["']([^"']+)["'] bus=/g)].map((m) => m[1]);
  assert.deepEqual(a.disks!.map((d) => d.name).sort(), [...targets].sort());
  const vnets = [...liveXml.matchAll(/<target dev=["'](vnet\d+|tap[^"']*)["']\/>/g)].map((m) => m[1]);
  assert.deepEqual(a.interfaces!.map((i) => i.name), vnets);
  assert.ok(vnets.length >= 1, 'the guest has a NIC on the tier bridge');

  // The guest read its config drive at boot: that drive has read operations and bytes.
  const drive = a.disks!.find((d) => d.path === launched.configDrive?.path);
  assert.ok(drive, `a disk backed by the config drive ${launched.configDrive?.path}`);
  assert.ok(drive.readOps > 0 && drive.readBytes > 0, JSON.stringify(drive));

  // Counters only grow: virsh's own figures, read after ours, are at least ours.
  for (const d of a.disks!) {
    const v = virshCounters(t.env.uri, 'domblkstat', g.name, d.name);
    assert.ok(v.get('rd_req')! >= d.readOps && v.get('rd_bytes')! >= d.readBytes && v.get('wr_req')! >= d.writeOps && v.get('wr_bytes')! >= d.writeBytes, `${d.name}: ${JSON.stringify(d)} vs ${[...v]}`);
    assert.ok(v.get('rd_bytes')! - d.readBytes < 1024 * 1024, 'and close to them (an idle guest)');
  }
  for (const i of a.interfaces!) {
    const v = virshCounters(t.env.uri, 'domifstat', g.name, i.name);
    assert.ok(v.get('rx_bytes')! >= i.rxBytes && v.get('tx_packets')! >= i.txPackets, `${i.name}: ${JSON.stringify(i)} vs ${[...v]}`);
  }

  // The sweep (one virsh domstats for every domain asked for) reads the same devices.
  const swept = await t.nc.statsAll([g.name]);
  assert.deepEqual(swept.skipped, []);
  const mine = swept.stats[0]!;
  assert.deepEqual(mine.disks!.map((d) => d.name), a.disks!.map((d) => d.name));
  assert.deepEqual(mine.interfaces!.map((i) => i.name), a.interfaces!.map((i) => i.name));
  for (const d of mine.disks!) assert.ok(d.readBytes >= a.disks!.find((x) => x.name === d.name)!.readBytes, d.name);

  await new Promise((r) => setTimeout(r, 1_000));
  const b = await t.nc.stats(g.name);
  assert.ok(b.cpuTimeNs > a.cpuTimeNs, 'the guest used CPU time in the second');
  const s = sensorValues(a, b);
  assert.ok(s.intervalMs >= 1_000);
  assert.ok(s.CPUUtilization > 0 && s.CPUUtilization <= 100 * 1.05, String(s.CPUUtilization));
  for (const k of ['NetworkIn', 'NetworkOut', 'DiskReadOps', 'DiskWriteOps', 'DiskReadBytes', 'DiskWriteBytes'] as const) assert.ok((s[k] ?? -1) >= 0, k);
  assert.equal(s.countersRestarted, false);

  await t.nc.terminate(g.name);
});
