// An xsl:include of a file the version's snapshot leaves out for what it is (a FIFO, a
// symbolic link to nothing or in a loop, a file under a link to nothing), or of an empty
// folder, under the watcher: the compile must refuse the include as the stylesheet compiled
// in place refuses it (same message, file, line and column), not as a missing file with a
// note of the watcher's, also when the file sits in a folder holding nothing else.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { TransformWatcher } from '../../engine/transform/watch/index.js';
import type { TransformSandbox } from '../../engine/transform/sandbox/index.js';
import { DEFAULT_XSL, tempDir, type TempDir } from '../sandbox/fixtures.js';
import { startWatching, stopWatching, saveWhole, quiet, compileErrorInPlace } from './link-fixtures.js';
import { EventLog, lineOf } from './helpers.js';

let tmp: TempDir;
let dir = '';
let main = '';
let base = '';
let sandbox: TransformSandbox;
let watcher: TransformWatcher;
const log = new EventLog();

/** The default transform, including `href`. */
const including = (href: string) => base.replace(/(<xsl:stylesheet[^>]*>)/, `$1\n  <xsl:include href="${href}"/>`);

/**
 * Saving `text` (which includes what the test just made) is rejected under the watcher
 * exactly as the compile in place refuses it, with `message`, at the xsl:include (or the
 * element whose line holds `at`); saving the
 * default transform back keeps the version active all along, with no event.
 */
async function refusedAsInPlace(text: string, message: string, at = '<xsl:include'): Promise<void> {
  const good = watcher.active()!.transform.hash;
  await saveWhole(main, text);
  const direct = await compileErrorInPlace(main);
  assert.equal(direct.shortMessage, message);
  assert.equal(direct.line, lineOf(text, at));
  const r = await log.expect('rejected');
  assert.deepEqual(
    { code: r.code, file: r.file, line: r.line, column: r.column, message: r.message },
    { code: direct.code, file: direct.file, line: direct.line, column: direct.column, message: direct.fullMessage },
  );
  assert.equal(watcher.active()!.transform.hash, good);
  await saveWhole(main, base);
  await quiet(watcher);
  assert.deepEqual(log.drain(), []);
}

before(async () => {
  tmp = await tempDir('domforge-watch-include-left-');
  dir = join(tmp.dir, 'transforms');
  main = join(dir, 'libvirt.xsl');
  base = await readFile(DEFAULT_XSL, 'utf8');
  await tmp.write('transforms/libvirt.xsl', base);
  ({ sandbox, watcher } = await startWatching(tmp, ['01-linux-kvm-virtio.xml'], log));
});
after(() => stopWatching(watcher, sandbox, tmp));

test('an xsl:include of a FIFO is refused under the watcher as in place (not a regular file), not as a missing file', async () => {
  const fifo = join(dir, 'fifo.xsl');
  execFileSync('mkfifo', [fifo]);
  try {
    await refusedAsInPlace(including('fifo.xsl'), `xsl:include href="fifo.xsl": cannot read ${fifo}: a FIFO, not a regular file`);
  } finally {
    await unlink(fifo);
  }
});

test('document() of a FIFO is refused at its element, in place and under the watcher alike (xsltproc would block on it at every render until the timeout)', async () => {
  const fifo = join(dir, 'pipe.xml');
  execFileSync('mkfifo', [fifo]);
  const reading = base.replace(/(<xsl:stylesheet[^>]*>)/, `$1\n  <xsl:variable name="piped" select="document('pipe.xml')"/>`);
  try {
    await refusedAsInPlace(reading, `document('pipe.xml'): cannot read ${fifo}: a FIFO, not a regular file`, '<xsl:variable name="piped"');
  } finally {
    await unlink(fifo);
  }
});

test('an xsl:include of a FIFO reached through a link cycle (self/fifo.xsl, self -> .) is refused under the watcher as in place', async () => {
  const fifo = join(dir, 'fifo.xsl');
  execFileSync('mkfifo', [fifo]);
  await symlink('.', join(dir, 'self'));
  try {
    await refusedAsInPlace(including('self/fifo.xsl'), `xsl:include href="self/fifo.xsl": cannot read ${join(dir, 'self', 'fifo.xsl')}: a FIFO, not a regular file`);
  } finally {
    await unlink(fifo);
    await unlink(join(dir, 'self'));
  }
  await quiet(watcher);
  assert.deepEqual(log.drain(), []);
});

test('an xsl:include of a symbolic link to nothing, or of a file under one, is refused under the watcher as in place, naming the link and what it holds', async () => {
  const nowhere = join(tmp.dir, 'nowhere.xsl');
  await symlink(nowhere, join(dir, 'gone.xsl'));
  await symlink('no-such-folder', join(dir, 'gone'));
  try {
    await refusedAsInPlace(including('gone.xsl'), `xsl:include href="gone.xsl": cannot read ${join(dir, 'gone.xsl')}: gone.xsl is a symbolic link to nothing (it points to ${nowhere})`);
    await refusedAsInPlace(including('gone/m.xsl'), `xsl:include href="gone/m.xsl": cannot read ${join(dir, 'gone', 'm.xsl')}: gone is a symbolic link to nothing (it points to no-such-folder)`);
  } finally {
    await unlink(join(dir, 'gone.xsl'));
    await unlink(join(dir, 'gone'));
  }
  await quiet(watcher);
  assert.deepEqual(log.drain(), []);
});

test('an xsl:include of a FIFO, a link to nothing, a link loop or an empty folder in a folder holding nothing else is refused under the watcher as in place, every time', async () => {
  const inc = join(dir, 'inc');
  const file = join(inc, 'desc.xsl');
  const text = including('inc/desc.xsl');
  const cases: [string, () => Promise<unknown> | void, string][] = [
    ['a FIFO', () => void execFileSync('mkfifo', [file]), 'a FIFO, not a regular file'],
    ['a link to nothing', () => symlink('/nonexistent/x.xsl', file), 'inc/desc.xsl is a symbolic link to nothing (it points to /nonexistent/x.xsl)'],
    ['a link loop', () => symlink('desc.xsl', file), 'inc/desc.xsl is a symbolic link in a loop (it points to desc.xsl; following it never ends: ELOOP)'],
    ['an empty folder', () => mkdir(file), 'a folder, not a regular file'],
  ];
  // Twice over, in two orders: what each is called never depends on what came before.
  for (const order of [cases, [...cases.slice(2), ...cases.slice(0, 2)]]) {
    for (const [what, make, message] of order) {
      await mkdir(inc);
      await make();
      try {
        await refusedAsInPlace(text, `xsl:include href="inc/desc.xsl": cannot read ${file}: ${message}`);
      } catch (e) {
        throw new Error(`${what}: ${(e as Error).message}`, { cause: e });
      } finally {
        await rm(inc, { recursive: true });
      }
      await quiet(watcher);
      assert.deepEqual(log.drain(), []);
    }
  }
});
