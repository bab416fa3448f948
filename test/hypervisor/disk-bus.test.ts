/**
 * Issue 10, scenario 3: the same guest with virtio on and off. With virtio its disk is
 * `vda` on the virtio bus and the guest names it vda; without, instance.xml's `sda`
 * becomes libvirt's `hda` on IDE (Eucalyptus's legacy sd → hd rename) and the guest's
 * libata names it sda.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { firstChild, parseXml } from '../../engine/xml/parse.js';
import { tierOptions } from './env.js';
import { openTier, TEST_TIMEOUT_MS, type Tier } from './harness.js';

let tier: Tier | undefined;
before(async () => {
  if (!tierOptions().skip) tier = await openTier();
});
after(async () => tier?.cleanup());

const cases = [
  { virtio: true, target: { dev: 'vda', bus: 'virtio' }, guest: 'vda', nic: 'virtio' },
  { virtio: false, target: { dev: 'hda', bus: 'ide' }, guest: 'sda', nic: 'e1000' },
] as const;

for (const c of cases) {
  test(`virtio ${c.virtio ? 'on' : 'off'}: libvirt gets ${c.target.dev} on ${c.target.bus}, the guest sees ${c.guest}`, tierOptions({ timeout: TEST_TIMEOUT_MS }), async () => {
    const t = tier!;
    const g = await t.instance({ label: c.virtio ? 'virtio' : 'legacy', virtio: c.virtio });
    const { launched, report } = await t.launchAndBoot(g);

    const live = parseXml(launched.domainXml);
    const disk = [...live.getElementsByTagName('disk')].find((d) => d.getAttribute('device') === 'disk')!;
    const target = firstChild(disk, 'target')!;
    assert.deepEqual({ dev: target.getAttribute('dev'), bus: target.getAttribute('bus') }, c.target);
    const model = firstChild([...live.getElementsByTagName('interface')][0], 'model')?.getAttribute('type');
    assert.equal(model, c.nic);

    const blocks = report.blocks[0];
    assert.ok(blocks.includes(c.guest), `the guest sees ${c.guest}: /sys/block is ${blocks.join(' ')}`);
    assert.ok(!blocks.includes(c.virtio ? 'sda' : 'vda'), `and not the other name: /sys/block is ${blocks.join(' ')}`);
    assert.deepEqual(report.nets[0], ['eth0', 'lo'], 'one NIC, whichever its model');

    await t.nc.terminate(g.name);
  });
}
