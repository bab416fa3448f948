// Memory devices, NUMA cells and <maxMemory> (engine/validate/memory-devices.ts), with libvirt's
// test driver as the oracle: every case of memory-cases.ts is defined on test:///default, which must
// refuse exactly the cases its generic checks refuse; domforge must refuse, at its place, every
// case the test driver or the QEMU driver refuses (test/hypervisor/memory-devices.test.ts holds the
// QEMU driver to the same table), and take the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainInvalidError, closeConnections, connect, type LibvirtConnection } from '../../engine/index.js';
import { validateDomainXml } from '../../engine/validate/validate-domain.js';
import { defineError } from './helpers.js';
import { HOTPLUG_CASES, NODE_CASES, TOTAL_CASES, VIRTIO_MEM_CASES, type MemoryCase } from './memory-cases.js';

let conn: LibvirtConnection;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
});
test.after(() => closeConnections());

/** domforge's problems, or [] when it takes the domain. */
async function problems(xml: string): Promise<{ path?: string; shortMessage: string }[]> {
  const err = await validateDomainXml(xml, { file: 'd.xml' }).then(() => undefined, (e: unknown) => e);
  if (err === undefined) return [];
  assert.ok(err instanceof DomainInvalidError, String(err));
  return err.problems;
}

/** domforge refuses `c` at its place with its message, or takes it when nobody refuses it. */
async function assertDomforgeVerdict(c: MemoryCase): Promise<void> {
  const found = await problems(c.xml);
  if (c.refusedBy === 'none') {
    assert.deepEqual(found.map((p) => `${p.path}: ${p.shortMessage}`), [], c.name);
    return;
  }
  const at = found.find((p) => p.path === c.at);
  assert.ok(at, `${c.name}: no problem at ${c.at}; found ${JSON.stringify(found.map((p) => [p.path, p.shortMessage]))}`);
  assert.match(at.shortMessage, c.message!, c.name);
}

function runCases(title: string, cases: MemoryCase[]): void {
  test(`${title}: the test driver refuses the generic cases, domforge every refused one at its place, and takes the rest`, async () => {
    for (const c of cases) {
      const libvirt = await defineError(conn, c.xml);
      const generic = c.refusedBy === 'both' || c.refusedBy === 'test';
      assert.equal(libvirt !== undefined, generic, `${c.name}: test driver says ${libvirt}`);
      if (generic) assert.match(libvirt!, c.libvirt!, c.name);
      await assertDomforgeVerdict(c);
    }
  });
}

runCases('memory devices and NUMA cells against <memory> and <maxMemory>', TOTAL_CASES);
runCases("a virtio-mem device's <block> and <requested>", VIRTIO_MEM_CASES);
runCases('NUMA cells named by memory devices and hugepages', NODE_CASES);
runCases('memory hotplug: <maxMemory>, its slots, NUMA cells and a device\'s <node>', HOTPLUG_CASES);

test('a domain of another type is held to <memory> as libvirt keeps it: NUMA cells and devices past <maxMemory> beside a <memory> within it are taken', async () => {
  const c = TOTAL_CASES.find((k) => k.name === 'sum-past-max')!;
  const xml = c.xml.replace("type='kvm'", "type='test'");
  assert.equal(await defineError(conn, xml), undefined);
  assert.deepEqual(await problems(xml), []);
});
