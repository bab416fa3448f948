import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildIsoImage } from '../../engine/configdrive/iso9660.js';
import type { DriveFile } from '../../engine/configdrive/tree.js';
import { extract, readTree, run, sha256, skipUnless, tempDir, writeBytes, xorrisoFind, xorrisoProblems } from './helpers.js';

const tmp = tempDir();
after(() => tmp.cleanup());
const enc = new TextEncoder();
const T = 1700000000;

/** A tree that exercises the writer's corners: depth 8, 64-character names, a folder spanning sectors, clashing ISO names, an empty file, shared contents. */
function awkwardTree(): DriveFile[] {
  const files: DriveFile[] = [
    { path: 'a/b/c/d/e/f/g/deepest.txt', data: enc.encode('eight levels\n') },
    { path: 'README.md', data: enc.encode('# mixed Case\n') },
    { path: 'Readme2.TXT', data: enc.encode('upper ext\n') },
    { path: 'clash/meta-data.json', data: enc.encode('{"a":1}') },
    { path: 'clash/meta_data.json', data: enc.encode('{"b":2}') },
    { path: 'clash/a.b.c', data: enc.encode('dots') },
    { path: 'clash/a_b.c', data: enc.encode('underscore') },
    { path: 'clash/.hidden', data: enc.encode('leading dot') },
    { path: 'clash/noext', data: enc.encode('no extension') },
    { path: 'empty/zero-length', data: new Uint8Array(0) },
    { path: 'x'.repeat(64), data: enc.encode('64-character name') },
  ];
  for (let i = 0; i < 150; i++) {
    files.push({ path: `many/${String(i).padStart(3, '0')}-${'n'.repeat(56)}`, data: enc.encode(`file ${i}\n`) });
  }
  const shared = new Uint8Array(100_000).fill(7);
  files.push({ path: 'shared/one', data: shared }, { path: 'shared/two', data: new Uint8Array(shared) });
  return files;
}

const files = awkwardTree();
const image = buildIsoImage(files, { label: 'config-2', timestamp: T });
const iso = join(tmp.dir, 'awkward.iso');
writeBytes(iso, image);

test('xorriso loads the awkward tree without complaint and extracts it byte for byte', { skip: skipUnless('xorriso') }, () => {
  assert.deepEqual(xorrisoProblems(iso), []);
  assert.deepEqual(xorrisoFind(iso).files, files.map((f) => f.path).sort());
  const dest = join(tmp.dir, 'awkward');
  extract(iso, dest);
  const got = readTree(dest);
  for (const f of files) assert.ok(got.get(f.path)?.equals(Buffer.from(f.data)), f.path);
});

test('Joliet carries the real names', { skip: skipUnless('isoinfo') }, () => {
  const listed = run('isoinfo', ['-J', '-f', '-i', iso]).split('\n').filter(Boolean).map((p) => p.replace(/^\//, ''));
  const want = new Set<string>();
  for (const f of files) {
    const parts = f.path.split('/');
    for (let i = 1; i <= parts.length; i++) want.add(parts.slice(0, i).join('/'));
  }
  assert.deepEqual(listed.sort(), [...want].sort());
});

test('the plain ISO 9660 names are valid d-characters and unique per folder', { skip: skipUnless('isoinfo') }, () => {
  const listed = run('isoinfo', ['-f', '-i', iso]).split('\n').filter(Boolean);
  assert.equal(listed.length, new Set(listed).size);
  for (const p of listed) {
    for (const part of p.replace(/^\//, '').split('/')) assert.match(part, /^[A-Z0-9_]*(\.[A-Z0-9_]*;1)?$/, p);
  }
  assert.equal(listed.filter((p) => p.startsWith('/CLASH/')).length, 6);
});

test('both-endian fields agree and the L and M path tables hold the same entries', () => {
  const pvd = 16 * 2048;
  const le32 = (at: number) => image[at] | (image[at + 1] << 8) | (image[at + 2] << 16) | (image[at + 3] * 2 ** 24);
  const be32 = (at: number) => image[at] * 2 ** 24 + (image[at + 1] << 16) + (image[at + 2] << 8) + image[at + 3];
  const both32 = (at: number) => {
    assert.equal(le32(at), be32(at + 4), `both-endian at ${at}`);
    return le32(at);
  };
  const both16 = (at: number) => {
    assert.equal(image[at] | (image[at + 1] << 8), (image[at + 2] << 8) | image[at + 3], `both-endian at ${at}`);
    return image[at] | (image[at + 1] << 8);
  };
  for (const vd of [pvd, pvd + 2048]) {
    assert.equal(both32(vd + 80) * 2048, image.length);
    assert.equal(both16(vd + 120), 1);
    assert.equal(both16(vd + 124), 1);
    assert.equal(both16(vd + 128), 2048);
    const ptSize = both32(vd + 132);
    const l = le32(vd + 140) * 2048;
    const m = be32(vd + 148) * 2048;
    let dirs = 0;
    for (let at = 0; at < ptSize; ) {
      const len = image[l + at];
      assert.equal(image[m + at], len);
      assert.equal(le32(l + at + 2), be32(m + at + 2), 'extent');
      assert.equal(image[l + at + 6] | (image[l + at + 7] << 8), (image[m + at + 6] << 8) | image[m + at + 7], 'parent');
      assert.deepEqual(image.subarray(l + at + 8, l + at + 8 + len), image.subarray(m + at + 8, m + at + 8 + len));
      at += 8 + len + (len % 2);
      dirs++;
    }
    assert.equal(dirs, 1 + 7 + 4); // root, a..g, clash, empty, many, shared
    // Every record of the root folder: extent and size both-endian.
    const root = vd + 156;
    const rootExtent = both32(root + 2);
    const rootSize = both32(root + 10);
    for (let at = rootExtent * 2048; at < rootExtent * 2048 + rootSize; ) {
      const len = image[at];
      if (len === 0) {
        at = (Math.floor(at / 2048) + 1) * 2048;
        continue;
      }
      both32(at + 2);
      both32(at + 10);
      both16(at + 28);
      at += len;
    }
  }
});

test('identical contents share one extent', () => {
  const withoutCopy = buildIsoImage(
    files.filter((f) => f.path !== 'shared/two'),
    { timestamp: T },
  );
  assert.equal(image.length, withoutCopy.length);
});

test('file order does not change the bytes', () => {
  assert.equal(sha256(buildIsoImage([...files].reverse(), { label: 'config-2', timestamp: T })), sha256(image));
});

test('an empty tree is still a valid, labelled volume', { skip: skipUnless('blkid') }, () => {
  const path = join(tmp.dir, 'empty.iso');
  writeBytes(path, buildIsoImage([], { label: 'EMPTY_1', timestamp: 0 }));
  assert.match(run('blkid', ['-p', '-o', 'export', path]), /^LABEL=EMPTY_1$/m);
});
