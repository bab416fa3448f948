// The transform of a file for every launch: found unchanged by one stat per file, read and
// hashed when a stat differs or the file changed too recently for its times to be trusted,
// compiled again only when the content differs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as settle } from 'node:timers/promises';
import { FileTransformSource } from '../../engine/transform/file-source.js';
import { transformKindOf } from '../../engine/transform/load.js';
import { tmpTemplate, variant } from '../handlebars/fixtures.js';

async function output(source: FileTransformSource): Promise<string> {
  return (await (await source.get()).render({ xml: variant(() => undefined) })).output;
}

test('an unchanged transform is found by its stamps; a rewrite of as many bytes, or a new inode, is read, and compiled again only when its content differs', async () => {
  const file = tmpTemplate('<domain>{{> p}}</domain>', { 'p.hbs': 'one' });
  const partial = join(file, '..', 'partials', 'p.hbs');
  try {
    const source = new FileTransformSource(file, {}, { racyMs: 100 });
    const a = await source.get();
    await settle(150);
    // The first lookup after the compile reads the files; their times are old enough to trust.
    assert.equal(await source.get(), a);
    // (A transform with a partial is compiled twice at first: the first compile lists its files.)
    assert.deepEqual(source.stats(), { unchanged: 0, hashed: 1, compiled: 2 });
    assert.equal(await source.get(), a);
    assert.equal(await source.get(), a);
    assert.deepEqual(source.stats(), { unchanged: 2, hashed: 1, compiled: 2 });

    // The partial rewritten in place with as many bytes: its times change, so it is read, and compiled again.
    await writeFile(partial, 'two');
    assert.equal(await output(source), '<domain>two</domain>');
    assert.deepEqual(source.stats(), { unchanged: 2, hashed: 1, compiled: 3 });

    // touch: other times, the same content: read, not compiled again.
    const b = await source.get();
    await settle(150);
    await utimes(partial, new Date(), new Date());
    await settle(150);
    assert.equal(await source.get(), b);
    assert.equal(await source.get(), b);
    // Replaced by a rename with the same bytes: a new inode, read, the same compile.
    await writeFile(partial + '.new', 'two');
    await rename(partial + '.new', partial);
    await settle(150);
    assert.equal(await source.get(), b);
    assert.deepEqual(source.stats(), { unchanged: 3, hashed: 4, compiled: 3 });

    // Replaced by a rename with other bytes of the same length.
    await writeFile(partial + '.new', 'six');
    await rename(partial + '.new', partial);
    assert.equal(await output(source), '<domain>six</domain>');
    assert.equal(source.stats().compiled, 4);
  } finally {
    await rm(join(file, '..'), { recursive: true, force: true });
  }
});

test('a file changed less than racyMs before a lookup is compared by content at every lookup', async () => {
  // On a file system with coarse times, a same-size rewrite in the same tick keeps every
  // time: the stamps of such a file are not trusted until its times are old.
  const file = tmpTemplate('<domain>{{> p}}</domain>', { 'p.hbs': 'one' });
  try {
    const racy = new FileTransformSource(file, {}, { racyMs: 60_000 });
    for (let i = 0; i < 3; i++) await racy.get();
    assert.deepEqual(racy.stats(), { unchanged: 0, hashed: 2, compiled: 2 });
    const relaxed = new FileTransformSource(file, {}, { racyMs: 0 });
    for (let i = 0; i < 3; i++) await relaxed.get();
    assert.deepEqual(relaxed.stats(), { unchanged: 1, hashed: 1, compiled: 2 });
  } finally {
    await rm(join(file, '..'), { recursive: true, force: true });
  }
});

test('a file removed after its stamps were trusted is not taken as unchanged: the lookup fails naming it, and works again once it is back', async () => {
  const file = tmpTemplate('<domain>{{> p}}</domain>', { 'p.hbs': 'one' });
  const partial = join(file, '..', 'partials', 'p.hbs');
  try {
    const source = new FileTransformSource(file, {}, { racyMs: 0 });
    await source.get();
    await source.get();
    await source.get();
    assert.equal(source.stats().unchanged, 1);
    await unlink(partial);
    await assert.rejects(source.get(), (e: Error & { code?: string; file?: string }) => e.code === 'TRANSFORM_SYNTAX' && /partial/.test(e.message));
    await unlink(file);
    await assert.rejects(source.get(), (e: Error & { code?: string; file?: string }) => e.code === 'IO_ERROR' && e.file === file);
    await writeFile(file, '<domain>{{> p}}</domain>');
    await writeFile(partial, 'back');
    assert.equal(await output(source), '<domain>back</domain>');
  } finally {
    await rm(join(file, '..'), { recursive: true, force: true });
  }
});

test('a partial or an included stylesheet that is a FIFO is an error at the place that names it, not a read that waits forever', { timeout: 10_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'domforge-fifo-'));
  try {
    const hbs = tmpTemplate('<domain>{{> p}}</domain>', { 'q.hbs': '' });
    execFileSync('mkfifo', [join(hbs, '..', 'partials', 'p.hbs')]);
    await assert.rejects(new FileTransformSource(hbs).get(), (e: Error & { code?: string; file?: string; line?: number; column?: number }) =>
      e.code === 'TRANSFORM_SYNTAX' && e.file === hbs && e.line === 1 && e.column === 9 && /partial "p": cannot read .*p\.hbs: a FIFO, not a regular file/.test(e.message));
    await rm(join(hbs, '..'), { recursive: true, force: true });

    const xsl = join(dir, 'main.xsl');
    await writeFile(xsl, '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">\n  <xsl:include href="inc.xsl"/>\n</xsl:stylesheet>\n');
    execFileSync('mkfifo', [join(dir, 'inc.xsl')]);
    await assert.rejects(new FileTransformSource(xsl).get(), (e: Error & { code?: string; file?: string; line?: number }) =>
      e.code === 'TRANSFORM_SYNTAX' && e.file === xsl && e.line === 2 && /href="inc\.xsl": cannot read .*inc\.xsl: a FIFO, not a regular file/.test(e.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a transform\'s kind is told by its name (*.xsl, *.xslt, *.hbs, *.handlebars); another name is refused, naming all four', () => {
  for (const [file, kind] of [['a.xsl', 'xslt'], ['a.XSLT', 'xslt'], ['libvirt.xml.hbs', 'handlebars'], ['a.handlebars', 'handlebars']] as const) assert.equal(transformKindOf(file), kind, file);
  assert.throws(
    () => transformKindOf('a.txt'),
    (e: Error & { code?: string }) => e.code === 'TRANSFORM_UNSUPPORTED' && /expected \*\.xsl, \*\.xslt, \*\.hbs or \*\.handlebars$/.test(e.message),
  );
});
