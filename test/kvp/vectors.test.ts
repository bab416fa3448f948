// Every test vector of the KVP reference (hyperv-kvp.md §6.7), byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  encodeRecord,
  encodePool,
  decodePool,
  toMap,
  splitValue,
  chunkKeys,
  reassemble,
  renderKvpItem,
  validateRecord,
  KvpLimitError,
  KvpCharacterError,
  KvpDuplicateKeyError,
  RECORD_BYTES,
} from '../../engine/kvp/index.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A record built by hand from the layout, independently of encodeRecord. */
function rawRecord(key: Uint8Array, value: Uint8Array): Buffer {
  const b = Buffer.alloc(RECORD_BYTES);
  Buffer.from(key).copy(b, 0);
  Buffer.from(value).copy(b, 512);
  return b;
}

test('TV1: CloudStack record, byte layout', () => {
  const value = ' template=domP type=router name=r-4-VM';
  assert.equal(Buffer.byteLength(value), 38);
  const rec = encodeRecord({ key: 'cloudstack-vm-userdata', value });
  assert.equal(rec.length, 2560);
  assert.deepEqual([...rec.subarray(0, 16)], [0x63, 0x6c, 0x6f, 0x75, 0x64, 0x73, 0x74, 0x61, 0x63, 0x6b, 0x2d, 0x76, 0x6d, 0x2d, 0x75, 0x73]);
  assert.deepEqual([...rec.subarray(16, 22)], [0x65, 0x72, 0x64, 0x61, 0x74, 0x61]);
  assert.ok(rec.subarray(22, 512).every((b) => b === 0), 'bytes 22..511 are zero');
  assert.deepEqual(
    [...rec.subarray(0x200, 0x226)],
    [
      0x20, 0x74, 0x65, 0x6d, 0x70, 0x6c, 0x61, 0x74, 0x65, 0x3d, 0x64, 0x6f, 0x6d, 0x50, 0x20, 0x74, 0x79, 0x70, 0x65, 0x3d, 0x72, 0x6f, 0x75, 0x74, 0x65, 0x72, 0x20, 0x6e,
      0x61, 0x6d, 0x65, 0x3d, 0x72, 0x2d, 0x34, 0x2d, 0x56, 0x4d,
    ],
  );
  assert.ok(rec.subarray(550).every((b) => b === 0), 'bytes 550..2559 are zero');
  assert.ok(rec.equals(rawRecord(Buffer.from('cloudstack-vm-userdata'), Buffer.from(value))));
});

test('TV2: ignition.config.0 record, first bytes and SHA-256', () => {
  const rec = encodeRecord({ key: 'ignition.config.0', value: '{"ignition":{"version":"3.4.0"}}' });
  assert.deepEqual([...rec.subarray(0, 18)], [0x69, 0x67, 0x6e, 0x69, 0x74, 0x69, 0x6f, 0x6e, 0x2e, 0x63, 0x6f, 0x6e, 0x66, 0x69, 0x67, 0x2e, 0x30, 0x00]);
  assert.equal(sha256(rec), 'b6a8b2ed144f46838c98d4eb255515a757b0e0d58e09b2ab8f8a1320a4bab983');
});

test('TV3: two-record pool reassembles; an all-zero record has the given hash and decodes to nothing', () => {
  const pool = encodePool([
    { key: 'ignition.config.0', value: '{"ignition":' },
    { key: 'ignition.config.1', value: '{"version":"3.4.0"}}' },
  ]);
  assert.equal(pool.length, 5120);
  const { records, trailingBytes } = decodePool(pool);
  assert.equal(trailingBytes, 0);
  assert.equal(reassemble(records, 'ignition.config'), '{"ignition":{"version":"3.4.0"}}');
  const zero = Buffer.alloc(2560);
  assert.equal(sha256(zero), '8ce8ba8e726ee8925e6560d86ac35be1097691d1cfac888e6bd20e804ea9eb15');
  const d = decodePool(zero);
  assert.deepEqual(d.records, []);
  assert.equal(d.emptyRecords, 1);
});

test('TV4: stale tails after the first NUL are ignored', () => {
  const key = Buffer.from([0x61, 0x00, 0x58, 0x59, 0x5a, 0x00]);
  const value = Buffer.from('new\0old-longer-value\0', 'latin1');
  assert.deepEqual(decodePool(rawRecord(key, value)).records, [{ key: 'a', value: 'new' }]);
});

test('TV5: fields without a terminator decode whole; the encoder refuses them under host and daemon', () => {
  const b = Buffer.alloc(2560);
  b.fill(0x6b, 0, 512);
  b.fill(0x76, 512);
  const { records } = decodePool(b);
  assert.deepEqual(records, [{ key: 'k'.repeat(512), value: 'v'.repeat(2048) }]);
  for (const profile of ['host', 'daemon'] as const) {
    assert.throws(() => encodeRecord(records[0]!, profile), KvpLimitError);
  }
  // The `field` profile (libhvee-like, no NUL) writes exactly these bytes back.
  assert.ok(encodeRecord(records[0]!, 'field').equals(b));
});

test('TV6: records, an all-zero record and 100 trailing bytes', () => {
  const file = Buffer.concat([encodePool([{ key: 'k1', value: 'v1' }, { key: 'k2', value: '' }]), Buffer.alloc(2560), Buffer.alloc(100, 0x41)]);
  const d = decodePool(file);
  assert.deepEqual(d.records, [
    { key: 'k1', value: 'v1' },
    { key: 'k2', value: '' },
  ]);
  assert.equal(d.trailingBytes, 100);
});

test('TV7: chunking at 990 bytes', () => {
  assert.deepEqual(splitValue('a'.repeat(2000)).map((c) => c.length), [990, 990, 20]);
  assert.deepEqual(splitValue('a'.repeat(1980)).map((c) => c.length), [990, 990]);
  assert.deepEqual(splitValue('a'.repeat(989) + 'éb'), ['a'.repeat(989), 'éb']);
  assert.deepEqual(splitValue('a'.repeat(988) + '😀'), ['a'.repeat(988), '😀']);
  assert.deepEqual(splitValue(''), ['']);
  assert.deepEqual(
    chunkKeys('ignition.config', 'x'.repeat(1000)).map((r) => r.key),
    ['ignition.config.0', 'ignition.config.1'],
  );
});

test('TV8: reassembly reads as Ignition does', () => {
  const m = new Map([
    ['ignition.config.0', 'ab'],
    ['ignition.config.1', 'cd'],
    ['ignition.config.3', 'zz'],
  ]);
  assert.equal(reassemble(m, 'ignition.config'), 'abcd');
  m.set('ignition.config', '');
  assert.equal(reassemble(m, 'ignition.config'), 'abcd');
  m.set('ignition.config', 'single');
  assert.equal(reassemble(m, 'ignition.config'), 'single');
  assert.equal(reassemble(new Map(), 'ignition.config'), undefined);
});

test('TV9: CIM-XML items', () => {
  assert.equal(
    renderKvpItem('cloudstack-vm-userdata', 'a<b&c'),
    '<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Data" TYPE="string"><VALUE>a&lt;b&amp;c</VALUE></PROPERTY><PROPERTY NAME="Name" TYPE="string"><VALUE>cloudstack-vm-userdata</VALUE></PROPERTY><PROPERTY NAME="Source" TYPE="uint16"><VALUE>0</VALUE></PROPERTY></INSTANCE>',
  );
  assert.equal(renderKvpItem('ignition.config.0', '{"ignition":{"version":"3.4.0"}}').length, 296);
  assert.match(renderKvpItem('k', 'x]]>y'), /<VALUE>x\]\]&gt;y<\/VALUE>/);
  assert.match(renderKvpItem('k', 'a\r\nb'), /<VALUE>a&#13;\nb<\/VALUE>/);
  assert.throws(() => renderKvpItem('k', 'bell\u0007'), (e: unknown) => e instanceof KvpCharacterError && e.problem === 'xml-invalid' && e.index === 4);
});

test('TV10: limits', () => {
  assert.throws(
    () => validateRecord({ key: 'k', value: '€'.repeat(1023) }),
    (e: unknown) => e instanceof KvpLimitError && e.limit === 'value-utf8' && e.actual === 3069 && e.max === 2047 && e.key === 'k',
  );
  validateRecord({ key: 'k', value: 'é'.repeat(1023) });
  assert.throws(() => validateRecord({ key: 'k', value: 'a'.repeat(1024) }), (e: unknown) => e instanceof KvpLimitError && e.limit === 'value-utf16' && e.max === 1023);
  validateRecord({ key: 'k', value: 'a'.repeat(2047) }, 'daemon');
  assert.throws(
    () => encodePool([{ key: 'k', value: '1' }, { key: 'k', value: '2' }]),
    (e: unknown) => e instanceof KvpDuplicateKeyError && e.key === 'k',
  );
  const twice = Buffer.concat([rawRecord(Buffer.from('k'), Buffer.from('first')), rawRecord(Buffer.from('k'), Buffer.from('second'))]);
  assert.equal(toMap(decodePool(twice).records).get('k'), 'first');
});
