// The version log (versions.jsonl): one JSON object per line, a line a crash cut short
// skipped when read — and never the record appended after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTransformVersions, recordVersion, VERSION_LOG, type TransformVersion } from '../../engine/transform/watch/index.js';

const version = (hash: string): TransformVersion => ({ hash, snapshot: `s-${hash}`, main: 'libvirt.xsl', files: ['libvirt.xsl'], activatedAt: '2026-11-25T00:00:00.000Z', samples: 3 });

test('a version recorded after a torn last line (a crash during an append) is read back, and so is every one after it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'domforge-versions-'));
  try {
    await recordVersion(dir, version('a'));
    appendFileSync(join(dir, VERSION_LOG), '{"hash":"torn","snap');
    await recordVersion(dir, version('b'));
    await recordVersion(dir, version('c'));
    assert.deepEqual((await readTransformVersions(dir)).map((v) => v.hash), ['a', 'b', 'c']);
    // The torn text stays on a line of its own; nothing is glued to it.
    assert.deepEqual(readFileSync(join(dir, VERSION_LOG), 'utf8').split('\n').map((l) => l.slice(0, 12)), ['{"hash":"a",', '{"hash":"tor', '{"hash":"b",', '{"hash":"c",', '']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a log that ends with its newline gets no blank line; a new log starts at its first record', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'domforge-versions-'));
  try {
    await recordVersion(dir, version('a'));
    await recordVersion(dir, version('b'));
    assert.equal(readFileSync(join(dir, VERSION_LOG), 'utf8'), `${JSON.stringify(version('a'))}\n${JSON.stringify(version('b'))}\n`);
    writeFileSync(join(dir, VERSION_LOG), '');
    await recordVersion(dir, version('c'));
    assert.equal(readFileSync(join(dir, VERSION_LOG), 'utf8'), `${JSON.stringify(version('c'))}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
