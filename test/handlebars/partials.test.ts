/** Partials: an admin overrides one piece of the default template; files, hash and confinement. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, realpathSync, writeFileSync, symlinkSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { compileHandlebars } from '../../engine/transform/handlebars/index.js';
import { loadTransform, TransformCache } from '../../engine/transform/load.js';
import { diffXml } from '../../engine/xml/compare.js';
import { TransformError } from '../../engine/errors.js';
import { HBS, ROOT, hbsTransform, outcome, tmpFolder, tmpTemplate, variant } from './fixtures.js';

/** A copy of the shipped template and its partials in a temporary folder. */
function copyDefault(): string {
  const dir = tmpFolder('domforge-hbs-copy-');
  cpSync(HBS, join(dir, 'libvirt.xml.hbs'));
  cpSync(join(ROOT, 'transforms', 'partials'), join(dir, 'partials'), { recursive: true });
  return join(dir, 'libvirt.xml.hbs');
}

describe('partials', () => {
  test('overriding partials/console.hbs changes only the console', async () => {
    const file = copyDefault();
    writeFileSync(join(file, '..', 'partials', 'console.hbs'), '    <console type="pty">\n      <target type="virtio" port="0"/>\n    </console>\n');
    const text = variant(() => undefined);
    const mine = await outcome(text, await loadTransform(file));
    const shipped = await outcome(text, await hbsTransform());
    assert.ok(mine.ok && shipped.ok, !mine.ok ? mine.error.message : '');
    const d = diffXml(shipped.rendered.xml, mine.rendered.xml);
    assert.equal(d?.path, '/domain/devices/serial', d?.message);
    assert.match(mine.rendered.xml, /<console type="pty">\s*<target type="virtio" port="0"\/>/);
  });

  test('files lists the template then every partial it uses; the hash follows their content', async () => {
    const file = copyDefault();
    const t = compileHandlebars(file);
    assert.equal(t.files[0], file);
    for (const p of ['os', 'disk', 'interface', 'console', 'config-drive', 'hotplug-disk', 'hyperv-domain', 'description', 'memory-backing']) {
      assert.ok(t.files.some((f) => f.endsWith(join('partials', `${p}.hbs`))), `${p} missing from ${t.files.join(', ')}`);
    }
    // A copy of the folder elsewhere (the watcher's snapshot of a version) has the same hash.
    assert.equal(compileHandlebars(copyDefault()).hash, t.hash);
    const disk = join(file, '..', 'partials', 'disk.hbs');
    writeFileSync(disk, readFileSync(disk, 'utf8') + '\n');
    assert.notEqual(compileHandlebars(file).hash, t.hash);
  });

  test('the transform cache recompiles when a partial changes', async () => {
    const file = tmpTemplate('<domain>{{> p}}</domain>', { 'p.hbs': 'one' });
    const cache = new TransformCache();
    const a = await cache.get(file);
    assert.equal(await cache.get(file), a);
    writeFileSync(join(file, '..', 'partials', 'p.hbs'), 'two');
    const b = await cache.get(file);
    assert.notEqual(b, a);
    assert.equal((await b.render({ xml: variant(() => undefined) })).output, '<domain>two</domain>');
  });

  test('partials in sub-folders, partials calling partials, inline partials', async () => {
    const file = tmpTemplate('{{#*inline "x"}}[{{@root.input}}]{{/inline}}<r>{{> x}}{{> dev/a}}</r>', { 'dev/a.hbs': 'a{{> b}}', 'b.hbs': 'b' });
    assert.equal((await compileHandlebars(file).render({ xml: variant(() => undefined) })).output, '<r>[instance]ab</r>');
  });

  test('a symbolic link from partials/ to another file of the transforms folder is followed, as an xsl:include of one is', async () => {
    const file = tmpTemplate('<r>{{> shared}}{{> sub/shared}}</r>', { 'ok.hbs': '' });
    const dir = join(file, '..');
    writeFileSync(join(dir, 'shared.hbs'), 'one');
    mkdirSync(join(dir, 'partials', 'sub'));
    symlinkSync(join('..', 'shared.hbs'), join(dir, 'partials', 'shared.hbs'));
    // A chain inside the folder: partials/sub/shared.hbs -> partials/shared.hbs -> shared.hbs.
    symlinkSync(join(dir, 'partials', 'shared.hbs'), join(dir, 'partials', 'sub', 'shared.hbs'));
    const t = compileHandlebars(file);
    assert.equal((await t.render({ xml: variant(() => undefined) })).output, '<r>oneone</r>');
    assert.deepEqual(t.files, [file, join(dir, 'partials', 'shared.hbs'), join(dir, 'partials', 'sub', 'shared.hbs')]);
  });

  test('a symbolic link out of the transforms folder is refused at the call, naming the link and where it leads, also through a link inside', () => {
    const file = tmpTemplate('\n{{> leak}}', { 'ok.hbs': '' });
    const dir = join(file, '..');
    const outside = join(realpathSync(tmpFolder('domforge-out-')), 'secret.hbs');
    writeFileSync(outside, 'secret');
    const refused = (e: TransformError) => {
      assert.equal(e.code, 'TRANSFORM_SYNTAX');
      assert.equal(e.file, file);
      assert.equal(e.line, 2);
      assert.equal(e.shortMessage, `partial "leak": ${join('partials', 'leak.hbs')} is a symbolic link to ${outside}, outside the transforms folder ${dir}`);
      return true;
    };
    symlinkSync(outside, join(dir, 'partials', 'leak.hbs'));
    assert.throws(() => compileHandlebars(file), refused);
    // partials/leak.hbs -> b.hbs (in the folder) -> the file outside: the same refusal.
    unlinkSync(join(dir, 'partials', 'leak.hbs'));
    symlinkSync(outside, join(dir, 'b.hbs'));
    symlinkSync(join('..', 'b.hbs'), join(dir, 'partials', 'leak.hbs'));
    assert.throws(() => compileHandlebars(file), refused);
  });

  test('a partials/ folder that is a symbolic link out of the transforms folder is refused', () => {
    const file = tmpTemplate('{{> leak}}');
    const elsewhere = realpathSync(tmpFolder('domforge-out-'));
    writeFileSync(join(elsewhere, 'leak.hbs'), 'secret');
    symlinkSync(elsewhere, join(file, '..', 'partials'));
    assert.throws(() => compileHandlebars(file), (e: TransformError) => e.code === 'TRANSFORM_SYNTAX' && e.line === 1 && e.message.includes(`is a symbolic link to ${join(elsewhere, 'leak.hbs')}, outside the transforms folder`));
  });
});
