/**
 * reboot on a real guest: NodeController.reboot asks the guest to shut down, waits its grace,
 * pulls the plug if it is still up, and starts the domain again from libvirt's persistent
 * configuration — so a volume attached since the launch is there when the guest boots again.
 * The test driver cannot show this: it runs no guest and has no QEMU process to replace.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { latest, parseConsole, readConsole, waitForConsole } from './console.js';
import { tierOptions } from './env.js';
import { BOOT_TIMEOUT_MS, openTier, TEST_TIMEOUT_MS, type Tier } from './harness.js';

let tier: Tier | undefined;
before(async () => {
  if (!tierOptions().skip) tier = await openTier();
});
after(async () => tier?.cleanup());

/** What the guest printed since its last boot line (the whole console when the file was started anew). */
const sinceLastBoot = (text: string) => parseConsole(text.slice(Math.max(0, text.lastIndexOf('DOMFORGE-GUEST boot '))));

test('reboot: a new QEMU process boots the guest again from the persistent configuration, with the volume attached since launch', tierOptions({ timeout: TEST_TIMEOUT_MS }), async () => {
  const t = tier!;
  const g = await t.instance({ label: 'reboot' });
  const { launched, report: booted } = await t.launchAndBoot(g);
  const consoleLog = t.consoleOf(g.name);
  const bootBlocks = latest(booted.blocks);

  const volume = join(t.root, 'disks', 'vol-dfrb0001.img');
  await writeFile(volume, '');
  await truncate(volume, 16 * 1024 * 1024);
  await t.nc.attachVolume(g.name, { id: 'vol-dfrb0001', devName: 'sdf', path: volume, sourceType: 'file' });
  const seen = await waitForConsole(consoleLog, (r) => latest(r.blocks).length > bootBlocks.length, { timeoutMs: BOOT_TIMEOUT_MS, what: 'the guest to see the volume' });
  const withVolume = latest(seen.blocks);
  assert.ok(!bootBlocks.includes('vdb') && withVolume.includes('vdb'), `the volume came after the boot: ${bootBlocks.join(' ')} → ${withVolume.join(' ')}`);

  const rebooted = await t.nc.reboot(g.name, { graceMs: 3_000 });
  assert.equal(rebooted.state, 'running');
  assert.equal(rebooted.persistent, true);
  assert.notEqual(rebooted.id, launched.domain.id, 'a new QEMU process, so a new libvirt domain id');

  // The new boot's first /sys/block report already holds the volume: the first boot's did not.
  const again = await waitForConsole(consoleLog, (r) => r.done, { timeoutMs: BOOT_TIMEOUT_MS, what: 'the second boot' }).then(async () => {
    let report = sinceLastBoot(await readConsole(consoleLog));
    const end = Date.now() + BOOT_TIMEOUT_MS;
    while (!(report.done && report.blocks[0]?.includes('vdb')) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 200));
      report = sinceLastBoot(await readConsole(consoleLog));
    }
    return report;
  });
  assert.ok(again.done, 'the guest finished booting again');
  assert.deepEqual(again.blocks[0], withVolume, 'at boot the guest has the disks it had before the reboot, the volume included');

  // The record still holds the volume, and the console is readable through the controller.
  assert.deepEqual((await t.nc.describe(g.name)).volumes.map((v) => [v.id, v.devName, v.stateName]), [['vol-dfrb0001', 'sdf', 'attached']]);
  const out = await t.nc.consoleOutput(g.name, { maxBytes: 64 * 1024 * 1024 });
  assert.match(out.bytes.toString('utf8'), /DOMFORGE-GUEST boot /);

  await t.nc.terminate(g.name);
});
