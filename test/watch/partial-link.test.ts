// A Handlebars partial that is a symbolic link out of the transforms folder, under the
// watcher: the snapshot leaves the link out (listing it in `linksOut`), and the compile must
// refuse the partial as the template compiled in place refuses it — same message, file,
// line, column and named target — never as a missing partial. Three layouts: the partial
// itself a link out, `partials/` a link out, and a link out reached through a cycle link
// (`partials/self -> .`, which the snapshot keeps as a link); and under a linked-out
// `partials/`, a partial that is a link again, or missing. A partial the snapshot leaves out
// for what it is (a FIFO, a symbolic link to nothing or in a loop, one under a `partials/`
// that is a link to nothing) is refused as in place too, naming what it is, not as missing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readFile, realpath, rename, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { TransformWatcher } from '../../engine/transform/watch/index.js';
import type { TransformSandbox } from '../../engine/transform/sandbox/index.js';
import { REPO, tempDir, type TempDir } from '../sandbox/fixtures.js';
import { startWatching, stopWatching, saveWhole, quiet, compileErrorInPlace } from './link-fixtures.js';
import { EventLog, lineOf } from './helpers.js';

const MAIN = 'libvirt.xml.hbs';
const CALL = '{{> console}}';
/** The first partial the template calls. */
const FIRST = '{{> hyperv-domain}}';
let tmp: TempDir;
let dir = '';
let main = '';
let partials = '';
let outside = '';
let base = '';
let sandbox: TransformSandbox;
let watcher: TransformWatcher;
const log = new EventLog();

/** Waits for the watcher to finish what a change started; there must have been no event. */
async function noEvent(): Promise<void> {
  await quiet(watcher);
  assert.deepEqual(log.drain(), []);
}

/** The compile's refusal of the partial `name` at `rel`, a symbolic link to `target` outside the folder. */
const linkOut = (name: string, rel: string, target: string): string => `partial "${name}": ${rel} is a symbolic link to ${target}, outside the transforms folder ${dir}`;

/**
 * The change just made is rejected under the watcher exactly as the compile in place
 * refuses it, with `message`, at the call `call` in `text` (the main template).
 */
async function refusedAsInPlace(text: string, call: string, message: string): Promise<void> {
  const good = watcher.active()!.transform.hash;
  const direct = await compileErrorInPlace(main);
  assert.equal(direct.shortMessage, message);
  assert.equal(direct.file, main);
  assert.equal(direct.line, lineOf(text, call));
  const r = await log.expect('rejected');
  assert.deepEqual(
    { code: r.code, file: r.file, line: r.line, column: r.column, message: r.message },
    { code: direct.code, file: direct.file, line: direct.line, column: direct.column, message: direct.fullMessage },
  );
  assert.equal(r.activeHash, good);
  assert.equal(watcher.active()!.transform.hash, good);
}

before(async () => {
  tmp = await tempDir('domforge-watch-partial-link-');
  dir = join(tmp.dir, 'transforms');
  main = join(dir, MAIN);
  partials = join(dir, 'partials');
  base = await readFile(join(REPO, 'transforms', MAIN), 'utf8');
  assert.ok(base.includes(CALL), `the shipped template calls ${CALL}`);
  assert.ok(base.indexOf(FIRST) >= 0 && base.indexOf(FIRST) === base.indexOf('{{>'), `the shipped template calls ${FIRST} first`);
  await tmp.write(`transforms/${MAIN}`, base);
  await cp(join(REPO, 'transforms', 'partials'), partials, { recursive: true });
  await cp(join(REPO, 'transforms', 'partials'), join(tmp.dir, 'outside'), { recursive: true });
  outside = await realpath(join(tmp.dir, 'outside'));
  ({ sandbox, watcher } = await startWatching(tmp, ['01-linux-kvm-virtio.xml'], log, { main: MAIN }));
});
after(() => stopWatching(watcher, sandbox, tmp));

/**
 * Runs `f` with `partials/` a symbolic link to `target` (the real folder put aside, so the
 * watcher never sees a half-made state), then puts the folder back.
 */
async function withPartialsLinkedTo(target: string, f: () => Promise<void>): Promise<void> {
  const aside = join(tmp.dir, 'partials-aside');
  await rename(partials, aside);
  await symlink(target, partials);
  try {
    await f();
  } finally {
    await unlink(partials);
    await rename(aside, partials);
  }
}

test('a partial that is a symbolic link out of the folder is refused under the watcher as in place', async () => {
  const partial = join(partials, 'console.hbs');
  await unlink(partial);
  await symlink(join(outside, 'console.hbs'), partial);
  try {
    await refusedAsInPlace(base, CALL, linkOut('console', join('partials', 'console.hbs'), join(outside, 'console.hbs')));
  } finally {
    // Back as it was: the version active all along, no event.
    await unlink(partial);
    await cp(join(outside, 'console.hbs'), partial);
  }
  await noEvent();
});

test('a partials/ folder that is a symbolic link out of the folder is refused under the watcher as in place, naming the partial', async () => {
  await withPartialsLinkedTo(outside, async () => {
    await refusedAsInPlace(base, FIRST, linkOut('hyperv-domain', join('partials', 'hyperv-domain.hbs'), join(outside, 'hyperv-domain.hbs')));
  });
  await noEvent();
});

test('a partial reached through a cycle link (partials/self -> .) that is a link out is refused under the watcher as in place', async () => {
  const partial = join(partials, 'console.hbs');
  const call = '{{> self/console}}';
  const text = base.replace(CALL, call);
  await symlink('.', join(partials, 'self'));
  try {
    await noEvent(); // a link that no file of the transform goes through: the version stays
    await saveWhole(main, text);
    await log.expect('activated');
    await unlink(partial);
    await symlink(join(outside, 'console.hbs'), partial);
    try {
      await refusedAsInPlace(text, call, linkOut('self/console', join('partials', 'self', 'console.hbs'), join(outside, 'console.hbs')));
    } finally {
      await unlink(partial);
      await cp(join(outside, 'console.hbs'), partial);
    }
    await noEvent();
    await saveWhole(main, base);
    await log.expect('activated');
  } finally {
    await unlink(join(partials, 'self'));
  }
  await noEvent();
});

test('under a partials/ folder linked out, a partial that is a link again is named by where it ends, under the watcher as in place', async () => {
  const chain = join(tmp.dir, 'chain');
  await mkdir(chain);
  await symlink(join(outside, 'hyperv-domain.hbs'), join(chain, 'hyperv-domain.hbs'));
  await withPartialsLinkedTo(chain, async () => {
    await refusedAsInPlace(base, FIRST, linkOut('hyperv-domain', join('partials', 'hyperv-domain.hbs'), join(outside, 'hyperv-domain.hbs')));
  });
  await noEvent();
});

test('under a partials/ folder linked out, a missing partial is not found under the watcher as in place, with no note of the watcher’s', async () => {
  const empty = join(tmp.dir, 'empty');
  await mkdir(empty);
  await withPartialsLinkedTo(empty, async () => {
    await refusedAsInPlace(base, FIRST, `partial "hyperv-domain" not found (looked for ${join(partials, 'hyperv-domain.hbs')})`);
  });
  await noEvent();
});

test('a partial that is a FIFO is refused under the watcher as in place (not a regular file), not as missing', async () => {
  const partial = join(partials, 'console.hbs');
  await unlink(partial);
  execFileSync('mkfifo', [partial]);
  try {
    await refusedAsInPlace(base, CALL, `partial "console": cannot read ${partial}: a FIFO, not a regular file`);
  } finally {
    await unlink(partial);
    await cp(join(outside, 'console.hbs'), partial);
  }
  await noEvent();
});

test('a partial that is a symbolic link to nothing, or under a partials/ that is one, is refused under the watcher as in place, naming the link and what it holds', async () => {
  const partial = join(partials, 'console.hbs');
  const nowhere = join(tmp.dir, 'nowhere.hbs');
  await unlink(partial);
  await symlink(nowhere, partial);
  try {
    await refusedAsInPlace(base, CALL, `partial "console": cannot read ${partial}: partials/console.hbs is a symbolic link to nothing (it points to ${nowhere})`);
  } finally {
    await unlink(partial);
    await cp(join(outside, 'console.hbs'), partial);
  }
  await noEvent();
  await withPartialsLinkedTo('nowhere', async () => {
    await refusedAsInPlace(base, FIRST, `partial "hyperv-domain": cannot read ${join(partials, 'hyperv-domain.hbs')}: partials is a symbolic link to nothing (it points to nowhere)`);
  });
  await noEvent();
});

test('a partial that is a symbolic link in a loop is refused under the watcher as in place, naming the link (not as a link to nothing, nor a bare ELOOP)', async () => {
  const partial = join(partials, 'console.hbs');
  await unlink(partial);
  await symlink('console.hbs', partial);
  try {
    await refusedAsInPlace(base, CALL, `partial "console": cannot read ${partial}: partials/console.hbs is a symbolic link in a loop (it points to console.hbs; following it never ends: ELOOP)`);
  } finally {
    await unlink(partial);
    await cp(join(outside, 'console.hbs'), partial);
  }
  await noEvent();
});
