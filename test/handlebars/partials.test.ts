/** Partials: an admin overrides one piece of the default template; files, hash and confinement. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, writeFileSync, symlinkSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileHandlebars } from '../../engine/transform/handlebars/index.js';
import { loadTransform, TransformCache } from '../../engine/transform/load.js';
import { diffXml } from '../../engine/xml/compare.js';
import { TransformError } from '../../engine/errors.js';
import { HBS, ROOT, hbsTransform, outcome, tmpTemplate, variant } from './fixtures.js';

/** A copy of the shipped template and its partials in a temporary folder. */
function copyDefault(): string {
  const dir = mkdtempSync(join(tmpdir(), 'domforge-hbs-copy-'));
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

  test('a symbolic link out of partials/ is refused', () => {
    const file = tmpTemplate('{{> leak}}', { 'ok.hbs': '' });
    const outside = join(mkdtempSync(join(tmpdir(), 'domforge-out-')), 'secret.hbs');
    writeFileSync(outside, 'secret');
    symlinkSync(outside, join(file, '..', 'partials', 'leak.hbs'));
    assert.throws(() => compileHandlebars(file), (e: TransformError) => e.code === 'TRANSFORM_SYNTAX' && /outside/.test(e.message) && e.line === 1);
  });
});
