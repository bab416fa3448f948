/**
 * Issue 10, scenario 2: an instance with hugepages takes its memory from the host's
 * hugetlbfs pool (measured in /proc/meminfo), and with no free hugepages the launch
 * fails with libvirt's reason and leaves nothing defined and no instance folder.
 *
 * The only file of the tier that uses hugepages, so the counts are this file's own.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { OperationError } from '../../engine/controller/index.js';
import { parseXml } from '../../engine/xml/parse.js';
import { hypervisorStatus, tierOptions } from './env.js';
import { hugepages, openTier, setHugepagePool, TEST_TIMEOUT_MS, type Tier } from './harness.js';

let tier: Tier | undefined;
before(async () => {
  if (!tierOptions().skip) tier = await openTier();
});
after(async () => tier?.cleanup());

/** Skipped with the reason when the tier is down, or up but without a hugepage pool. */
function options() {
  const o = tierOptions({ timeout: TEST_TIMEOUT_MS });
  const s = hypervisorStatus();
  if (!o.skip && s.up && s.env.hugepages !== 'ok') return { ...o, skip: `hugepages: ${s.env.hugepages}` };
  return o;
}

const MEMORY_KB = 131072; // 128 MiB = 64 pages of 2 MiB

test('hugepages: the guest runs on 64 pages of the pool; with none free, launch fails and leaves nothing behind', options(), async (tc) => {
  const t = tier!;
  const pool = await hugepages();
  assert.ok(pool.free - pool.reserved >= MEMORY_KB / 2048, `the pool has room for a 128 MiB guest: ${JSON.stringify(pool)}`);

  const g = await t.instance({ label: 'huge', hugepages: true, memoryKB: MEMORY_KB });
  const { launched, report } = await t.launchAndBoot(g);
  const page = parseXml(launched.domainXml).getElementsByTagName('memoryBacking')[0]?.getElementsByTagName('page')[0];
  assert.deepEqual([page?.getAttribute('size'), page?.getAttribute('unit')], ['2048', 'KiB'], 'the live domain is backed by 2 MiB pages');
  const during = await hugepages();
  assert.equal(during.inUse - pool.inUse, MEMORY_KB / 2048, `64 more pages in use: before ${JSON.stringify(pool)}, during ${JSON.stringify(during)}`);
  assert.ok(report.done, 'the guest booted on hugepages');

  // None free: shrink the pool to what is in use (the kernel frees only free pages), then launch another.
  const size = pool.total;
  const second = await t.instance({ label: 'huge-none', hugepages: true, memoryKB: MEMORY_KB });
  try {
    await setHugepagePool(0);
    const squeezed = await hugepages();
    assert.equal(squeezed.free - squeezed.reserved, 0, `no hugepage free: ${JSON.stringify(squeezed)}`);
    await assert.rejects(t.nc.launch(second.instance), (e: unknown) => {
      assert.ok(e instanceof OperationError, String(e));
      assert.equal(e.step, 'start');
      // libvirt's (QEMU's) own words say what ran out.
      assert.match(e.message, /hugepage|memory|allocate/i);
      tc.diagnostic(e.message);
      return true;
    });
  } finally {
    assert.equal(await setHugepagePool(size), size, 'the pool is given back its size');
  }
  assert.equal(await t.conn.find(second.name), undefined, 'no domain left defined');
  assert.equal(existsSync(t.nc.layout.dir(second.name)), false, 'no instance folder left');

  // The first guest was not disturbed, and its pages come back when it is terminated.
  assert.equal((await t.conn.lookup(g.name)).id !== null, true);
  await t.nc.terminate(g.name);
  assert.equal((await hugepages()).inUse, pool.inUse, 'the pages are back in the pool');
});
