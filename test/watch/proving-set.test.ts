// Reading a proving set: both layouts, the expected outputs found from the listings, and a
// reader that reads again only the files that changed between two checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { loadProvingSet, ProvingSetReader } from '../../engine/transform/watch/proving-set.js';
import { tempDir, type TempDir } from '../sandbox/fixtures.js';

/** Runs `f` with a fresh temporary folder, removed afterwards. */
async function inTemp(f: (tmp: TempDir) => Promise<void>): Promise<void> {
  const tmp = await tempDir('domforge-proving-');
  try {
    await f(tmp);
  } finally {
    await tmp.cleanup();
  }
}

const doc = (id: string) => `<instance><instanceId>${id}</instanceId></instance>\n`;

test('both layouts, sorted by name; the expected output comes from the listing; hidden and unrelated names are left out', () =>
  inTemp(async (tmp) => {
    await tmp.write('b-flat.xml', doc('b'));
    await tmp.write('b-flat.libvirt.xml', '<domain>b</domain>');
    await tmp.write('b-flat.expected.xml', '<domain>not this one</domain>');
    await tmp.write('c-flat.xml', doc('c'));
    await tmp.write('c-flat.expected.xml', '<domain>c</domain>');
    await tmp.write('d-bare.xml', doc('d'));
    await tmp.write('a-folder/instance.xml', doc('a'));
    await tmp.write('a-folder/libvirt.xml', '<domain>a</domain>');
    await tmp.write('e-nic/nic.xml', '<nic/>');
    await tmp.write('f-empty/notes.txt', 'no input here');
    await tmp.write('.hidden.xml', doc('hidden'));
    await tmp.write('README.txt', 'not a sample');
    const set = await loadProvingSet(tmp.dir);
    assert.deepEqual(
      set.map((s) => [s.name, s.file, s.expectedFile]),
      [
        ['a-folder', join(tmp.dir, 'a-folder', 'instance.xml'), join(tmp.dir, 'a-folder', 'libvirt.xml')],
        ['b-flat', join(tmp.dir, 'b-flat.xml'), join(tmp.dir, 'b-flat.libvirt.xml')],
        ['c-flat', join(tmp.dir, 'c-flat.xml'), join(tmp.dir, 'c-flat.expected.xml')],
        ['d-bare', join(tmp.dir, 'd-bare.xml'), undefined],
        ['e-nic', join(tmp.dir, 'e-nic', 'nic.xml'), undefined],
      ],
    );
    assert.equal(set[0]!.xml, doc('a'));
    assert.equal(set[0]!.expected, '<domain>a</domain>');
    assert.equal(set[1]!.expected, '<domain>b</domain>');
    assert.equal(set[3]!.expected, undefined);
  }));

test('symbolic links to a sample folder and to a sample file are followed; a dangling one is left out', () =>
  inTemp(async (tmp) => {
    // The link targets live in a hidden folder, which is no sample itself.
    await tmp.write('.src/folder/instance.xml', doc('linked-folder'));
    await tmp.write('.src/one.xml', doc('linked-file'));
    await symlink(join(tmp.dir, '.src', 'folder'), join(tmp.dir, 'a-linked'));
    await symlink(join(tmp.dir, '.src', 'one.xml'), join(tmp.dir, 'b-linked.xml'));
    await symlink(join(tmp.dir, '.src', 'gone.xml'), join(tmp.dir, 'c-dangling.xml'));
    const set = await loadProvingSet(tmp.dir);
    assert.deepEqual(
      set.map((s) => [s.name, s.xml]),
      [
        ['a-linked', doc('linked-folder')],
        ['b-linked', doc('linked-file')],
      ],
    );
  }));

test('a FIFO is never opened (that would wait for a writer): as a sample it is left out, as an expected output it is an IoError', () =>
  inTemp(async (tmp) => {
    await tmp.write('a.xml', doc('a'));
    execFileSync('mkfifo', [join(tmp.dir, 'b.xml')]);
    assert.deepEqual(
      (await loadProvingSet(tmp.dir)).map((s) => s.name),
      ['a'],
    );
    execFileSync('mkfifo', [join(tmp.dir, 'a.libvirt.xml')]);
    await assert.rejects(loadProvingSet(tmp.dir), (e: Error & { code?: string; file?: string }) => e.code === 'IO_ERROR' && e.file === join(tmp.dir, 'a.libvirt.xml') && /not a regular file/.test(e.message));
  }));

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a reader reads a file again only when it changed: same-size rewrites, replacements and removals are seen', () =>
  inTemp(async (tmp) => {
    await tmp.write('a.xml', doc('aaaa'));
    await tmp.write('a.libvirt.xml', '<domain>1</domain>');
    await tmp.write('b/instance.xml', doc('bbbb'));
    const reader = new ProvingSetReader({ racyMs: 100 });
    await settle(150);
    const first = await reader.read(tmp.dir);
    assert.deepEqual(reader.stats(), { read: 3, reused: 0 });

    // Nothing changed: nothing is read again, and the samples are the same.
    const second = await reader.read(tmp.dir);
    assert.deepEqual(reader.stats(), { read: 3, reused: 3 });
    assert.deepEqual(second, first);

    // The same number of bytes written in place, and a file replaced by a rename: both read again.
    await writeFile(join(tmp.dir, 'a.xml'), doc('AAAA'));
    await writeFile(join(tmp.dir, 'b', 'instance.new'), doc('BBBB'));
    await rename(join(tmp.dir, 'b', 'instance.new'), join(tmp.dir, 'b', 'instance.xml'));
    await settle(150);
    const third = await reader.read(tmp.dir);
    assert.deepEqual(reader.stats(), { read: 5, reused: 4 });
    assert.equal(third.find((s) => s.name === 'a')!.xml, doc('AAAA'));
    assert.equal(third.find((s) => s.name === 'b')!.xml, doc('BBBB'));

    // An expected output removed, a sample removed, a sample added.
    await unlink(join(tmp.dir, 'a.libvirt.xml'));
    await rm(join(tmp.dir, 'b'), { recursive: true });
    await mkdir(join(tmp.dir, 'c'));
    await writeFile(join(tmp.dir, 'c', 'volume.xml'), '<volume/>');
    const fourth = await reader.read(tmp.dir);
    assert.deepEqual(
      fourth.map((s) => [s.name, s.xml, s.expected]),
      [
        ['a', doc('AAAA'), undefined],
        ['c', '<volume/>', undefined],
      ],
    );
    assert.deepEqual(reader.stats(), { read: 6, reused: 5 });
  }));

test('a file changed less than racyMs before it was read is read again next time, even when nothing changed since', () =>
  inTemp(async (tmp) => {
    // On a file system with coarse times (one second on ext4 with small inodes, two on
    // FAT), a same-size rewrite in the same tick keeps every time: such a file is never kept.
    await tmp.write('a.xml', doc('1111'));
    const reader = new ProvingSetReader({ racyMs: 60_000 });
    for (let i = 0; i < 3; i++) assert.equal((await reader.read(tmp.dir))[0]!.xml, doc('1111'));
    assert.deepEqual(reader.stats(), { read: 3, reused: 0 });
    // Once older than the window, it is kept.
    const relaxed = new ProvingSetReader({ racyMs: 0 });
    for (let i = 0; i < 3; i++) await relaxed.read(tmp.dir);
    assert.deepEqual(relaxed.stats(), { read: 1, reused: 2 });
  }));

test('a proving set that cannot be read, or a sample file that cannot, is an IoError naming it', () =>
  inTemp(async (tmp) => {
    await assert.rejects(loadProvingSet(join(tmp.dir, 'missing')), (e: Error & { code?: string; file?: string }) => e.code === 'IO_ERROR' && e.file === join(tmp.dir, 'missing') && /cannot read the proving set/.test(e.message));
    // An expected output that is a folder cannot be read as text.
    await tmp.write('a.xml', doc('a'));
    await mkdir(join(tmp.dir, 'a.libvirt.xml'));
    await assert.rejects(loadProvingSet(tmp.dir), (e: Error & { code?: string; file?: string }) => e.code === 'IO_ERROR' && e.file === join(tmp.dir, 'a.libvirt.xml') && /expected output/.test(e.message));
  }));
