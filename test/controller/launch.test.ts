import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeController, OperationError, StateConflictError } from '../../engine/controller/index.js';
import { readInstanceFile, parseInstance } from '../../engine/instance/index.js';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { childElements, parseXml, type Element } from '../../engine/xml/parse.js';
import { diffXml } from '../../engine/xml/compare.js';
import { DomforgeError, InstanceError } from '../../engine/errors.js';
import { runLifecycleCli } from './cli-program.js';
import { launchFailure as failedLaunch, sampleFileUnderFreshId, sampleInstance, sampleNames, sandbox, SAMPLES, shippedTransform, XSL, type Sandbox } from './fixtures.js';
import { countingLoader } from '../libvirt/fixtures.js';
import { jsonOfInstance, minimalJsonInstance } from '../instance/json-fixture.js';

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

const devicesOf = (xml: string) => childElements(parseXml(xml).getElementsByTagName('devices')[0]);
const targets = (els: Element[], device: string) =>
  els.filter((e) => e.nodeName === 'disk' && (e.getAttribute('device') ?? 'disk') === device).map((e) => e.getElementsByTagName('target')[0].getAttribute('dev')).sort();
const macs = (els: Element[]) => els.filter((e) => e.nodeName === 'interface').map((e) => e.getElementsByTagName('mac')[0]?.getAttribute('address')?.toLowerCase()).sort();

for (const sample of await sampleNames()) {
  test(`launch ${sample}: running domain with the transform's devices; terminate leaves nothing`, async () => {
    const original = await readInstanceFile(join(SAMPLES, sample, 'instance.xml'));
    const id = original.name;
    const r = await nc.launch(join(SAMPLES, sample, 'instance.xml'));
    const dir = join(sb.instances, id);
    assert.equal(r.id, id);
    assert.equal(r.dir, dir);
    assert.equal(r.domain.name, id);
    assert.equal(r.domain.uuid, original.uuid);
    assert.equal(r.domain.state, 'running');
    assert.equal(await conn.getState(id), 'running');

    // libvirt.xml is the sample's expected XML, with the files of the instance folder moved into ours.
    const oldDir = `/var/lib/domforge/instances/${id}`;
    let expected = readFileSync(join(SAMPLES, sample, 'libvirt.xml'), 'utf8');
    for (const f of ['console.log', 'config.iso']) expected = expected.split(`${oldDir}/${f}`).join(`${dir}/${f}`);
    const written = readFileSync(join(dir, 'libvirt.xml'), 'utf8');
    assert.equal(written, r.libvirtXml);
    const d = diffXml(expected, written, {}, ['expected', 'libvirt.xml']);
    assert.equal(d, undefined, d && `${d.path}: ${d.message}`);

    // The live XML libvirt holds has the same disks, CDROMs, NICs and hugepages.
    const live = await conn.getXML(id);
    assert.equal(r.domainXml, live);
    const want = devicesOf(expected);
    const got = devicesOf(live);
    for (const device of ['disk', 'cdrom', 'floppy']) assert.deepEqual(targets(got, device), targets(want, device), `${device} targets`);
    assert.deepEqual(macs(got), macs(want), 'interfaces');
    assert.equal(parseXml(live).getElementsByTagName('hugepages').length, parseXml(expected).getElementsByTagName('hugepages').length, 'hugepages');

    // The record: paths into the folder, state Extant, launch and boot times.
    const record = parseInstance(readFileSync(join(dir, 'instance.xml'), 'utf8'));
    assert.equal(record.instancePath, dir);
    assert.equal(record.xmlFilePath, join(dir, 'instance.xml'));
    assert.equal(record.libvirtFilePath, join(dir, 'libvirt.xml'));
    assert.equal(record.consoleLogPath, join(dir, 'console.log'));
    assert.deepEqual(record.states.find(([k]) => k === 'stateName'), ['stateName', 'Extant']);
    assert.ok(record.timestamps.some(([k, v]) => k === 'bootTime' && Number(v) > 0));
    assert.equal(statSync(join(dir, 'instance.xml')).mode & 0o777, 0o600);

    // The config drive is built exactly when the instance asks for one and the domain uses it.
    if (original.configDrive) {
      assert.equal(r.configDrive?.path, join(dir, 'config.iso'));
      assert.equal(statSync(join(dir, 'config.iso')).size, r.configDrive?.bytes);
      assert.ok(targets(got, 'cdrom').length >= 1);
    } else {
      assert.equal(r.configDrive, undefined);
      assert.equal(existsSync(join(dir, 'config.iso')), false);
    }
    const files = readdirSync(dir).sort();
    assert.deepEqual(files.filter((f) => f.startsWith('.')), [], 'no temporary files left');
    assert.ok(files.includes('instance.log'));

    const t = await nc.terminate(id);
    assert.equal(t.domain, 'destroyed');
    assert.equal(t.files, 'removed');
    assert.equal(await conn.find(id), undefined, 'no domain left');
    assert.equal(existsSync(dir), false, 'no folder left');
  });
}

test('describe and list report the record and the domain; reboot keeps it running', async () => {
  const inst = await sampleInstance('01-linux-virtio');
  await nc.launch(inst);
  const d = await nc.describe(inst.name, { xml: true });
  assert.equal(d.state, 'Extant');
  assert.equal(d.domain?.state, 'running');
  assert.equal(d.tracked, true);
  assert.match(d.domainXml ?? '', new RegExp(`<name>${inst.name}</name>`));
  const listed = (await nc.list()).find((x) => x.id === inst.name);
  assert.equal(listed?.domain?.uuid, inst.uuid);
  const before = (await conn.lookup(inst.name)).id;
  const after = await nc.reboot(inst.name);
  assert.equal(after.state, 'running');
  assert.notEqual(after.id, before, 'a new run of the domain');
  await nc.terminate(inst.name);
  await assert.rejects(nc.describe(inst.name), (e: DomforgeError) => e.code === 'STATE_CONFLICT' && /no instance/.test(e.message));
});

test('terminate --keep moves the folder under .kept; a stopped domain is undefined', async () => {
  const inst = await sampleInstance('10-no-nic');
  await nc.launch(inst);
  await conn.destroy(inst.name);
  const t = await nc.terminate(inst.name, { keep: true });
  assert.equal(t.domain, 'undefined');
  assert.ok(typeof t.files === 'object' && t.files.kept.startsWith(join(sb.instances, '.kept', `${inst.name}-`)));
  assert.ok(existsSync(join((t.files as { kept: string }).kept, 'instance.xml')));
  assert.equal(await conn.find(inst.name), undefined);
  assert.equal((await nc.list()).some((x) => x.id === inst.name), false, '.kept is not an instance');
});

test('a second launch of the same id is refused, whether concurrent or later, and the first is untouched', async () => {
  const inst = await sampleInstance('01-linux-virtio');
  const [a, b] = await Promise.allSettled([nc.launch(inst), nc.launch(inst)]);
  assert.equal(a.status, 'fulfilled');
  assert.equal(b.status, 'rejected');
  assert.ok((b as PromiseRejectedResult).reason instanceof StateConflictError);
  assert.match((b as PromiseRejectedResult).reason.message, /in progress/);
  const later = await nc.launch(inst).then(
    () => assert.fail('launched twice'),
    (e: unknown) => e,
  );
  assert.ok(later instanceof OperationError);
  assert.equal(later.code, 'STATE_CONFLICT');
  assert.equal(later.step, 'check');
  assert.equal(await conn.getState(inst.name), 'running', 'the first launch is still running');
  assert.ok(existsSync(join(sb.instances, inst.name, 'instance.xml')), 'and keeps its folder');
  await nc.terminate(inst.name);
});

test('a domain libvirt already has under the id or uuid is not redefined', async () => {
  const inst = await sampleInstance('01-linux-virtio');
  const { xml } = await import('../libvirt/fixtures.js').then((m) => m.testDomainXml(inst.name));
  await conn.define(xml);
  try {
    await assert.rejects(nc.launch(inst), (e: OperationError) => e.code === 'STATE_CONFLICT' && e.step === 'check' && /already has a domain/.test(e.message));
    assert.equal(existsSync(join(sb.instances, inst.name)), false);
    assert.equal((await conn.lookup(inst.name)).id, null, 'the existing domain is left as it was');
  } finally {
    await conn.undefine(inst.name);
  }
});

test('an instance folder left by a crash refuses the launch and is left alone', async () => {
  const inst = await sampleInstance('01-linux-virtio');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  mkdirSync(join(sb.instances, inst.name));
  writeFileSync(join(sb.instances, inst.name, 'marker'), 'x');
  await assert.rejects(nc.launch(inst), (e: OperationError) => e.step === 'create-folder' && e.code === 'STATE_CONFLICT' && /already exists/.test(e.message));
  assert.ok(existsSync(join(sb.instances, inst.name, 'marker')), 'a folder this launch did not create is not removed');
  assert.equal(await conn.find(inst.name), undefined);
  const { rmSync } = await import('node:fs');
  rmSync(join(sb.instances, inst.name), { recursive: true });
});

test('bad input: an id that cannot be a folder name, a bad instance file, unknown ids', async () => {
  const inst = await sampleInstance('01-linux-virtio', '../escape');
  await assert.rejects(nc.launch(inst), (e: DomforgeError) => e instanceof InstanceError && e.path === '/instance/name');
  const { writeFileSync } = await import('node:fs');
  const bad = join(sb.root, 'bad.xml');
  writeFileSync(bad, readFileSync(join(SAMPLES, '01-linux-virtio', 'instance.xml'), 'utf8').replace('<cores>2</cores>', '<cores>two</cores>'));
  await assert.rejects(nc.launch(bad), (e: DomforgeError) => e.file === bad && typeof e.line === 'number' && e.line > 1 && /cores/.test(e.message));
  await assert.rejects(nc.terminate('i-nothere'), (e: DomforgeError) => e.code === 'STATE_CONFLICT' && /no instance i-nothere/.test(e.message));
  await assert.rejects(nc.terminate('../x'), (e: DomforgeError) => e.code === 'USAGE');
  assert.deepEqual(readdirSync(sb.instances).filter((f) => !f.startsWith('.')), []);
});

test('options that are not an object (null, a string, an array) are a UsageError naming the operation, not a bare TypeError', async () => {
  const inst = await sampleInstance('10-no-nic');
  await nc.launch(inst);
  const id = inst.name;
  const record = readFileSync(join(sb.instances, id, 'instance.xml'), 'utf8');
  const state = await conn.lookup(id);
  const vol = { id: 'vol-0e0e0e0e', devName: 'sdf', path: '/dev/mapper/vol-0e0e0e0e' };
  const nic = { interfaceId: 'eni-0e0e0e0e', attachmentId: 'eni-attach-0e0e0e0e', mac: 'D0:0D:0E:0E:0E:0E', device: 1, bridgeDeviceName: 'br0' };
  // Options the types forbid, hence `never`.
  const calls: [string, (o: never) => Promise<unknown>][] = [
    ['launch', (o) => nc.launch(inst, o)],
    ['terminate', (o) => nc.terminate(id, o)],
    ['reboot', (o) => nc.reboot(id, o)],
    ['stop', (o) => nc.stop(id, o)],
    ['describe', (o) => nc.describe(id, o)],
    ['consoleOutput', (o) => nc.consoleOutput(id, o)],
    ['describeResource', (o) => nc.describeResource(o)],
    ['attachVolume', (o) => nc.attachVolume(id, vol, o)],
    ['detachVolume', (o) => nc.detachVolume(id, vol.id, o)],
    ['attachInterface', (o) => nc.attachInterface(id, nic, o)],
    ['detachInterface', (o) => nc.detachInterface(id, nic.attachmentId, o)],
    ['adopt', (o) => nc.adopt(o)],
  ];
  for (const [operation, call] of calls) {
    for (const [bad, shown] of [[null, '`null` (null)'], ['fast', '`fast` (string)'], [[], '`[]` (array)']] as const) {
      await assert.rejects(call(bad as never), (e: unknown) => e instanceof DomforgeError && e.code === 'USAGE' && e.message === `Expected the options of \`${operation}\` to be an object, got ${shown}`, `${operation}(${String(bad)})`);
    }
  }
  assert.equal(readFileSync(join(sb.instances, id, 'instance.xml'), 'utf8'), record, 'nothing written');
  assert.equal((await conn.lookup(id)).id, state.id, 'the domain untouched');
  const other = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform() });
  await assert.rejects(other.close(null as never), (e: DomforgeError) => e.code === 'USAGE' && /`close`/.test(e.message));
  await other.close();
  await nc.terminate(id);
});

test('an instance.xml nested more than 256 levels deep is refused before anything is made, at its file:line:column, not at the render (10,000 levels in an unknown element, 99,000 in a volume\'s <disk>)', async () => {
  const { writeFileSync } = await import('node:fs');
  const nested = (n: number) => '<a>'.repeat(n) + '</a>'.repeat(n);
  const one = readFileSync(join(SAMPLES, '01-linux-virtio', 'instance.xml'), 'utf8');
  const volumes = readFileSync(join(SAMPLES, '07-several-volumes', 'instance.xml'), 'utf8');
  const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;
  for (const [name, text, line] of [
    ['deep-unknown.xml', one.replace('</instance>', `  <x-deep>${nested(10_000)}</x-deep>\n</instance>`), lineOf(one, '</instance>')],
    ['deep-volume.xml', volumes.replace(/(<libvirt>\s*<disk[^>]*>)/, `$1${nested(99_000)}`), lineOf(volumes, '<libvirt>') + 1],
  ] as const) {
    const file = join(sb.root, name);
    writeFileSync(file, text);
    await assert.rejects(nc.launch(file), (e: DomforgeError) => {
      assert.ok(e instanceof InstanceError, String(e));
      assert.equal(e.file, file);
      assert.equal(e.line, line);
      assert.ok(typeof e.column === 'number' && e.column > 256 * 3, String(e.column));
      assert.match(e.message, /elements nested too deeply: <a> is more than 256 levels below the root element \(libxml2, and so xsltproc, refuses a document nested deeper\)/);
      return true;
    });
  }
  assert.deepEqual(readdirSync(sb.instances).filter((f) => !f.startsWith('.')), []);
});

test('an unknown element in a list container or in <backing> of instance.xml is kept in the record a launch writes; the shipped transform renders the domain as without it', async () => {
  const strays = (t: string) =>
    t
      .replace('<floppyPath/>', '<floppyPath/>\n    <x-disk-future x="7">\n      <detail id="1"/>\n    </x-disk-future>')
      .replace('<vbrs/>', '<vbrs><x-vbr-future/></vbrs>')
      .replace('<root type="image"/>', '<root type="image"/>\n    <x-backing-future mode="thin"/>');
  const kept = sampleFileUnderFreshId(sb.root, '01-linux-virtio', 'kept1', strays);
  const plain = sampleFileUnderFreshId(sb.root, '01-linux-virtio', 'kept2');
  const a = await nc.launch(kept.file);
  const b = await nc.launch(plain.file);
  try {
    const record = parseInstance(readFileSync(join(sb.instances, kept.id, 'instance.xml'), 'utf8'));
    assert.deepEqual(record.unknownChildren, {
      disks: [{ name: 'x-disk-future', xml: '<x-disk-future x="7"><detail id="1"/></x-disk-future>' }],
      vbrs: [{ name: 'x-vbr-future', xml: '<x-vbr-future/>' }],
    });
    assert.deepEqual(record.backing, { rootType: 'image', unknown: [{ name: 'x-backing-future', xml: '<x-backing-future mode="thin"/>' }] });
    const uuidOf = (text: string) => /<uuid>([^<]*)<\/uuid>/.exec(text)![1]!;
    const same = a.libvirtXml.replaceAll(kept.id, plain.id).replace(uuidOf(kept.text), uuidOf(plain.text));
    assert.equal(same, b.libvirtXml);
  } finally {
    await nc.terminate(kept.id);
    await nc.terminate(plain.id);
  }
});

test('launch + terminate look the domain up four times: the refs libvirt returned are reused', async () => {
  // Each lookup is a round trip to the daemon on a real host. Left: the two checks that no
  // domain has the id or the uuid, one lookup for the running domain's id, and terminate's
  // check that the domain is this instance; start, the summary, the XML, destroy and
  // undefine reuse those refs.
  const { loader, lookups } = countingLoader();
  const own = await NodeController.open({ instancesDir: sb.instances, uri: 'test:///default', loader, transform: shippedTransform() });
  try {
    const inst = await sampleInstance();
    const r = await own.launch(inst);
    assert.equal(r.domain.state, 'running');
    assert.equal(r.domain.active, true);
    assert.equal(r.domain.persistent, true);
    assert.ok(typeof r.domain.id === 'number' && r.domain.id > 0, 'the id of the running domain');
    assert.match(r.domainXml, new RegExp(`^<domain type='kvm' id='${r.domain.id}'>`));
    assert.equal(lookups(), 3, 'launch');
    const t = await own.terminate(inst.name);
    assert.equal(t.domain, 'destroyed');
    assert.equal(lookups(), 4, 'launch + terminate');
    assert.equal(await conn.find(inst.name), undefined);
  } finally {
    await own.close();
    await closeConnections(loader);
  }
});

/** 1-based line of the first `needle` in `text`. */
const lineIn = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;

/** Sample 09 (a config drive) as a file of its own, under a fresh id and uuid, changed by `edit`. */
function configDriveFile(name: string, edit: (text: string) => string): { file: string; text: string; id: string } {
  return sampleFileUnderFreshId(sb.root, '09-q35-config-drive', name, edit);
}

const launchFailure = (instance: Parameters<NodeController['launch']>[0]) => failedLaunch(nc, instance);

const TOO_MUCH_USER_DATA = Buffer.alloc(64 * 1024 + 1, 0x61).toString('base64');

test('an element inside a text field of instance.xml is refused at launch before anything is made, at its file:line:column with the field\'s path', async () => {
  // It used to be run into the value: the domain was defined with the disk /dev/mapper/euca-i-…-root.
  const { file, text, id } = sampleFileUnderFreshId(sb.root, '01-linux-virtio', 'txt1', (t) => t.replace('/dev/mapper/euca-', '/dev/mapper/<b>euca</b>-'));
  const line = lineIn(text, '<b>euca');
  const column = text.split('\n')[line - 1]!.indexOf('<b>euca') + 1;
  const e: unknown = await launchFailure(file);
  assert.ok(e instanceof InstanceError && !(e instanceof OperationError), String(e));
  assert.equal(e.message, `${file}:${line}:${column}: <diskPath> holds text only, not elements: <b> would be dropped, its text run into the value (escape markup as &lt;...&gt; or put it in <![CDATA[...]]>) (at /instance/disks/diskPath[1])`);
  assert.equal(await conn.find(id), undefined);
  assert.equal(existsSync(join(sb.instances, id)), false);
});

test('a config drive refusal at launch names instance.xml, the line of the offending element and its path', async () => {
  for (const [name, edit, needle, path, message] of [
    ['c1', (t: string) => t.replace(/<userData>[^<]*</, `<userData>${TOO_MUCH_USER_DATA}<`), '<userData>', '/instance/userData', 'user data is 65537 bytes once decoded, over the 65536-byte cap (raise maxUserDataBytes, or --max-user-data on the CLI, to allow it)'],
    ['c3', (t: string) => t.replace('</instance>', '  <timestamps>\n    <bootTime>1700000000</bootTime>\n    <launchTime>soon</launchTime>\n  </timestamps>\n</instance>'), '<launchTime>', '/instance/timestamps/launchTime', 'launchTime "soon" is not whole seconds since 1970'],
  ] as const) {
    const { file, text, id } = configDriveFile(name, edit);
    const line = lineIn(text, needle);
    const column = text.split('\n')[line - 1]!.indexOf(needle) + 1;
    const e = await launchFailure(file);
    assert.ok(e instanceof OperationError, String(e));
    assert.equal(e.step, 'config-drive', e.message);
    assert.equal(e.code, 'CONFIG_DRIVE_INVALID');
    assert.equal(e.message, `${file}:${line}:${column}: launch of ${id} failed at step 'config-drive': ${message} (at ${path})`);
    assert.deepEqual([e.file, e.line, e.column, e.path], [file, line, column, path]);
    assert.equal(e.rolledBack, true);
    assert.equal(await conn.find(id), undefined);
    assert.equal(existsSync(join(sb.instances, id)), false);
  }

  // A launchIndex that is not a whole number is refused when the file is read, as the instance's other values are, at the same place.
  {
    const { file, text, id } = configDriveFile('c2', (t) => t.replace('<launchIndex>0</launchIndex>', '<launchIndex>two</launchIndex>'));
    const e = await launchFailure(file);
    assert.deepEqual([e.code, e instanceof OperationError], ['INSTANCE_INVALID', false], e.message);
    assert.equal(e.message, `${file}:${lineIn(text, '<launchIndex>')}:3: launchIndex "two" is not a non-negative integer (at /instance/launchIndex)`);
    assert.equal(existsSync(join(sb.instances, id)), false);
  }

  // The same through `domforge launch`.
  const { file, text, id } = configDriveFile('c4', (t) =>
    t.replace('</instance>', '  <timestamps>\n    <bootTime>1700000000</bootTime>\n    <launchTime>soon</launchTime>\n  </timestamps>\n</instance>'),
  );
  let stderr = '';
  const code = await runLifecycleCli(['launch', '--instance', file, '--instances', sb.instances, '--uri', 'test:///default', '--transform', XSL], {
    stdout: () => undefined,
    stderr: (s) => (stderr += s),
  });
  assert.equal(code, 1, stderr);
  const expected = `domforge: ${file}:${lineIn(text, '<launchTime>')}:5: launch of ${id} failed at step 'config-drive': launchTime "soon" is not whole seconds since 1970 (at /instance/timestamps/launchTime)`;
  assert.ok(stderr.split('\n').includes(expected), stderr);
  assert.equal(existsSync(join(sb.instances, id)), false);
});

test('a config drive refusal at launch of a JSON description names it and the line of the key; of an Instance built in code, the field alone', async () => {
  const inst = await readInstanceFile(join(SAMPLES, '09-q35-config-drive', 'instance.xml'));
  const id = `i-${process.pid.toString(16)}d1`;
  const { userData: _base64, ...rest } = jsonOfInstance(inst);
  const json = {
    ...rest,
    name: id,
    uuid: randomUUID(),
    disks: { diskPaths: inst.disks.diskPaths, root: inst.disks.root },
    states: {},
    timestamps: {},
    metadata: Object.fromEntries(inst.metadata),
    userDataText: 'x'.repeat(64 * 1024 + 1),
  };
  const file = join(sb.root, 'd1.json');
  const text = JSON.stringify(json, null, 2);
  writeFileSync(file, text);
  const e = await launchFailure(file);
  assert.equal(e.step, 'config-drive', e.message);
  assert.equal(e.code, 'CONFIG_DRIVE_INVALID');
  assert.deepEqual([e.file, e.line, e.column, e.path], [file, lineIn(text, '"userDataText"'), 3, '/instance/userData']);
  assert.equal(await conn.find(id), undefined);

  // A copy made in code is not the file any more: no file, no line, the field's path.
  const copy = { ...(await sampleInstance('09-q35-config-drive')), timestamps: [['launchTime', 'soon']] as [string, string][] };
  const m = await launchFailure(copy);
  assert.equal(m.step, 'config-drive');
  assert.deepEqual([m.file, m.line, m.path], [undefined, undefined, '/instance/timestamps/launchTime']);
  assert.equal(m.message, `launch of ${copy.name} failed at step 'config-drive': launchTime "soon" is not whole seconds since 1970 (at /instance/timestamps/launchTime)`);
  assert.equal(await conn.find(copy.name), undefined);
});

test('a JSON description with a key the reader does not know is refused at launch before anything is made, at its file:line:column with its path', async () => {
  // It used to be dropped: this guest was launched without hugepages.
  const id = `i-${process.pid.toString(16)}u1`;
  const json = { ...minimalJsonInstance(), name: id, uuid: randomUUID(), features: { hugePages: { pageSizeKiB: 2048 } } };
  const file = join(sb.root, 'u1.json');
  const text = JSON.stringify(json, null, 2);
  writeFileSync(file, text);
  const line = lineIn(text, '"hugePages"');
  const e: unknown = await launchFailure(file);
  assert.ok(e instanceof InstanceError && !(e instanceof OperationError), String(e));
  assert.equal(e.message, `${file}:${line}:5: unknown key "hugePages" in features; did you mean "hugepages"? (at /instance/features/hugePages)`);
  assert.equal(await conn.find(id), undefined);
  assert.equal(existsSync(join(sb.instances, id)), false);
});

test('a config drive over the image cap at launch names instance.xml, the line of its largest field and its path; no image is left', async () => {
  // xsltproc refuses an attribute or a text over 10,000,000 bytes, so no one field can pass the
  // 64 MiB cap: the key is written six times (two meta_data.json, EC2, CloudStack), the password three.
  const key = `ssh-ed25519 ${'A'.repeat(9.5 * 1024 * 1024)}`;
  const edit = (t: string) =>
    t.replace(/sshKey="[^"]*"/, `sshKey="${key}"`).replace('</availabilityZone>', `</availabilityZone>\n  <password>${'p'.repeat(3 << 20)}</password>`);
  for (const keepFailed of [false, true]) {
    const { file, text, id } = configDriveFile(keepFailed ? 'cap-kept' : 'cap', edit);
    const line = lineIn(text, '<key ');
    const own = keepFailed ? await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), keepFailed }) : nc;
    const e = await failedLaunch(own, file);
    assert.ok(e instanceof OperationError, String(e));
    assert.equal(e.step, 'config-drive', e.message);
    assert.equal(e.code, 'CONFIG_DRIVE_INVALID');
    assert.match(e.shortMessage, new RegExp(`^launch of ${id} failed at step 'config-drive': config drive would be \\d+ bytes, over the 67108864-byte image cap \\(maxImageBytes, or --max-image on the CLI\\); its largest field is ${Buffer.byteLength(key)} bytes$`));
    assert.deepEqual([e.file, e.line, e.column, e.path], [file, line, 3, '/instance/key/@sshKey']);
    assert.ok(e.message.startsWith(`${file}:${line}:3: `), e.message);
    assert.equal(e.rolledBack, true);
    assert.equal(await conn.find(id), undefined);
    assert.equal(existsSync(join(sb.instances, id)), false);
    if (keepFailed) {
      // What a failed launch keeps: its record, the domain XML and the log; no image, no temporary file.
      const kept = readdirSync(join(sb.instances, '.kept')).filter((d) => d.startsWith(`${id}-`));
      assert.equal(kept.length, 1, String(kept));
      assert.deepEqual(readdirSync(join(sb.instances, '.kept', kept[0]!)).sort(), ['instance.log', 'instance.xml', 'libvirt.xml']);
      await own.close();
    }
  }
});

test('an Instance built in code with a metadata key given twice is refused, not launched with one value lost', async () => {
  const inst = await sampleInstance('09-q35-config-drive');
  const copy = { ...inst, metadata: [['role', 'web'], ['tier', 'frontend'], ['role', 'db']] as [string, string][] };
  const e = await launchFailure(copy);
  // Refused at check, before anything is written: no file (the record would be rolled back), the field's path.
  assert.equal(e.step, 'check', e.message);
  assert.equal(e.code, 'INSTANCE_INVALID');
  assert.deepEqual([e.file, e.line, e.path], [undefined, undefined, '/instance/metadata/item[3]/@key']);
  assert.equal(e.shortMessage, `launch of ${copy.name} failed at step 'check': metadata key "role" is given twice (first at /instance/metadata/item[1]/@key); give each item its own key`);
  assert.equal(await conn.find(copy.name), undefined);
  assert.equal(existsSync(join(sb.instances, copy.name)), false);
});

test('an invalid Instance built in code is refused at check, naming the instance and the field, not a record the rollback removes', async () => {
  for (const [change, path, message] of [
    [{ memoryKB: -1 }, '/instance/memoryKB', 'memoryKB must be a whole number of at least 1024 (1 MiB), got -1'],
    [{ cores: 0 }, '/instance/cores', 'cores must be a whole number of at least 1, got 0'],
    [{ kernel: 'vmlinuz' }, '/instance/kernel', 'the kernel path must be absolute: vmlinuz'],
    // A JavaScript caller's string where the model has a number: said so, not shown as if it were one.
    [{ memoryKB: '2048' as unknown as number }, '/instance/memoryKB', 'Instance.memoryKB must be a number, got the string "2048"'],
    [{ diskGB: '10' as unknown as number }, '/instance/diskGB', 'Instance.diskGB must be a number, got the string "10"'],
    // What only the record's text shows (a value XML 1.0 cannot carry): the element that would hold it.
    [{ password: 'a\u0001b' }, undefined, 'character U+0001 is not allowed in XML 1.0 (in <password>)'],
  ] as const) {
    const copy = { ...(await sampleInstance('09-q35-config-drive')), ...change };
    const e = await launchFailure(copy);
    assert.ok(e instanceof OperationError, String(e));
    assert.ok(e.file === undefined || existsSync(e.file), `names a file that is not there: ${e.message}`);
    assert.equal(e.step, 'check', e.message);
    assert.deepEqual([e.file, e.line, e.column, e.path], [undefined, undefined, undefined, path], e.message);
    assert.equal(e.message, `launch of ${copy.name} failed at step 'check': ${message}${path ? ` (at ${path})` : ''}`);
    assert.deepEqual(e.rollback, []);
    assert.equal(await conn.find(copy.name), undefined);
    assert.equal(existsSync(join(sb.instances, copy.name)), false);
  }

  // The same value read from a file: the parser names the admin's file and line, before any launch step.
  const { file, text } = sampleFileUnderFreshId(sb.root, '09-q35-config-drive', 'mem', (t) => t.replace(/<memoryKB>\d+</, '<memoryKB>-1<'));
  const line = lineIn(text, '<memoryKB>');
  const f: unknown = await launchFailure(file);
  assert.ok(f instanceof InstanceError && !(f instanceof OperationError), String(f));
  assert.equal(f.message, `${file}:${line}:3: memoryKB must be a whole number of at least 1024 (1 MiB), got -1 (at /instance/memoryKB)`);
  // Read from a file, then changed in place: still the admin's file, at the field's line.
  const good = sampleFileUnderFreshId(sb.root, '09-q35-config-drive', 'mem2');
  const inPlace = await readInstanceFile(good.file);
  inPlace.memoryKB = -1;
  const g = await launchFailure(inPlace);
  assert.equal(g.step, 'check', g.message);
  assert.deepEqual([g.file, g.line, g.path], [good.file, lineIn(good.text, '<memoryKB>'), '/instance/memoryKB']);
  assert.equal(existsSync(join(sb.instances, good.id)), false);
});

test("an Instance built in code whose structure is not an Instance's (a field null, missing or of another type) is refused at check by the field's path, before anything is made", async () => {
  const sample = await sampleInstance('09-q35-config-drive');
  type Change = (i: typeof sample) => unknown;
  for (const [change, path, message] of [
    [(i) => ({ ...i, nics: null }), '/instance/nics', 'Instance.nics must be a list (an array), got null'],
    [(i) => ({ ...i, hypervisor: null }), '/instance/hypervisor', 'Instance.hypervisor must be an object, got null'],
    [(i) => ({ ...i, disks: { ...i.disks, diskPaths: [null] } }), '/instance/disks/diskPath', 'Instance.disks.diskPaths[0] must be an object, got null'],
    [(i) => ({ ...i, disks: { ...i.disks, diskPaths: [...i.disks.diskPaths, 'vdz'] } }), `/instance/disks/diskPath[${sample.disks.diskPaths.length + 1}]`, `Instance.disks.diskPaths[${sample.disks.diskPaths.length}] must be an object, got the string "vdz"`],
    [(i) => ({ ...i, volumes: [{ id: 'vol-1', stateName: 'attached' }] }), '/instance/volumes/volume/attachmentToken', 'Instance.volumes[0].attachmentToken is missing (a string is required); so are devName, connectionString'],
    [(i) => ({ ...i, volumes: [{ id: 'vol-1', attachmentToken: '', stateName: 'attached', connectionString: '' }] }), '/instance/volumes/volume/devName', 'Instance.volumes[0].devName is missing (a string is required)'],
    // Fields the check step read before their values were checked: the record's timestamps, its config drive.
    [(i) => ({ ...i, timestamps: null }), '/instance/timestamps', 'Instance.timestamps must be a list of [name, value] pairs of strings, got null'],
    [(i) => ({ ...i, configDrive: null }), '/instance/configDrive', 'Instance.configDrive must be an object, got null'],
    [(i) => ({ ...i, features: 'hugepages' }), '/instance/features', 'Instance.features must be an object, got the string "hugepages"'],
  ] as [Change, string, string][]) {
    const copy = change(structuredClone(sample)) as typeof sample;
    const e = await launchFailure(copy);
    assert.ok(e instanceof OperationError, String(e));
    assert.equal(e.code, 'INSTANCE_INVALID', e.message);
    assert.equal(e.step, 'check', e.message);
    assert.deepEqual([e.file, e.line, e.path], [undefined, undefined, path], e.message);
    assert.equal(e.message, `launch of ${copy.name} failed at step 'check': ${message} (at ${path})`);
    assert.deepEqual(e.rollback, []);
    assert.equal(await conn.find(copy.name), undefined);
    assert.equal(existsSync(join(sb.instances, copy.name)), false);
  }
  // Read from a file, then changed in place: the file and the line of the field's element.
  const good = sampleFileUnderFreshId(sb.root, '09-q35-config-drive', 'shape');
  const inPlace = await readInstanceFile(good.file);
  (inPlace.nics[0] as { mac: unknown }).mac = 5;
  const g = await launchFailure(inPlace);
  assert.equal(g.step, 'check', g.message);
  assert.deepEqual([g.code, g.file, g.line, g.path], ['INSTANCE_INVALID', good.file, lineIn(good.text, '<nic '), '/instance/nics/nic/@mac']);
  assert.equal(existsSync(join(sb.instances, good.id)), false);
});

test('createInstancesDir: false opens a controller on a missing instances folder without creating it (no instances there); it must be a boolean', async () => {
  const missing = join(sb.root, 'not-created');
  const looking = await NodeController.open({ instancesDir: missing, connection: conn, createInstancesDir: false });
  try {
    assert.deepEqual(await looking.list(), []);
    assert.equal(existsSync(missing), false);
  } finally {
    await looking.close();
  }
  await assert.rejects(NodeController.open({ instancesDir: missing, connection: conn, createInstancesDir: 'no' as unknown as boolean }), /Expected `createInstancesDir` to be a boolean/);
  assert.equal(existsSync(missing), false);
  // The default creates it, as before.
  const making = await NodeController.open({ instancesDir: missing, connection: conn });
  await making.close();
  assert.equal(statSync(missing).isDirectory(), true);
});
