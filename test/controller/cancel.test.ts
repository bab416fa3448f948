/**
 * Cancelling a launch: `launch(instance, { signal })` stops at the next step (a running hook is
 * killed at once) and undoes what it did; `domforge launch` does so on its first Ctrl-C or
 * SIGTERM and exits 130 / 143, and on a second one ends at once. An attachment likewise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledError } from '../../engine/errors.js';
import { NodeController, OperationError, StartCancelledError } from '../../engine/controller/index.js';
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
  // Slow at the events terminate, detach and adopt run; says when it started (its pid), and whether it lived on after its sleep.
  await sb.script(
    sb.hooks,
    '50-slow',
    `case "$1" in euca-nc-pre-clean|euca-nc-post-detach|euca-nc-pre-adopt) ;; *) exit 0 ;; esac\necho $$ > "${sb.root}/hook-$1-$DOMFORGE_INSTANCE_ID.pid"\nsleep 3\ntouch "${sb.root}/outlived-$1-$DOMFORGE_INSTANCE_ID"`,
  );
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

// Cancelling the operations that only go forward (terminate, detach, adopt): the running
// hook's process group is killed, no further step runs, and the error says what is left.

/** Resolves with the pid the slow 50-slow hook recorded for `event` and `id`, once it runs. */
async function forwardHookStarted(event: string, id: string): Promise<number> {
  const file = join(sb.root, `hook-${event}-${id}.pid`);
  for (let i = 0; i < 400; i++) {
    if (existsSync(file)) {
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (pid) return pid;
    }
    await sleep(25);
  }
  throw new Error(`the ${event} hook of ${id} did not start`);
}

const openOn = (hooks = true) => NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), ...(hooks ? { hooksDir: sb.hooks } : {}) });
const state = (id: string) => /<stateName>([^<]*)</.exec(readFileSync(join(sb.instances, id, 'instance.xml'), 'utf8'))?.[1];

/** Terminates `id` with no hooks. */
async function cleanUp(id: string): Promise<void> {
  const nc = await openOn(false);
  await nc.terminate(id);
  await nc.close();
}

/** After the hook's own 3 s: nothing it would have done once killed happened. */
async function noHookOutlived(pid: number, event: string, id: string): Promise<void> {
  assert.equal(processAlive(pid), false, 'the hook was killed');
  await sleep(3_300);
  assert.equal(existsSync(join(sb.root, `outlived-${event}-${id}`)), false, 'the hook did not run on after the cancel');
}

test('domforge terminate: SIGINT during a pre-clean hook kills it, exits 130 saying what was done and that terminate again finishes it; SIGTERM exits 143', { timeout: 60_000 }, async () => {
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    const inst = await sampleInstance();
    const nc = await openOn(false);
    await nc.launch(inst);
    await nc.close();
    const child = spawn(process.execPath, [CLI, 'terminate', inst.name, '--instances', sb.instances, '--uri', 'test:///default', '--hooks', sb.hooks], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise((r) => child.once('exit', (c, s) => r({ code: c, signal: s })));
    const hook = await forwardHookStarted('euca-nc-pre-clean', inst.name);
    child.kill(sig);
    assert.deepEqual(await exited, { code, signal: null }, stderr);
    assert.match(stderr, new RegExp(`domforge: ${sig}: cancelling the terminate of ${inst.name}; its running hook is killed`));
    assert.match(stderr, new RegExp(`terminate of ${inst.name} failed at step 'pre-clean': terminate of ${inst.name} cancelled \\(${sig}\\)`));
    assert.match(stderr, new RegExp(`not rolled back: instance.xml is marked Teardown; \`terminate ${inst.name}\` again finishes it`));
    assert.equal(state(inst.name), 'Teardown');
    await noHookOutlived(hook, 'euca-nc-pre-clean', inst.name);
    // As it says: terminate again finishes it.
    const again = await openOn(false);
    assert.equal((await again.terminate(inst.name)).files, 'removed');
    await again.close();
  }
});

test('terminate with a signal aborted during pre-clean: not taken for a failed hook (the domain is not destroyed, nothing kept), CANCELLED with what is left', { timeout: 60_000 }, async () => {
  const inst = await sampleInstance();
  const nc = await openOn();
  await nc.launch(inst);
  const ac = new AbortController();
  const terminating = nc.terminate(inst.name, { signal: ac.signal });
  const hook = await forwardHookStarted('euca-nc-pre-clean', inst.name);
  ac.abort('operator stop');
  await assert.rejects(terminating, (e: unknown) => {
    assert.ok(e instanceof OperationError, String(e));
    assert.deepEqual([e.code, e.step], ['CANCELLED', 'pre-clean']);
    assert.equal(e.unfinished, `instance.xml is marked Teardown; \`terminate ${inst.name}\` again finishes it`);
    return true;
  });
  assert.equal(await conn.getState(inst.name), 'running', 'the domain still runs');
  await noHookOutlived(hook, 'euca-nc-pre-clean', inst.name);
  await nc.close();
  await cleanUp(inst.name);
});

test('detachVolume with a signal aborted during post-detach: the hook is killed, the entry stays detaching, unfinished says the same detach finishes it', { timeout: 60_000 }, async () => {
  const inst = await sampleInstance();
  const nc = await openOn();
  await nc.launch(inst);
  await nc.attachVolume(inst.name, { id: 'vol-f0f0f0f0', devName: 'sdf', path: '/dev/mapper/vol-f0f0f0f0' });
  const ac = new AbortController();
  const detaching = nc.detachVolume(inst.name, 'vol-f0f0f0f0', { signal: ac.signal });
  const hook = await forwardHookStarted('euca-nc-post-detach', inst.name);
  ac.abort('operator stop');
  await assert.rejects(detaching, (e: unknown) => {
    assert.ok(e instanceof OperationError, String(e));
    assert.deepEqual([e.code, e.step], ['CANCELLED', 'post-detach']);
    assert.match(e.unfinished!, /detach-volume i-\S+ vol-f0f0f0f0 again finishes the detach$/);
    return true;
  });
  await noHookOutlived(hook, 'euca-nc-post-detach', inst.name);
  assert.match(readFileSync(join(sb.instances, inst.name, 'instance.xml'), 'utf8'), /detaching/);
  await nc.close();
  await cleanUp(inst.name);
});

test('adopt with a signal aborted during a pre-adopt hook: the hook is killed, CancelledError naming the instance it stopped at', { timeout: 60_000 }, async () => {
  const inst = await sampleInstance();
  const launcher = await openOn(false);
  await launcher.launch(inst);
  await launcher.close();
  const nc = await openOn();
  const ac = new AbortController();
  const adopting = nc.adopt({ signal: ac.signal });
  const hook = await forwardHookStarted('euca-nc-pre-adopt', inst.name);
  ac.abort('operator stop');
  await assert.rejects(adopting, (e: unknown) => {
    assert.ok(e instanceof CancelledError, String(e));
    assert.match(e.message, new RegExp(`^adopt cancelled \\(operator stop\\) at the pre-adopt hooks of ${inst.name} \\(stopped; ${inst.name} not adopted\\); .*run adopt again for the rest$`));
    return true;
  });
  assert.equal(nc.tracked.has(inst.name), false);
  await noHookOutlived(hook, 'euca-nc-pre-adopt', inst.name);
  await nc.close();
  await cleanUp(inst.name);
});

// The controller's start hooks (pre-init, pre-hyp-check, post-init), which open raises and
// the CLI's adopt with it: cancelled as adopt's own hooks are.

/** A hooks folder whose hook is slow at the start event named in `slow-start-event` (and nothing else), recording its pid as 50-slow does. */
async function startHooks(event: string): Promise<string> {
  const dir = join(sb.root, 'start-hooks');
  if (!existsSync(dir)) {
    mkdirSync(dir);
    await sb.script(dir, '50-slow-start', `[ "$1" = "$(cat "${sb.root}/slow-start-event")" ] || exit 0\necho $$ > "${sb.root}/hook-$1-.pid"\nsleep 3\ntouch "${sb.root}/outlived-$1-"`);
  }
  writeFileSync(join(sb.root, 'slow-start-event'), event);
  rmSync(join(sb.root, `hook-${event}-.pid`), { force: true });
  return dir;
}

test('open with a signal aborted during a start hook: the hook is killed, StartCancelledError names the event; the controller did not start', { timeout: 60_000 }, async () => {
  for (const [event, left] of [
    ['euca-nc-pre-init', 'the controller did not start, no libvirt connection was made'],
    ['euca-nc-post-init', 'the controller did not start'],
  ] as const) {
    const ac = new AbortController();
    const opening = NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), hooksDir: await startHooks(event), signal: ac.signal });
    const hook = await forwardHookStarted(event, '');
    ac.abort('operator stop');
    await assert.rejects(opening, (e: unknown) => {
      assert.ok(e instanceof StartCancelledError, String(e));
      assert.deepEqual([e.code, e.event, e.reason], ['CANCELLED', event, 'operator stop']);
      assert.equal(e.message, `open cancelled (operator stop) at the ${event} hooks (stopped); ${left}`);
      return true;
    });
    await noHookOutlived(hook, event, '');
  }
  await assert.rejects(NodeController.open({ instancesDir: sb.instances, connection: conn, signal: 'stop' as unknown as AbortSignal }), /Expected `signal` to be an AbortSignal, got string/);
});

test("domforge adopt: SIGINT during a start hook (euca-nc-pre-init) kills it and exits 130 saying none was adopted and adopt again does it; SIGTERM exits 143", { timeout: 60_000 }, async () => {
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    const hooks = await startHooks('euca-nc-pre-init');
    const child = spawn(process.execPath, [CLI, 'adopt', '--instances', sb.instances, '--uri', 'test:///default', '--hooks', hooks], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise((r) => child.once('exit', (c, s) => r({ code: c, signal: s })));
    const hook = await forwardHookStarted('euca-nc-pre-init', '');
    child.kill(sig);
    assert.deepEqual(await exited, { code, signal: null }, stderr);
    assert.match(stderr, new RegExp(`domforge: ${sig}: cancelling the adopt; its running hook is killed`));
    assert.match(stderr, new RegExp(`\\ndomforge: adopt cancelled \\(${sig}\\) at the euca-nc-pre-init hooks of the controller's start \\(stopped\\); none adopted; run adopt again\\n`));
    await noHookOutlived(hook, 'euca-nc-pre-init', '');
  }
});
