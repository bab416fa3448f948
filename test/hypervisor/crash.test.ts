/**
 * A controller killed with SIGKILL at any step of a launch or a terminate, on the real
 * hypervisor, where the domain outlives the process (the test driver's domains die with it):
 * afterwards `adopt` accounts for the instance (adopted, incomplete with the domain as it
 * is, or nothing at all), never a domain libvirt has and no folder records; `terminate`
 * then removes everything — no domain left defined, no folder — and does not wait for the
 * dead controller's lock; the dead controller's sandbox worker does not outlive it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AdoptReport, LockWaitEvent, NodeController } from '../../engine/controller/index.js';
import { tierOptions } from './env.js';
import { noopHooksFolder, openTier, TEST_TIMEOUT_MS, type Tier } from './harness.js';
import { processAlive, runUntilKilled } from '../fixtures/processes.js';

const CHILD = new URL('./crash-child.js', import.meta.url).pathname;

let tier: Tier | undefined;
let hooks = '';
let nc: NodeController;
const lockWaits: LockWaitEvent[] = [];
before(async () => {
  if (tierOptions().skip) return;
  tier = await openTier();
  // So that launch runs its filters and pre-boot steps and terminate its pre-clean.
  hooks = await noopHooksFolder(tier.root);
  nc = await tier.controller({ hooksDir: hooks, onLockWait: (e) => lockWaits.push(e) });
});
after(async () => {
  await nc?.close();
  await tier?.cleanup();
});

/** Runs crash-child.js; resolves once it has killed itself, with the pids of the children it had. */
async function crash(operation: 'launch' | 'terminate', step: string, target: string): Promise<number[]> {
  const t = tier!;
  const out = await runUntilKilled(CHILD, [t.env.uri, t.instancesDir, hooks, operation, step, target], `die at ${operation} step ${step}`);
  const m = /^children (\[.*\])$/m.exec(out);
  if (!m) throw new Error(`no list of children from the controller killed at ${step}:\n${out}`);
  return JSON.parse(m[1]!) as number[];
}


/** The dead controller's child processes go when it does (a worker's IPC channel closes). */
async function childrenGone(pids: number[], step: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (pids.some(processAlive) && Date.now() < deadline) await sleep(100);
  assert.deepEqual(pids.filter(processAlive), [], `no child process of the controller killed at ${step} outlives it`);
}

type Seen = { kind: 'none' } | { kind: 'incomplete'; state: string; domain: string } | { kind: 'adopted'; domain: string };

/** What adopt says of `id`, and that nothing else is odd about it. */
function seen(report: AdoptReport, id: string): Seen {
  assert.deepEqual(
    report.untracked.filter((d) => d.name === id),
    [],
    'libvirt never has a domain of the instance without its folder',
  );
  for (const k of ['refused', 'missingDomain', 'mismatched', 'unreadable'] as const) {
    assert.deepEqual(
      report[k].filter((e) => e.id === id),
      [],
      `adopt has no ${k} entry for ${id}`,
    );
  }
  const inc = report.incomplete.filter((e) => e.id === id);
  const ado = report.adopted.filter((e) => e.id === id);
  assert.ok(inc.length + ado.length <= 1);
  if (inc[0]) return { kind: 'incomplete', state: inc[0].state, domain: inc[0].domain ? inc[0].domain.state : 'none' };
  if (ado[0]) return { kind: 'adopted', domain: ado[0].domain.state };
  return { kind: 'none' };
}

/** Terminates what the crash left, and checks that nothing is left at all. */
async function cleanUp(id: string, step: string): Promise<void> {
  const t = tier!;
  if (existsSync(join(t.instancesDir, id))) await nc.terminate(id);
  assert.equal(await t.conn.find(id), undefined, `no domain ${id} is left after the crash at ${step} and terminate`);
  assert.equal(existsSync(join(t.instancesDir, id)), false, `no folder of ${id} is left`);
  assert.deepEqual((await readdir(t.instancesDir)).filter((f) => f.includes(id)), [], 'nothing of the instance in the instances folder');
}

// What a launch killed just before each step leaves: the record is written at write-instance
// and marked Extant at the end; the domain is defined at define and runs from start.
const LAUNCH: [step: string, expected: Seen][] = [
  ['check', { kind: 'none' }],
  ['create-folder', { kind: 'none' }],
  ['write-instance', { kind: 'incomplete', state: '', domain: 'none' }],
  ['render', { kind: 'incomplete', state: 'Staging', domain: 'none' }],
  ['filters', { kind: 'incomplete', state: 'Staging', domain: 'none' }],
  ['write-libvirt', { kind: 'incomplete', state: 'Staging', domain: 'none' }],
  ['config-drive', { kind: 'incomplete', state: 'Staging', domain: 'none' }],
  ['pre-boot', { kind: 'incomplete', state: 'Staging', domain: 'none' }],
  ['define', { kind: 'incomplete', state: 'Staging', domain: 'none' }],
  ['start', { kind: 'incomplete', state: 'Staging', domain: 'shutoff' }],
  ['record', { kind: 'incomplete', state: 'Staging', domain: 'running' }],
  ['done', { kind: 'adopted', domain: 'running' }],
];

test('a controller killed before each step of a launch: adopt accounts for the instance, terminate leaves nothing', tierOptions({ timeout: TEST_TIMEOUT_MS }), async () => {
  const t = tier!;
  for (const [step, expected] of LAUNCH) {
    const g = await t.instance({ label: `crash-l-${step}` });
    const file = join(t.root, `${g.name}.xml`);
    await writeFile(file, g.xml);
    const children = await crash('launch', step, file);
    assert.deepEqual(seen(await nc.adopt(), g.name), expected, `killed before launch step ${step}`);
    await childrenGone(children, step);
    await cleanUp(g.name, step);
  }
  assert.deepEqual(lockWaits, [], "no operation waited for a dead controller's lock");
});

// What a terminate killed just before each step leaves: Teardown from mark-teardown on; the
// domain is destroyed at destroy, undefined at undefine, the folder removed at remove-files.
const TERMINATE: [step: string, expected: Seen][] = [
  ['read-record', { kind: 'adopted', domain: 'running' }],
  ['check', { kind: 'adopted', domain: 'running' }],
  ['mark-teardown', { kind: 'adopted', domain: 'running' }],
  ['pre-clean', { kind: 'incomplete', state: 'Teardown', domain: 'running' }],
  ['destroy', { kind: 'incomplete', state: 'Teardown', domain: 'running' }],
  ['undefine', { kind: 'incomplete', state: 'Teardown', domain: 'shutoff' }],
  ['remove-files', { kind: 'incomplete', state: 'Teardown', domain: 'none' }],
  ['done', { kind: 'none' }],
];

test('a controller killed before each step of a terminate: adopt accounts for the instance, terminate again leaves nothing', tierOptions({ timeout: TEST_TIMEOUT_MS }), async () => {
  const t = tier!;
  for (const [step, expected] of TERMINATE) {
    const g = await t.instance({ label: `crash-t-${step}` });
    await nc.launch(g.instance);
    const children = await crash('terminate', step, g.name);
    assert.deepEqual(seen(await nc.adopt(), g.name), expected, `killed before terminate step ${step}`);
    await childrenGone(children, step);
    await cleanUp(g.name, step);
  }
  assert.deepEqual(lockWaits, [], "no operation waited for a dead controller's lock");
});
