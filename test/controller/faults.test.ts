import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAUNCH_STEPS, NodeController, OperationError, type LaunchStep } from '../../engine/controller/index.js';
import { IoError } from '../../engine/errors.js';
import { closeConnections, connect, LibvirtError, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { parseInstance } from '../../engine/instance/index.js';
import { sampleInstance, sandbox, shippedTransform, type Sandbox } from './fixtures.js';

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
