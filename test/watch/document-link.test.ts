// A file read by document('...') that is a symbolic link, under the watcher: the version is
// compiled from a snapshot that never copies a link out of the folder, yet it must be
// refused exactly as the stylesheet compiled in place is (file, line of the call, and the
// message), never activated with an empty document. A link that stays inside is read.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TransformWatcher } from '../../engine/transform/watch/index.js';
import type { TransformSandbox } from '../../engine/transform/sandbox/index.js';
import { renderText } from '../../engine/render/render.js';
import { DEFAULT_XSL, tempDir, type TempDir } from '../sandbox/fixtures.js';
import { startWatching, stopWatching, SKIP_WITHOUT_XSLTPROC, readingDocument, quiet, compileErrorInPlace, escapeRegExp } from './link-fixtures.js';
import { EventLog, lineOf } from './helpers.js';

const skip = SKIP_WITHOUT_XSLTPROC;

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

const quietNow = () => quiet(watcher);

async function renderActive(): Promise<string> {
  return (await renderText(instance, { transform: watcher.transform(), file: 'instance.xml' })).xml;
}

const directError = () => compileErrorInPlace(main);

const escape = escapeRegExp;

before(async () => {
  if (skip) return;
  tmp = await tempDir('domforge-watch-doclink-');
  dir = join(tmp.dir, 'transforms');
  main = join(dir, 'libvirt.xsl');
  outside = join(tmp.dir, 'outside');
  base = await readFile(DEFAULT_XSL, 'utf8');
  await tmp.write('outside/names.xml', '<n suffix="-out"/>');
  await tmp.write('transforms/data/names.xml', '<n suffix="-in"/>');
  await tmp.write('transforms/libvirt.xsl', reading('names.xml'));
  // names.xml: a link to another file of the folder; secret.xml: a link out of it.
  await symlink(join(dir, 'data', 'names.xml'), join(dir, 'names.xml'));
  await symlink(join(outside, 'names.xml'), join(dir, 'secret.xml'));
  // Every test starts from this version, names.xml read through its link inside.
  ({ sandbox, watcher, instance } = await startWatching(tmp, ['01-linux-kvm-virtio.xml', '03-windows-kvm.xml'], log));
});
after(() => stopWatching(watcher, sandbox, tmp));

test('document() of a symbolic link inside the folder reads its target; retargeted out of the folder, the new version is rejected and the good one stays active', { skip }, async () => {
  const on = watcher.active()!.transform;
  assert.ok(on.files.includes(join(dir, 'names.xml')), `names.xml among ${on.files.join(', ')}`);
  assert.match(await renderActive(), /<name>[^<]*-in<\/name>/);
  const good = on.hash;
  await unlink(join(dir, 'names.xml'));
  await symlink(join(outside, 'names.xml'), join(dir, 'names.xml'));
  const direct = await directError();
  const r = await log.expect('rejected');
  assert.equal(r.code, 'XML_FORBIDDEN', r.message);
  assert.equal(r.file, main);
  assert.equal(r.line, lineOf(reading('names.xml'), "document('names.xml')"));
  assert.match(r.message, new RegExp(`document\\('names\\.xml'\\) is refused: it is a symbolic link to ${escape(join(outside, 'names.xml'))}, outside the transforms folder ${escape(dir)}`));
  assert.deepEqual({ code: r.code, file: r.file, line: r.line, column: r.column, message: r.message }, { code: direct.code, file: direct.file, line: direct.line, column: direct.column, message: direct.fullMessage });
  assert.equal(r.activeHash, good);
  assert.equal(watcher.active()!.transform.hash, good);
  // Every worker still renders the good version, reading the file it was proved with.
  const renders = await Promise.all([renderActive(), renderActive(), renderActive(), renderActive()]);
  for (const xml of renders) assert.match(xml, /<name>[^<]*-in<\/name>/);
  assert.doesNotMatch(renders.join(''), /-out/);
  // Back inside: the version active all along, no event.
  await unlink(join(dir, 'names.xml'));
  await symlink(join(dir, 'data', 'names.xml'), join(dir, 'names.xml'));
  await quietNow();
  assert.deepEqual(log.drain(), []);
  assert.equal(watcher.active()!.transform.hash, good);
});

test('a save that reads a symbolic link out of the folder with document() is rejected as the compile in place refuses it; the last good version stays', { skip }, async () => {
  const good = watcher.active()!.transform.hash;
  const text = reading('secret.xml');
  await writeFile(main, text);
  const direct = await directError();
  const r = await log.expect('rejected');
  assert.equal(r.code, 'XML_FORBIDDEN', r.message);
  assert.equal(r.file, main);
  assert.equal(r.line, lineOf(text, "document('secret.xml')"));
  assert.match(r.message, new RegExp(`document\\('secret\\.xml'\\) is refused: it is a symbolic link to ${escape(join(outside, 'names.xml'))}, outside the transforms folder ${escape(dir)}`));
  assert.deepEqual({ code: r.code, file: r.file, line: r.line, column: r.column, message: r.message }, { code: direct.code, file: direct.file, line: direct.line, column: direct.column, message: direct.fullMessage });
  assert.equal(r.activeHash, good);
  assert.equal(watcher.active()!.transform.hash, good);
  assert.match(await renderActive(), /<name>[^<]*-in<\/name>/);
  // Back as it was: the active version all along, no event.
  await writeFile(main, reading('names.xml'));
  await quietNow();
  assert.deepEqual(log.drain(), []);
  assert.equal(watcher.active()!.transform.hash, good);
});

test('an xsl:include of a symbolic link out of the folder is refused under the watcher as in place, at the include', { skip }, async () => {
  const good = watcher.active()!.transform.hash;
  await tmp.write('outside/module.xsl', '<?xml version="1.0"?>\n<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"/>\n');
  await symlink(join(outside, 'module.xsl'), join(dir, 'module.xsl'));
  const text = reading('names.xml').replace(/(<xsl:stylesheet[^>]*>)/, '$1\n  <xsl:include href="module.xsl"/>');
  await writeFile(main, text);
  const direct = await directError();
  const r = await log.expect('rejected');
  assert.equal(r.code, 'XML_FORBIDDEN', r.message);
  assert.equal(r.file, main);
  assert.equal(r.line, lineOf(text, '<xsl:include'));
  assert.match(r.message, new RegExp(`xsl:include href="module\\.xsl" is refused: it leaves the transforms folder ${escape(dir)}`));
  assert.deepEqual({ code: r.code, file: r.file, line: r.line, column: r.column, message: r.message }, { code: direct.code, file: direct.file, line: direct.line, column: direct.column, message: direct.fullMessage });
  assert.equal(r.activeHash, good);
  assert.equal(watcher.active()!.transform.hash, good);
});
