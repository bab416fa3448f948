import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runFilters, HookFailedError, HookTimeoutError, type HookLogEntry } from '../../engine/hooks/index.js';
import { XmlSyntaxError } from '../../engine/errors.js';
import { parseXml } from '../../engine/xml/parse.js';
import { sandbox, SMALL_DOMAIN } from './fixtures.js';

/** What the tests pass as the validator: well-formed, and the root is still <domain>. */
const wellFormedDomain = (xml: string) => {
  const root = parseXml(xml).documentElement!;
  if (root.nodeName !== 'domain') throw new Error(`root element is <${root.nodeName}>, expected <domain>`);
};

test('filters chain in name order, get INSTANCE_ID EVENT and stdin, and the diff is returned and logged', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  const argv = join(sb.root, 'argv');
  // 20 sees 10's output: it only adds <acpi/> after the <features> 10 added.
  await sb.script(sb.filters, '20-acpi', `echo "$# $1 $2 $DOMFORGE_INSTANCE_ID" >> '${argv}'; sed 's|<features>|<features>\\n    <acpi/>|'`);
  await sb.script(sb.filters, '10-features', `echo "$# $1 $2" >> '${argv}'; sed 's|  <devices>|  <features>\\n  </features>\\n  <devices>|'`);
  const logged: HookLogEntry[] = [];
  const report = await runFilters(SMALL_DOMAIN, {
    dir: sb.filters,
    instanceId: 'i-12345678',
    event: 'euca-nc-pre-boot',
    validate: wellFormedDomain,
    log: (e) => logged.push(e),
  });
  assert.deepEqual(report.filters.map((f) => [f.name, f.ok, f.changed]), [['10-features', true, true], ['20-acpi', true, true]]);
  assert.equal(report.changed, true);
  assert.match(report.xml, /<features>\n    <acpi\/>\n  <\/features>\n  <devices>/);
  assert.deepEqual((await readFile(argv, 'utf8')).trim().split('\n'), ['2 i-12345678 euca-nc-pre-boot', '2 i-12345678 euca-nc-pre-boot i-12345678']);
  assert.equal(
    report.diff,
    ['--- rendered', '+++ filtered', '@@ -4,6 +4,9 @@', '   <os>', '     <type>hvm</type>', '   </os>', '+  <features>', '+    <acpi/>', '+  </features>', '   <devices>', '     <disk type="file" device="disk">', '       <source file="/var/lib/instances/i-12345678/disk"/>', ''].join('\n'),
  );
  const diffLog = logged.filter((e) => e.hook === 'filters.d').map((e) => e.text);
  assert.deepEqual(diffLog, report.diff.trimEnd().split('\n'));
});

test('empty output means unchanged; no filters means unchanged', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  const none = await runFilters(SMALL_DOMAIN, { dir: sb.filters, instanceId: 'i-1', event: 'euca-nc-pre-boot' });
  assert.deepEqual([none.xml, none.changed, none.diff, none.filters], [SMALL_DOMAIN, false, '', []]);
  // Exits at once without reading a large stdin: EPIPE on our side is not a failure.
  await sb.script(sb.filters, 'silent', 'exit 0');
  await sb.script(sb.filters, 'same', 'cat');
  const big = SMALL_DOMAIN.replace('</devices>', '<!--' + 'x'.repeat(2_000_000) + '-->\n  </devices>');
  const r = await runFilters(big, { dir: sb.filters, instanceId: 'i-1', event: 'euca-nc-pre-boot', validate: wellFormedDomain });
  assert.equal(r.xml, big);
  assert.equal(r.changed, false);
  assert.deepEqual(r.filters.map((f) => [f.name, f.ok, f.changed]), [['same', true, false], ['silent', true, false]]);
});

test('a filters folder that cannot be read is named as the filters folder (here under a hooks path that is a file)', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  const file = join(sb.root, 'hooks-is-a-file');
  writeFileSync(file, '');
  await assert.rejects(runFilters(SMALL_DOMAIN, { dir: join(file, 'filters.d'), instanceId: 'i-1', event: 'euca-nc-pre-boot' }), (e: unknown) => {
    assert.match((e as Error).message, /: cannot read filters folder .*hooks-is-a-file\/filters\.d: ENOTDIR$/);
    return true;
  });
});

test('a failing filter cancels (fail-closed) with its name and stderr; later filters do not run', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  const ran = join(sb.root, 'ran');
  await sb.script(sb.filters, '10-gpu', 'cat >/dev/null; echo "no free GPU on this host" >&2; exit 4');
  await sb.script(sb.filters, '20-next', `touch '${ran}'; cat`);
  await assert.rejects(runFilters(SMALL_DOMAIN, { dir: sb.filters, instanceId: 'i-1', event: 'euca-nc-pre-boot' }), (e: unknown) => {
    assert.ok(e instanceof HookFailedError);
    assert.equal(e.kind, 'filter');
    assert.equal(e.hook, '10-gpu');
    assert.equal(e.exitCode, 4);
    assert.equal(e.shortMessage, 'XML filter 10-gpu exited with code 4; euca-nc-pre-boot cancelled');
    assert.equal(e.file, join(sb.filters, '10-gpu'));
    assert.equal(e.message, `${e.file}: ${e.shortMessage}`);
    assert.deepEqual(e.details, ['stderr (last lines):', '  no free GPU on this host']);
    return true;
  });
  await assert.rejects(readFile(ran), { code: 'ENOENT' });
});

test('a filter named *.fail-open is skipped on failure and the chain goes on with its input', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  await sb.script(sb.filters, '10-optional.fail-open', 'echo "<domain><broken" ; echo "soft failure" >&2; exit 1');
  await sb.script(sb.filters, '15-invalid.fail-open', 'echo "<domain><broken"');
  await sb.script(sb.filters, '20-rename', `sed 's|<name>i-12345678</name>|<name>renamed</name>|'`);
  const logged: HookLogEntry[] = [];
  const r = await runFilters(SMALL_DOMAIN, { dir: sb.filters, instanceId: 'i-1', event: 'euca-nc-pre-boot', validate: wellFormedDomain, log: (e) => logged.push(e) });
  assert.deepEqual(r.filters.map((f) => [f.name, f.failOpen, f.ok]), [['10-optional.fail-open', true, false], ['15-invalid.fail-open', true, false], ['20-rename', false, true]]);
  assert.equal(r.xml, SMALL_DOMAIN.replace('i-12345678</name>', 'renamed</name>'));
  assert.equal(r.skipped.length, 2);
  assert.match(r.skipped[0]!.message, /XML filter 10-optional.fail-open exited with code 1; ignored \(fail-open filter\)/);
  assert.match(r.skipped[1]!.message, /XML filter 15-invalid.fail-open printed invalid XML: .*; ignored \(fail-open filter\)/);
  assert.ok(logged.some((e) => e.hook === '10-optional.fail-open' && e.text === 'soft failure'));
});

test('invalid output cancels with the validator\'s reason as cause', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  await sb.script(sb.filters, 'corrupt', `sed 's|</domain>||'`);
  await assert.rejects(runFilters(SMALL_DOMAIN, { dir: sb.filters, instanceId: 'i-1', event: 'euca-nc-pre-boot', validate: wellFormedDomain }), (e: unknown) => {
    assert.ok(e instanceof HookFailedError);
    assert.equal(e.hook, 'corrupt');
    assert.equal(e.exitCode, 0);
    assert.ok(e.cause instanceof XmlSyntaxError);
    // At the end of the output, as xmllint places it ("-:14: parser error : Premature end of data in tag domain line 1").
    assert.match(e.shortMessage, /^XML filter corrupt printed invalid XML: .+:14:1: the document ends inside <domain> \(line 1\): its end tag is missing .*; euca-nc-pre-boot cancelled$/);
    return true;
  });
  await sb.script(sb.filters, 'corrupt', `echo '<interface/>'`);
  await assert.rejects(
    runFilters(SMALL_DOMAIN, { dir: sb.filters, instanceId: 'i-1', event: 'euca-nc-pre-boot', validate: wellFormedDomain }),
    /printed invalid XML: root element is <interface>, expected <domain>/,
  );
  // The default validator checks well-formedness.
  await sb.script(sb.filters, 'corrupt', `echo '<domain>'`);
  await assert.rejects(
    runFilters(SMALL_DOMAIN, { dir: sb.filters, instanceId: 'i-1', event: 'euca-nc-pre-boot' }),
    /printed invalid XML: output of corrupt:\d+:\d+: the document ends inside <domain>/,
  );
});

test('a filter that hangs is killed at the timeout', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  await sb.script(sb.filters, 'hang', 'echo "thinking" >&2; sleep 1000');
  await assert.rejects(
    runFilters(SMALL_DOMAIN, { dir: sb.filters, instanceId: 'i-1', event: 'euca-nc-pre-boot', timeoutMs: 200, killGraceMs: 100 }),
    (e: unknown) => {
      assert.ok(e instanceof HookTimeoutError);
      assert.equal(e.kind, 'filter');
      assert.equal(e.hook, 'hang');
      assert.match(e.message, /XML filter hang timed out after 200 ms/);
      assert.deepEqual(e.details, ['stderr (last lines):', '  thinking']);
      return true;
    },
  );
});

test('output beyond maxOutputBytes is a failure, not a truncated document', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  await sb.script(sb.filters, 'huge', 'cat; head -c 5000 /dev/zero | tr "\\0" " "');
  await assert.rejects(
    runFilters(SMALL_DOMAIN, { dir: sb.filters, instanceId: 'i-1', event: 'euca-nc-pre-boot', maxOutputBytes: 4096 }),
    /XML filter huge printed more than 4096 bytes/,
  );
});

test('a filter that floods stderr leaves a bounded log; its stdout, the XML, is not affected', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  await sb.script(sb.filters, '10-noisy', 'yes noise | head -c 4000000 >&2; sed "s|<memory unit=\\"KiB\\">131072|<memory unit=\\"KiB\\">262144|"');
  const logged: HookLogEntry[] = [];
  const r = await runFilters(SMALL_DOMAIN, { dir: sb.filters, instanceId: 'i-1', event: 'euca-nc-pre-boot', log: (e) => logged.push(e) });
  assert.equal(r.xml, SMALL_DOMAIN.replace('131072', '262144'));
  // 666666 lines of "noise" and "nois" unterminated: 1000 lines logged from each end (6000 and 5998 bytes).
  assert.equal(logged.filter((e) => e.stream === 'stderr').length, 2000);
  assert.deepEqual(
    logged.filter((e) => /not logged/.test(e.text)).map((e) => [e.hook, e.stream, e.text]),
    [['10-noisy', 'info', '3988002 bytes of stderr not logged (the log keeps the first and the last 65536 bytes, 1000 lines, of each stream)']],
  );
  assert.equal(r.filters[0]!.stderr.length, 4000000, 'the result keeps its share as before');
});

test('a filter whose #! interpreter is missing fails naming the interpreter', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  await writeFile(join(sb.filters, '10-g'), '#!/no/such\n', { mode: 0o755 });
  await assert.rejects(
    runFilters(SMALL_DOMAIN, { dir: sb.filters, instanceId: 'i-1', event: 'euca-nc-pre-boot' }),
    /: XML filter 10-g could not be started: its interpreter \/no\/such \(from the #! line\) does not exist \(spawn \S+\/10-g ENOENT\); euca-nc-pre-boot cancelled/,
  );
});
