import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeController, OperationError } from '../../engine/controller/index.js';
import { DomforgeError, UsageError } from '../../engine/errors.js';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { lifecycleCli } from './cli-program.js';
import { sampleInstance, sandbox, shippedTransform, XSL, type Sandbox } from './fixtures.js';

let conn: LibvirtConnection;
let sb: Sandbox;
let nc: NodeController;
let hooked: NodeController;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
  sb = await sandbox();
  nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform() });
  hooked = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), hooksDir: sb.hooks });
});
test.after(async () => {
  await sb.cleanup();
  await closeConnections();
});

const recordOf = (id: string) => readFileSync(join(sb.instances, id, 'instance.xml'), 'utf8');
const flagOf = (id: string) => /<isStopRequested>([^<]*)<\/isStopRequested>/.exec(recordOf(id))?.[1];
/** The record with its stop flag set by hand (as a controller that died half-way left it). */
function setFlag(id: string, value: boolean): void {
  const text = recordOf(id);
  const next = /<isStopRequested>/.test(text)
    ? text.replace(/<isStopRequested>[^<]*</, `<isStopRequested>${value}<`)
    : text.replace('</states>', `  <isStopRequested>${value}</isStopRequested>\n  </states>`);
  assert.notEqual(next, text);
  writeFileSync(join(sb.instances, id, 'instance.xml'), next);
}
/** Rejects with the STATE_CONFLICT an operation raises, wrapped by its steps or not. */
async function conflict(p: Promise<unknown>, pattern: RegExp): Promise<DomforgeError> {
  const e = await p.then(
    () => assert.fail('expected a refusal'),
    (err: unknown) => err as DomforgeError,
  );
  assert.ok(e instanceof DomforgeError, String(e));
  assert.equal(e.code, 'STATE_CONFLICT', e.message);
  assert.match(e.message, pattern);
  return e;
}

test('stop shuts the guest down and keeps everything; stop again does nothing; reboot is refused; start runs it again', async () => {
  const inst = await sampleInstance('01-linux-virtio');
  await nc.launch(inst);
  const id = inst.name;
  const launched = recordOf(id);
  const files = readdirSync(join(sb.instances, id)).sort();
  const firstRun = (await conn.lookup(id)).id;

  const s = await nc.stop(id);
  assert.equal(s.outcome, 'shut-down', 'the test driver shuts a guest down at once');
  assert.equal(s.alreadyStopped, false);
  assert.deepEqual([s.domain.name, s.domain.state, s.domain.active, s.domain.persistent], [id, 'shutoff', false, true]);
  assert.deepEqual(
    s.steps.map((x) => x.step),
    ['read-record', 'check', 'mark-stop', 'power-off'],
  );
  assert.equal(await conn.getState(id), 'shutoff');
  // The record changes in its stop flag only (Eucalyptus's states/isStopRequested, added
  // where the launch's record had none); the folder keeps every file.
  assert.equal(flagOf(id), 'true');
  assert.doesNotMatch(launched, /isStopRequested/);
  assert.equal(recordOf(id).replace(/\n *<isStopRequested>true<\/isStopRequested>/, ''), launched);
  assert.deepEqual(readdirSync(join(sb.instances, id)).sort(), files);
  const listed = (await nc.list()).find((x) => x.id === id);
  assert.deepEqual([listed?.state, listed?.stopped, listed?.domain?.state], ['Extant', true, 'shutoff']);
  assert.equal((await nc.describe(id)).stopped, true);

  const mtime = statSync(join(sb.instances, id, 'instance.xml')).mtimeMs;
  const again = await nc.stop(id);
  assert.equal(again.alreadyStopped, true);
  assert.equal(again.outcome, 'was-off');
  assert.equal(statSync(join(sb.instances, id, 'instance.xml')).mtimeMs, mtime, 'an idempotent stop writes nothing');

  await conflict(nc.reboot(id), /is stopped: start i-\w+ runs it again/);
  assert.equal(await conn.getState(id), 'shutoff', 'the refused reboot started nothing');

  // An old bootTime, so start's own is seen within the launch's second.
  writeFileSync(join(sb.instances, id, 'instance.xml'), recordOf(id).replace(/<bootTime>\d+</, '<bootTime>1000000000<'));
  const r = await nc.start(id);
  assert.equal(r.wasRunning, false);
  assert.deepEqual([r.domain.state, r.domain.active], ['running', true]);
  assert.notEqual(r.domain.id, firstRun, 'a new run of the domain');
  assert.deepEqual(
    r.steps.map((x) => x.step),
    ['read-record', 'check', 'start', 'record'],
  );
  assert.equal(flagOf(id), 'false');
  const bootTime = Number(/<bootTime>(\d+)</.exec(recordOf(id))?.[1]);
  assert.ok(Math.abs(bootTime - Date.now() / 1000) < 60, `bootTime ${bootTime} is now`);
  assert.equal((await nc.describe(id)).stopped, false);

  await conflict(nc.start(id), /is running and was not stopped: nothing to start/);
  await nc.terminate(id);
});

test('stop { graceMs: 0 } pulls the plug; a stopped instance terminates cleanly', async () => {
  const inst = await sampleInstance('10-no-nic');
  await nc.launch(inst);
  const s = await nc.stop(inst.name, { graceMs: 0 });
  assert.equal(s.outcome, 'destroyed');
  assert.equal(s.domain.state, 'shutoff');
  const t = await nc.terminate(inst.name);
  assert.equal(t.domain, 'undefined');
  assert.equal(t.files, 'removed');
  assert.equal(await conn.find(inst.name), undefined);
});

test('interrupted stops and starts finish when asked again; a guest that powered itself off is for reboot, or stop then start', async () => {
  const inst = await sampleInstance('01-linux-virtio');
  await nc.launch(inst);
  const id = inst.name;

  // A controller that died after writing the flag, before the guest stopped: the record says
  // stopped, the domain runs. start clears the flag without touching the domain; stop finishes.
  setFlag(id, true);
  const running = (await conn.lookup(id)).id;
  const r = await nc.start(id);
  assert.equal(r.wasRunning, true);
  assert.equal((await conn.lookup(id)).id, running, 'the running domain was left alone');
  assert.equal(flagOf(id), 'false');
  setFlag(id, true);
  const s = await nc.stop(id);
  assert.equal(s.alreadyStopped, false, 'the domain still ran: the stop is finished, not skipped');
  assert.equal(s.outcome, 'shut-down');
  assert.deepEqual(
    s.steps.map((x) => x.step),
    ['read-record', 'check', 'power-off'],
    'the flag was already written',
  );
  await nc.start(id);

  // The guest powered off by itself: no stop was asked for, so start refuses and says what does start it.
  await conn.shutdown(id);
  assert.equal(await conn.getState(id), 'shutoff');
  await conflict(nc.start(id), /was not stopped by domforge .* shut off .* reboot i-\w+ starts it again/);
  const off = await nc.stop(id);
  assert.deepEqual([off.outcome, off.alreadyStopped], ['was-off', false]);
  assert.equal(flagOf(id), 'true');
  assert.equal((await nc.start(id)).domain.state, 'running');
  await nc.terminate(id);
});

test('a volume attached while stopped is in the domain when it starts; adopt takes a stopped instance back', async () => {
  const inst = await sampleInstance('01-linux-virtio');
  await nc.launch(inst);
  const id = inst.name;
  await nc.stop(id);
  const a = await nc.attachVolume(id, { id: 'vol-5a5a5a5a', devName: 'sdf', path: '/dev/mapper/vol-5a5a5a5a' });
  assert.deepEqual([a.change.live, a.change.config], [false, true]);
  await nc.start(id);
  assert.match(await conn.getXML(id), /<source dev=["']\/dev\/mapper\/vol-5a5a5a5a["']\/>/);
  await nc.stop(id);
  const d = await nc.detachVolume(id, 'vol-5a5a5a5a');
  assert.equal(d.detachedFromDomain, true);
  assert.doesNotMatch(await conn.getXML(id, { inactive: true }), /vol-5a5a5a5a/);
  assert.deepEqual((await nc.describe(id)).volumes, []);

  const fresh = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform() });
  const report = await fresh.adopt();
  const adopted = report.adopted.find((x) => x.id === id);
  assert.equal(adopted?.domain.state, 'shutoff');
  assert.equal((await fresh.start(id)).domain.state, 'running');
  await fresh.terminate(id);
});

test('stop and start run no hooks', async () => {
  const trace = join(sb.root, 'hook-trace');
  writeFileSync(trace, '');
  const hook = await sb.script(sb.hooks, '10-trace', `echo "$1" >> '${trace}'`);
  try {
    const inst = await sampleInstance('10-no-nic');
    await hooked.launch(inst);
    const afterLaunch = readFileSync(trace, 'utf8');
    assert.match(afterLaunch, /euca-nc-pre-boot/, 'the trace hook runs');
    await hooked.stop(inst.name);
    await hooked.start(inst.name);
    assert.equal(readFileSync(trace, 'utf8'), afterLaunch);
    await hooked.terminate(inst.name);
  } finally {
    const { rm } = await import('node:fs/promises');
    await rm(hook);
  }
});

test("another instance's domain under the instance's name: every operation refuses it before a hook runs or the record is written", async () => {
  const inst = await sampleInstance('01-linux-virtio');
  await nc.launch(inst);
  const id = inst.name;
  await nc.attachVolume(id, { id: 'vol-0a0b0c0d', devName: 'sdf', path: '/dev/mapper/vol-0a0b0c0d' });
  const other = '00000000-0000-4000-8000-0000000000bb';
  const xml = readFileSync(join(sb.instances, id, 'libvirt.xml'), 'utf8');
  await conn.destroy(id);
  await conn.undefine(id);
  await conn.define(xml.replace(/<uuid>[^<]+<\/uuid>/, `<uuid>${other}</uuid>`));
  await conn.start(id);
  const ran = join(sb.root, 'foreign-hooks.log');
  const hook = await sb.script(sb.hooks, '10-foreign-log', `echo "$1" >> ${ran}`);
  const before = recordOf(id);

  const refused = async (op: string, p: Promise<unknown>) => {
    const e = await conflict(p, new RegExp(`domain ${id} is not this instance \\(uuid ${other}, record ${inst.uuid}\\); not touching it`));
    assert.equal(e.path, '/instance/uuid', op);
    assert.ok(e instanceof OperationError && e.step === (op === 'reboot' ? 'reboot' : 'check'), `${op} refused at ${(e as OperationError).step}`);
  };
  await refused('terminate', hooked.terminate(id));
  await refused('stop', hooked.stop(id));
  await refused('reboot', hooked.reboot(id));
  await refused('attach-volume', hooked.attachVolume(id, { id: 'vol-22222222', devName: 'sdg', path: '/dev/mapper/vol-22222222' }));
  await refused('detach-volume', hooked.detachVolume(id, 'vol-0a0b0c0d'));
  assert.equal(recordOf(id), before, 'no refusal wrote the record');
  setFlag(id, true); // start wants a stopped record
  const stopped = recordOf(id);
  await refused('start', hooked.start(id));
  assert.equal(recordOf(id), stopped, 'start did not write the record');
  assert.equal(statSync(ran, { throwIfNoEntry: false }), undefined, 'no hook ran');
  const still = await conn.lookup(id);
  assert.deepEqual([still.uuid, await conn.getState(id)], [other, 'running'], 'the other domain is untouched');

  // list, describe and describe-resource mark it as adopt does, and the CLI says so.
  assert.deepEqual((await nc.list()).filter((x) => x.id === id).map((x) => [x.domain?.uuid, x.mismatched]), [[other, true]]);
  assert.deepEqual([(await nc.describe(id)).domain?.uuid, (await nc.describe(id)).mismatched], [other, true]);
  const share = (await nc.describeResource()).instances.find((i) => i.id === id)!;
  assert.deepEqual([share.domain, share.mismatched, share.memoryKiB], ['running', true, inst.memoryKB]);
  assert.deepEqual((await nc.adopt()).mismatched.map((m) => m.id), [id]);
  const cli = (...args: string[]) => lifecycleCli(args, ['--instances', sb.instances, '--uri', 'test:///default', '--transform', XSL]);
  assert.match((await cli('list')).stdout, new RegExp(`^${id} +Extant, stopped +running, mismatched +${other}`, 'm'));
  assert.match((await cli('describe', id)).stdout, new RegExp(`  domain: ${id} uuid ${other} state running, mismatched: not this instance \\(record uuid ${inst.uuid}\\)\n`));
  assert.match((await cli('describe-resource')).stdout, new RegExp(`^${id} +Extant +running, mismatched +${inst.memoryKB} `, 'm'));
  assert.equal(JSON.parse((await cli('describe', id, '--json')).stdout).mismatched, true);

  rmSync(hook);
  await conn.destroy(id);
  await conn.undefine(id);
  assert.equal((await nc.terminate(id)).domain, 'absent');
});

test('refusals: not Extant, no domain, another uuid, a transient domain, a bad grace; nothing is changed', async () => {
  const inst = await sampleInstance('10-no-nic');
  await nc.launch(inst);
  const id = inst.name;
  const file = join(sb.instances, id, 'instance.xml');
  const launched = recordOf(id);

  writeFileSync(file, launched.replace(/<stateName>Extant</, '<stateName>Teardown<'));
  const e = await conflict(nc.stop(id), /cannot stop i-\w+: its record says 'Teardown', not 'Extant'/);
  assert.equal(e.file, file);
  assert.equal(e.path, '/instance/states/stateName');
  assert.ok(e instanceof OperationError && e.step === 'check');
  await conflict(nc.start(id), /cannot start i-\w+: its record says 'Teardown'/);
  assert.equal(await conn.getState(id), 'running');
  writeFileSync(file, launched);

  await assert.rejects(nc.stop(id, { graceMs: -1 }), (x: DomforgeError) => x.code === 'USAGE' && /graceMs/.test(x.message));
  await assert.rejects(nc.stop(id, { graceMs: 1.5 }), (x: DomforgeError) => x.code === 'USAGE');
  await conflict(nc.stop('i-nothere'), /no instance i-nothere/);

  // libvirt's domain by this name is another one: not touched.
  await conn.destroy(id);
  await conn.undefine(id);
  await conflict(nc.stop(id), /libvirt has no domain i-\w+ to stop/);
  const other = readFileSync(join(sb.instances, id, 'libvirt.xml'), 'utf8').replace(/<uuid>[^<]+<\/uuid>/, '<uuid>00000000-0000-4000-8000-00000000beef</uuid>');
  await conn.define(other);
  await conn.start(id);
  await conflict(nc.stop(id), /is not this instance \(uuid 00000000-0000-4000-8000-00000000beef/);
  assert.equal(await conn.getState(id), 'running');
  await conn.destroy(id);
  await conn.undefine(id);

  // A transient domain would vanish once stopped.
  await conn.createTransient(readFileSync(join(sb.instances, id, 'libvirt.xml'), 'utf8'));
  await conflict(nc.stop(id), /transient: stopping it would remove it/);
  assert.equal(await conn.getState(id), 'running');
  assert.equal(recordOf(id), launched, 'no refusal wrote the record');
  await nc.terminate(id);
});

test('reboot refuses a record that is not Extant (a launch or terminate interrupted): its domain stays off, the record unchanged', async () => {
  const inst = await sampleInstance('10-no-nic');
  await nc.launch(inst);
  const id = inst.name;
  const file = join(sb.instances, id, 'instance.xml');
  const launched = recordOf(id);
  // A terminate that stopped after its destroy: the record says Teardown, the domain is defined and off.
  await conn.destroy(id);
  for (const state of ['Teardown', 'Staging']) {
    const text = launched.replace(/<stateName>Extant</, `<stateName>${state}<`);
    writeFileSync(file, text);
    const e = await conflict(nc.reboot(id), new RegExp(`cannot reboot ${id}: its record says '${state}', not 'Extant'`));
    assert.deepEqual([e.file, e.path], [file, '/instance/states/stateName']);
    assert.ok(e instanceof OperationError && e.step === 'reboot');
    assert.equal(await conn.getState(id), 'shutoff', `the domain of a ${state} record was not booted`);
    assert.equal(recordOf(id), text, 'no bootTime written');
  }
  writeFileSync(file, launched);
  await nc.terminate(id);
});

test('reboot checks its grace up front, as stop does: a UsageError before the lock, the record or the log', async () => {
  const inst = await sampleInstance('10-no-nic');
  await nc.launch(inst);
  const id = inst.name;
  const log = join(sb.instances, id, 'instance.log');
  const logged = readFileSync(log, 'utf8');
  const running = (await conn.lookup(id)).id;
  for (const graceMs of [-1, 1.5, 2 ** 31, '5' as unknown as number]) {
    await assert.rejects(nc.reboot(id, { graceMs }), (e: unknown) => e instanceof UsageError && /`graceMs`/.test(e.message), String(graceMs));
  }
  await assert.rejects(nc.reboot('i-nothere', { graceMs: -1 }), UsageError, 'the grace before the instance');
  assert.equal(readFileSync(log, 'utf8'), logged, 'no failed step logged');
  assert.equal((await conn.lookup(id)).id, running, 'the domain was not restarted');
  await nc.terminate(id);
});

test('CLI: stop [--grace MS | --force], start; list and describe show a stopped instance; usage errors change nothing', async () => {
  const cli = (...args: string[]) => lifecycleCli(args, ['--instances', sb.instances, '--uri', 'test:///default', '--transform', XSL]);
  const inst = await sampleInstance('10-no-nic');
  await nc.launch(inst);
  const id = inst.name;

  const both = await cli('stop', id, '--force', '--grace', '10');
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--force and --grace are exclusive/);
  const bad = await cli('stop', id, '--grace', 'soon');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--grace/);
  assert.equal(await conn.getState(id), 'running');

  const s = await cli('stop', id);
  assert.equal(s.code, 0, s.stderr);
  assert.equal(s.stdout, `stopped ${id}: the guest shut down; domain ${id} state shutoff\n`);
  const l = await cli('list');
  assert.match(l.stdout, new RegExp(`^${id}\\s+Extant, stopped\\s+shutoff\\s`, 'm'));
  const d = await cli('describe', id);
  assert.match(d.stdout, /record state: Extant \(stopped: start runs it again\)/);
  const again = await cli('stop', id, '--json');
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual([JSON.parse(again.stdout).alreadyStopped, JSON.parse(again.stdout).outcome], [true, 'was-off']);

  const r = await cli('start', id);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `started ${id}: domain ${id} uuid ${inst.uuid} state running\n`);
  const twice = await cli('start', id, '--json');
  assert.equal(twice.code, 1);
  assert.equal(JSON.parse(twice.stderr).error.code, 'STATE_CONFLICT');

  const forced = await cli('stop', id, '--force', '--json');
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(JSON.parse(forced.stdout).outcome, 'destroyed');
  assert.equal((await cli('terminate', id)).code, 0);
});
