import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { NodeController, OperationError } from '../../engine/controller/index.js';
import { HookFailedError, HookTimeoutError } from '../../engine/hooks/index.js';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { parseXml } from '../../engine/xml/parse.js';
import type { DomforgeError } from '../../engine/errors.js';
import { filterRefusal, sampleInstance, sandbox, shippedTransform, XSL, type Sandbox, instancesFolderEntries } from './fixtures.js';

let conn: LibvirtConnection;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
});
test.after(() => closeConnections());

/** A fresh sandbox and controller per test: each test's hooks are its own. */
async function setup(options: { hookTimeoutMs?: number; hookLogBytes?: number; hookLogLines?: number } = {}): Promise<{ sb: Sandbox; nc: NodeController; done: () => Promise<void> }> {
  const sb = await sandbox();
  const nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), hooksDir: sb.hooks, ...options });
  return { sb, nc, done: () => sb.cleanup() };
}

async function assertNothingLeft(sb: Sandbox, id: string) {
  assert.equal(await conn.find(id), undefined, 'no domain left defined');
  assert.equal(existsSync(join(sb.instances, id)), false, 'no instance folder left');
}

test('pre-boot hooks get HOOK EVENT HOME FOLDER and the DOMFORGE_* environment, in sorted order, logged in instance.log', async () => {
  const { sb, nc, done } = await setup();
  const trace = join(sb.root, 'trace');
  for (const name of ['20-b', '10-a', '9-c']) {
    await sb.script(sb.hooks, name, `echo "${name} $1 $2 $3|$DOMFORGE_EVENT|$DOMFORGE_INSTANCE_ID|$DOMFORGE_INSTANCE_DIR|$DOMFORGE_LIBVIRT_XML|$DOMFORGE_URI" >> ${trace}\necho "hello from ${name}"\necho "warning from ${name}" >&2`);
  }
  const inst = await sampleInstance();
  const dir = join(sb.instances, inst.name);
  await nc.launch(inst);
  const lines = readFileSync(trace, 'utf8').trim().split('\n');
  const home = sb.root; // the instances folder's parent
  const tail = `|euca-nc-pre-boot|${inst.name}|${dir}|${join(dir, 'libvirt.xml')}|test:///default`;
  assert.deepEqual(lines, [
    `10-a euca-nc-pre-boot ${home} ${dir}${tail}`,
    `20-b euca-nc-pre-boot ${home} ${dir}${tail}`,
    `9-c euca-nc-pre-boot ${home} ${dir}${tail}`,
  ]);
  const log = readFileSync(join(dir, 'instance.log'), 'utf8');
  assert.match(log, /euca-nc-pre-boot hook 10-a\[stdout\]: hello from 10-a/);
  assert.match(log, /euca-nc-pre-boot hook 9-c\[stderr\]: warning from 9-c/);
  assert.match(log, /launch domforge\[info\]: step define: ok/);
  await nc.terminate(inst.name);
  await done();
});

test('a pre-boot hook that exits 3 cancels the launch: HOOK_FAILED naming it, its stderr, no domain, no folder', async () => {
  const { sb, nc, done } = await setup();
  await sb.script(sb.hooks, '10-ok', 'exit 0');
  await sb.script(sb.hooks, '20-deny', 'echo "no capacity for this instance" >&2\nexit 3');
  await sb.script(sb.hooks, '30-never', `touch ${join(sb.root, 'ran-30')}`);
  const inst = await sampleInstance();
  const e = await nc.launch(inst).then(() => assert.fail('launched'), (err: unknown) => err as OperationError);
  assert.ok(e instanceof OperationError);
  assert.equal(e.code, 'HOOK_FAILED');
  assert.equal(e.step, 'pre-boot');
  assert.ok(e.cause instanceof HookFailedError);
  assert.equal((e.cause as HookFailedError).hook, '20-deny');
  assert.equal((e.cause as HookFailedError).exitCode, 3);
  assert.match(e.message, /launch of i-\w+ failed at step 'pre-boot': euca-nc-pre-boot hook 20-deny exited with code 3/);
  assert.ok(e.details.some((l) => l.includes('no capacity for this instance')));
  assert.equal(e.rolledBack, true);
  assert.deepEqual(e.rollback.map((a) => a.action), ['remove-folder']);
  assert.equal(existsSync(join(sb.root, 'ran-30')), false, 'the chain stopped');
  await assertNothingLeft(sb, inst.name);
  await done();
});

test('a pre-boot hook that sleeps forever is killed at the timeout and the launch is cancelled', async () => {
  const { sb, nc, done } = await setup({ hookTimeoutMs: 300 });
  await sb.script(sb.hooks, '10-hang', 'sleep 1000');
  const inst = await sampleInstance();
  const started = Date.now();
  await assert.rejects(nc.launch(inst), (e: OperationError) => e.code === 'HOOK_TIMEOUT' && e.step === 'pre-boot' && e.cause instanceof HookTimeoutError);
  assert.ok(Date.now() - started < 10_000, 'not waiting for the sleep');
  await assertNothingLeft(sb, inst.name);
  await done();
});

test('a pre-boot hook that edits libvirt.xml has its change in the defined domain', async () => {
  const { sb, nc, done } = await setup();
  // Give the domain a third vCPU, with sed.
  await sb.script(sb.hooks, '10-vcpus', 'sed -i "s|<vcpu placement=\\"static\\">2</vcpu>|<vcpu placement=\\"static\\">3</vcpu>|" "$DOMFORGE_LIBVIRT_XML"');
  const inst = await sampleInstance();
  const r = await nc.launch(inst);
  assert.match(r.libvirtXml, /<vcpu placement="static">3<\/vcpu>/);
  assert.match(r.diff, /^-\s*<vcpu placement="static">2<\/vcpu>$/m);
  assert.equal((await conn.getInfo(inst.name)).vcpus, 3, 'libvirt has the edited domain');
  assert.match(readFileSync(join(r.dir, 'instance.log'), 'utf8'), /pre-boot hooks edited libvirt.xml/);
  await nc.terminate(inst.name);
  await done();
});

test('the shipped 10-memballoon example hook adds a virtio balloon to the running domain', async () => {
  const { sb, nc, done } = await setup();
  const { copyFileSync } = await import('node:fs');
  copyFileSync(new URL('../../../hooks/10-memballoon', import.meta.url), join(sb.hooks, '10-memballoon'));
  const { chmodSync } = await import('node:fs');
  chmodSync(join(sb.hooks, '10-memballoon'), 0o755);
  const inst = await sampleInstance('02-linux-legacy-ide');
  await nc.launch(inst);
  const balloons = parseXml(await conn.getXML(inst.name)).getElementsByTagName('memballoon');
  assert.equal(balloons.length, 1);
  assert.equal(balloons[0].getAttribute('model'), 'virtio');
  await nc.terminate(inst.name);
  await done();
});

test('a hook that corrupts libvirt.xml cancels with a validation error naming the file; libvirt never sees it', async () => {
  const { sb, nc, done } = await setup();
  await sb.script(sb.hooks, '10-break', 'sed -i "s|<memory unit=\\"KiB\\">|<memory unit=\\"parsecs\\">|" "$DOMFORGE_LIBVIRT_XML"');
  const inst = await sampleInstance();
  const e = await nc.launch(inst).then(() => assert.fail('launched'), (err: unknown) => err as OperationError);
  assert.equal(e.code, 'DOMAIN_INVALID');
  assert.equal(e.step, 'pre-boot');
  assert.equal(e.file, join(sb.instances, inst.name, 'libvirt.xml'));
  assert.ok(typeof e.line === 'number');
  await assertNothingLeft(sb, inst.name);

  await sb.script(sb.hooks, '10-break', 'printf "<domain><name>" > "$DOMFORGE_LIBVIRT_XML"');
  await assert.rejects(nc.launch(inst), (err: OperationError) => (err.code === 'XML_SYNTAX' || err.code === 'DOMAIN_INVALID') && err.step === 'pre-boot');
  await assertNothingLeft(sb, inst.name);

  // A hook may not rename the domain: terminate and adopt find it by the instance id.
  await sb.script(sb.hooks, '10-break', 'sed -i "s|<name>[^<]*</name>|<name>someone-else</name>|" "$DOMFORGE_LIBVIRT_XML"');
  await assert.rejects(nc.launch(inst), (err: OperationError) => err.code === 'DOMAIN_INVALID' && err.path === '/domain/name');
  assert.equal(await conn.find('someone-else'), undefined);
  await assertNothingLeft(sb, inst.name);
  await done();
});

test('XML filters: their change reaches libvirt and the diff is logged; a failing one cancels; a fail-open one is skipped', async () => {
  const { sb, nc, done } = await setup();
  await sb.script(sb.filters, '10-desc', 'sed "s|<description>[^<]*</description>|<description>filtered $1 $2</description>|"');
  const inst = await sampleInstance();
  const r = await nc.launch(inst);
  assert.match(await conn.getXML(inst.name), new RegExp(`<description>filtered ${inst.name} euca-nc-pre-boot</description>`));
  assert.match(readFileSync(join(r.dir, 'instance.log'), 'utf8'), /filter filters.d\[info\]: \+\s*<description>filtered/);
  await nc.terminate(inst.name);

  await sb.script(sb.filters, '20-bad.fail-open', 'echo "not xml"');
  const r2 = await nc.launch(inst);
  assert.equal(r2.warnings.filter((w) => /20-bad.fail-open/.test(w)).length, 1);
  await nc.terminate(inst.name);

  await sb.script(sb.filters, '30-fails', 'echo "filter refused" >&2; exit 1');
  await assert.rejects(nc.launch(inst), (e: OperationError) => e.code === 'HOOK_FAILED' && e.step === 'filters' && e.details.some((l) => l.includes('filter refused')));
  await assertNothingLeft(sb, inst.name);
  await done();
});

test('a failing pre-clean hook still terminates the domain but keeps the files', async () => {
  const { sb, nc, done } = await setup();
  const inst = await sampleInstance();
  await nc.launch(inst);
  await sb.script(sb.hooks, '10-keep', 'test "$1" = euca-nc-pre-clean && { echo "forensics first" >&2; exit 1; }\nexit 0');
  const t = await nc.terminate(inst.name);
  assert.equal(t.domain, 'destroyed');
  assert.equal(t.preCleanFailure?.hook, '10-keep');
  assert.ok(typeof t.files === 'object' && /pre-clean-failed$/.test(t.files.kept));
  assert.ok(existsSync(join((t.files as { kept: string }).kept, 'instance.xml')));
  const log = readFileSync(join((t.files as { kept: string }).kept, 'instance.log'), 'utf8');
  assert.match(log, /forensics first/);
  // The failure is logged once, saying once what it keeps.
  const failure = log.split('\n').filter((l) => l.includes('10-keep') && /kept/.test(l));
  assert.equal(failure.length, 1, log);
  assert.equal(failure[0].match(/kept/g)?.length, 1, failure[0]);
  await assertNothingLeft(sb, inst.name);
  assert.deepEqual(instancesFolderEntries(sb.instances), ['.kept']);
  await done();
});

test('a transform, filter or pre-boot hook that drops <uuid> is refused like one that changes it: libvirt never makes up a uuid terminate would not recognise', async () => {
  const { sb, nc, done } = await setup();
  const inst = await sampleInstance();

  await sb.script(sb.hooks, '10-drop-uuid', 'sed -i "/<uuid>/d" "$DOMFORGE_LIBVIRT_XML"');
  const e = await nc.launch(inst).then(() => assert.fail('launched'), (err: unknown) => err as OperationError);
  assert.equal(e.code, 'DOMAIN_INVALID');
  assert.equal(e.step, 'pre-boot');
  assert.equal(e.path, '/domain/uuid');
  assert.equal(e.file, join(sb.instances, inst.name, 'libvirt.xml'));
  assert.equal(typeof e.line, 'number');
  assert.match(e.message, new RegExp(`no <uuid>; it must keep the instance's, ${inst.uuid}`));
  await assertNothingLeft(sb, inst.name);
  rmSync(join(sb.hooks, '10-drop-uuid'));

  await sb.script(sb.filters, '10-drop-uuid', 'sed "/<uuid>/d"');
  const f = await nc.launch(inst).then(() => assert.fail('launched'), (err: unknown) => err as OperationError);
  assert.match(f.message, /XML filter 10-drop-uuid printed invalid XML: .*no <uuid>/);
  filterRefusal(f, '10-drop-uuid', '/domain/uuid');
  await assertNothingLeft(sb, inst.name);
  rmSync(join(sb.filters, '10-drop-uuid'));

  // The shipped stylesheet with its <uuid> lines taken out.
  const xsl = join(sb.root, 'no-uuid.xsl');
  writeFileSync(xsl, readFileSync(XSL, 'utf8').replace(/^.*<uuid>.*\n/gm, ''));
  const bare = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: xsl });
  const t = await bare.launch(inst).then(() => assert.fail('launched'), (err: unknown) => err as OperationError);
  assert.equal(t.code, 'DOMAIN_INVALID');
  assert.equal(t.step, 'render');
  assert.equal(t.path, '/domain/uuid');
  assert.ok(t.file?.startsWith(xsl));
  await assertNothingLeft(sb, inst.name);

  // Still launchable, and terminable, with the uuid kept.
  await nc.launch(inst);
  assert.equal((await nc.terminate(inst.name)).domain, 'destroyed');
  await assertNothingLeft(sb, inst.name);
  await done();
});

test('a pre-clean hook that removes the instance folder, then fails: terminate still succeeds, reports the files gone, and leaves no empty .kept', async () => {
  const { sb, nc, done } = await setup();
  const inst = await sampleInstance();
  await nc.launch(inst);
  await sb.script(sb.hooks, '10-rm', 'test "$1" = euca-nc-pre-clean || exit 0\nrm -rf "$DOMFORGE_INSTANCE_DIR"\necho "removed it myself" >&2\nexit 1');
  const t = await nc.terminate(inst.name);
  assert.equal(t.domain, 'destroyed');
  assert.equal(t.files, 'gone');
  assert.equal(t.preCleanFailure?.hook, '10-rm');
  await assertNothingLeft(sb, inst.name);
  assert.deepEqual(instancesFolderEntries(sb.instances), []);

  // The same with --keep and a hook that succeeds.
  await nc.launch(inst);
  await sb.script(sb.hooks, '10-rm', 'test "$1" = euca-nc-pre-clean || exit 0\nrm -rf "$DOMFORGE_INSTANCE_DIR"');
  const k = await nc.terminate(inst.name, { keep: true });
  assert.deepEqual([k.domain, k.files, k.preCleanFailure], ['destroyed', 'gone', undefined]);
  assert.deepEqual(instancesFolderEntries(sb.instances), []);
  await done();
});

test('a pre-boot hook that removes instance.xml fails the launch at pre-boot, saying so; nothing is left', async () => {
  const { sb, nc, done } = await setup();
  await sb.script(sb.hooks, '10-rm-record', 'rm "$DOMFORGE_INSTANCE_DIR/instance.xml"');
  const inst = await sampleInstance();
  const e = await nc.launch(inst).then(() => assert.fail('launched'), (err: unknown) => err as OperationError);
  assert.equal(e.step, 'pre-boot');
  assert.equal(e.code, 'IO_ERROR');
  assert.equal(e.file, join(sb.instances, inst.name, 'instance.xml'));
  assert.match(e.message, /failed at step 'pre-boot': the pre-boot hooks removed instance.xml, the instance's record/);
  assert.equal(e.rolledBack, true);
  await assertNothingLeft(sb, inst.name);

  await sb.script(sb.hooks, '10-rm-record', 'rm -rf "$DOMFORGE_INSTANCE_DIR"');
  const f = await nc.launch(inst).then(() => assert.fail('launched'), (err: unknown) => err as OperationError);
  assert.equal(f.step, 'pre-boot');
  assert.match(f.message, /the pre-boot hooks removed the instance folder/);
  assert.equal(f.rolledBack, true);
  await assertNothingLeft(sb, inst.name);
  await done();
});

test('hookLogBytes and hookLogLines set what the instance log keeps of each hook stream', async () => {
  const { sb, nc, done } = await setup({ hookLogBytes: 200, hookLogLines: 1000 });
  try {
    await sb.script(sb.hooks, '10-chatty', 'test "$1" = euca-nc-pre-boot || exit 0\ni=0; while [ $i -lt 500 ]; do echo "line $i of chatter"; i=$((i+1)); done');
    const inst = await sampleInstance();
    await nc.launch(inst);
    const log = readFileSync(join(sb.instances, inst.name, 'instance.log'), 'utf8');
    assert.match(log, /line 0 of chatter/);
    assert.match(log, /line 499 of chatter/);
    assert.doesNotMatch(log, /line 250 of chatter/);
    assert.match(log, /\d+ bytes of stdout not logged/);
    await nc.terminate(inst.name);
    await assert.rejects(NodeController.open({ instancesDir: sb.instances, connection: conn, hookLogBytes: 0 }), /Expected `hookLogBytes` to be a positive integer, got `0`/);
  } finally {
    await done();
  }
});

test('a hook that puts a FIFO in place of libvirt.xml cancels the launch at once, naming it, rather than hanging the controller on the read back', { timeout: 20_000 }, async () => {
  const { sb, nc, done } = await setup();
  await sb.script(sb.hooks, '10-fifo', 'rm -f "$DOMFORGE_LIBVIRT_XML" && mkfifo "$DOMFORGE_LIBVIRT_XML"');
  const inst = await sampleInstance();
  const e = await nc.launch(inst).then(() => assert.fail('launched'), (err: unknown) => err as OperationError);
  assert.equal(e.code, 'IO_ERROR');
  assert.equal(e.step, 'pre-boot');
  assert.equal(e.file, join(sb.instances, inst.name, 'libvirt.xml'));
  assert.match(e.message, /a FIFO, not a regular file/);
  await assertNothingLeft(sb, inst.name);
  await done();
});

test('a FIFO in place of instance.xml, or of an eni- stub in the folder, is refused at once by describe and terminate, never waited on', { timeout: 20_000 }, async () => {
  const { sb, nc, done } = await setup();
  const inst = await sampleInstance();
  const r = await nc.launch(inst);
  // An eni- stub that is a FIFO: describe reads the stubs of the folder, and skips what is not a file.
  spawnSync('mkfifo', [join(r.dir, 'eni-0f0f0f0f.xml')]);
  assert.equal((await nc.describe(inst.name)).interfaces.length, 1);
  const record = join(r.dir, 'instance.xml');
  const kept = readFileSync(record);
  rmSync(record);
  spawnSync('mkfifo', [record]);
  for (const call of [() => nc.describe(inst.name), () => nc.terminate(inst.name)]) {
    await assert.rejects(call(), (err: DomforgeError) => err.code === 'IO_ERROR' && err.file === record && /a FIFO, not a regular file/.test(err.message));
  }
  rmSync(record);
  writeFileSync(record, kept);
  await nc.terminate(inst.name);
  await assertNothingLeft(sb, inst.name);
  await done();
});

test('a filter or pre-boot hook that drops an attached volume or a NIC is refused and the launch rolled back: the guest never boots without them', async () => {
  const { sb, nc, done } = await setup();
  const inst = await sampleInstance('07-several-volumes');

  await sb.script(sb.filters, '10-drop-volume', `python3 -c 'import sys,re; sys.stdout.write(re.sub(r"<disk type=\\"block\\"(?:(?!</disk>).)*vol-0e000003(?:(?!</disk>).)*</disk>", "", sys.stdin.read(), flags=re.S))'`);
  const f = await nc.launch(inst).then(() => assert.fail('launched'), (err: unknown) => err as OperationError);
  const why = filterRefusal(f, '10-drop-volume', '/domain/devices');
  // An Instance copied in code (a fresh id) has no file of its own to name.
  assert.match(why.message, /no <disk> for volume vol-0e000003, attached: no <disk> has target dev "vdd" \(its <libvirt> disk's\)/);
  await assertNothingLeft(sb, inst.name);
  rmSync(join(sb.filters, '10-drop-volume'));

  await sb.script(sb.hooks, '10-drop-nic', 'test "$1" = euca-nc-pre-boot || exit 0\nsed -i "/<interface /,/<\\/interface>/d" "$DOMFORGE_LIBVIRT_XML"');
  const h = await nc.launch(inst).then(() => assert.fail('launched'), (err: unknown) => err as OperationError);
  assert.equal(h.code, 'DOMAIN_INVALID');
  assert.equal(h.step, 'pre-boot');
  assert.equal(h.file, join(sb.instances, inst.name, 'libvirt.xml'));
  assert.match(h.message, /no <interface> with MAC address d0:0d:5a:3e:00:07, the instance's NIC/);
  await assertNothingLeft(sb, inst.name);
  rmSync(join(sb.hooks, '10-drop-nic'));

  // Untouched, it launches with its three volumes.
  await nc.launch(inst);
  assert.equal(parseXml(await conn.getXML(inst.name)).getElementsByTagName('disk').length, 5);
  await nc.terminate(inst.name);
  await done();
});
