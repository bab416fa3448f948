import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LAUNCH_STEPS, NodeController, OperationError } from '../../engine/controller/index.js';
import { IoError } from '../../engine/errors.js';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import type { Instance } from '../../engine/instance/index.js';
import { sampleInstance, sampleNames, sandbox, shippedTransform, type Sandbox, instancesFolderEntries } from './fixtures.js';
// A seeded PRNG, so a failing run can be replayed with its seed.
import { mulberry32 } from '../kvp/prng.js';

let conn: LibvirtConnection;
let sb: Sandbox;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
  sb = await sandbox();
  await sb.script(sb.hooks, '10-noop', 'exit 0');
});
test.after(async () => {
  await sb.cleanup();
  await closeConnections();
});

test('200 concurrent launches with random injected failures: every success runs, every failure left nothing', { timeout: 600_000 }, async (t) => {
  const seed = Number(process.env.DOMFORGE_SEED ?? Date.now() % 1_000_000);
  const random = mulberry32(seed);
  const samples = (await sampleNames()).filter((s) => !s.startsWith('13-')); // all KVM/Xen samples; Hyper-V has its own test
  const plan = new Map<string, string | undefined>(); // id -> step to fail at (undefined = succeed)
  const instances: Instance[] = [];
  for (let i = 0; i < 200; i++) {
    const inst = await sampleInstance(samples[i % samples.length]);
    const steps = LAUNCH_STEPS.filter((s) => (s !== 'config-drive' || inst.configDrive) && s !== 'kvp'); // the steps this launch runs (kvp: Hyper-V only)
    plan.set(inst.name, random() < 0.4 ? steps[Math.floor(random() * steps.length)] : undefined);
    instances.push(inst);
  }
  const nc = await NodeController.open({
    instancesDir: sb.instances,
    connection: conn,
    transform: shippedTransform(),
    hooksDir: sb.hooks,
    onStep: async (e) => {
      // Yield at random so the launches interleave differently at every step.
      await new Promise((r) => setTimeout(r, Math.floor(random() * 3)));
      if (plan.get(e.instanceId) === e.step) throw new IoError(`injected fault at ${e.step}`);
    },
  });
  const started = performance.now();
  const results = await Promise.allSettled(instances.map((inst) => nc.launch(inst)));
  const seconds = (performance.now() - started) / 1000;

  const domains = new Map((await conn.list()).map((d) => [d.name, d]));
  let ok = 0;
  for (const [i, r] of results.entries()) {
    const id = instances[i].name;
    const step = plan.get(id);
    const where = `seed ${seed}, ${id}, planned failure ${step ?? 'none'}`;
    if (r.status === 'fulfilled') {
      ok++;
      assert.equal(step, undefined, where);
      assert.equal(domains.get(id)?.state, 'running', where);
      assert.ok(existsSync(join(sb.instances, id, 'instance.xml')), where);
    } else {
      const e = r.reason as OperationError;
      assert.ok(e instanceof OperationError, `${where}: ${String(e)}`);
      assert.equal(e.step, step, where);
      assert.equal(e.rolledBack, true, where);
      assert.equal(domains.has(id), false, `${where}: domain left behind`);
      assert.equal(existsSync(join(sb.instances, id)), false, `${where}: folder left behind`);
    }
  }
  const expectedOk = [...plan.values()].filter((s) => s === undefined).length;
  assert.equal(ok, expectedOk);
  const listed = (await nc.list()).filter((x) => x.domain?.state === 'running');
  assert.equal(listed.length, expectedOk);
  t.diagnostic(`seed ${seed}: ${ok} launched, ${200 - ok} rolled back in ${seconds.toFixed(1)} s`);

  // Terminate them all concurrently, too: nothing is left.
  const terminated = await Promise.allSettled(listed.map((x) => nc.terminate(x.id)));
  assert.deepEqual(terminated.filter((r) => r.status === 'rejected'), []);
  assert.deepEqual(instancesFolderEntries(sb.instances), []);
  assert.deepEqual((await conn.list()).map((d) => d.name), ['test']);
});
