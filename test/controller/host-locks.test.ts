/**
 * One operation at a time per instance across every process on the host: the admin's
 * `domforge` commands are processes of their own beside the controller's, and each
 * rewrites instance.xml from what it read. Without a host-wide lock, a command run during
 * another's long step (a hook, a stop's grace) has its change overwritten when the other
 * writes its record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NodeController, type LockWaitEvent } from '../../engine/controller/index.js';
import { hostLock, hostLockName, tryHostLock, type LockHolder } from '../../engine/controller/host-lock.js';
import { hostLocking } from '../../engine/controller/options.js';
import type { DomforgeError } from '../../engine/errors.js';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { sampleInstance, sandbox, shippedTransform, type Sandbox } from './fixtures.js';

const CLI = new URL('./cli-program.js', import.meta.url).pathname;

let conn: LibvirtConnection;
let sb: Sandbox;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
  sb = await sandbox();
  // The pre-boot hook takes a while, as an admin's real one may (an image fetched, a volume prepared).
  await sb.script(sb.hooks, '10-slow-pre-boot', '[ "$1" = euca-nc-pre-boot ] && sleep 1.5\nexit 0');
});
test.after(async () => {
  await sb.cleanup();
  await closeConnections();
});

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  /** performance.now() when the process exited. */
  endedAt: number;
}

/** `domforge ARGS` in a process of its own. */
function domforge(args: string[]): Promise<Ran> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr, endedAt: performance.now() }));
  });
}

test("another process's assign-address during a launch's pre-boot hook waits for the launch, and its address is kept", { timeout: 60_000 }, async () => {
  const inst = await sampleInstance('01-linux-virtio');
  const id = inst.name;
  let other: Promise<Ran> | undefined;
  const nc = await NodeController.open({
    instancesDir: sb.instances,
    connection: conn,
    transform: shippedTransform(),
    hooksDir: sb.hooks,
    onStep: (e) => {
      if (e.step === 'pre-boot') other = domforge(['assign-address', id, '203.0.113.9', '--instances', sb.instances, '--uri', 'test:///default']);
    },
  });
  await nc.launch(inst);
  const launchedAt = performance.now();
  assert.ok(other, 'the launch ran its pre-boot step');
  const ran = await other;
  assert.equal(ran.code, 0, ran.stderr);
  assert.ok(ran.endedAt > launchedAt, 'the assign-address finished after the launch');
  assert.match(ran.stderr, new RegExp(`is waiting for process ${process.pid} \\(launch of ${id}\\) to finish with ${id}`), 'it said what it waited for');
  const record = readFileSync(join(sb.instances, id, 'instance.xml'), 'utf8');
  assert.match(record, /publicIp="203\.0\.113\.9"/, 'the address the other process assigned is in the record');
  assert.match(record, /<stateName>Extant<\/stateName>/, 'and so is what the launch recorded');
  await nc.terminate(id);
  await nc.close();
});

/** A process that takes the lock of `key` in `scope` (as `what`), starts a long `sleep` of its own, and prints `held` until it is killed. */
async function holderProcess(scope: string, key: string, what: string): Promise<{ pid: number; kill(): Promise<void> }> {
  const script = join(sb.root, 'holder.mjs');
  writeFileSync(
    script,
    `import { spawn } from 'node:child_process';
const { hostLockName, tryHostLock } = await import(${JSON.stringify(new URL('../../engine/controller/host-lock.js', import.meta.url).href)});
const held = await tryHostLock(hostLockName(process.argv[2], process.argv[3]), process.argv[4]);
if (!held) { console.log('busy'); process.exit(3); }
// A child of the holder (a hook, say) that outlives it must not keep the lock.
spawn('sleep', ['30.25'], { stdio: 'ignore', detached: true }).unref();
console.log('held');
setInterval(() => {}, 1000);
`,
  );
  const child = spawn(process.execPath, [script, scope, key, what], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const first = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  assert.equal(first, 'held');
  return {
    pid: child.pid!,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The holders' `sleep`s. */
function killSleeps(): void {
  spawnSync('pkill', ['-f', '^sleep 30.25$']);
}

test('a host lock held by another process: tryHostLock refuses, hostLock waits, told who holds it; the holder killed with SIGKILL frees it at once, its own child process notwithstanding', { timeout: 30_000 }, async () => {
  const key = `i-${process.pid}-kill`;
  const name = hostLockName(sb.root, key);
  const holder = await holderProcess(sb.root, key, 'launch of i-kill');
  try {
    assert.equal(await tryHostLock(name, 'test'), undefined, 'tryHostLock refuses a lock another process holds');
    let told: LockHolder | undefined | 'not told' = 'not told';
    let acquired = false;
    const waiting = hostLock(name, 'terminate of i-kill', (h) => (told = h)).then((held) => {
      acquired = true;
      return held;
    });
    await sleep(300);
    assert.equal(acquired, false, 'hostLock waits while the other process holds the lock');
    assert.deepEqual(told, { pid: holder.pid, what: 'launch of i-kill' }, 'the waiter was told the holder and what it does');
    const killedAt = performance.now();
    await holder.kill();
    const held = await waiting;
    assert.ok(performance.now() - killedAt < 2_000, `taken ${Math.round(performance.now() - killedAt)} ms after the kill`);
    // The holder's `sleep` still runs: the socket was not passed on to it.
    assert.ok(execFileSync('pgrep', ['-f', '^sleep 30.25$'], { encoding: 'utf8' }).trim(), "the holder's child still runs");
    await held.release();
    await held.release(); // twice is harmless
    const again = await tryHostLock(name, 'test');
    assert.ok(again, 'free again once released');
    await again.release();
  } finally {
    await holder.kill();
    killSleeps();
  }
});

test('hostLock in one process: waiters go one at a time, each after the release before it; locks of other keys and scopes are independent', async () => {
  const name = hostLockName(sb.root, 'i-order');
  assert.notEqual(name, hostLockName(sb.root, 'i-order2'));
  assert.notEqual(name, hostLockName(`${sb.root}/other`, 'i-order'));
  assert.ok(name.length <= 107 && name.startsWith('\0'), 'an abstract socket name');
  const first = (await tryHostLock(name, 'first'))!;
  const other = await tryHostLock(hostLockName(sb.root, 'i-order2'), 'other key');
  assert.ok(other, 'another key is free');
  await other.release();
  const order: string[] = [];
  let inside = 0;
  const waiter = async (label: string) => {
    const held = await hostLock(name, label);
    inside++;
    assert.equal(inside, 1, 'one holder at a time');
    order.push(label);
    await sleep(20);
    inside--;
    await held.release();
  };
  const all = Promise.all([waiter('a'), waiter('b'), waiter('c')]);
  await sleep(100);
  assert.deepEqual(order, [], 'nobody runs while the first holds the lock');
  await first.release();
  await all;
  assert.deepEqual([...order].sort(), ['a', 'b', 'c']);
});

test("an instances folder not made yet (createInstancesDir: false, the CLI's launch) locks in the scope it has once made, through a symbolic link too", async () => {
  mkdirSync(join(sb.root, 'real-parent'));
  symlinkSync(join(sb.root, 'real-parent'), join(sb.root, 'linked-parent'));
  const given = join(sb.root, 'linked-parent', 'instances');
  const early = await hostLocking(given);
  const held = await early.tryTake('i-0a0000aa', 'launch of i-0a0000aa');
  assert.ok(held);
  try {
    // The launch makes the folder; a process opening it now (by the link or by its real path) finds the lock taken.
    mkdirSync(join(sb.root, 'real-parent', 'instances'));
    for (const path of [given, join(sb.root, 'real-parent', 'instances')]) {
      assert.equal(await (await hostLocking(path)).tryTake('i-0a0000aa', 'launch of i-0a0000aa'), undefined, path);
    }
  } finally {
    await held.release();
  }
});

test('two controllers on one instances folder: a launch in one refuses a launch of the same id in the other, and an operation there waits for it; hostLocks false keeps locks inside a controller', { timeout: 60_000 }, async () => {
  const inst = await sampleInstance('01-linux-virtio');
  const id = inst.name;
  let duringPreBoot: Promise<unknown> | undefined;
  const b = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform() });
  const waits: LockWaitEvent[] = [];
  const c = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), onLockWait: (e) => waits.push(e) });
  let addressedAt = 0;
  const a = await NodeController.open({
    instancesDir: sb.instances,
    connection: conn,
    transform: shippedTransform(),
    hooksDir: sb.hooks,
    onStep: (e) => {
      if (e.step !== 'pre-boot') return;
      duringPreBoot = (async () => {
        await assert.rejects(b.launch(inst), (e: DomforgeError) => e.code === 'STATE_CONFLICT' && /another operation on .* is in progress/.test(e.message));
        await c.assignAddress(id, '198.51.100.4');
        addressedAt = performance.now();
      })();
    },
  });
  await a.launch(inst);
  const launchedAt = performance.now();
  await duringPreBoot;
  assert.ok(addressedAt > launchedAt, 'the other controller assigned the address after the launch');
  assert.deepEqual(
    waits.map((w) => [w.instanceId, w.what, w.holder?.pid, w.holder?.what]),
    [[id, `assign-address of ${id}`, process.pid, `launch of ${id}`]],
  );
  assert.equal((await a.describe(id)).interfaces[0]?.publicIp, '198.51.100.4');

  // Without host locks, a lock another process holds does not stop this controller.
  const loose = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), hostLocks: false });
  const scope = realpathSync(sb.instances);
  const holder = await holderProcess(scope, id, `stop of ${id}`);
  try {
    assert.equal((await loose.assignAddress(id, '198.51.100.5')).publicIp, '198.51.100.5');
    await assert.rejects(
      NodeController.open({ instancesDir: sb.instances, connection: conn, hostLocks: 'no' as unknown as boolean }),
      (e: DomforgeError) => e.code === 'USAGE' && /hostLocks/.test(e.message),
    );
  } finally {
    await holder.kill();
    killSleeps();
  }
  await a.terminate(id);
  for (const nc of [a, b, c, loose]) await nc.close();
});
