/**
 * State reasons: libvirt's virDomain<State>Reason numbers in virsh's words, read from
 * `virsh domstats --raw --state`. A real crash (QEMU killed) is in the hypervisor tier's
 * qemu-crash.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readStateReasons, stateReasonName, stateReasonsOfDomstats } from '../../engine/libvirt/index.js';

test("stateReasonName: virsh's words for libvirt's reasons, by state; a number it does not know is named as a number", () => {
  assert.deepEqual(
    [
      [1, 1],
      [1, 9],
      [3, 1],
      [3, 5],
      [4, 1],
      [5, 1],
      [5, 2],
      [5, 3],
      [5, 8],
      [6, 1],
      [5, 0],
    ].map(([s, r]) => stateReasonName(s!, r!)),
    ['booted', 'crashed', 'user', 'I/O error', 'user', 'shutdown', 'destroyed', 'crashed', 'daemon', 'panicked', 'unknown'],
  );
  assert.equal(stateReasonName(5, 42), 'reason 42');
  assert.equal(stateReasonName(9, 0), 'reason 0');
});

test('stateReasonsOfDomstats: each domain of the output with its reason; a domain without state fields has none', () => {
  const text = [
    "Domain: 'i-crashed'",
    '  state.state=5',
    '  state.reason=3',
    '',
    "Domain: 'i-running'",
    '  state.state=1',
    '  state.reason=1',
    '',
    "Domain: 'i-no-state'",
    '  block.count=0',
    '',
  ].join('\n');
  assert.deepEqual([...stateReasonsOfDomstats(text)], [
    ['i-crashed', 'crashed'],
    ['i-running', 'booted'],
  ]);
});

test("readStateReasons on test:///default: none (its domains live in this process, out of virsh's reach)", async () => {
  assert.equal(await readStateReasons({ uri: 'test:///default', domains: ['test'] }), undefined);
  assert.equal(await readStateReasons({ uri: 'qemu:///system', domains: [] }), undefined, 'no domains, no virsh');
});
