/**
 * The QEMU driver's side of test/validate/memory-cases.ts: each case is defined on
 * qemu:///system (define only, nothing starts), which must refuse exactly the cases marked
 * as refused by it ('qemu' or 'both'); test/validate/memory-devices.test.ts holds the test
 * driver and domforge to the same table.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tierOptions } from './env.js';
import { openTier, type Tier } from './harness.js';
import { defineError } from '../validate/helpers.js';
import { HOTPLUG_CASES, NODE_CASES, TOTAL_CASES, VIRTIO_MEM_CASES, type MemoryCase } from '../validate/memory-cases.js';

let tier: Tier | undefined;
before(async () => {
  if (!tierOptions().skip) tier = await openTier();
});
after(async () => tier?.cleanup());

function runCases(title: string, cases: MemoryCase[]): void {
  test(`${title}: the QEMU driver refuses exactly the cases marked as refused by it`, tierOptions(), async () => {
    for (const c of cases) {
      const said = await defineError(tier!.conn, c.xml);
      const refused = c.refusedBy === 'both' || c.refusedBy === 'qemu';
      assert.equal(said !== undefined, refused, `${c.name}: the QEMU driver says ${said}`);
      if (c.refusedBy === 'qemu') assert.match(said!, c.libvirt!, c.name);
    }
  });
}

runCases('memory devices and NUMA cells against <memory> and <maxMemory>', TOTAL_CASES);
runCases("a virtio-mem device's <block> and <requested>", VIRTIO_MEM_CASES);
runCases('NUMA cells named by memory devices and hugepages', NODE_CASES);
runCases('memory hotplug: <maxMemory>, its slots, NUMA cells and a device\'s <node>', HOTPLUG_CASES);
