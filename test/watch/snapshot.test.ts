// snapshotFolder and symbolic links to folders, on real folders and links: a link to a folder
// inside the transforms folder is copied as that folder, a link cycle is kept as a link inside
// the copy, and the copy stays within its limits however the links multiply the folders.
// lookAtFolder leaves the versions store aside however the folder and the store are named.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readlink, realpath, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lookAtFolder, snapshotFolder } from '../../engine/transform/watch/snapshot.js';
import { IoError } from '../../engine/errors.js';
import { brokenLink, BrokenLinkError } from '../../engine/transform/links-out.js';
import { tempDir, type TempDir } from '../sandbox/fixtures.js';

const temps: TempDir[] = [];
after(async () => {
  for (const t of temps) await t.cleanup();
});

async function folder(): Promise<{ tmp: TempDir; dir: string; store: string }> {
  const tmp = await tempDir('domforge-snapshot-');
  temps.push(tmp);
  return { tmp, dir: join(tmp.dir, 'transforms'), store: join(tmp.dir, 'store') };
}

test('a link to a folder inside is copied under its path; a link to a folder holding it is a relative link inside the copy; both are part of the id', async () => {
  const { tmp, dir, store } = await folder();
  await tmp.write('transforms/libvirt.xsl', '<x/>');
  await tmp.write('transforms/data/n.xml', '<n/>');
  await tmp.write('transforms/data2/n.xml', '<n other="1"/>');
  await symlink('data', join(dir, 'd'));
  await symlink('.', join(dir, 'self'));
  await symlink('..', join(dir, 'data', 'up'));
  const s = await snapshotFolder(dir, store);
  assert.deepEqual(s.files, ['d/n.xml', 'data/n.xml', 'data2/n.xml', 'libvirt.xsl']);
  assert.deepEqual(s.left, []);
  assert.deepEqual(s.cycles, { self: '', 'data/up': '', 'd/up': '' });
  assert.equal(await readFile(join(s.dir, 'd', 'n.xml'), 'utf8'), '<n/>');
  assert.equal(await readlink(join(s.dir, 'self')), '.');
  assert.equal(await readlink(join(s.dir, 'd', 'up')), '..');
  // Every path through the links stays inside the copy.
  assert.equal(await realpath(join(s.dir, 'self', 'd', 'up', 'data')), join(await realpath(s.dir), 'data'));
  assert.equal(await readFile(join(s.dir, 'self', 'd', 'up', 'd', 'n.xml'), 'utf8'), '<n/>');
  // Retargeted to a folder with other content, the copy is another one.
  await unlink(join(dir, 'd'));
  await symlink('data2', join(dir, 'd'));
  const t = await snapshotFolder(dir, store);
  assert.notEqual(t.id, s.id);
  assert.equal(await readFile(join(t.dir, 'd', 'n.xml'), 'utf8'), '<n other="1"/>');
  // A cycle moved elsewhere is another copy too.
  await unlink(join(dir, 'self'));
  await symlink('.', join(dir, 'data2', 'self'));
  const u = await snapshotFolder(dir, store);
  assert.notEqual(u.id, t.id);
  assert.deepEqual(u.cycles, { 'data/up': '', 'd/self': 'd', 'data2/self': 'data2' });
  assert.equal(await readlink(join(u.dir, 'd', 'self')), '.');
});

test('a link to a folder out of the folder, also one inside a linked folder, is recorded in linksOut and not copied', async () => {
  const { tmp, dir, store } = await folder();
  await tmp.write('transforms/libvirt.xsl', '<x/>');
  await tmp.write('transforms/data/n.xml', '<n/>');
  await tmp.write('outside/n.xml', '<n secret="1"/>');
  const outside = await realpath(join(tmp.dir, 'outside'));
  await symlink('data', join(dir, 'd'));
  await symlink(outside, join(dir, 'data', 'ext'));
  const s = await snapshotFolder(dir, store);
  assert.deepEqual(s.files, ['d/n.xml', 'data/n.xml', 'libvirt.xsl']);
  assert.deepEqual(s.linksOut, { 'd/ext': outside, 'data/ext': outside });
  assert.deepEqual(s.left.map((l) => l.rel), ['d/ext', 'data/ext']);
});

test('the files of a linked folder count toward the limit as often as they are copied', async () => {
  const { tmp, dir, store } = await folder();
  for (const n of ['a', 'b', 'c']) await tmp.write(`transforms/data/${n}.xml`, '<n/>');
  for (let i = 0; i < 3; i++) await symlink('data', join(dir, `d${i}`));
  const s = await snapshotFolder(dir, store, { maxFiles: 12 });
  assert.equal(s.files.length, 12);
  await symlink('data', join(dir, 'd3'));
  await assert.rejects(snapshotFolder(dir, store, { maxFiles: 12 }), (e: unknown) => e instanceof IoError && /more than 12 files or/.test(e.message));
  await assert.rejects(snapshotFolder(dir, store, { maxBytes: 40 }), (e: unknown) => e instanceof IoError && /more than 512 files or 40 bytes/.test(e.message));
});

test('plain folders count against the limit too: a transforms folder of 600 empty folders is refused, not copied folder by folder at every save', async () => {
  const { tmp, dir, store } = await folder();
  await tmp.write('transforms/libvirt.xsl', '<x/>');
  for (let i = 0; i < 600; i++) await mkdir(join(dir, 'empty', `f${i}`), { recursive: true });
  await assert.rejects(snapshotFolder(dir, store), (e: unknown) => e instanceof IoError && /too large to keep versions of \(more than 512 folders\)/.test(e.message));
  // Within the limit, they are copied.
  const small = await folder();
  await small.tmp.write('transforms/libvirt.xsl', '<x/>');
  for (let i = 0; i < 10; i++) await mkdir(join(small.dir, 'empty', `f${i}`), { recursive: true });
  const snap = await snapshotFolder(small.dir, small.store);
  assert.equal(snap.folders.filter((f) => f.startsWith('empty/')).length, 10);
});

test('links that multiply empty folders (2^20 paths) are refused at the limit of folders, at once', async () => {
  const { dir, store } = await folder();
  // x/n0 ... x/n20, each of the first 20 with two links to the next: 2^20 paths to x/n20.
  for (let i = 0; i <= 20; i++) await mkdir(join(dir, 'x', `n${i}`), { recursive: true });
  for (let i = 0; i < 20; i++) {
    await symlink(join('..', `n${i + 1}`), join(dir, 'x', `n${i}`, 'a'));
    await symlink(join('..', `n${i + 1}`), join(dir, 'x', `n${i}`, 'b'));
  }
  const t0 = Date.now();
  await assert.rejects(snapshotFolder(dir, store, { maxFiles: 100 }), (e: unknown) => e instanceof IoError && /more than 100 folders reached through symbolic links/.test(e.message));
  assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
});

test('a link to the versions store inside the folder is left out, not copied', async () => {
  const { tmp, dir } = await folder();
  const store = join(dir, 'versions');
  await tmp.write('transforms/libvirt.xsl', '<x/>');
  await tmp.write('transforms/versions/old/libvirt.xsl', '<old/>');
  await symlink('versions', join(dir, 'v'));
  const s = await snapshotFolder(dir, store);
  assert.deepEqual(s.files, ['libvirt.xsl']);
  assert.deepEqual(s.left, [{ rel: 'v', why: 'a symbolic link to the versions store (never part of a version)' }]);
});

test('lookAtFolder leaves the versions store aside also when the folder or the store is given through a symbolic link', async () => {
  const { tmp } = await folder();
  const real = join(await realpath(tmp.dir), 'y', 'transforms');
  await tmp.write('y/transforms/libvirt.xsl', '<x/>');
  await tmp.write('y/transforms/versions/versions.jsonl', '');
  await mkdir(join(tmp.dir, 'x'));
  const link = join(tmp.dir, 'x', 'link-to-transforms');
  await symlink(real, link);
  const alone = await lookAtFolder(real, join(real, 'versions'));
  assert.deepEqual(alone.split('\n').map((l) => l.split('\0')[0]), [join(real, 'libvirt.xsl')]);
  for (const [dir, store] of [
    [link, join(real, 'versions')],
    [real, join(link, 'versions')],
    [link, join(link, 'versions')],
  ] as const) {
    assert.equal(await lookAtFolder(dir, store), alone, `${dir} with the store ${store}`);
  }
  // A version written into the store is no change of the folder.
  await writeFile(join(real, 'versions', 'versions.jsonl'), '{}\n');
  await mkdir(join(real, 'versions', 'snapshots'));
  assert.equal(await lookAtFolder(link, join(real, 'versions')), alone);
});

test('the versions store inside the folder is not copied when the folder or the store is given through a symbolic link', async () => {
  const { tmp } = await folder();
  const real = join(await realpath(tmp.dir), 'y', 'transforms');
  await tmp.write('y/transforms/libvirt.xsl', '<x/>');
  await tmp.write('y/transforms/versions/old/libvirt.xsl', '<old/>');
  await mkdir(join(tmp.dir, 'x'));
  const link = join(tmp.dir, 'x', 'link-to-transforms');
  await symlink(real, link);
  for (const [dir, store] of [
    [real, join(link, 'versions')],
    [link, join(link, 'versions')],
    [link, join(real, 'versions')],
  ] as const) {
    const s = await snapshotFolder(dir, store);
    assert.deepEqual(s.files, ['libvirt.xsl'], `${dir} with the store ${store}`);
  }
});

test('a link to nothing (ENOENT, or ENOTDIR: through a file), and one in a loop, are left out and recorded as that, with what they hold', async () => {
  const { tmp, dir, store } = await folder();
  await tmp.write('transforms/libvirt.xsl', '<x/>');
  await symlink('nowhere.xsl', join(dir, 'gone.xsl'));
  await symlink('libvirt.xsl/inner.xsl', join(dir, 'through-file.xsl'));
  await symlink('loop.xsl', join(dir, 'loop.xsl'));
  const s = await snapshotFolder(dir, store);
  assert.deepEqual(s.files, ['libvirt.xsl']);
  assert.deepEqual(s.unreadable, {
    'gone.xsl': { kind: 'link to nothing', to: 'nowhere.xsl' },
    'through-file.xsl': { kind: 'link to nothing', to: 'libvirt.xsl/inner.xsl' },
    'loop.xsl': { kind: 'link loop', to: 'loop.xsl' },
  });
  // The same words as reading the link in place (BrokenLinkError).
  assert.deepEqual(s.left, [
    { rel: 'gone.xsl', why: 'a symbolic link to nothing (it points to nowhere.xsl)' },
    { rel: 'loop.xsl', why: 'a symbolic link in a loop (it points to loop.xsl; following it never ends: ELOOP)' },
    { rel: 'through-file.xsl', why: 'a symbolic link to nothing (it points to libvirt.xsl/inner.xsl)' },
  ]);
});

test('a link that following fails otherwise (EACCES...) keeps the real error, not "a link to nothing"', () => {
  const denied = Object.assign(new Error("EACCES: permission denied, realpath '/t/locked/x.xsl'"), { code: 'EACCES' });
  const link = brokenLink(denied, 'locked/x.xsl');
  assert.deepEqual(link, { kind: 'link not followed', to: 'locked/x.xsl', error: "EACCES: permission denied, realpath '/t/locked/x.xsl'" });
  assert.equal(new BrokenLinkError('a.xsl', link).message, "a.xsl is a symbolic link that cannot be followed (it points to locked/x.xsl; EACCES: permission denied, realpath '/t/locked/x.xsl')");
  assert.equal(brokenLink(Object.assign(new Error('x'), { code: 'ENOTDIR' }), 'f/x').kind, 'link to nothing');
  assert.equal(brokenLink(Object.assign(new Error('x'), { code: 'ENOENT' }), 'y').kind, 'link to nothing');
  assert.equal(brokenLink(Object.assign(new Error('x'), { code: 'ELOOP' }), 'z').kind, 'link loop');
});
