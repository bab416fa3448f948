import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeController } from '../../engine/controller/index.js';
import { closeConnections, connect, loadBinding, type BindingLoader, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { sampleInstance, sandbox, shippedTransform, type Sandbox } from './fixtures.js';
import { testDomainXml } from '../libvirt/fixtures.js';

let conn: LibvirtConnection;
let sb: Sandbox;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
  sb = await sandbox();
});
test.after(async () => {
  await sb.cleanup();
  await closeConnections();
});

const open = (extra: { hooksDir?: string } = {}) => NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), ...extra });

test('adopt after a simulated restart finds every instance, and reports every folder and domain it cannot adopt', async () => {
  const first = await open();
  const launched: string[] = [];
  for (let i = 0; i < 12; i++) launched.push((await first.launch(await sampleInstance(i % 2 ? '09-q35-config-drive' : '01-linux-virtio'))).id);
  // One instance's domain disappears while the controller is down...
  const gone = launched.pop()!;
  await conn.destroy(gone);
  await conn.undefine(gone);
  // ...one was stopped (adopted as it is: adopt never starts or stops anything)...
  await conn.destroy(launched[0]);
  // ...a launch was interrupted half-way (its record says Staging)...
  const staging = await sampleInstance();
  const stagingRecord = readFileSync(join(sb.instances, launched[1], 'instance.xml'), 'utf8')
    .split(launched[1]).join(staging.name)
    .replace('<stateName>Extant</stateName>', '<stateName>Staging</stateName>');
  mkdirSync(join(sb.instances, staging.name));
  writeFileSync(join(sb.instances, staging.name, 'instance.xml'), stagingRecord);
  // ...a folder's record is damaged...
  mkdirSync(join(sb.instances, 'i-damaged'));
  writeFileSync(join(sb.instances, 'i-damaged', 'instance.xml'), '<instance>\n  <name>i-damaged</name>\n  <cores>');
  // ...and someone defined a domain by hand.
  const stray = testDomainXml('stray-domain');
  await conn.define(stray.xml);

  const second = await open(); // the restart: a new controller over the same folder and connection
  assert.equal(second.tracked.size, 0);
  const report = await second.adopt();
  assert.deepEqual(report.adopted.map((a) => a.id).sort(), [...launched].sort());
  assert.equal(report.adopted.find((a) => a.id === launched[0])?.domain.state, 'shutoff');
  assert.ok(report.adopted.filter((a) => a.id !== launched[0]).every((a) => a.domain.state === 'running'));
  assert.deepEqual(report.missingDomain.map((m) => [m.id, m.state]), [[gone, 'Extant']]);
  assert.deepEqual(report.incomplete.map((m) => [m.id, m.state, m.domain]), [[staging.name, 'Staging', null]]);
  assert.equal(report.unreadable.length, 1);
  assert.equal(report.unreadable[0].id, 'i-damaged');
  assert.equal(report.unreadable[0].error.file, join(sb.instances, 'i-damaged', 'instance.xml'));
  assert.ok(typeof report.unreadable[0].error.line === 'number');
  assert.deepEqual(report.untracked.map((d) => d.name).sort(), ['stray-domain', 'test']);
  assert.deepEqual([...second.tracked].sort(), [...launched].sort());

  // The new controller can run the adopted instances' lifecycle.
  for (const id of launched) await second.terminate(id);
  for (const id of [gone, staging.name]) assert.equal((await second.terminate(id)).domain, 'absent');
  await conn.undefine('stray-domain');
});

test('a pre-adopt hook that refuses leaves the domain running and untracked; a uuid mismatch is not adopted', async () => {
  await sb.script(sb.hooks, '10-refuse-odd', `case "$DOMFORGE_INSTANCE_ID" in *[13579]) echo "not mine" >&2; exit 1;; esac\nexit 0`);
  const first = await open();
  const insts = [await sampleInstance(undefined, 'i-adopt0'), await sampleInstance(undefined, 'i-adopt1')];
  for (const inst of insts) await first.launch(inst);
  // A domain under an instance's name that is not that instance.
  const other = await sampleInstance(undefined, 'i-adopt2');
  await first.launch(other);
  await conn.destroy(other.name);
  await conn.undefine(other.name);
  await conn.define(testDomainXml(other.name).xml);

  const second = await open({ hooksDir: sb.hooks });
  const report = await second.adopt();
  assert.deepEqual(report.adopted.map((a) => a.id), ['i-adopt0']);
  assert.deepEqual(report.refused.map((r) => [r.id, r.error.hook, r.error.exitCode]), [['i-adopt1', '10-refuse-odd', 1]]);
  assert.equal(await conn.getState('i-adopt1'), 'running', 'a refused domain keeps running');
  assert.equal(second.tracked.has('i-adopt1'), false);
  assert.deepEqual(report.mismatched.map((m) => [m.id, m.recordUuid]), [['i-adopt2', other.uuid]]);
  assert.match(readFileSync(join(sb.instances, 'i-adopt1', 'instance.log'), 'utf8'), /euca-nc-pre-adopt hook 10-refuse-odd\[stderr\]: not mine/);
  // terminate refuses to touch a domain that is not the instance's.
  await assert.rejects(second.terminate('i-adopt2'), (e: Error & { code: string }) => e.code === 'STATE_CONFLICT' && /not this instance/.test(e.message));
  assert.ok(await conn.find('i-adopt2'));
  await conn.undefine('i-adopt2');
  for (const id of ['i-adopt0', 'i-adopt1']) await second.terminate(id);
});

test('adopt { resume } after a host reboot starts again what was running, leaves stopped instances off, and starts nothing on a disabled node', async () => {
  const before = await open();
  const wasRunning = await sampleInstance('10-no-nic');
  const wasStopped = await sampleInstance('10-no-nic');
  const stillRunning = await sampleInstance('10-no-nic');
  for (const i of [wasRunning, wasStopped, stillRunning]) await before.launch(i);
  await before.stop(wasStopped.name, { graceMs: 0 });
  // The host went down: the guests that ran are shut off, without a stop asked for.
  await conn.destroy(wasRunning.name);
  const record = join(sb.instances, wasRunning.name, 'instance.xml');
  writeFileSync(record, readFileSync(record, 'utf8').replace(/<bootTime>\d+</, '<bootTime>1000000000<'));

  // Without resume (the default), adopt starts nothing.
  const plain = await (await open()).adopt();
  assert.equal(plain.adopted.find((a) => a.id === wasRunning.name)?.resumed, undefined);
  assert.equal(await conn.getState(wasRunning.name), 'shutoff');

  // A disabled node resumes nothing, and says why.
  const disabled = await open();
  await disabled.modifyNode('disabled');
  const d = await disabled.adopt({ resume: true });
  assert.equal(d.adopted.find((a) => a.id === wasRunning.name)?.notResumed, 'the node is disabled');
  assert.equal(await conn.getState(wasRunning.name), 'shutoff');
  await disabled.modifyNode('enabled');

  const after = await open();
  const r = await after.adopt({ resume: true });
  const by = new Map(r.adopted.map((a) => [a.id, a]));
  assert.deepEqual([by.get(wasRunning.name)?.resumed, by.get(wasRunning.name)?.domain.state], [true, 'shutoff'], 'the domain as found, and what was done');
  assert.equal(await conn.getState(wasRunning.name), 'running');
  assert.ok(Number(/<bootTime>(\d+)</.exec(readFileSync(record, 'utf8'))?.[1]) > 1000000000, 'bootTime recorded');
  assert.equal(by.get(wasStopped.name)?.notResumed, 'stopped (start runs it)');
  assert.equal(await conn.getState(wasStopped.name), 'shutoff');
  assert.deepEqual([by.get(stillRunning.name)?.resumed, by.get(stillRunning.name)?.notResumed], [undefined, undefined], 'a running domain is left as it is');

  // A start that fails (here QEMU's error, through a binding whose domains refuse to start)
  // leaves the instance adopted, off, with the error; the other instances are still adopted.
  await conn.destroy(wasRunning.name);
  const refusing: BindingLoader = async () => {
    const b = await loadBinding();
    const refuse = <T extends object>(d: T): T =>
      new Proxy(d, { get: (t, k) => (k === 'create' ? () => Promise.reject(new Error('internal error: qemu unexpectedly closed the monitor: cannot allocate memory')) : Reflect.get(t, k)) });
    class Refusing extends b.Hypervisor {
      override async connectListAllDomains(flags: number) {
        return (await super.connectListAllDomains(flags)).map(refuse);
      }
    }
    return { Hypervisor: Refusing };
  };
  const failing = await NodeController.open({ instancesDir: sb.instances, connection: await connect({ uri: 'test:///default', loader: refusing }), transform: shippedTransform() });
  const report = await failing.adopt({ resume: true });
  const failed = report.adopted.find((a) => a.id === wasRunning.name);
  assert.equal(failed?.resumeError?.code, 'LIBVIRT_ERROR');
  assert.match(failed?.notResumed ?? '', /^the start failed: libvirt start of domain 'i-\w+' on test:\/\/\/default failed: internal error: qemu unexpectedly closed the monitor/);
  assert.equal(await conn.getState(wasRunning.name), 'shutoff');
  assert.equal(report.adopted.length, 3);
  await closeConnections(refusing);
  for (const i of [wasRunning, wasStopped, stillRunning]) await after.terminate(i.name);
});
