// A symbolic link to a folder, under the watcher: the version is compiled from a snapshot,
// which must read through such a link what the stylesheet compiled in place reads. A link to
// a folder inside the transforms folder is read (document() and xsl:include), also one that
// makes a cycle (`self -> .`); a link to a folder outside it, even one reached through a link
// inside, is refused exactly as the compile in place refuses it, never read as an empty document;
// a file missing under such a link too is refused as leaving the folder, in place as under the watcher.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { TransformWatcher } from '../../engine/transform/watch/index.js';
import type { TransformSandbox } from '../../engine/transform/sandbox/index.js';
import { loadTransform } from '../../engine/transform/load.js';
import { renderText } from '../../engine/render/render.js';
import { DEFAULT_XSL, tempDir, type TempDir } from '../sandbox/fixtures.js';
import { startWatching, stopWatching, SKIP_WITHOUT_XSLTPROC, NAME, readingDocument, nameOf, saveWhole, quiet, compileErrorInPlace, escapeRegExp } from './link-fixtures.js';
import { EventLog, lineOf } from './helpers.js';

const skip = SKIP_WITHOUT_XSLTPROC;

const MODULE = '<?xml version="1.0"?>\n<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">\n  <xsl:template name="m">-module</xsl:template>\n</xsl:stylesheet>\n';
let tmp: TempDir;
let dir = '';
let main = '';
let outside = '';
let base = '';
let instance = '';
let sandbox: TransformSandbox;
let watcher: TransformWatcher;
const log = new EventLog();

const reading = (href: string) => readingDocument(base, href);
/** The default transform including `href`, with the name suffixed by its template `m`. */
const including = (href: string) => base.replace(/(<xsl:stylesheet[^>]*>)/, `$1\n  <xsl:include href="${href}"/>`).replace(NAME, '<name><xsl:value-of select="name"/><xsl:call-template name="m"/></name>');

const save = saveWhole;

const quietNow = () => quiet(watcher);


async function renderActive(): Promise<string | undefined> {
  return nameOf((await renderText(instance, { transform: watcher.transform(), file: 'instance.xml' })).xml);
}

/** The name the stylesheet compiled in place (the folder itself, no watcher) renders. */
async function renderInPlace(): Promise<string | undefined> {
  const t = await loadTransform(main, { engine: 'auto' });
  return nameOf((await renderText(instance, { transform: t, file: 'instance.xml' })).xml);
}

const directError = () => compileErrorInPlace(main);

const escape = escapeRegExp;

/** Saves the main file as `text` and waits for the version it makes to be activated. */
async function activate(text: string): Promise<void> {
  await save(main, text);
  await log.expect('activated');
}

before(async () => {
  if (skip) return;
  tmp = await tempDir('domforge-watch-dirlink-');
  dir = join(tmp.dir, 'transforms');
  main = join(dir, 'libvirt.xsl');
  outside = join(tmp.dir, 'outside');
  base = await readFile(DEFAULT_XSL, 'utf8');
  await tmp.write('outside/names.xml', '<n suffix="-out"/>');
  await tmp.write('outside/module.xsl', MODULE);
  await tmp.write('transforms/data/names.xml', '<n suffix="-in"/>');
  await tmp.write('transforms/data/module.xsl', MODULE);
  await tmp.write('transforms/libvirt.xsl', reading('d/names.xml'));
  // d: a (relative) link to a folder of the folder; out: a link to a folder outside it.
  await symlink('data', join(dir, 'd'));
  await symlink(outside, join(dir, 'out'));
  // Every test starts from this version: data/names.xml read through the folder link d.
  ({ sandbox, watcher, instance } = await startWatching(tmp, ['01-linux-kvm-virtio.xml', '03-windows-kvm.xml'], log));
});
after(() => stopWatching(watcher, sandbox, tmp));

/**
 * Saving `text` is rejected under the watcher as XML_FORBIDDEN at the line holding `needle`,
 * matching `message`, exactly as the compile in place refuses it; the version `good` stays
 * active and renders.
 */
async function refusedAsInPlace(text: string, needle: string, message: string, good: string): Promise<void> {
  await save(main, text);
  const direct = await directError();
  const r = await log.expect('rejected');
  assert.equal(r.code, 'XML_FORBIDDEN', r.message);
  assert.equal(r.file, main);
  assert.equal(r.line, lineOf(text, needle));
  assert.match(r.message, new RegExp(message));
  assert.deepEqual({ code: r.code, file: r.file, line: r.line, column: r.column, message: r.message }, { code: direct.code, file: direct.file, line: direct.line, column: direct.column, message: direct.fullMessage });
  assert.equal(r.activeHash, good);
  assert.equal(watcher.active()!.transform.hash, good);
  assert.equal(await renderActive(), 'i-4e7a1201-in');
}

test('document() through a symbolic link to a folder inside the folder reads its file under the watcher, as in place; an edit of that file is a new version', { skip }, async () => {
  const on = watcher.active()!.transform;
  assert.ok(on.files.includes(join(dir, 'd', 'names.xml')), `d/names.xml among ${on.files.join(', ')}`);
  assert.equal(await renderInPlace(), 'i-4e7a1201-in');
  assert.equal(await renderActive(), 'i-4e7a1201-in');
  // The file behind the link changes: the version reads the new text.
  await save(join(dir, 'data', 'names.xml'), '<n suffix="-edited"/>');
  await log.expect('activated');
  assert.equal(await renderActive(), 'i-4e7a1201-edited');
  assert.equal(await renderInPlace(), 'i-4e7a1201-edited');
  await save(join(dir, 'data', 'names.xml'), '<n suffix="-in"/>');
  await log.expect('activated');
  assert.equal(await renderActive(), 'i-4e7a1201-in');
});

test('an xsl:include through a symbolic link to a folder inside the folder is read under the watcher, as in place', { skip }, async () => {
  await activate(including('d/module.xsl'));
  assert.equal(await renderInPlace(), 'i-4e7a1201-module');
  assert.equal(await renderActive(), 'i-4e7a1201-module');
  assert.ok(watcher.active()!.transform.files.includes(join(dir, 'd', 'module.xsl')), watcher.active()!.transform.files.join(', '));
  await activate(reading('d/names.xml'));
  assert.equal(await renderActive(), 'i-4e7a1201-in');
});

test('links to a folder that holds them (self -> ., data/up -> ..) are read through under the watcher, as in place, and do not make the copy endless', { skip }, async () => {
  await symlink('.', join(dir, 'self'));
  await symlink('..', join(dir, 'data', 'up'));
  try {
    // The transform's files are the same: the version active stays, with no event.
    await quietNow();
    assert.deepEqual(log.drain(), []);
    for (const href of ['self/self/data/names.xml', 'd/up/d/up/d/names.xml']) {
      await activate(reading(href));
      assert.equal(await renderInPlace(), 'i-4e7a1201-in', href);
      assert.equal(await renderActive(), 'i-4e7a1201-in', href);
    }
    await activate(including('self/d/up/data/module.xsl'));
    assert.equal(await renderInPlace(), 'i-4e7a1201-module');
    assert.equal(await renderActive(), 'i-4e7a1201-module');
    await activate(reading('d/names.xml'));
  } finally {
    await unlink(join(dir, 'self'));
    await unlink(join(dir, 'data', 'up'));
  }
  await quietNow();
  assert.deepEqual(log.drain(), []);
});

test('document() and xsl:include through a symbolic link to a folder outside the folder are refused under the watcher as in place', { skip }, async () => {
  const good = watcher.active()!.transform.hash;
  for (const [text, needle, message] of [
    [reading('out/names.xml'), "document('out/names.xml')", `document\\('out/names\\.xml'\\) is refused: it is a symbolic link to ${escape(join(outside, 'names.xml'))}, outside the transforms folder ${escape(dir)}`],
    [including('out/module.xsl'), '<xsl:include', `xsl:include href="out/module\\.xsl" is refused: it leaves the transforms folder ${escape(dir)}`],
  ] as const) {
    await refusedAsInPlace(text, needle, message, good);
  }
  await save(main, reading('d/names.xml'));
  await quietNow();
  assert.deepEqual(log.drain(), []);
  assert.equal(watcher.active()!.transform.hash, good);
});

test('a missing file under a symbolic link to a folder outside (out/missing.xsl) is refused as leaving the folder, under the watcher as in place, not as a file it cannot read', { skip }, async () => {
  const good = watcher.active()!.transform.hash;
  for (const [text, needle, message] of [
    [including('out/missing.xsl'), '<xsl:include', `xsl:include href="out/missing\\.xsl" is refused: it leaves the transforms folder ${escape(dir)}`],
    [reading('out/missing.xml'), "document('out/missing.xml')", `document\\('out/missing\\.xml'\\) is refused: it is a symbolic link to ${escape(join(outside, 'missing.xml'))}, outside the transforms folder ${escape(dir)}`],
  ] as const) {
    await save(main, text);
    const direct = await directError();
    const r = await log.expect('rejected');
    assert.equal(r.code, 'XML_FORBIDDEN', r.message);
    assert.equal(r.line, lineOf(text, needle));
    assert.match(r.message, new RegExp(message));
    assert.deepEqual({ code: r.code, file: r.file, line: r.line, column: r.column, message: r.message }, { code: direct.code, file: direct.file, line: direct.line, column: direct.column, message: direct.fullMessage });
    assert.equal(watcher.active()!.transform.hash, good);
  }
  await save(main, reading('d/names.xml'));
  await quietNow();
  assert.deepEqual(log.drain(), []);
  assert.equal(watcher.active()!.transform.hash, good);
});

test('a symbolic link out of the folder inside a linked folder (d/ext, d -> data, data/ext -> outside) is refused under the watcher as in place, not read as an empty document', { skip }, async () => {
  const good = watcher.active()!.transform.hash;
  await symlink(outside, join(dir, 'data', 'ext'));
  try {
    const text = reading('d/ext/names.xml');
    await save(main, text);
    const direct = await directError();
    const r = await log.expect('rejected');
    assert.equal(r.code, 'XML_FORBIDDEN', r.message);
    assert.equal(r.file, main);
    assert.equal(r.line, lineOf(text, "document('d/ext/names.xml')"));
    assert.match(r.message, new RegExp(`document\\('d/ext/names\\.xml'\\) is refused: it is a symbolic link to ${escape(join(outside, 'names.xml'))}, outside the transforms folder ${escape(dir)}`));
    assert.deepEqual({ code: r.code, file: r.file, line: r.line, column: r.column, message: r.message }, { code: direct.code, file: direct.file, line: direct.line, column: direct.column, message: direct.fullMessage });
    assert.equal(watcher.active()!.transform.hash, good);
    await save(main, reading('d/names.xml'));
    await quietNow();
    assert.deepEqual(log.drain(), []);
  } finally {
    await unlink(join(dir, 'data', 'ext'));
  }
  await quietNow();
  assert.deepEqual(log.drain(), []);
  assert.equal(watcher.active()!.transform.hash, good);
});

test('a symbolic link out of the folder reached through a link cycle (self/b, self/self/out/names.xml, d/up/b) is refused under the watcher as in place, not read as a missing document', { skip }, async () => {
  const good = watcher.active()!.transform.hash;
  await symlink('.', join(dir, 'self'));
  await symlink('..', join(dir, 'data', 'up'));
  await symlink(join(outside, 'names.xml'), join(dir, 'b'));
  try {
    // The links alone change no file of the transform: the version active stays.
    await quietNow();
    assert.deepEqual(log.drain(), []);
    const secret = escape(join(outside, 'names.xml'));
    for (const [text, needle, message] of [
      [reading('self/b'), "document('self/b')", `document\\('self/b'\\) is refused: it is a symbolic link to ${secret}, outside the transforms folder ${escape(dir)}`],
      [reading('self/self/out/names.xml'), "document('self/self/out/names.xml')", `document\\('self/self/out/names\\.xml'\\) is refused: it is a symbolic link to ${secret}, outside the transforms folder ${escape(dir)}`],
      [reading('d/up/b'), "document('d/up/b')", `document\\('d/up/b'\\) is refused: it is a symbolic link to ${secret}, outside the transforms folder ${escape(dir)}`],
      [including('self/out/module.xsl'), '<xsl:include', `xsl:include href="self/out/module\\.xsl" is refused: it leaves the transforms folder ${escape(dir)}`],
    ] as const) {
      await refusedAsInPlace(text, needle, message, good);
    }
    await save(main, reading('d/names.xml'));
    await quietNow();
    assert.deepEqual(log.drain(), []);
  } finally {
    await unlink(join(dir, 'self'));
    await unlink(join(dir, 'data', 'up'));
    await unlink(join(dir, 'b'));
  }
  await quietNow();
  assert.deepEqual(log.drain(), []);
  assert.equal(watcher.active()!.transform.hash, good);
});
