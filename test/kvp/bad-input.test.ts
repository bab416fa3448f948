// Bad input: each a typed error naming what is wrong, and nothing written.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KvpError } from '../../engine/errors.js';
import {
  encodePool,
  encodeRecord,
  decodePool,
  writePoolFile,
  updatePoolPayload,
  readPoolFile,
  chunkKeys,
  splitValue,
  renderKvpItem,
  renderAddKvpItemsEnvelope,
  batchItems,
  KvpLimitError,
  KvpCharacterError,
  KvpKeyError,
  KvpTooManyItemsError,
  KvpTruncatedPoolError,
  KvpDuplicateKeyError,
} from '../../engine/kvp/index.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'domforge-kvp-bad-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `write`, expects `check` to accept the error, and the folder to hold only `keep`. */
async function refusesAndWritesNothing(file: string, write: () => Promise<unknown>, check: (e: unknown) => boolean, before?: Buffer) {
  await assert.rejects(write, (e: unknown) => {
    assert.ok(e instanceof KvpError, `expected a KvpError, got ${String(e)}`);
    assert.equal((e as KvpError).code, 'KVP_INVALID');
    return check(e);
  });
  if (before) assert.ok(readFileSync(file).equals(before), 'the existing file is unchanged');
  else assert.throws(() => readFileSync(file), /ENOENT/, 'no file was created');
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
    'no temporary file left behind',
  );
}

test('a key over the limit names the key and the limit', async () => {
  const key = 'k'.repeat(256);
  await refusesAndWritesNothing(
    join(dir, 'long-key'),
    () => writePoolFile(join(dir, 'long-key'), [{ key: 'ok', value: '1' }, { key, value: 'x' }]),
    (e) => e instanceof KvpLimitError && e.key === key && e.limit === 'key-utf16' && e.max === 255 && e.actual === 256 && /key "k{57}\.\.\." is 256 UTF-16 code units; the host profile allows at most 255/.test(e.message),
  );
  assert.throws(() => encodeRecord({ key: 'é'.repeat(256), value: '' }, 'daemon'), (e: unknown) => e instanceof KvpLimitError && e.limit === 'key-utf8' && e.max === 511 && e.actual === 512);
  assert.throws(() => encodeRecord({ key: 'k', value: 'v'.repeat(2049) }, 'field'), (e: unknown) => e instanceof KvpLimitError && e.limit === 'value-utf8' && e.max === 2048);
  assert.throws(() => chunkKeys('b'.repeat(254), 'x'), (e: unknown) => e instanceof KvpLimitError && e.key === 'b'.repeat(254) + '.0');
});

test('a NUL in a value', async () => {
  const file = join(dir, 'nul');
  writeFileSync(file, encodePool([{ key: 'keep', value: 'me' }]));
  const old = readFileSync(file);
  await refusesAndWritesNothing(
    file,
    () => writePoolFile(file, [{ key: 'user-data', value: 'abc\0def' }]),
    (e) => e instanceof KvpCharacterError && e.problem === 'nul' && e.key === 'user-data' && e.field === 'value' && e.index === 3 && /U\+0000 at index 3/.test(e.message),
    old,
  );
  assert.throws(() => renderKvpItem('k', 'a\0'), (e: unknown) => e instanceof KvpCharacterError && e.problem === 'nul');
});

test('a lone surrogate, in a key, a value or a payload to split', async () => {
  await refusesAndWritesNothing(
    join(dir, 'surrogate'),
    () => writePoolFile(join(dir, 'surrogate'), [{ key: 'k', value: 'ok\uD83D' }]),
    (e) => e instanceof KvpCharacterError && e.problem === 'lone-surrogate' && e.index === 2 && /U\+D83D/.test(e.message),
  );
  assert.throws(() => encodeRecord({ key: '\uDE00x', value: '' }), (e: unknown) => e instanceof KvpCharacterError && e.field === 'key' && e.index === 0);
  assert.throws(() => splitValue('a\uDC00'), KvpCharacterError);
  assert.throws(() => chunkKeys('user-data', 'x'.repeat(2000) + '\uD800'), (e: unknown) => e instanceof KvpCharacterError && e.key === 'user-data' && e.index === 2000);
  assert.throws(() => renderKvpItem('k', '\uDFFF'), (e: unknown) => e instanceof KvpCharacterError && e.problem === 'lone-surrogate');
});

test('more than 128 items in one call', () => {
  const items = Array.from({ length: 129 }, (_, i) => ({ key: `k.${i}`, value: 'v' }));
  assert.throws(
    () => renderAddKvpItemsEnvelope({ host: 'HV1', vmName: 'GUID', items }),
    (e: unknown) => e instanceof KvpTooManyItemsError && e.count === 129 && e.max === 128 && /AddKvpItems takes at most 128 items in one call, got 129/.test(e.message),
  );
  assert.doesNotThrow(() => renderAddKvpItemsEnvelope({ host: 'HV1', vmName: 'GUID', items: items.slice(0, 128) }));
  // A caller with more items splits them over several calls.
  assert.deepEqual(batchItems(items).map((b) => b.length), [128, 1]);
  assert.deepEqual(batchItems([]), []);
  assert.throws(() => renderAddKvpItemsEnvelope({ host: 'HV1', vmName: 'GUID', items: [] }), KvpError);
  assert.throws(
    () => renderAddKvpItemsEnvelope({ host: 'HV1', vmName: 'GUID', items: [items[0]!, items[0]!] }),
    (e: unknown) => e instanceof KvpDuplicateKeyError && /in one AddKvpItems call/.test(e.message),
  );
});

test('a truncated pool file: reported by readers, refused by writers, file untouched', async () => {
  const file = join(dir, 'truncated');
  const whole = encodePool([{ key: 'ignition.config.0', value: 'old' }, { key: 'other', value: 'x' }]);
  const truncated = whole.subarray(0, whole.length - 1000);
  writeFileSync(file, truncated);
  assert.equal((await readPoolFile(file)).trailingBytes, 1560);
  assert.throws(() => decodePool(truncated, { partialRecord: 'error', file }), (e: unknown) => e instanceof KvpTruncatedPoolError && e.trailingBytes === 1560 && e.file === file);
  await refusesAndWritesNothing(file, () => updatePoolPayload(file, 'ignition.config', 'new'), (e) => e instanceof KvpTruncatedPoolError && e.trailingBytes === 1560, Buffer.from(truncated));
});

test('base names that collide with chunk keys, and empty keys', () => {
  assert.throws(() => chunkKeys('ignition.config.1', 'x'), (e: unknown) => e instanceof KvpKeyError && e.key === 'ignition.config.1');
  assert.throws(() => chunkKeys('', 'x'), KvpKeyError);
  assert.throws(() => encodeRecord({ key: '', value: 'x' }), KvpKeyError);
});

test('invalid UTF-8 read strictly names the record, its key (for a bad value), and the byte it starts at', () => {
  const pool = new Uint8Array(encodePool([{ key: 'a', value: 'fine' }, { key: 'guest.os', value: 'x' }]));
  pool[2560 + 512 + 1] = 0xff; // the second record's value, after its "x"
  assert.throws(() => decodePool(pool, { fatal: true, file: 'pool1' }), (e: unknown) => {
    assert.ok(e instanceof KvpError);
    assert.equal(e.shortMessage, 'record 1 ("guest.os"): the value field is not valid UTF-8 (byte 1 of the field, file offset 3073)');
    return true;
  });
  const badKey = new Uint8Array(encodePool([{ key: 'ab', value: 'v' }]));
  badKey[1] = 0xc3; // a lead byte followed by "\0"
  assert.throws(() => decodePool(badKey, { fatal: true }), (e: unknown) => {
    assert.equal((e as KvpError).shortMessage, 'record 0: the key field is not valid UTF-8 (byte 1 of the field, file offset 1)');
    return true;
  });
});
