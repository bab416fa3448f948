import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeController } from '../../engine/controller/index.js';
import { DomforgeError } from '../../engine/errors.js';
import { closeConnections, connect, sensorValues, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { lifecycleCli } from './cli-program.js';
import { sampleInstance, sandbox, shippedTransform, XSL, type Sandbox } from './fixtures.js';

let conn: LibvirtConnection;
let sb: Sandbox;
let nc: NodeController;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
  sb = await sandbox();
  nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform() });
});
test.after(async () => {
  await sb.cleanup();
  await closeConnections();
});

test("stats: the instance's domain counters as libvirt reports them; refused for a missing or foreign domain", async () => {
  const inst = await sampleInstance('01-linux-virtio');
  await nc.launch(inst);
  const a = await nc.stats(inst.name);
  assert.deepEqual([a.id, a.uuid, a.state, a.vcpus, a.memoryKiB], [inst.name, inst.uuid, 'running', inst.cores, inst.memoryKB]);
  const b = await nc.stats(inst.name);
  assert.ok(b.takenAtMs > a.takenAtMs);
  const s = sensorValues(a, b);
  assert.ok(s.CPUUtilization >= 0, String(s.CPUUtilization));
  assert.equal(s.NetworkIn, undefined, 'no device counters on the test driver');

  await assert.rejects(nc.stats('i-nothere'), (e: DomforgeError) => e.code === 'STATE_CONFLICT' && /no instance i-nothere/.test(e.message));
  const xml = readFileSync(join(sb.instances, inst.name, 'libvirt.xml'), 'utf8');
  await conn.destroy(inst.name);
  await conn.undefine(inst.name);
  await assert.rejects(nc.stats(inst.name), (e: DomforgeError) => e.code === 'STATE_CONFLICT' && /libvirt has no domain i-\w+ to read the counters of/.test(e.message));
  await conn.define(xml.replace(/<uuid>[^<]+<\/uuid>/, '<uuid>00000000-0000-4000-8000-0000000000aa</uuid>'));
  await assert.rejects(nc.stats(inst.name), (e: DomforgeError) => e.code === 'STATE_CONFLICT' && e.path === '/instance/uuid' && /is not this instance/.test(e.message));
  await conn.undefine(inst.name);
  await nc.terminate(inst.name);
});

test('CLI stats ID [--interval MS]: the counters, the sensors over the interval, or one sample with --interval 0; usage errors', async () => {
  const cli = (...args: string[]) => lifecycleCli(args, ['--instances', sb.instances, '--uri', 'test:///default', '--transform', XSL]);
  const inst = await sampleInstance('10-no-nic');
  await nc.launch(inst);
  const id = inst.name;

  const r = await cli('stats', id, '--interval', '30');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^${id}: domain running, ${inst.cores} vCPUs?, memory ${inst.memoryKB} of ${inst.memoryKB} KiB, CPU time \\d+\\.\\d{3} s\\n\\nsensors over \\d+ ms:\\nSENSOR +UNIT +VALUE\\nCPUUtilization +Percent +[\\d.]+\\n$`));
  assert.match(r.stderr, /^domforge: note: per-disk and per-interface counters are not available on test:\/\/\/default/);

  const one = await cli('stats', id, '--interval', '0', '--json');
  assert.equal(one.code, 0, one.stderr);
  const j = JSON.parse(one.stdout);
  assert.deepEqual([j.id, j.uuid, j.state, j.sensors], [id, inst.uuid, 'running', undefined]);
  assert.equal(typeof j.cpuTimeNs, 'number');
  const two = JSON.parse((await cli('stats', id, '--interval', '10', '--json')).stdout);
  assert.equal(typeof two.sensors.CPUUtilization, 'number');
  assert.ok(two.sensors.intervalMs >= 10);

  for (const [flag, pattern] of [
    ['1e3', /Expected `--interval` to be a non-negative integer \(ms\), got "1e3"/],
    ['3600001', /at most 3600000 ms/],
  ] as const) {
    const u = await cli('stats', id, '--interval', flag);
    assert.equal(u.code, 2, flag);
    assert.match(u.stderr, pattern);
  }
  const missing = await cli('stats', 'i-nothere');
  assert.equal(missing.code, 1);
  await nc.terminate(id);
});

test('statsAll: every instance folder (or the ids given) at once; what cannot be read is skipped with the reason; CLI stats with no id or several', async () => {
  const a = await sampleInstance('10-no-nic');
  const b = await sampleInstance('10-no-nic');
  const gone = await sampleInstance('10-no-nic');
  for (const i of [a, b, gone]) await nc.launch(i);
  await conn.destroy(gone.name);
  await conn.undefine(gone.name);
  const broken = join(sb.instances, 'i-0badbad0');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  mkdirSync(broken);
  writeFileSync(join(broken, 'instance.xml'), '<instance>');
  try {
    const r = await nc.statsAll();
    assert.deepEqual(
      r.stats.map((s) => s.id),
      [a.name, b.name].sort(),
    );
    assert.deepEqual(r.stats.map((s) => s.uuid).sort(), [a.uuid, b.uuid].sort());
    assert.ok(r.stats.every((s) => s.state === 'running' && s.unavailable !== undefined));
    const reasons = new Map(r.skipped.map((x) => [x.id, x.reason]));
    assert.equal(reasons.get(gone.name), `${join(sb.instances, gone.name, 'instance.xml')}: libvirt has no domain ${gone.name} to read the counters of (terminate ${gone.name} removes its folder)`);
    // With its file and line, as list and describe-resource give it.
    const brokenFile = join(broken, 'instance.xml');
    assert.ok(reasons.get('i-0badbad0')?.startsWith(`${brokenFile}:1:11: the document ends inside <instance>`), reasons.get('i-0badbad0'));
    assert.deepEqual(
      (({ code, file, line, column }) => ({ code, file, line, column }))(r.skipped.find((x) => x.id === 'i-0badbad0')!.error),
      { code: 'XML_SYNTAX', file: brokenFile, line: 1, column: 11 },
    );

    const some = await nc.statsAll([b.name, 'i-nothere', b.name]);
    assert.deepEqual(some.stats.map((s) => s.id), [b.name]);
    assert.match(some.skipped.find((x) => x.id === 'i-nothere')?.reason ?? '', /no instance i-nothere/);
    // One id given as a string, not a list: refused, not read as its characters.
    await assert.rejects(nc.statsAll(b.name as unknown as string[]), (e: Error & { code?: string }) => e.code === 'USAGE' && e.message.includes(`Expected the ids of \`statsAll\` to be a list of instance ids, got \`${b.name}\` (string)`));

    const cli = (...args: string[]) => lifecycleCli(args, ['--instances', sb.instances, '--uri', 'test:///default', '--transform', XSL]);
    const t = await cli('stats', '--interval', '20');
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /^ID +STATE +VCPUS +CPU % +NET IN +NET OUT +DISK READ +DISK WRITE\n/);
    assert.match(t.stdout, new RegExp(`^${a.name} +running +\\d+ +[\\d.]+ +- +- +- +-$`, 'm'));
    assert.match(t.stdout, /\(over 20 ms; network and disk in bytes\)\n$/);
    assert.match(t.stderr, new RegExp(`domforge: ${gone.name} skipped: .*instance\\.xml: libvirt has no domain`));
    assert.ok(t.stderr.includes(`domforge: i-0badbad0 skipped: ${brokenFile}:1:11: the document ends inside <instance>`), t.stderr);
    const sj = JSON.parse((await cli('stats', '--interval', '0', '--json')).stdout);
    const bad = sj.skipped.find((x: { id: string }) => x.id === 'i-0badbad0');
    assert.ok(bad.reason.startsWith(`${brokenFile}:1:11: `), bad.reason);
    assert.deepEqual([bad.error.code, bad.error.file, bad.error.line, bad.error.column], ['XML_SYNTAX', brokenFile, 1, 11]);
    const j = JSON.parse((await cli('stats', a.name, b.name, '--interval', '0', '--json')).stdout);
    assert.deepEqual(j.stats.map((s: { id: string }) => s.id), [a.name, b.name].sort());
    assert.equal(j.stats[0].sensors, undefined);
    assert.deepEqual(j.skipped, []);
  } finally {
    const { rmSync } = await import('node:fs');
    rmSync(broken, { recursive: true, force: true });
    for (const i of [a, b]) await nc.terminate(i.name);
    await nc.terminate(gone.name);
  }
});

test('statsAll: a domain terminated while the sweep reads it is skipped, not the sweep failed', async () => {
  // The sweep looks every instance's domain up, then reads their counters: a domain undefined
  // in between (a terminate running meanwhile) is gone when libvirt is asked for its counters.
  // The victim sorts first, so the lookups of the others open the window; the undefine is
  // tried at growing delays until it lands in it.
  const insts = [];
  for (let i = 0; i < 20; i++) insts.push(await sampleInstance('10-no-nic', `i-${process.pid.toString(16)}race${String(i).padStart(2, '0')}`));
  for (const i of insts) await nc.launch(i);
  const victim = insts[0]!;
  const ids = insts.map((i) => i.name);
  const xml = await conn.getXML(victim.name, { inactive: true });
  let hit: Awaited<ReturnType<typeof nc.statsAll>> | undefined;
  for (let attempt = 0; attempt < 200 && !hit; attempt++) {
    const sweep = nc.statsAll(ids);
    await new Promise((r) => setTimeout(r, attempt % 30));
    await conn.destroy(victim.name);
    await conn.undefine(victim.name);
    const r = await sweep; // a rejection fails the test
    if (r.skipped.some((x) => /went away/.test(x.reason))) hit = r;
    else assert.equal(r.stats.length + r.skipped.length, ids.length);
    await conn.define(xml);
    await conn.start(victim.name);
  }
  assert.ok(hit, 'the undefine never landed between the lookups and the read of the counters');
  assert.deepEqual(hit.stats.map((s) => s.id), ids.slice(1), 'the others are read');
  assert.equal(hit.skipped.length, 1);
  const [skipped] = hit.skipped;
  const file = join(sb.instances, victim.name, 'instance.xml');
  assert.equal(skipped!.reason, `${file}: libvirt's domain ${victim.name} went away while the counters were read (terminated or undefined meanwhile)`);
  assert.deepEqual([skipped!.id, skipped!.error.code, skipped!.error.file], [victim.name, 'STATE_CONFLICT', file]);
  for (const i of insts) await nc.terminate(i.name);
});
