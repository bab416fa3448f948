import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { connect, closeConnections, TEST_URI } from '../../engine/libvirt/index.js';

test.after(() => closeConnections());

/** `virsh nodeinfo`'s lines (`CPU(s):              16`) as label → value. */
function virshNodeinfo(uri: string): Map<string, string> {
  const out = execFileSync('virsh', ['-c', uri, 'nodeinfo'], { encoding: 'utf8' });
  return new Map(
    out
      .split('\n')
      .filter((l) => l.includes(':'))
      .map((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()]),
  );
}

test('nodeInfo gives the figures `virsh nodeinfo` prints for the same URI (virNodeGetInfo)', async () => {
  const conn = await connect({ uri: TEST_URI });
  const info = await conn.nodeInfo();
  const virsh = virshNodeinfo(TEST_URI);
  const number = (label: string, unit = '') => {
    const v = virsh.get(label);
    assert.ok(v !== undefined, `virsh nodeinfo has no "${label}" line`);
    assert.ok(v.endsWith(unit), `${label}: ${v}`);
    return Number(v.slice(0, v.length - unit.length).trim());
  };
  assert.deepEqual(info, {
    model: virsh.get('CPU model'),
    memoryKiB: number('Memory size', 'KiB'),
    cpus: number('CPU(s)'),
    mhz: number('CPU frequency', 'MHz'),
    nodes: number('NUMA cell(s)'),
    socketsPerNode: number('CPU socket(s)'),
    coresPerSocket: number('Core(s) per socket'),
    threadsPerCore: number('Thread(s) per core'),
  });
  // The topology fields mean what their names say: per node, per socket, per core.
  assert.equal(info.cpus, info.nodes * info.socketsPerNode * info.coresPerSocket * info.threadsPerCore);
  assert.ok(info.memoryKiB > 0);
});
