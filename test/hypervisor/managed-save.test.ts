/**
 * A managed save (`virsh managedsave`, or libvirt-guests with ON_SHUTDOWN=suspend when the
 * host shuts down): the guest's memory goes to a save image and its domain is shut off,
 * `saved`. `adopt --resume` restores it (the guest goes on where it was: `running (restored)`);
 * `reboot` boots it anew (`running (booted)`), its save image discarded;
 * `terminate` removes the domain with its save image, which libvirt refuses to undefine on
 * its own ("Refusing to undefine while domain managed save image exists"). The test driver
 * has no managed save.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tierOptions } from './env.js';
import { openTier, TEST_TIMEOUT_MS, type Tier } from './harness.js';

let tier: Tier | undefined;
before(async () => {
  if (!tierOptions().skip) tier = await openTier();
});
after(async () => tier?.cleanup());

/** Where the QEMU driver of qemu:///system keeps a domain's managed save image. */
const saveImage = (name: string) => `/var/lib/libvirt/qemu/save/${name}.save`;

test('a managed-saved guest: shutoff (saved); adopt --resume restores it (not a new boot), reboot boots it anew; terminate removes the domain and its save image', tierOptions({ timeout: TEST_TIMEOUT_MS }), async () => {
  const t = tier!;
  const virsh = (...args: string[]) => execFileSync('virsh', ['-c', t.env.uri, ...args], { encoding: 'utf8' });
  const g = await t.instance({ label: 'managedsave' });
  await t.launchAndBoot(g);

  virsh('managedsave', g.name);
  assert.ok(existsSync(saveImage(g.name)), 'libvirt wrote the save image');
  const saved = await t.nc.describe(g.name);
  assert.deepEqual([saved.domain?.state, saved.domain?.reason], ['shutoff', 'saved']);

  const report = await t.nc.adopt({ resume: true });
  const mine = report.adopted.find((a) => a.id === g.name);
  assert.equal(mine?.resumed, true, JSON.stringify(mine));
  const restored = await t.nc.describe(g.name);
  // libvirt's own word that the guest went on from its saved memory, not a new boot.
  assert.deepEqual([restored.domain?.state, restored.domain?.reason], ['running', 'restored']);

  // A reboot of a saved guest boots it anew, as a reboot does, rather than restoring the saved memory.
  virsh('managedsave', g.name);
  await t.nc.reboot(g.name);
  const rebooted = await t.nc.describe(g.name);
  assert.deepEqual([rebooted.domain?.state, rebooted.domain?.reason], ['running', 'booted']);
  assert.equal(existsSync(saveImage(g.name)), false, 'the save image was discarded');

  virsh('managedsave', g.name);
  const r = await t.nc.terminate(g.name);
  assert.deepEqual([r.domain, r.files], ['undefined', 'removed']);
  assert.equal(await t.conn.find(g.name), undefined, 'no domain left');
  assert.equal(existsSync(saveImage(g.name)), false, 'nor its save image');
});

test('a domain with snapshot metadata (an external disk-only snapshot): terminate removes it with its metadata', tierOptions({ timeout: TEST_TIMEOUT_MS }), async () => {
  const t = tier!;
  const virsh = (...args: string[]) => execFileSync('virsh', ['-c', t.env.uri, ...args], { encoding: 'utf8' });
  const g = await t.instance({ label: 'snapshot' });
  await t.nc.launch(g.instance);
  virsh('snapshot-create-as', g.name, 's1', '--disk-only', '--atomic', '--diskspec', 'vda,snapshot=external', '--diskspec', 'hdd,snapshot=no');
  assert.equal(virsh('snapshot-list', g.name, '--name').trim(), 's1');
  const r = await t.nc.terminate(g.name);
  assert.deepEqual([r.domain, r.files], ['destroyed', 'removed']);
  assert.equal(await t.conn.find(g.name), undefined, 'no domain left');
});

