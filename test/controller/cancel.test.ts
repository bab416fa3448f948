/**
 * Cancelling a launch: `launch(instance, { signal })` stops at the next step (a running hook is
 * killed at once) and undoes what it did; `domforge launch` does so on its first Ctrl-C or
 * SIGTERM and exits 130 / 143, and on a second one ends at once. An attachment likewise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NodeController, OperationError } from '../../engine/controller/index.js';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { sampleFileUnderFreshId, sampleInstance, sandbox, shippedTransform, type Sandbox } from './fixtures.js';
import { processAlive } from '../fixtures/processes.js';

const CLI = new URL('./cli-program.js', import.meta.url).pathname;

let conn: LibvirtConnection;
let sb: Sandbox;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
  sb = await sandbox();
  // A slow pre-boot hook that says when it started and records its pid.
  await sb.script(sb.hooks, '10-slow', `[ "$1" = euca-nc-pre-boot ] || exit 0\necho $$ > "${sb.root}/hook-$DOMFORGE_INSTANCE_ID.pid"\nexec sleep 20`);
});
test.after(async () => {
  await sb.cleanup();
  await closeConnections();
});


/** Resolves with the pid the slow hook recorded for `id`, once it runs. */
async function hookStarted(id: string): Promise<number> {
  const file = join(sb.root, `hook-${id}.pid`);
  for (let i = 0; i < 400; i++) {
    if (existsSync(file)) {
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (pid) return pid;
    }
    await sleep(25);
  }
  throw new Error(`the pre-boot hook of ${id} did not start`);
}

function cancelled(step: string) {
  return (e: unknown) => {
    assert.ok(e instanceof OperationError, String(e));
    assert.deepEqual([e.code, e.step, e.rolledBack], ['CANCELLED', step, true]);
    assert.match(e.message, /cancelled \(operator stop\)/);
    return true;
  };
}

test('launch with a signal aborted during its pre-boot hook: the hook is killed at once, everything is undone, CANCELLED at step pre-boot', { timeout: 60_000 }, async () => {
  const nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), hooksDir: sb.hooks });
  const inst = await sampleInstance('09-q35-config-drive');
  const ac = new AbortController();
  const launching = nc.launch(inst, { signal: ac.signal });
  const hook = await hookStarted(inst.name);
  const t0 = performance.now();
  ac.abort('operator stop');
  await assert.rejects(launching, cancelled('pre-boot'));
  assert.ok(performance.now() - t0 < 5_000, 'not after the hook’s 20 s');
  assert.equal(processAlive(hook), false, 'the hook was killed');
  assert.equal(existsSync(join(sb.instances, inst.name)), false, 'no folder left');
  assert.equal(await conn.find(inst.name), undefined, 'no domain');
  await nc.close();
});

test('a signal aborted before the launch, or while a step runs: nothing is left, the step under way finishes and is undone', { timeout: 60_000 }, async () => {
  const before = new AbortController();
  before.abort('operator stop');
  const plain = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform() });
  const a = await sampleInstance('01-linux-virtio');
  await assert.rejects(plain.launch(a, { signal: before.signal }), cancelled('check'));
  assert.equal(existsSync(join(sb.instances, a.name)), false);

  // Aborted as define begins: the domain is defined, then the next step (start) is cancelled and the define undone.
  const during = new AbortController();
  const nc = await NodeController.open({
    instancesDir: sb.instances,
    connection: conn,
    transform: shippedTransform(),
    onStep: (e) => {
      if (e.step === 'define') during.abort('operator stop');
    },
  });
  const b = await sampleInstance('01-linux-virtio');
  await assert.rejects(nc.launch(b, { signal: during.signal }), (e: unknown) => {
    cancelled('start')(e);
    assert.deepEqual(
      (e as OperationError).rollback.map((r) => r.action),
      ['undefine', 'remove-folder'],
    );
    return true;
  });
  assert.equal(await conn.find(b.name), undefined, 'the defined domain was undefined');
  assert.equal(existsSync(join(sb.instances, b.name)), false);
  await plain.close();
  await nc.close();
});

test('attachVolume with a signal aborted during its pre-attach hook: the hook is killed, the device never reaches libvirt, the stub files and the record are as before', { timeout: 60_000 }, async () => {
  // A hooks folder of its own: only a slow pre-attach hook (the launch before it must not wait).
  const hooks = join(sb.root, 'attach-hooks');
  mkdirSync(hooks);
  await sb.script(hooks, '10-slow-attach', `[ "$1" = euca-nc-pre-attach ] || exit 0\necho $$ > "${sb.root}/hook-$DOMFORGE_INSTANCE_ID.pid"\nexec sleep 20`);
  const nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), hooksDir: hooks });
  const inst = await sampleInstance('01-linux-virtio');
  const r = await nc.launch(inst);
  const before = await conn.getXML(inst.name);
  const record = readFileSync(join(r.dir, 'instance.xml'), 'utf8');
  const ac = new AbortController();
  const attaching = nc.attachVolume(inst.name, { id: 'vol-c0c0c0c0', devName: 'sdh', path: '/dev/vol-c0c0c0c0' }, { signal: ac.signal });
  const hook = await hookStarted(inst.name);
  ac.abort('operator stop');
  await assert.rejects(attaching, (e: unknown) => {
    assert.ok(e instanceof OperationError, String(e));
    assert.deepEqual([e.code, e.operation, e.step, e.rolledBack], ['CANCELLED', 'attach-volume', 'pre-attach', true]);
    return true;
  });
  assert.equal(processAlive(hook), false, 'the hook was killed');
  assert.equal(await conn.getXML(inst.name), before, 'the domain is unchanged');
  assert.equal(readFileSync(join(r.dir, 'instance.xml'), 'utf8'), record, 'the record is unchanged');
  assert.equal(existsSync(join(r.dir, 'vol-c0c0c0c0.xml')), false);
  assert.equal(existsSync(join(r.dir, 'vol-c0c0c0c0-libvirt.xml')), false);
  await nc.terminate(inst.name);
  await nc.close();
});

test('close({ cancel: true }) cancels the launches under way (with or without a signal of their own) and returns once they are undone; close() alone waits for them', { timeout: 60_000 }, async () => {
  const nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), hooksDir: sb.hooks });
  const [a, b] = [await sampleInstance('01-linux-virtio'), await sampleInstance('01-linux-virtio')];
  const own = new AbortController();
  const launches = [nc.launch(a), nc.launch(b, { signal: own.signal })].map((p) => p.then(() => 'launched', (e: OperationError) => `${e.code} ${e.step}`));
  await Promise.all([hookStarted(a.name), hookStarted(b.name)]);
  const t0 = performance.now();
  await nc.close({ cancel: true });
  assert.ok(performance.now() - t0 < 5_000, 'not after the hooks’ 20 s');
  assert.deepEqual(await Promise.all(launches), ['CANCELLED pre-boot', 'CANCELLED pre-boot']);
  for (const id of [a.name, b.name]) assert.equal(existsSync(join(sb.instances, id)), false, `${id}: nothing left`);
  assert.equal(own.signal.aborted, false, "the caller's signal is the caller's");
  await assert.rejects(nc.launch(await sampleInstance()), /closed/);

  // Without cancel, close waits for the launch to finish as it would.
  const patient = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform() });
  const c = await sampleInstance('01-linux-virtio');
  const launched = patient.launch(c);
  await patient.close();
  assert.equal((await launched).id, c.name);
  await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform() }).then(async (n) => {
    await n.terminate(c.name);
    await n.close();
  });
});

/** `domforge launch` of a fresh copy of a sample, in a process of its own. */
function cliLaunch(name: string) {
  const { file, id } = sampleFileUnderFreshId(sb.root, '01-linux-virtio', name);
  const child = spawn(process.execPath, [CLI, 'launch', '--instance', file, '--instances', sb.instances, '--uri', 'test:///default', '--hooks', sb.hooks], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return { id, child, exited, stderr: () => stderr };
}

test('domforge launch: the first SIGINT cancels the launch and undoes it (exit 130), SIGTERM likewise (exit 143); a second SIGINT ends it at once', { timeout: 60_000 }, async () => {
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    const l = cliLaunch(`cancel${sig}`);
    const hook = await hookStarted(l.id);
    l.child.kill(sig);
    const end = await l.exited;
    assert.deepEqual(end, { code, signal: null }, l.stderr());
    assert.match(l.stderr(), new RegExp(`domforge: ${sig}: cancelling the launch of ${l.id}; what it did is undone`));
    assert.match(l.stderr(), new RegExp(`launch of ${l.id} failed at step 'pre-boot': launch of ${l.id} cancelled \\(${sig}\\)`));
    assert.match(l.stderr(), /rolled back: remove-folder/);
    assert.equal(processAlive(hook), false, 'the hook was killed');
    assert.equal(existsSync(join(sb.instances, l.id)), false, 'no folder left');
  }

  // Twice: the process ends on the second signal, as it would have on the first without domforge's handler.
  const l = cliLaunch('cancel-twice');
  const hook = await hookStarted(l.id);
  l.child.kill('SIGINT');
  await sleep(20);
  l.child.kill('SIGINT');
  const end = await l.exited;
  assert.ok(end.signal === 'SIGINT' || end.code === 130, JSON.stringify(end));
  // Ended at once, the launch may leave its hook running and its folder (terminate removes it), as a kill would.
  if (processAlive(hook)) process.kill(hook, 'SIGKILL');
});
