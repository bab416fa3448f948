/**
 * stop and start on a real guest: NodeController.stop asks the guest to shut down, pulls the
 * plug after the grace if it is still up, and leaves the domain defined and shut off — no QEMU
 * process; start boots it again from the persistent configuration, with the config drive the
 * launch built still in the instance folder. The test driver runs no guest and has no process
 * to stop.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { parseConsole, readConsole } from './console.js';
import { tierOptions } from './env.js';
import { BOOT_TIMEOUT_MS, openTier, TEST_TIMEOUT_MS, type Tier } from './harness.js';

let tier: Tier | undefined;
before(async () => {
  if (!tierOptions().skip) tier = await openTier();
});
after(async () => tier?.cleanup());

const BOOT = 'DOMFORGE-GUEST boot ';
const boots = (text: string) => text.split(BOOT).length - 1;
/** QEMU processes whose command line names the domain (libvirt passes `-name guest=ID`). */
const qemuProcesses = (id: string) => {
  try {
    return execFileSync('pgrep', ['-f', `guest=${id}(,|\\s)`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
};

test('stop: the QEMU process goes and the domain stays defined, shut off; start boots the guest again with its config drive', tierOptions({ timeout: TEST_TIMEOUT_MS }), async () => {
  const t = tier!;
  const g = await t.instance({ label: 'stopstart' });
  const { launched, report: first } = await t.launchAndBoot(g);
  assert.ok(first.configDrive, 'the guest found its config drive at launch');
  assert.equal(qemuProcesses(g.name).length, 1, 'one QEMU process runs the guest');

  // The test guest's /init handles no ACPI power button: it is given its grace, then destroyed.
  const t0 = performance.now();
  const stopped = await t.nc.stop(g.name, { graceMs: 3_000 });
  const stopMs = performance.now() - t0;
  assert.equal(stopped.outcome, 'destroyed');
  assert.ok(stopMs >= 3_000, `the guest had its grace (${Math.round(stopMs)} ms)`);
  assert.deepEqual([stopped.domain.state, stopped.domain.active, stopped.domain.persistent], ['shutoff', false, true]);
  assert.deepEqual(qemuProcesses(g.name), [], 'no QEMU process is left');
  assert.equal((await t.nc.describe(g.name)).stopped, true);

  const consoleLog = t.consoleOf(g.name);
  const before = await readConsole(consoleLog);
  const started = await t.nc.start(g.name);
  assert.equal(started.domain.state, 'running');
  assert.notEqual(started.domain.id, launched.domain.id, 'a new QEMU process, so a new libvirt domain id');
  assert.equal(qemuProcesses(g.name).length, 1);

  // The new boot (QEMU appends to the console log, or starts it anew) reaches the config-drive marker.
  const end = Date.now() + BOOT_TIMEOUT_MS;
  let report = parseConsole('');
  for (;;) {
    const text = await readConsole(consoleLog);
    const isNew = boots(text) > boots(before) || (text !== before && !text.startsWith(before));
    report = parseConsole(text.slice(Math.max(0, text.lastIndexOf(BOOT))));
    if (isNew && report.done) break;
    assert.ok(Date.now() < end, `the guest did not boot again within ${BOOT_TIMEOUT_MS} ms; console tail:\n${text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.deepEqual(report.configDrive, first.configDrive, 'the second boot finds the same config drive');
  assert.deepEqual(report.blocks[0], first.blocks[0], 'and the same disks');
  assert.equal((await t.nc.describe(g.name)).stopped, false);

  await t.nc.terminate(g.name);
  assert.deepEqual(qemuProcesses(g.name), []);
});
