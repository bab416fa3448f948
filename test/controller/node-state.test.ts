import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeController, isInstanceId } from '../../engine/controller/index.js';
import { DomforgeError } from '../../engine/errors.js';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { lifecycleCli } from './cli-program.js';
import { sampleInstance, sandbox, shippedTransform, XSL, type Sandbox } from './fixtures.js';

let conn: LibvirtConnection;
let sb: Sandbox;
let nc: NodeController;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
  sb = await sandbox();
  nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform() });
});
test.after(async () => {
  await sb.cleanup();
  await closeConnections();
});

const stateFile = () => join(sb.instances, 'nc_state.xml');

async function refused(p: Promise<unknown>, code: string, pattern: RegExp): Promise<DomforgeError> {
  const e = await p.then(
    () => assert.fail('expected a refusal'),
    (err: unknown) => err as DomforgeError,
  );
  assert.ok(e instanceof DomforgeError, String(e));
  assert.equal(e.code, code, e.message);
  assert.match(e.message, pattern);
  return e;
}

test('a disabled node refuses launch and start, for every controller on the folder; what runs can still stop, reboot and terminate; enabled again, it launches', async () => {
  assert.deepEqual(await nc.nodeState(), { enabled: true, file: stateFile(), recorded: false });
  assert.equal((await nc.describeResource()).nodeStatus, 'enabled');
  const running = await sampleInstance('10-no-nic');
  await nc.launch(running);
  const stopped = await sampleInstance('10-no-nic');
  await nc.launch(stopped);
  await nc.stop(stopped.name);

  const w = await nc.modifyNode('disabled');
  assert.deepEqual([w.enabled, w.file, w.createdFolder], [false, stateFile(), false]);
  assert.match(readFileSync(stateFile(), 'utf8'), /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<nc>\n {2}<version>domforge \d+\.\d+\.\d+<\/version>\n {2}<enabled>false<\/enabled>\n<\/nc>\n$/);
  assert.equal((await nc.describeResource()).nodeStatus, 'disabled');
  assert.equal((await nc.list()).length, 2, 'nc_state.xml is not an instance');

  // Another controller process on the same folder reads the file at each launch.
  const other = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform() });
  const inst = await sampleInstance('10-no-nic');
  const e = await refused(other.launch(inst), 'STATE_CONFLICT', /failed at step 'check': the node is disabled: no launch until it is enabled again/);
  assert.equal(e.file, stateFile());
  assert.equal(e.path, '/nc/enabled');
  assert.equal(existsSync(join(sb.instances, inst.name)), false, 'no folder');
  assert.equal(await conn.find(inst.name), undefined, 'no domain');
  await refused(nc.start(stopped.name), 'STATE_CONFLICT', /the node is disabled: no start/);
  assert.equal(await conn.getState(stopped.name), 'shutoff');
  // A start that died after libvirt started the domain runs nothing new: it finishes on a disabled node.
  const runningRecord = join(sb.instances, running.name, 'instance.xml');
  writeFileSync(runningRecord, readFileSync(runningRecord, 'utf8').replace('</states>', '  <isStopRequested>true</isStopRequested>\n  </states>'));
  assert.equal((await nc.start(running.name)).wasRunning, true);

  assert.equal((await nc.reboot(running.name)).state, 'running');
  assert.equal((await nc.stop(running.name, { graceMs: 0 })).outcome, 'destroyed');
  assert.equal((await nc.terminate(running.name)).files, 'removed');

  assert.equal((await nc.modifyNode('enabled')).enabled, true);
  assert.equal((await other.launch(inst)).domain.state, 'running');
  assert.equal((await nc.start(stopped.name)).domain.state, 'running');
  await nc.terminate(inst.name);
  await nc.terminate(stopped.name);
  assert.deepEqual(readdirSync(sb.instances).filter((n) => !n.startsWith('.')), ['nc_state.xml']);
});

test("a state file that cannot be read refuses launches at its line; Eucalyptus's 1/0 and other writers' files are read", async () => {
  const inst = await sampleInstance('10-no-nic');
  try {
    writeFileSync(stateFile(), '<nc>\n  <enabled>maybe</enabled>\n</nc>\n');
    let e = await refused(nc.launch(inst), 'NODE_STATE_INVALID', /<enabled> must be true or false, got "maybe"/);
    assert.deepEqual([e.file, e.line, e.path], [stateFile(), 2, '/nc/enabled']);
    writeFileSync(stateFile(), '<nc>\n  <enabled>true</enabled>\n');
    e = await refused(nc.nodeState(), 'XML_SYNTAX', /./);
    assert.equal(e.file, stateFile());
    writeFileSync(stateFile(), '<node><enabled>true</enabled></node>');
    await refused(nc.nodeState(), 'NODE_STATE_INVALID', /the root element must be <nc>, not <node>/);
    // Two <enabled> (or <version>): refused at the second, as a record's repeated field is, not one read and the other ignored.
    writeFileSync(stateFile(), '<nc>\n  <enabled>0</enabled>\n  <enabled>1</enabled>\n</nc>\n');
    e = await refused(nc.launch(inst), 'NODE_STATE_INVALID', /<enabled> is given twice \(first at line 2\)/);
    assert.deepEqual([e.file, e.line, e.column, e.path], [stateFile(), 3, 3, '/nc/enabled[2]']);
    writeFileSync(stateFile(), '<nc>\n  <version>a</version>\n  <version>b</version>\n  <enabled>1</enabled>\n</nc>\n');
    e = await refused(nc.nodeState(), 'NODE_STATE_INVALID', /<version> is given twice \(first at line 2\)/);
    assert.deepEqual([e.line, e.path], [3, '/nc/version[2]']);
    writeFileSync(stateFile(), '<nc><version>4.4</version></nc>');
    await refused(nc.describeResource(), 'NODE_STATE_INVALID', /no <enabled> element/);
    assert.equal(existsSync(join(sb.instances, inst.name)), false);

    writeFileSync(stateFile(), '<nc><version>eucalyptus 4.4.5</version><enabled> 0 </enabled></nc>');
    assert.deepEqual(await nc.nodeState(), { enabled: false, file: stateFile(), recorded: true, version: 'eucalyptus 4.4.5' });
    writeFileSync(stateFile(), '<nc><enabled>TRUE</enabled></nc>');
    assert.equal((await nc.nodeState()).enabled, true);
    await assert.rejects(nc.modifyNode('off' as never), (x: DomforgeError) => x.code === 'USAGE' && /enabled` or `disabled/.test(x.message));
  } finally {
    await nc.modifyNode('enabled');
  }
});

test('CLI: node [status|enable|disable]; describe-resource shows the status; the instances folder is made for the state, and said so', async () => {
  const instances = join(sb.root, 'fresh-instances');
  const cli = (...args: string[]) => lifecycleCli(args, ['--instances', instances, '--uri', 'test:///default', '--transform', XSL]);
  const file = join(instances, 'nc_state.xml');

  const s = await cli('node');
  assert.equal(s.code, 0, s.stderr);
  assert.equal(s.stdout, `node enabled (no ${file}: enabled by default)\n`);
  assert.equal(existsSync(instances), false, 'status creates nothing');

  const d = await cli('node', 'disable');
  assert.equal(d.code, 0, d.stderr);
  assert.equal(d.stdout, `node disabled: launch and start are refused until \`domforge node enable\` (${file})\n`);
  assert.equal(d.stderr, `domforge: note: created the instances folder ${instances} to hold the node's state\n`);
  const st = await cli('node', 'status', '--json');
  assert.equal(JSON.parse(st.stdout).enabled, false);
  assert.match((await cli('node')).stdout, /^node disabled: launch and start are refused \(recorded in .* by domforge \d/);
  assert.match((await cli('describe-resource')).stdout, /^node: disabled \(launch and start are refused: domforge node enable\)\n/);

  const inst = await sampleInstance('10-no-nic');
  const instanceFile = join(sb.root, `${inst.name}.xml`);
  const { emitInstance } = await import('../../engine/instance/emit.js');
  writeFileSync(instanceFile, emitInstance(inst));
  const l = await cli('launch', '--instance', instanceFile);
  assert.equal(l.code, 1);
  assert.match(l.stderr, /nc_state\.xml: launch of i-\w+ failed at step 'check': the node is disabled/);

  const bad = await cli('node', 'off');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Expected the action to be status, enable or disable, got "off"/);
  const e = await cli('node', 'enable');
  assert.equal(e.stdout, `node enabled (${file})\n`);
  assert.equal(e.stderr, '');
  assert.match((await cli('resources')).stdout, /^node: enabled\n/);
});

test("an instance id that is the name of the instances folder's own file (nc_state.xml, controller.log) is refused before anything is written; the node's state stays readable", async () => {
  await nc.modifyNode('disabled');
  await nc.modifyNode('enabled');
  const state = readFileSync(stateFile(), 'utf8');
  const entries = readdirSync(sb.instances).sort();
  for (const [name, what] of [['nc_state.xml', "the node's state file"], ['controller.log', "the controller's log"]] as const) {
    const why = `${name.replace('.', '\\.')} is the name of ${what}, which domforge keeps in the instances folder`;
    const e = await refused(nc.launch(await sampleInstance('10-no-nic', name)), 'INSTANCE_INVALID', new RegExp(`^the instance name "${name.replace('.', '\\.')}" cannot name an instance folder: ${why}`));
    assert.equal(e.path, '/instance/name');
    for (const op of [nc.terminate(name), nc.describe(name), nc.stop(name)]) await refused(op, 'USAGE', new RegExp(`^Expected an instance id, got \`${name.replace('.', '\\.')}\`: ${why}`));
    assert.equal(isInstanceId(name), false);
  }
  assert.deepEqual(readdirSync(sb.instances).sort(), entries, 'nothing written');
  assert.equal(readFileSync(stateFile(), 'utf8'), state);
  assert.equal((await nc.nodeState()).enabled, true);

  // From a file, the refusal names the file and the line of <name>.
  const inst = await sampleInstance('10-no-nic', 'nc_state.xml');
  const file = join(sb.root, 'reserved-name.xml');
  const { emitInstance } = await import('../../engine/instance/emit.js');
  writeFileSync(file, emitInstance(inst));
  const line = emitInstance(inst).split('\n').findIndex((l) => l.includes('<name>nc_state.xml</name>')) + 1;
  const cli = await lifecycleCli(['launch', '--instance', file], ['--instances', sb.instances, '--uri', 'test:///default', '--transform', XSL]);
  assert.equal(cli.code, 1);
  assert.match(cli.stderr, new RegExp(`^domforge: ${file}:${line}:\\d+: the instance name "nc_state\\.xml" cannot name an instance folder`));
  assert.deepEqual(readdirSync(sb.instances).sort(), entries, 'nothing written');
  assert.equal(readFileSync(stateFile(), 'utf8'), state);
});
