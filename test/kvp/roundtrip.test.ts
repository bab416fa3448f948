// Round trips with seeded random Unicode: encode → decode, split → reassemble.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodePool,
  decodePool,
  encodeRecord,
  splitValue,
  chunkKeys,
  reassemble,
  parseKvpItem,
  renderKvpItem,
  IGNITION_CHUNK_BYTES,
  HOST_MAX_VALUE_UTF16,
  GUEST_MAX_VALUE_UTF8,
  type KvpRecord,
} from '../../engine/kvp/index.js';
import { mulberry32, randomText, randomTextWithin, seedFromEnv } from './prng.js';

const SEED = seedFromEnv(20240607);

test('pool: random records survive encode → decode (every profile)', () => {
  const rnd = mulberry32(SEED);
  for (let round = 0; round < 200; round++) {
    const records: KvpRecord[] = [];
    const n = Math.floor(rnd() * 6);
    for (let i = 0; i < n; i++) records.push({ key: `${i}:` + randomTextWithin(rnd, 250, 250), value: randomTextWithin(rnd, GUEST_MAX_VALUE_UTF8, HOST_MAX_VALUE_UTF16) });
    const pool = encodePool(records);
    assert.equal(pool.length, records.length * 2560);
    const d = decodePool(pool, { fatal: true });
    assert.deepEqual(d.records, records, `seed ${SEED}, round ${round}`);
    assert.equal(d.trailingBytes, 0);
  }
});

test('pool: zero records, empty values, a value of exactly 2047 bytes and a key of exactly 511', () => {
  assert.equal(encodePool([]).length, 0);
  assert.deepEqual(decodePool(new Uint8Array(0)), { records: [], trailingBytes: 0, emptyRecords: 0 });
  const exact = [
    { key: 'x', value: '' },
    { key: 'k'.repeat(511), value: 'é'.repeat(1023) + 'a' }, // 2047 bytes, 1024 units: daemon only
    { key: '😀'.repeat(127), value: '😀'.repeat(511) + 'abc' }, // 508 / 2047 bytes
  ];
  assert.deepEqual(decodePool(encodePool(exact, 'daemon'), { fatal: true }).records, exact);
  // A BOM and a combining mark at the start must not be eaten by the decoder.
  const tricky = { key: '\uFEFFkey', value: '\u0301\uFEFF' };
  assert.deepEqual(decodePool(encodeRecord(tricky)).records, [tricky]);
});

test('chunking: random text splits on code points and reassembles exactly', () => {
  const rnd = mulberry32(SEED + 1);
  for (let round = 0; round < 300; round++) {
    const max = [4, 5, 7, 64, IGNITION_CHUNK_BYTES][round % 5]!;
    const text = randomText(rnd, Math.floor(rnd() * 3000));
    const chunks = splitValue(text, { maxChunkUtf8Bytes: max });
    assert.equal(chunks.join(''), text, `seed ${SEED + 1}, round ${round}`);
    for (const [i, c] of chunks.entries()) {
      const bytes = Buffer.byteLength(c, 'utf8');
      assert.ok(bytes <= max, `chunk ${i} is ${bytes} bytes > ${max} (seed ${SEED + 1}, round ${round})`);
      if (text !== '') assert.ok(c.length > 0, 'no empty chunk');
      // Greedy: the next code point would not have fitted.
      const next = chunks[i + 1];
      if (next !== undefined) assert.ok(bytes + Buffer.byteLength(String.fromCodePoint(next.codePointAt(0)!), 'utf8') > max);
      assert.equal(Buffer.from(c, 'utf8').toString('utf8'), c, 'no split surrogate pair');
    }
    if (max === IGNITION_CHUNK_BYTES) {
      const records = chunkKeys('user-data', text);
      const pool = decodePool(encodePool(records), { fatal: true });
      assert.equal(reassemble(pool.records, 'user-data') ?? '', text);
    }
  }
});

test('chunking: exact multiples and the boundaries around them', () => {
  for (const n of [0, 1, 989, 990, 991, 1980, 1981, 2970, 9900]) {
    const text = 'a'.repeat(n);
    const chunks = splitValue(text);
    assert.equal(chunks.length, Math.max(1, Math.ceil(n / 990)), `n=${n}`);
    assert.equal(chunks.join(''), text);
    assert.equal(reassemble(chunkKeys('b', text), 'b') ?? '', text);
  }
  // 330 three-byte characters are exactly 990 bytes; 248 four-byte ones 992 (so 247 fit).
  assert.deepEqual(splitValue('€'.repeat(660)).map((c) => c.length), [330, 330]);
  assert.deepEqual(splitValue('😀'.repeat(248)).map((c) => [...c].length), [247, 1]);
});

test('CIM-XML: line-end characters a parser would normalise travel as references', () => {
  const data = 'a\r\nb\u0085c\u2028d\u2029e';
  const xml = renderKvpItem('k', data);
  assert.match(xml, /<VALUE>a&#13;\nb&#133;c&#8232;d&#8233;e<\/VALUE>/);
  assert.equal(parseKvpItem(xml).data, data);
});

test('CIM-XML: random items render and parse back unchanged', () => {
  const rnd = mulberry32(SEED + 2);
  for (let round = 0; round < 200; round++) {
    const name = 'n' + randomTextWithin(rnd, 200, 200);
    const data = randomTextWithin(rnd, 2047, 1023) + (round % 3 === 0 ? '\r\n\t<&>]]>"\'' : '');
    if (data.length > 1023 || Buffer.byteLength(data) > 2047) continue;
    assert.deepEqual(parseKvpItem(renderKvpItem(name, data)), { name, data, source: 0 }, `seed ${SEED + 2}, round ${round}`);
  }
});
