// A C program written from the record layout alone reads the pool files domforge writes
// and must print the same pairs as domforge's own decoder.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePool, encodePool, kvpPoolFromInput, writePoolFile, chunkKeys, type KvpRecord } from '../../engine/kvp/index.js';
import { mulberry32, randomTextWithin, seedFromEnv } from './prng.js';

const source = fileURLToPath(new URL('../../../test/kvp/fixtures/kvp-reader.c', import.meta.url));
let dir = '';
let reader = '';
let skipReason: string | undefined;

function findCompiler(): string | undefined {
  for (const cc of [process.env['CC'], 'cc', 'gcc', 'clang']) {
    if (cc && spawnSync(cc, ['--version'], { stdio: 'ignore' }).status === 0) return cc;
  }
  return undefined;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'domforge-kvp-c-'));
  const cc = findCompiler();
  if (!cc) {
    skipReason = 'no C compiler found ($CC, cc, gcc, clang): cannot build the independent pool-file reader';
    return;
  }
  reader = join(dir, 'kvp-reader');
  const r = spawnSync(cc, ['-std=c99', '-Wall', '-Wextra', '-Werror', '-O1', '-o', reader, source], { encoding: 'utf8' });
  assert.equal(r.status, 0, `compiling ${source} failed:\n${r.stderr}`);
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The C reader's line format, computed from the UTF-8 bytes of our records. */
function expected(records: readonly KvpRecord[], trailing: number): string {
  const esc = (s: string) =>
    [...Buffer.from(s, 'utf8')].map((c) => (c === 0x5c ? '\\\\' : c >= 0x20 && c <= 0x7e ? String.fromCharCode(c) : '\\x' + c.toString(16).padStart(2, '0'))).join('');
  return records.map((r) => `${esc(r.key)}\t${esc(r.value)}\n`).join('') + `records ${records.length}\ntrailing ${trailing}\n`;
}

function runReader(file: string): string {
  return execFileSync(reader, [file], { encoding: 'utf8' });
}

test('C reader: the reference vectors and edge sizes', async (t) => {
  if (skipReason) return t.skip(skipReason);
  const records: KvpRecord[] = [
    { key: 'cloudstack-vm-userdata', value: ' template=domP type=router name=r-4-VM' },
    { key: 'ignition.config.0', value: '{"ignition":{"version":"3.4.0"}}' },
    { key: 'empty', value: '' },
    { key: 'k'.repeat(511), value: 'v'.repeat(2047) }, // largest the daemon writes
    { key: 'tabs\tand\nnewlines\r', value: 'back\\slash, é, 😀, e\u0301' },
  ];
  const file = join(dir, 'pool-a');
  await writePoolFile(file, records, { profile: 'daemon' });
  assert.equal(runReader(file), expected(records, 0));
  assert.deepEqual(decodePool(encodePool(records, 'daemon')).records, records);
});

test('C reader: fields filled to the last byte (field profile, no NUL) stop at the field end', async (t) => {
  if (skipReason) return t.skip(skipReason);
  const records = [{ key: 'K'.repeat(512), value: 'V'.repeat(2048) }, { key: 'after', value: 'ok' }];
  const file = join(dir, 'pool-full');
  writeFileSync(file, encodePool(records, 'field'));
  assert.equal(runReader(file), expected(records, 0));
});

test('C reader: an instance pool file and a partial record', async (t) => {
  if (skipReason) return t.skip(skipReason);
  const pool = kvpPoolFromInput({
    instanceId: 'i-12345678',
    uuid: '9b3c8f0e-6a2b-4a8e-9d41-0c5f5c2b7e11',
    userData: new TextEncoder().encode('#!/bin/sh\necho "héllo wörld" > /tmp/x\n'.repeat(60)),
    publicKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF3lcw0Qm9A test@host'],
    password: 'p@ss<&>',
  });
  const file = join(dir, 'pool-instance');
  writeFileSync(file, Buffer.concat([pool, Buffer.alloc(77, 0x41)]));
  const decoded = decodePool(Buffer.concat([pool, Buffer.alloc(77, 0x41)]));
  assert.equal(decoded.trailingBytes, 77);
  assert.equal(runReader(file), expected(decoded.records, 77));
});

test('C reader: random Unicode pools (seeded)', async (t) => {
  if (skipReason) return t.skip(skipReason);
  const seed = seedFromEnv(0x6b7670);
  const rnd = mulberry32(seed);
  for (let round = 0; round < 20; round++) {
    const records: KvpRecord[] = [];
    const n = Math.floor(rnd() * 12);
    for (let i = 0; i < n; i++) {
      const key = `k${i}.` + randomTextWithin(rnd, 200, 240);
      records.push({ key, value: randomTextWithin(rnd, 2047, 1023) });
    }
    records.push(...chunkKeys(`payload${round}`, randomTextWithin(rnd, 3000, 3000)));
    const file = join(dir, `pool-rand-${round}`);
    await writePoolFile(file, records);
    assert.equal(runReader(file), expected(records, 0), `seed ${seed}, round ${round}`);
  }
});
