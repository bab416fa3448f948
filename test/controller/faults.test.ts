import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAUNCH_STEPS, NodeController, OperationError, RecordMissingError, type LaunchStep } from '../../engine/controller/index.js';
import { IoError, type DomforgeError } from '../../engine/errors.js';
import { closeConnections, connect, LibvirtError, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { parseInstance, readInstanceFile } from '../../engine/instance/index.js';
import { SAMPLES, XSL, sampleInstance, sandbox, shippedTransform, type Sandbox } from './fixtures.js';
import { testDomainXml } from '../libvirt/fixtures.js';

let conn: LibvirtConnection;
let sb: Sandbox;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
  sb = await sandbox();
  await sb.script(sb.hooks, '10-noop', 'exit 0'); // so that the filters and pre-boot steps run
});
test.after(async () => {
  await sb.cleanup();
  await closeConnections();
});

async function assertNothingLeft(id: string) {
  assert.equal(await conn.find(id), undefined, `no domain ${id} left defined`);
  assert.equal(existsSync(join(sb.instances, id)), false, `no folder ${id} left`);
}

for (const step of LAUNCH_STEPS) {
  test(`a fault at step '${step}' rolls the launch back and names the step`, async () => {
    const nc = await NodeController.open({
      instancesDir: sb.instances,
      connection: conn,
      transform: shippedTransform(),
      hooksDir: sb.hooks,
      onStep: (e) => {
        if (e.step === step) throw new IoError(`injected fault before ${step}`, { file: '/injected' });
      },
    });
    // 09 has a config drive, so every step but kvp runs; kvp runs for Hyper-V instances only.
    const inst = await sampleInstance(step === 'kvp' ? '13-hyperv-windows' : '09-q35-config-drive');
    const e = await nc.launch(inst).then(() => assert.fail('launched'), (err: unknown) => err as OperationError);
    assert.ok(e instanceof OperationError, String(e));
    assert.equal(e.step, step);
    assert.equal(e.code, 'IO_ERROR');
    assert.equal(e.file, '/injected');
    assert.match(e.message, new RegExp(`launch of ${inst.name} failed at step '${step}': injected fault`));
    assert.equal(e.rolledBack, true);
    const index = LAUNCH_STEPS.indexOf(step as LaunchStep);
    const expected = [
      ...(index > LAUNCH_STEPS.indexOf('start') ? ['destroy'] : []),
      ...(index > LAUNCH_STEPS.indexOf('define') ? ['undefine'] : []),
      ...(index > LAUNCH_STEPS.indexOf('create-folder') ? ['remove-folder'] : []),
    ];
    assert.deepEqual(e.rollback.map((a) => a.action), expected);
    await assertNothingLeft(inst.name);
  });
}

test('transform error: an xsl:message terminate cancels at render, with the stylesheet named', async () => {
  const xsl = join(sb.root, 'refuse.xsl');
  writeFileSync(
    xsl,
    `<?xml version="1.0"?>\n<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">\n  <xsl:template match="/instance">\n    <xsl:message terminate="yes">no such VM type here</xsl:message>\n  </xsl:template>\n</xsl:stylesheet>\n`,
  );
  const nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: xsl });
  const inst = await sampleInstance();
  const e = await nc.launch(inst).then(() => assert.fail('launched'), (err: unknown) => err as OperationError);
  assert.equal(e.step, 'render');
  assert.equal(e.code, 'TRANSFORM_MESSAGE');
  assert.match(e.message, /no such VM type here/);
  assert.ok(e.file?.endsWith('refuse.xsl'));
  await assertNothingLeft(inst.name);
});

test("errors in a launch's rendered output name the caller's instance, not the record the rollback removes", async () => {
  const shipped = readFileSync(XSL, 'utf8');
  // The schema refuses a memory unit libvirt does not know; a root other than <domain> is refused before it.
  const cases = [
    { name: 'unit.xsl', text: shipped.replace('<memory unit="KiB">', '<memory unit="bogus">'), code: 'DOMAIN_INVALID', line: true },
    { name: 'root.xsl', text: `<?xml version="1.0"?>\n<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">\n  <xsl:template match="/"><vm/></xsl:template>\n</xsl:stylesheet>\n`, code: 'DOMAIN_INVALID', line: false },
  ];
  for (const c of cases) {
    assert.notEqual(c.text, shipped, c.name);
    const xsl = join(sb.root, c.name);
    writeFileSync(xsl, c.text);
    const nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: xsl });
    // Built in code: no file to name, so the instance.
    const built = await sampleInstance();
    const e1 = await nc.launch(built).then(() => assert.fail('launched'), (err: unknown) => err as OperationError);
    assert.equal(e1.step, 'render', c.name);
    assert.equal(e1.code, c.code, c.name);
    assert.equal(e1.file, `${xsl} (output for instance ${built.name})`, c.name);
    assert.equal(e1.line !== undefined && e1.line > 1, c.line, `${c.name}: ${e1.message}`);
    await assertNothingLeft(built.name);
    // Read from a file: that file, which `domforge render --instance` renders to the same output.
    const copy = await sampleInstance();
    const file = join(sb.root, `${copy.name}.xml`);
    writeFileSync(file, readFileSync(join(SAMPLES, '01-linux-virtio', 'instance.xml'), 'utf8').replace(/<name>[^<]*<\/name>/, `<name>${copy.name}</name>`).replace(/<uuid>[^<]*<\/uuid>/, `<uuid>${copy.uuid}</uuid>`));
    const fromFile = await readInstanceFile(file);
    assert.equal(fromFile.name, copy.name);
    const e2 = await nc.launch(fromFile).then(() => assert.fail('launched'), (err: unknown) => err as OperationError);
    assert.equal(e2.file, `${xsl} (output for ${file})`, c.name);
    assert.ok(!e2.message.includes(sb.instances), e2.message);
    await assertNothingLeft(copy.name);
    await nc.close();
  }
});

test('define error from libvirt (a domain took our uuid meanwhile): LIBVIRT_ERROR at define, rolled back, the other domain untouched', async () => {
  const inst = await sampleInstance();
  const intruder = `intruder-${inst.name}`;
  const nc = await NodeController.open({
    instancesDir: sb.instances,
    connection: conn,
    transform: shippedTransform(),
    onStep: async (e) => {
      if (e.step !== 'define') return;
      const xml = readFileSync(join(sb.instances, inst.name, 'libvirt.xml'), 'utf8').replace(`<name>${inst.name}</name>`, `<name>${intruder}</name>`);
      await conn.define(xml);
    },
  });
  const e = await nc.launch(inst).then(() => assert.fail('launched'), (err: unknown) => err as OperationError);
  assert.equal(e.step, 'define');
  assert.equal(e.code, 'LIBVIRT_ERROR');
  assert.ok(e.cause instanceof LibvirtError);
  assert.match((e.cause as LibvirtError).libvirtMessage, /already (exists|defined)/);
  await assertNothingLeft(inst.name);
  assert.equal((await conn.lookup(intruder)).uuid, inst.uuid, 'the domain that was there first is not undefined by our rollback');
  await conn.undefine(intruder);
});

test('start error from libvirt (already running): LIBVIRT_ERROR at start; the rollback stops and undefines, no transient domain left', async () => {
  const inst = await sampleInstance();
  const nc = await NodeController.open({
    instancesDir: sb.instances,
    connection: conn,
    transform: shippedTransform(),
    onStep: async (e) => {
      if (e.step === 'start') await conn.start(inst.name);
    },
  });
  const e = await nc.launch(inst).then(() => assert.fail('launched'), (err: unknown) => err as OperationError);
  assert.equal(e.step, 'start');
  assert.equal(e.code, 'LIBVIRT_ERROR');
  assert.match(e.message, /libvirt start of domain/);
  assert.deepEqual(e.rollback.map((a) => a.action), ['undefine', 'remove-folder']);
  await assertNothingLeft(inst.name);
});

test('an undo that fails keeps the folder as the record, marked Teardown, and says so', async () => {
  const inst = await sampleInstance();
  const nc = await NodeController.open({
    instancesDir: sb.instances,
    connection: conn,
    transform: shippedTransform(),
    onStep: async (e) => {
      if (e.step !== 'record') return;
      // Someone removes the domain behind our back, then the record write fails: destroy and undefine cannot succeed.
      await conn.destroy(inst.name);
      await conn.undefine(inst.name);
      throw new IoError('injected fault before record');
    },
  });
  const e = await nc.launch(inst).then(() => assert.fail('launched'), (err: unknown) => err as OperationError);
  assert.equal(e.step, 'record');
  assert.equal(e.rolledBack, false);
  assert.deepEqual(e.rollback.map((a) => [a.action, a.ok]), [['destroy', false], ['undefine', false], ['mark-teardown', true]]);
  assert.ok(e.details.some((l) => /rollback incomplete: destroy failed/.test(l)));
  const record = parseInstance(readFileSync(join(sb.instances, inst.name, 'instance.xml'), 'utf8'));
  assert.deepEqual(record.states.find(([k]) => k === 'stateName'), ['stateName', 'Teardown']);
  const report = await nc.adopt();
  assert.deepEqual(report.incomplete.map((x) => [x.id, x.state]), [[inst.name, 'Teardown']]);
  assert.equal(report.adopted.length, 0);
  // terminate cleans up what is left.
  const t = await nc.terminate(inst.name);
  assert.equal(t.domain, 'absent');
  await assertNothingLeft(inst.name);
});

for (const [limitKiB, step] of [
  [1, 'write-instance'],
  [64, 'config-drive'],
] as const) {
  test(`a write failing for real (file size limit ${limitKiB} KiB, EFBIG) fails at '${step}' and leaves nothing`, async () => {
    const child = new URL('./disk-full-child.js', import.meta.url).pathname;
    const dir = join(sb.root, `full-${limitKiB}`);
    const out = execFileSync('bash', ['-c', `ulimit -f ${limitKiB}; exec "${process.execPath}" "${child}" "${dir}" 09-q35-config-drive`], { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    assert.equal(r.launched, undefined, out);
    assert.equal(r.error.step, step, r.error.message);
    assert.equal(r.error.code, 'IO_ERROR');
    assert.match(r.error.message, /EFBIG/);
    assert.equal(r.error.rolledBack, true);
    assert.deepEqual(r.domains, []);
    assert.equal(r.folder, false);
    assert.deepEqual(r.entries, []);
  });
}

test('a folder a crash left without instance.xml: adopt reports it incomplete, terminate removes it (no hooks, no domain touched), and the id launches again', async () => {
  const inst = await sampleInstance();
  const dir = join(sb.instances, inst.name);
  // What a kill between create-folder and write-instance leaves: the folder, perhaps a temporary file of the atomic write.
  mkdirSync(dir);
  writeFileSync(join(dir, `.instance.xml.${process.pid}.0123456789ab.tmp`), '<instance>');
  const trace = join(sb.root, 'no-record-hooks');
  await sb.script(sb.hooks, '20-trace', `echo "$1" >> ${trace}`);
  try {
    // The controller's own start events are not what this is about (the trace counts instance hooks).
    const nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), hooksDir: sb.hooks, initHooks: false });
    const report = await nc.adopt();
    assert.deepEqual(report.unreadable.map((x) => x.id), []);
    assert.deepEqual(
      report.incomplete.map((x) => [x.id, x.state, x.domain, x.reason]),
      [[inst.name, '', null, 'no instance.xml: a launch stopped before writing it, or a removal stopped half-way']],
    );
    const listed = (await nc.list()).find((x) => x.id === inst.name);
    assert.ok(listed?.error instanceof RecordMissingError);
    assert.match(listed.error.message, new RegExp(`the folder of ${inst.name} has no instance.xml`));
    await assert.rejects(nc.describe(inst.name), (e: DomforgeError) => e instanceof RecordMissingError && e.file === join(dir, 'instance.xml'));

    const t = await nc.terminate(inst.name);
    assert.deepEqual([t.record, t.domain, t.files], ['missing', 'absent', 'removed']);
    assert.equal(existsSync(dir), false);
    assert.equal(existsSync(trace), false, 'no hook ran for an instance that has no record');

    // The same with keep: the folder goes under .kept, named for why.
    mkdirSync(dir);
    const kept = await nc.terminate(inst.name, { keep: true });
    assert.equal(kept.record, 'missing');
    assert.ok(typeof kept.files === 'object' && /-no-record$/.test(kept.files.kept) && existsSync(kept.files.kept));
    assert.equal(existsSync(dir), false);

    await nc.launch(inst);
    assert.equal((await nc.terminate(inst.name)).record, 'found');
    await assertNothingLeft(inst.name);
  } finally {
    rmSync(join(sb.hooks, '20-trace'));
  }
});

test('a folder without instance.xml whose name libvirt has as a domain is refused by terminate: the domain and the folder are left alone', async () => {
  const inst = await sampleInstance();
  const dir = join(sb.instances, inst.name);
  mkdirSync(dir);
  const other = await conn.define(testDomainXml(inst.name).xml);
  try {
    const nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform() });
    const report = await nc.adopt();
    assert.deepEqual(report.incomplete.map((x) => [x.id, x.domain?.uuid]), [[inst.name, other.uuid]]);
    const e = await nc.terminate(inst.name).then(() => assert.fail('terminated'), (err: unknown) => err as OperationError);
    assert.equal(e.code, 'STATE_CONFLICT');
    assert.equal(e.step, 'destroy');
    assert.equal(e.file, join(dir, 'instance.xml'));
    assert.match(e.message, new RegExp(`has no instance.xml but libvirt has a domain ${inst.name} \\(uuid ${other.uuid}\\).*not touching it`));
    assert.equal((await conn.find(inst.name))?.uuid, other.uuid, 'the domain is untouched');
    assert.ok(existsSync(dir), 'the folder is left');
  } finally {
    await conn.undefine(other.uuid);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a folder removal that fails half-way keeps instance.xml, so terminate can be run again', async (t) => {
  const inst = await sampleInstance();
  const nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform() });
  const r = await nc.launch(inst);
  const stuck = join(r.dir, 'libvirt.xml');
  // An immutable file cannot be unlinked, even by root: the removal fails part-way.
  try {
    execFileSync('chattr', ['+i', stuck], { stdio: 'pipe' });
  } catch (e) {
    await nc.terminate(inst.name);
    return t.skip(`needs chattr +i (root, and a file system that supports it): ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    const e = await nc.terminate(inst.name).then(() => assert.fail('terminated'), (err: unknown) => err as OperationError);
    assert.equal(e.step, 'remove-files');
    assert.equal(e.code, 'IO_ERROR');
    assert.ok(existsSync(join(r.dir, 'instance.xml')), 'the record is removed last, so it is still there');
  } finally {
    execFileSync('chattr', ['-i', stuck]);
  }
  const again = await nc.terminate(inst.name);
  assert.deepEqual([again.record, again.domain, again.files], ['found', 'absent', 'removed']);
  await assertNothingLeft(inst.name);
});
