/**
 * Issue 7, the launch path of Hyper-V instances: no config drive; the KVP items
 * (kvp-items.xml, the DataItems of AddKvpItems) and the guest's pool 0 (kvp_pool_0) are
 * written into the instance folder. On test:///default, whose driver accepts type="hyperv".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeController, OperationError } from '../../engine/controller/index.js';
import { decodePool, parseKvpItem, reassemble, toMap } from '../../engine/kvp/index.js';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { childElements, firstChild, parseXml } from '../../engine/xml/parse.js';
import { runLifecycleCli } from './cli-program.js';
import { SAMPLES, XSL, launchFailure as failedLaunch, sampleFileUnderFreshId, sampleInstance, sandbox, shippedTransform, type Sandbox } from './fixtures.js';
import { readInstanceFile } from '../../engine/instance/index.js';
import { jsonOfInstance } from '../instance/json-fixture.js';

let conn: LibvirtConnection;
let sb: Sandbox;
let nc: NodeController;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
  sb = await sandbox();
  await sb.script(sb.hooks, '10-list', 'test "$1" = euca-nc-pre-boot && ls "$3" > "$3/pre-boot-listing"\nexit 0');
  nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), hooksDir: sb.hooks });
});
test.after(async () => {
  await sb.cleanup();
  await closeConnections();
});

/** The items of kvp-items.xml, read back the way Hyper-V's AddKvpItems reads its DataItems strings. */
function itemsOf(file: string) {
  const root = parseXml(readFileSync(file, 'utf8')).documentElement!;
  assert.equal(root.nodeName, 'PARAMVALUE');
  assert.equal(root.getAttribute('NAME'), 'DataItems');
  return childElements(firstChild(root, 'VALUE.ARRAY')!, 'VALUE').map((v) => parseKvpItem(v.textContent ?? ''));
}

test('a Hyper-V instance launches with KVP items instead of a config drive: kvp-items.xml and kvp_pool_0 hold the same data', async () => {
  const inst = await sampleInstance('13-hyperv-windows');
  const r = await nc.launch(inst);
  assert.equal(r.domain.state, 'running');
  assert.equal(parseXml(r.domainXml).documentElement!.getAttribute('type'), 'hyperv');
  assert.equal(r.configDrive, undefined);
  assert.equal(existsSync(join(r.dir, 'config.iso')), false);
  assert.deepEqual(
    r.steps.map((s) => s.step),
    ['check', 'create-folder', 'write-instance', 'render', 'filters', 'write-libvirt', 'kvp', 'pre-boot', 'define', 'start', 'record'],
  );

  assert.ok(r.kvp);
  assert.equal(r.kvp.items, join(r.dir, 'kvp-items.xml'));
  assert.equal(r.kvp.pool, join(r.dir, 'kvp_pool_0'));
  for (const f of [r.kvp.items, r.kvp.pool]) assert.equal(statSync(f).mode & 0o777, 0o600, `${f} holds the password: 0600`);
  // They were there for the pre-boot hooks.
  assert.match(readFileSync(join(r.dir, 'pre-boot-listing'), 'utf8'), /^kvp-items\.xml\nkvp_pool_0$/m);

  const items = itemsOf(r.kvp.items);
  const pool = readFileSync(r.kvp.pool);
  assert.equal(pool.length, r.kvp.poolBytes);
  assert.equal(pool.length % 2560, 0);
  const decoded = decodePool(pool);
  assert.equal(decoded.trailingBytes, 0);
  assert.deepEqual(
    decoded.records.map((x) => [x.key, x.value]),
    items.map((i) => [i.name, i.data]),
    'the guest sees exactly the items pushed, in order',
  );
  assert.deepEqual(r.kvp.keys, items.map((i) => i.name));
  assert.ok(items.every((i) => i.source === 0));

  // What the guest reads (Ignition's way: B, else B.0 B.1 … up to the first gap).
  const map = toMap(decoded.records);
  const payload = (base: string) => reassemble(map, base);
  assert.equal(payload('euca.user-data'), '<powershell>Set-TimeZone UTC</powershell>');
  assert.equal(payload('euca.password'), 'Adm1n!pass');
  assert.equal(payload('euca.public-keys'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDomforgeSampleKeyOnlyForTests ops@example\n');
  assert.deepEqual(JSON.parse(payload('euca.meta-data') ?? 'null'), { 'instance-id': inst.name, uuid: inst.uuid, hostname: 'i-0a000013.internal' });

  await nc.terminate(inst.name);
  assert.equal(existsSync(r.dir), false);
});

test('KVM instances get no KVP files; a Hyper-V instance asking for a config drive gets KVP and a warning', async () => {
  const kvm = await nc.launch(await sampleInstance('09-q35-config-drive'));
  assert.equal(kvm.kvp, undefined);
  assert.ok(kvm.configDrive);
  assert.equal(existsSync(join(kvm.dir, 'kvp-items.xml')), false);
  assert.equal(kvm.steps.some((s) => s.step === 'kvp'), false);
  await nc.terminate(kvm.id);

  const hv = await sampleInstance('13-hyperv-windows');
  const r = await nc.launch({ ...hv, configDrive: { path: '/ignored/config.iso', label: 'config-2', layouts: ['openstack'] } });
  assert.ok(r.kvp);
  assert.equal(r.configDrive, undefined);
  assert.ok(r.warnings.some((w) => /KVP items, not a config drive/.test(w)), r.warnings.join('\n'));
  assert.equal(existsSync(join(r.dir, 'config.iso')), false);
  await nc.terminate(r.id);
});

test('a failure at step kvp rolls the launch back: nothing written, nothing defined', async () => {
  // Every value an instance.xml can hold, KVP can carry (several ssh keys go one a line), so
  // the step is made to fail from outside: kvp-items.xml is a folder when it is written.
  const { mkdir } = await import('node:fs/promises');
  const failing = await NodeController.open({
    instancesDir: sb.instances,
    connection: conn,
    transform: shippedTransform(),
    onStep: async (e) => {
      if (e.step === 'kvp') await mkdir(join(sb.instances, e.instanceId, 'kvp-items.xml'));
    },
  });
  const hv = await sampleInstance('13-hyperv-windows');
  const e = await failing.launch({ ...hv, key: { ...hv.key, sshKey: 'ssh-rsa AAAA a@b\nssh-rsa BBBB c@d' } }).then(
    () => assert.fail('launched'),
    (err: unknown) => err as OperationError,
  );
  await failing.close();
  assert.equal(e.step, 'kvp');
  assert.equal(e.code, 'IO_ERROR');
  assert.match(e.message, /kvp-items\.xml/);
  assert.equal(e.rolledBack, true);
  assert.equal(await conn.find(hv.name), undefined);
  assert.equal(existsSync(join(sb.instances, hv.name)), false);
});

test('a NUL in a field (which neither XML nor KVP can carry) fails the launch at the check of its record, naming the element; nothing written or defined', async () => {
  const hv = await sampleInstance('13-hyperv-windows');
  const e = await nc.launch({ ...hv, password: 'a\u0000b' }).then(
    () => assert.fail('launched'),
    (err: unknown) => err as OperationError,
  );
  assert.equal(e.step, 'check');
  assert.equal(e.code, 'XML_SYNTAX');
  assert.equal(e.message, `launch of ${hv.name} failed at step 'check': character U+0000 is not allowed in XML 1.0 (in <password>)`);
  assert.deepEqual([e.file, e.line], [undefined, undefined]);
  assert.equal(e.rolledBack, true);
  assert.equal(await conn.find(hv.name), undefined);
  assert.equal(existsSync(join(sb.instances, hv.name)), false);
});

test('domforge launch prints the KVP files of a Hyper-V instance', async () => {
  let stdout = '';
  let stderr = '';
  const code = await runLifecycleCli(['launch', '--instance', join(SAMPLES, '13-hyperv-windows', 'instance.xml'), '--instances', sb.instances, '--uri', 'test:///default', '--transform', XSL], {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
  });
  assert.equal(code, 0, stderr);
  const dir = join(sb.instances, 'i-0a000013');
  assert.match(stdout, new RegExp(`^kvp items: ${dir}/kvp-items\\.xml \\(\\d+ items for AddKvpItems\\)$`, 'm'));
  assert.match(stdout, new RegExp(`^kvp pool: ${dir}/kvp_pool_0 \\(\\d+ bytes\\)$`, 'm'));
  assert.doesNotMatch(stdout, /config drive/);
  await nc.terminate('i-0a000013');
});

/** 1-based line of the first `needle` in `text`. */
const lineIn = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;

/** The Hyper-V sample as a file of its own, under a fresh id and uuid, with `metadata` items added. */
function hypervFile(name: string, metadata: string): { file: string; text: string; id: string } {
  return sampleFileUnderFreshId(sb.root, '13-hyperv-windows', name, (t) => t.replace('</instance>', `  <metadata>\n${metadata}  </metadata>\n</instance>`));
}

const launchFailure = (instance: Parameters<NodeController['launch']>[0]) => failedLaunch(nc, instance);

test('a KVP refusal at launch names instance.xml, the line of the offending metadata item and its path', async () => {
  const { file, text, id } = hypervFile('a1', '    <item key="role">web</item>\n    <item key="uuid">spoofed</item>\n');
  const line = lineIn(text, '<item key="uuid">');
  const e = await launchFailure(file);
  assert.ok(e instanceof OperationError, String(e));
  assert.equal(e.step, 'kvp');
  assert.equal(e.code, 'KVP_INVALID');
  assert.equal(e.file, file);
  assert.equal(e.line, line);
  assert.equal(e.column, 5);
  assert.equal(e.path, '/instance/metadata/item[2]/@key');
  assert.equal(
    e.message,
    `${file}:${line}:5: launch of ${id} failed at step 'kvp': metadata item "uuid" would replace the built-in uuid of euca.meta-data; give it another name (at /instance/metadata/item[2]/@key)`,
  );
  assert.equal(e.rolledBack, true);
  assert.equal(await conn.find(id), undefined);
  assert.equal(existsSync(join(sb.instances, id)), false);

  // The same through `domforge launch`, and for the only item of <metadata>.
  const only = hypervFile('a2', '    <item key="hostname">spoofed</item>\n');
  let stderr = '';
  const code = await runLifecycleCli(['launch', '--instance', only.file, '--instances', sb.instances, '--uri', 'test:///default', '--transform', XSL], {
    stdout: () => undefined,
    stderr: (s) => (stderr += s),
  });
  assert.equal(code, 1, stderr);
  const at = `${only.file}:${lineIn(only.text, '<item key="hostname">')}:5`;
  const expected = `domforge: ${at}: launch of ${only.id} failed at step 'kvp': metadata item "hostname" would replace the built-in hostname of euca.meta-data; give it another name (at /instance/metadata/item[1]/@key)`;
  assert.ok(stderr.split('\n').includes(expected), stderr);
  assert.equal(existsSync(join(sb.instances, only.id)), false);
});

test('a KVP refusal at launch of a JSON description names it and the line of the key; of an Instance built in code, the field alone', async () => {
  const inst = await readInstanceFile(join(SAMPLES, '13-hyperv-windows', 'instance.xml'));
  const id = `i-${process.pid.toString(16)}b1`;
  const json = {
    ...jsonOfInstance(inst),
    name: id,
    uuid: randomUUID(),
    disks: { diskPaths: inst.disks.diskPaths, root: inst.disks.root },
    states: {},
    timestamps: {},
    metadata: { role: 'web', 'instance-id': 'i-spoofed' },
  };
  const file = join(sb.root, 'b1.json');
  const text = JSON.stringify(json, null, 2);
  writeFileSync(file, text);
  const e = await launchFailure(file);
  assert.equal(e.step, 'kvp');
  assert.equal(e.file, file);
  assert.equal(e.line, lineIn(text, '"instance-id": "i-spoofed"'));
  assert.equal(e.column, 5);
  assert.equal(e.path, '/instance/metadata/item[2]/@key');
  assert.equal(await conn.find(id), undefined);

  // A copy made in code is not the file any more: no file, no line, the field's path.
  const copy = { ...(await sampleInstance('13-hyperv-windows')), metadata: [['uuid', 'spoofed']] as [string, string][] };
  const m = await launchFailure(copy);
  assert.equal(m.step, 'kvp');
  assert.equal(m.code, 'KVP_INVALID');
  assert.equal(m.file, undefined);
  assert.equal(m.line, undefined);
  assert.equal(m.path, '/instance/metadata/item[1]/@key');
  assert.equal(m.message, `launch of ${copy.name} failed at step 'kvp': metadata item "uuid" would replace the built-in uuid of euca.meta-data; give it another name (at /instance/metadata/item[1]/@key)`);
  assert.equal(await conn.find(copy.name), undefined);
});

test('a Hyper-V Instance built in code with a metadata key given twice is refused, not launched with one value lost', async () => {
  const copy = { ...(await sampleInstance('13-hyperv-windows')), metadata: [['role', 'web'], ['role', 'db']] as [string, string][] };
  const e = await launchFailure(copy);
  // Refused at check, before anything is written: no file (the record would be rolled back), the field's path.
  assert.equal(e.step, 'check', e.message);
  assert.equal(e.code, 'INSTANCE_INVALID');
  assert.deepEqual([e.file, e.path], [undefined, '/instance/metadata/item[2]/@key']);
  assert.match(e.message, /metadata key "role" is given twice \(first at \/instance\/metadata\/item\[1\]\/@key\)/);
  assert.equal(await conn.find(copy.name), undefined);
  assert.equal(existsSync(join(sb.instances, copy.name)), false);
});
