/**
 * Issue 10, scenario 5: terminate destroys and undefines a running guest and removes its
 * folder; and after a controller restart (the guest launched by `domforge launch`, a node
 * process that has finished), a new controller adopts the running guest, its pre-adopt
 * hook runs, the guest is not disturbed, and the new controller can terminate it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readConsole, waitForConsole } from './console.js';
import { REPO, tierOptions } from './env.js';
import { BOOT_TIMEOUT_MS, openTier, TEST_TIMEOUT_MS, type Tier } from './harness.js';

let tier: Tier | undefined;
before(async () => {
  if (!tierOptions().skip) tier = await openTier();
});
after(async () => tier?.cleanup());

test('terminate destroys and undefines the running guest and removes its folder', tierOptions({ timeout: TEST_TIMEOUT_MS }), async () => {
  const t = tier!;
  const g = await t.instance({ label: 'term' });
  // No need to wait for the guest's marker: a started domain is a running QEMU process.
  const launched = await t.nc.launch(g.instance);
  assert.equal(launched.domain.state, 'running');
  assert.equal(launched.domain.persistent, true);

  const r = await t.nc.terminate(g.name);
  assert.equal(r.domain, 'destroyed');
  assert.equal(r.files, 'removed');
  assert.equal(await t.conn.find(g.name), undefined, 'libvirt has no such domain, running or defined');
  assert.equal(await t.conn.find(g.uuid), undefined, 'nor one with its uuid');
  assert.equal(existsSync(launched.dir), false, 'the instance folder is gone');
});

test('after a controller restart: adopt the running guest (pre-adopt hook runs), then terminate it', tierOptions({ timeout: TEST_TIMEOUT_MS }), async () => {
  const t = tier!;
  const g = await t.instance({ label: 'adopt' });
  const instanceXml = join(t.root, 'adopt-instance.xml');
  await writeFile(instanceXml, g.xml);

  // The first controller is the real CLI, in its own node process that launches and exits.
  const noHooks = join(t.root, 'no-hooks');
  await mkdir(noHooks, { recursive: true });
  const child = await promisify(execFile)(
    process.execPath,
    [join(REPO, 'bin/domforge.js'), 'launch', '--instance', instanceXml, '--uri', t.env.uri, '--instances', t.instancesDir, '--hooks', noHooks, '--json'],
    // Every path comes from the flags; the transform is the shipped one whatever the caller's environment says.
    { timeout: 120_000, env: { ...process.env, DOMFORGE_TRANSFORM: undefined } },
  );
  const first = JSON.parse(child.stdout) as { id: string; domain: { id: number; uuid: string } };
  assert.equal(first.id, g.name);
  const consoleLog = t.consoleOf(g.name);
  await waitForConsole(consoleLog, (r) => r.done, { timeoutMs: BOOT_TIMEOUT_MS, what: 'the guest launched by the first controller' });

  // The restarted controller, with a hook that records every event it is called for.
  const hooks = join(t.root, 'hooks');
  const calls = join(t.root, 'hook-calls.log');
  await mkdir(hooks, { recursive: true });
  await writeFile(join(hooks, '10-record'), `#!/bin/sh\necho "$1 $DOMFORGE_INSTANCE_ID $3" >> ${JSON.stringify(calls)}\n`);
  await chmod(join(hooks, '10-record'), 0o755);
  const restarted = await t.controller({ hooksDir: hooks });
  assert.equal(restarted.tracked.size, 0, 'a new controller tracks nothing until it adopts');

  const report = await restarted.adopt();
  const mine = report.adopted.find((a) => a.id === g.name);
  assert.ok(mine, `adopted ${g.name}: ${JSON.stringify({ ...report, adopted: report.adopted.map((a) => a.id) })}`);
  assert.equal(mine.domain.state, 'running');
  assert.equal(mine.domain.id, first.domain.id, 'the same running domain: not restarted');
  assert.equal(mine.domain.uuid, g.uuid);
  assert.ok(restarted.tracked.has(g.name));
  // The restarted controller raised its start events when it opened (HOME: the instances folder's parent), then pre-adopt.
  assert.deepEqual((await readFile(calls, 'utf8')).trim().split('\n'), [
    `euca-nc-pre-init  ${t.root}`,
    `euca-nc-pre-hyp-check  ${t.root}`,
    `euca-nc-post-init  ${t.root}`,
    `euca-nc-pre-adopt ${g.name} ${restarted.layout.dir(g.name)}`,
  ]);
  const boots = (await readConsole(consoleLog)).match(/^DOMFORGE-GUEST boot /gm) ?? [];
  assert.equal(boots.length, 1, 'the guest booted once: adopting did not restart it');

  const r = await restarted.terminate(g.name);
  assert.equal(r.domain, 'destroyed');
  assert.equal(await t.conn.find(g.name), undefined);
  assert.equal(restarted.tracked.has(g.name), false);
});
