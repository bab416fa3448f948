// Replacing a payload: stale `B`, `B.N` and `B.encoding` keys go first, other keys stay.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePool, decodePool, planPayloadUpdate, payloadKeys, reassemble, updatePoolPayload } from '../../engine/kvp/index.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'domforge-kvp-update-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('payloadKeys picks B, canonical B.N and B.encoding only', () => {
  const keys = ['ignition.config', 'ignition.config.0', 'ignition.config.12', 'ignition.config.01', 'ignition.config.x', 'ignition.configs.0', 'ignition.config.encoding', 'other'];
  assert.deepEqual(payloadKeys(keys, 'ignition.config'), ['ignition.config', 'ignition.config.0', 'ignition.config.12', 'ignition.config.encoding']);
});

test('planPayloadUpdate removes every old chunk before adding the new ones', () => {
  const plan = planPayloadUpdate(['u.0', 'u.1', 'u.2', 'u', 'keep'], 'u', 'short');
  assert.deepEqual(plan, { remove: ['u.0', 'u.1', 'u.2', 'u'], add: [{ key: 'u.0', value: 'short' }] });
});

test('updatePoolPayload rewrites a pool file: a shorter payload leaves no stale tail', async () => {
  const file = join(dir, 'pool0');
  // A daemon-written file: one value at the daemon's (not the host's) limit.
  writeFileSync(
    file,
    encodePool(
      [
        { key: 'ignition.config.0', value: 'a'.repeat(990) },
        { key: 'other', value: 'é'.repeat(1023) + 'x' },
        { key: 'ignition.config.1', value: 'b'.repeat(990) },
        { key: 'ignition.config.2', value: 'c' },
      ],
      'daemon',
    ),
  );
  const records = await updatePoolPayload(file, 'ignition.config', '{"ignition":{"version":"3.4.0"}}');
  const onDisk = decodePool(readFileSync(file)).records;
  assert.deepEqual(onDisk, records);
  assert.deepEqual(
    onDisk.map((r) => r.key),
    ['other', 'ignition.config.0'],
  );
  assert.equal(reassemble(onDisk, 'ignition.config'), '{"ignition":{"version":"3.4.0"}}');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  // A missing file counts as empty.
  const fresh = join(dir, 'fresh');
  await updatePoolPayload(fresh, 'b', 'x'.repeat(1000));
  assert.deepEqual(decodePool(readFileSync(fresh)).records.map((r) => r.key), ['b.0', 'b.1']);
});

test('updatePoolPayload copies the other records byte for byte, even bytes that are not UTF-8', async () => {
  const file = join(dir, 'raw');
  const slot = (key: Buffer, value: Buffer, tail = 0): Buffer => {
    const b = Buffer.alloc(2560);
    key.copy(b, 0);
    value.copy(b, 512);
    if (tail) b.fill(tail, 512 + value.length + 1); // a stale tail after the NUL, as the daemon leaves
    return b;
  };
  const other = slot(Buffer.from('other'), Buffer.from([0x61, 0xe2, 0x82]));
  const bin = slot(Buffer.from('bin'), Buffer.from([0xff, 0xfe, 0x41]), 0x7a);
  // 2047 value bytes ending in a lone lead byte: as U+FFFD it would be 2049 bytes, over the field.
  const near = slot(Buffer.from('near'), Buffer.concat([Buffer.alloc(2046, 0x61), Buffer.from([0xc3])]));
  const oldChunk = slot(Buffer.from('euca.password.0'), Buffer.from('old'));
  const empty = Buffer.alloc(2560);
  writeFileSync(file, Buffer.concat([other, oldChunk, empty, bin, near]));
  const records = await updatePoolPayload(file, 'euca.password', 'x');
  const out = readFileSync(file);
  assert.equal(out.length, 4 * 2560);
  assert.deepEqual(out.subarray(0, 2560), other);
  assert.deepEqual(out.subarray(2560, 5120), bin);
  assert.deepEqual(out.subarray(5120, 7680), near);
  assert.deepEqual(decodePool(out.subarray(7680)).records, [{ key: 'euca.password.0', value: 'x' }]);
  assert.deepEqual(records.map((r) => r.key), ['other', 'bin', 'near', 'euca.password.0']);
});
