import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoError } from '../../engine/errors.js';
import { writeFileAtomic } from '../../engine/fs/atomic-write.js';

const dir = mkdtempSync(join(tmpdir(), 'domforge-atomic-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** The write is refused with `message`, and the folder holds what it held (no temporary file). */
async function refused(path: string, message: RegExp): Promise<void> {
  const before = readdirSync(dir).sort();
  await assert.rejects(writeFileAtomic(path, 'new'), (e: unknown) => {
    assert.ok(e instanceof IoError, String(e));
    assert.equal(e.file, path);
    assert.match(e.shortMessage, message);
    return true;
  });
  assert.deepEqual(readdirSync(dir).sort(), before);
}

test('a device, a FIFO or a folder at the path is refused, never renamed over: as root, /dev/null would become a plain file', async () => {
  const fifo = join(dir, 'fifo');
  spawnSync('mkfifo', [fifo]);
  await refused(fifo, /^cannot write .*fifo: it is a FIFO, not a regular file; .* would replace the device or pipe itself/);
  assert.ok(lstatSync(fifo).isFIFO());
  const folder = join(dir, 'folder.xml');
  mkdirSync(folder);
  await refused(folder, /^cannot write .*folder\.xml: it is a folder, not a regular file$/);
  // A character device like /dev/null (major 1, minor 3): made here, so the real one is never at risk.
  const device = join(dir, 'null');
  if (spawnSync('mknod', [device, 'c', '1', '3']).status === 0) {
    await refused(device, /^cannot write .*null: it is a character device, not a regular file/);
    assert.ok(lstatSync(device).isCharacterDevice());
  }
});

test('a path ending in / that is not a folder is refused before anything is written, naming the path, not a temporary file', async () => {
  writeFileSync(join(dir, 'plain'), 'kept');
  await refused(join(dir, 'missing') + '/', /^cannot write .*\/missing\/: a path ending in \/ names a folder, and there is none; give the file's path$/);
  await refused(join(dir, 'plain') + '/', /^cannot write .*\/plain\/: a path ending in \/ names a folder, and .*\/plain is a file; give the file's path$/);
  assert.equal(readFileSync(join(dir, 'plain'), 'utf8'), 'kept');
});

test('a symbolic link is followed: the file it leads to is replaced and the link stays; a link to nothing is refused', async () => {
  writeFileSync(join(dir, 'real.xml'), 'old');
  symlinkSync('real.xml', join(dir, 'link.xml'));
  await writeFileAtomic(join(dir, 'link.xml'), 'new');
  assert.equal(readlinkSync(join(dir, 'link.xml')), 'real.xml');
  assert.equal(readFileSync(join(dir, 'real.xml'), 'utf8'), 'new');
  symlinkSync('nowhere.xml', join(dir, 'dangling.xml'));
  await refused(join(dir, 'dangling.xml'), /^cannot write .*dangling\.xml: it is a link to nothing \(nowhere\.xml\)/);
});

test("existing: 'replace' renames over whatever is there (the controller's own files in an instance folder), a plain file written anew as before", async () => {
  const plain = join(dir, 'plain.xml');
  await writeFileAtomic(plain, 'one');
  await writeFileAtomic(plain, 'two');
  assert.equal(readFileSync(plain, 'utf8'), 'two');
  const fifo = join(dir, 'fifo-replaced');
  spawnSync('mkfifo', [fifo]);
  await writeFileAtomic(fifo, 'file now', { existing: 'replace' });
  assert.ok(lstatSync(fifo).isFile());
});

test('a name as long as the folder takes (255 bytes, multi-byte characters too) is written: the temporary name beside it is cut short, not refused with ENAMETOOLONG', async () => {
  for (const name of ['c'.repeat(251) + '.iso', 'é'.repeat(127) + 'x']) {
    assert.equal(Buffer.byteLength(name), 255);
    const path = join(dir, name);
    const before = readdirSync(dir).sort();
    await writeFileAtomic(path, 'long');
    assert.equal(readFileSync(path, 'utf8'), 'long');
    await writeFileAtomic(path, 'again');
    assert.equal(readFileSync(path, 'utf8'), 'again');
    assert.deepEqual(readdirSync(dir).sort(), [...before, name].sort());
  }
});

test("a signal that another part of the program waits for with once() (watch's stop) is left to it while a write is under way: the write completes, the process goes on", async () => {
  const module = new URL('../../engine/fs/atomic-write.js', import.meta.url).href;
  const target = join(dir, 'once.out');
  const script = join(dir, 'once.mjs');
  writeFileSync(
    script,
    `import { writeFileAtomic } from ${JSON.stringify(module)};
import { readdirSync } from 'node:fs';
let stopped = false;
process.once('SIGINT', () => { stopped = true; });
const write = writeFileAtomic(${JSON.stringify(target)}, Buffer.alloc(256 * 1024 * 1024, 1));
// SIGINT once the temporary file exists (its holder is listening by then).
const poll = setInterval(() => {
  if (readdirSync(${JSON.stringify(dir)}).some((n) => n.startsWith('.once.out.'))) { clearInterval(poll); process.kill(process.pid, 'SIGINT'); }
}, 1);
await write;
clearInterval(poll);
await new Promise((r) => setTimeout(r, 50));
console.log('stopped', stopped);
`,
  );
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  assert.deepEqual({ status: r.status, signal: r.signal, stdout: r.stdout }, { status: 0, signal: null, stdout: 'stopped true\n' }, r.stderr);
  assert.equal(lstatSync(target).size, 256 * 1024 * 1024);
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('once.out.')), []);
  rmSync(target);
});

test("a signal during a write is not lost when the program's other listener is signal-exit's, which leaves a signal to any other listener: the temporary file is removed and the process ends by the signal", async () => {
  const module = new URL('../../engine/fs/atomic-write.js', import.meta.url).href;
  const target = join(dir, 'sigexit.out');
  const script = join(dir, 'sigexit.mjs');
  // signal-exit's own rule (v4, as execa and write-file-atomic load it): its listener acts only
  // when every listener of the signal is one of its own, counted on its shared emitter.
  writeFileSync(
    script,
    `import { writeFileAtomic } from ${JSON.stringify(module)};
import { readdirSync } from 'node:fs';
const emitter = { count: 1 };
Object.defineProperty(globalThis, Symbol.for('signal-exit emitter'), { value: emitter });
const listener = () => {
  if (process.listeners('SIGINT').length !== emitter.count) return;
  process.removeListener('SIGINT', listener);
  emitter.count -= 1;
  console.log('signal-exit: exit handlers run');
  process.kill(process.pid, 'SIGINT');
};
process.on('SIGINT', listener);
const write = writeFileAtomic(${JSON.stringify(target)}, Buffer.alloc(256 * 1024 * 1024, 1));
const poll = setInterval(() => {
  if (readdirSync(${JSON.stringify(dir)}).some((n) => n.startsWith('.sigexit.out.'))) { clearInterval(poll); process.kill(process.pid, 'SIGINT'); }
}, 1);
await write;
clearInterval(poll);
await new Promise((r) => setTimeout(r, 50));
console.log('went on');
`,
  );
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  assert.deepEqual({ status: r.status, signal: r.signal, stdout: r.stdout }, { status: null, signal: 'SIGINT', stdout: 'signal-exit: exit handlers run\n' }, r.stderr);
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('sigexit.out')), []);
});
