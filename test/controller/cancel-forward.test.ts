/**
 * Cancelling the operations that only go forward (terminate, detach, adopt): the running
 * hook's process group is killed, no further step runs, and the error says what is left.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledError } from '../../engine/errors.js';
import { NodeController, OperationError } from '../../engine/controller/index.js';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { sampleInstance, sandbox, shippedTransform, type Sandbox } from './fixtures.js';
import { processAlive } from '../fixtures/processes.js';

const CLI = new URL('./cli-program.js', import.meta.url).pathname;

let conn: LibvirtConnection;
let sb: Sandbox;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
  sb = await sandbox();
  // Slow at the events these operations run; says when it started (its pid), and whether it lived on after its sleep.
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

async function hookStarted(event: string, id: string): Promise<number> {
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

const open = (hooks = true) => NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), ...(hooks ? { hooksDir: sb.hooks } : {}) });
const state = (id: string) => /<stateName>([^<]*)</.exec(readFileSync(join(sb.instances, id, 'instance.xml'), 'utf8'))?.[1];

/** Terminates `id` with no hooks. */
async function cleanUp(id: string): Promise<void> {
  const nc = await open(false);
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
    const nc = await open(false);
    await nc.launch(inst);
    await nc.close();
    const child = spawn(process.execPath, [CLI, 'terminate', inst.name, '--instances', sb.instances, '--uri', 'test:///default', '--hooks', sb.hooks], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise((r) => child.once('exit', (c, s) => r({ code: c, signal: s })));
    const hook = await hookStarted('euca-nc-pre-clean', inst.name);
    child.kill(sig);
    assert.deepEqual(await exited, { code, signal: null }, stderr);
    assert.match(stderr, new RegExp(`domforge: ${sig}: cancelling the terminate of ${inst.name}; its running hook is killed`));
    assert.match(stderr, new RegExp(`terminate of ${inst.name} failed at step 'pre-clean': terminate of ${inst.name} cancelled \\(${sig}\\)`));
    assert.match(stderr, new RegExp(`not rolled back: instance.xml is marked Teardown; \`terminate ${inst.name}\` again finishes it`));
    assert.equal(state(inst.name), 'Teardown');
    await noHookOutlived(hook, 'euca-nc-pre-clean', inst.name);
    // As it says: terminate again finishes it.
    const again = await open(false);
    assert.equal((await again.terminate(inst.name)).files, 'removed');
    await again.close();
  }
});

test('terminate with a signal aborted during pre-clean: not taken for a failed hook (the domain is not destroyed, nothing kept), CANCELLED with what is left', { timeout: 60_000 }, async () => {
  const inst = await sampleInstance();
  const nc = await open();
  await nc.launch(inst);
  const ac = new AbortController();
  const terminating = nc.terminate(inst.name, { signal: ac.signal });
  const hook = await hookStarted('euca-nc-pre-clean', inst.name);
  ac.abort('operator stop');
  await assert.rejects(terminating, (e: unknown) => {
    assert.ok(e instanceof OperationError, String(e));
    assert.deepEqual([e.code, e.step], ['CANCELLED', 'pre-clean']);
    assert.equal(e.unfinished, `instance.xml is marked Teardown; \`terminate ${inst.name}\` again finishes it`);
    return true;
  });
  assert.ok((await conn.find(inst.name))?.id !== null, 'the domain still runs');
  await noHookOutlived(hook, 'euca-nc-pre-clean', inst.name);
  await nc.close();
  await cleanUp(inst.name);
});

test('detachVolume with a signal aborted during post-detach: the hook is killed, the entry stays detaching, unfinished says the same detach finishes it', { timeout: 60_000 }, async () => {
  const inst = await sampleInstance();
  const nc = await open();
  await nc.launch(inst);
  await nc.attachVolume(inst.name, { id: 'vol-f0f0f0f0', devName: 'sdf', path: '/dev/mapper/vol-f0f0f0f0' });
  const ac = new AbortController();
  const detaching = nc.detachVolume(inst.name, 'vol-f0f0f0f0', { signal: ac.signal });
  const hook = await hookStarted('euca-nc-post-detach', inst.name);
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
  const launcher = await open(false);
  await launcher.launch(inst);
  await launcher.close();
  const nc = await open();
  const ac = new AbortController();
  const adopting = nc.adopt({ signal: ac.signal });
  const hook = await hookStarted('euca-nc-pre-adopt', inst.name);
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
