import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runHooks, runFilters } from '../../engine/hooks/index.js';
import { parseXml } from '../../engine/xml/parse.js';
import { xmlEqual } from '../../engine/xml/compare.js';
import { sandbox, SMALL_DOMAIN } from './fixtures.js';

/** The repository's hooks/ folder (tests run from dist/test/hooks/). */
const EXAMPLES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../hooks');

async function withExample(name: string, into: 'hooks' | 'filters') {
  const sb = await sandbox();
  const dir = into === 'hooks' ? sb.hooks : sb.filters;
  const from = into === 'hooks' ? join(EXAMPLES, name) : join(EXAMPLES, 'filters.d', name);
  await copyFile(from, join(dir, name));
  const { chmod } = await import('node:fs/promises');
  await chmod(join(dir, name), 0o755);
  return sb;
}

test('hooks/10-memballoon adds a virtio memballoon in pre-boot', async (t) => {
  const sb = await withExample('10-memballoon', 'hooks');
  t.after(() => sb.cleanup());
  const xml = join(sb.instanceDir, 'libvirt.xml');
  await writeFile(xml, SMALL_DOMAIN, { mode: 0o600 }); // as domforge writes it
  const r = await runHooks('euca-nc-pre-boot', { dir: sb.hooks, home: sb.root, instanceDir: sb.instanceDir, libvirtXml: xml });
  assert.equal(r.results[0]!.ok, true);
  assert.equal((await stat(xml)).mode & 0o777, 0o600, 'the edited file keeps its mode');
  const edited = await readFile(xml, 'utf8');
  const expected = SMALL_DOMAIN.replace('</devices>', '<memballoon model="virtio"/></devices>');
  assert.ok(xmlEqual(edited, expected), edited);
  assert.match(edited, /    <memballoon model="virtio"\/>\n  <\/devices>/);
  // Run again: idempotent.
  await runHooks('euca-nc-pre-boot', { dir: sb.hooks, home: sb.root, instanceDir: sb.instanceDir, libvirtXml: xml });
  assert.equal(await readFile(xml, 'utf8'), edited);
});

test('hooks/10-memballoon replaces an existing balloon, falls back to PARAM/libvirt.xml, ignores other events', async (t) => {
  const sb = await withExample('10-memballoon', 'hooks');
  t.after(() => sb.cleanup());
  const xml = join(sb.instanceDir, 'libvirt.xml');
  const withNone = SMALL_DOMAIN.replace('</devices>', '<memballoon model="none">\n      <address type="pci"/>\n    </memballoon>\n  </devices>');
  await writeFile(xml, withNone);
  await runHooks('euca-nc-pre-clean', { dir: sb.hooks, home: sb.root, instanceDir: sb.instanceDir });
  assert.equal(await readFile(xml, 'utf8'), withNone);
  await runHooks('euca-nc-pre-boot', { dir: sb.hooks, home: sb.root, instanceDir: sb.instanceDir });
  const edited = await readFile(xml, 'utf8');
  assert.ok(xmlEqual(edited, SMALL_DOMAIN.replace('</devices>', '<memballoon model="virtio"/></devices>')), edited);
});

test('hooks/10-memballoon fails the launch when the file is missing', async (t) => {
  const sb = await withExample('10-memballoon', 'hooks');
  t.after(() => sb.cleanup());
  await assert.rejects(runHooks('euca-nc-pre-boot', { dir: sb.hooks, home: sb.root, instanceDir: sb.instanceDir }), (e: unknown) => {
    assert.equal((e as { hook: string }).hook, '10-memballoon');
    assert.match((e as Error & { details: string[] }).details.join('\n'), /10-memballoon: cannot read .*libvirt.xml/);
    return true;
  });
});

test('hooks/00-log-event logs its arguments and environment, and never fails', async (t) => {
  const sb = await withExample('00-log-event', 'hooks');
  t.after(() => sb.cleanup());
  await runHooks('euca-nc-pre-boot', { dir: sb.hooks, home: '/opt/df', instanceDir: sb.instanceDir, instanceId: 'i-12345678', uri: 'test:///default' });
  const text = await readFile(join(sb.instanceDir, 'hook-events.log'), 'utf8');
  assert.match(text, /^\S+Z pid=\d+ event=euca-nc-pre-boot home=\/opt\/df param=.*i-12345678\n/);
  assert.match(text, /^  DOMFORGE_INSTANCE_ID=i-12345678$/m);
  assert.match(text, /^  DOMFORGE_URI=test:\/\/\/default$/m);
  const custom = join(sb.root, 'custom.log');
  await runHooks('euca-nc-post-init', { dir: sb.hooks, home: '/opt/df', env: { DOMFORGE_HOOK_LOG: custom } });
  assert.match(await readFile(custom, 'utf8'), /event=euca-nc-post-init home=\/opt\/df param=\/opt\/df/);
  // An unwritable log is reported on stderr, not as a failure.
  const r = await runHooks('euca-nc-post-init', { dir: sb.hooks, home: '/', env: { DOMFORGE_HOOK_LOG: '/nonexistent/dir/x.log' } });
  assert.equal(r.results[0]!.ok, true);
  assert.match(r.results[0]!.stderr, /cannot write \/nonexistent\/dir\/x.log/);
});

test('hooks/filters.d/50-no-hpet.fail-open turns HPET off as an XML filter', async (t) => {
  const sb = await withExample('50-no-hpet.fail-open', 'filters');
  t.after(() => sb.cleanup());
  const r = await runFilters(SMALL_DOMAIN, { dir: sb.filters, instanceId: 'i-12345678', event: 'euca-nc-pre-boot', validate: (x) => void parseXml(x) });
  assert.equal(r.changed, true);
  assert.deepEqual(r.filters.map((f) => [f.name, f.failOpen, f.ok]), [['50-no-hpet.fail-open', true, true]]);
  assert.ok(xmlEqual(r.xml, SMALL_DOMAIN.replace('<devices>', '<clock offset="utc"><timer name="hpet" present="no"/></clock><devices>')), r.xml);
  assert.match(r.diff, /^\+  <clock offset="utc"><timer name="hpet" present="no"\/><\/clock>$/m);
  // Already off, or another event: unchanged.
  const again = await runFilters(r.xml, { dir: sb.filters, instanceId: 'i-1', event: 'euca-nc-pre-boot' });
  assert.equal(again.changed, false);
  const attach = await runFilters(SMALL_DOMAIN, { dir: sb.filters, instanceId: 'i-1', event: 'euca-nc-pre-attach' });
  assert.equal(attach.changed, false);
  // An existing <clock/> gets the timer inside it.
  const withClock = SMALL_DOMAIN.replace('<devices>', '<clock offset="localtime"/>\n  <devices>');
  const c = await runFilters(withClock, { dir: sb.filters, instanceId: 'i-1', event: 'euca-nc-pre-boot' });
  assert.match(c.xml, /<clock offset="localtime"><timer name="hpet" present="no"\/><\/clock>/);
});

test('the shipped hooks folder runs as it is, inside the domforge package (ES module scope)', async () => {
  // A script without a .js extension under a "type": "module" package fails to load;
  // hooks/package.json makes the examples CommonJS where they stand.
  const r = await runFilters(SMALL_DOMAIN, { dir: join(EXAMPLES, 'filters.d'), instanceId: 'i-12345678', event: 'euca-nc-pre-boot', validate: (x) => void parseXml(x) });
  assert.deepEqual(r.filters.map((f) => [f.name, f.ok]), [['50-no-hpet.fail-open', true]]);
  assert.equal(r.changed, true);
});
