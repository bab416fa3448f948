// Instance → KVP items and the pool-0 file a guest sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseInstance } from '../../engine/instance/index.js';
import {
  kvpItemsFromInput,
  kvpItemsFromInstance,
  kvpPoolFromInput,
  kvpInputFromInstance,
  decodePool,
  reassemble,
  renderAddKvpItemsEnvelope,
  KvpLimitError,
  KvpCharacterError,
} from '../../engine/kvp/index.js';
import { decodeUserData } from '../../engine/kvp/from-instance.js';
import { KvpError } from '../../engine/errors.js';

const fixture = fileURLToPath(new URL('../../../test/kvp/fixtures/instance-hyperv.xml', import.meta.url));
const utf8 = (s: string) => new TextEncoder().encode(s);

test('an instance.xml becomes user data, metadata, key and password payloads', () => {
  const instance = parseInstance(readFileSync(fixture, 'utf8'), { file: fixture });
  const input = kvpInputFromInstance(instance);
  assert.deepEqual(input, {
    instanceId: 'i-4b1d2c3e',
    uuid: '9b3c8f0e-6a2b-4a8e-9d41-0c5f5c2b7e11',
    hostname: 'euca-10-0-0-7.eucalyptus.internal',
    userData: utf8('#cloud-config\npackages: [nginx]\n'),
    publicKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF3lcw0Qm9A admin@euca'],
    password: 's3cr<et',
    metadata: { role: 'web', zone: 'é-1' },
  });
  const records = kvpItemsFromInput(input);
  assert.deepEqual(
    records.map((r) => r.key),
    ['euca.user-data.0', 'euca.meta-data.0', 'euca.public-keys.0', 'euca.password.0'],
  );
  const pool = decodePool(kvpPoolFromInput(input), { fatal: true }).records;
  assert.equal(reassemble(pool, 'euca.user-data'), '#cloud-config\npackages: [nginx]\n');
  assert.deepEqual(JSON.parse(reassemble(pool, 'euca.meta-data')!), {
    'instance-id': 'i-4b1d2c3e',
    uuid: '9b3c8f0e-6a2b-4a8e-9d41-0c5f5c2b7e11',
    hostname: 'euca-10-0-0-7.eucalyptus.internal',
    role: 'web',
    zone: 'é-1',
  });
  assert.equal(reassemble(pool, 'euca.public-keys'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF3lcw0Qm9A admin@euca\n');
  assert.equal(reassemble(pool, 'euca.password'), 's3cr<et');
  // The same items go into one AddKvpItems call.
  assert.match(renderAddKvpItemsEnvelope({ host: 'HV', vmName: 'GUID', items: records }), /euca\.password\.0/);
});

test('large text user data is chunked at 990 bytes and reassembles', () => {
  const text = '#!/bin/sh\n' + 'echo "ünïcödé 😀"\n'.repeat(400);
  const records = kvpItemsFromInput({ userData: utf8(text) });
  assert.ok(records.length > 5);
  assert.ok(records.every((r) => Buffer.byteLength(r.value) <= 990));
  assert.equal(reassemble(decodePool(kvpPoolFromInput({ userData: utf8(text) })).records, 'euca.user-data'), text);
});

test('binary user data travels as base64 with an encoding flag', () => {
  const bytes = new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x01]);
  const records = kvpItemsFromInput({ userData: bytes });
  assert.deepEqual(records, [
    { key: 'euca.user-data.0', value: Buffer.from(bytes).toString('base64') },
    { key: 'euca.user-data.encoding', value: 'base64' },
  ]);
  // Valid UTF-8 holding a control character XML cannot carry is binary too.
  assert.equal(kvpItemsFromInput({ userData: utf8('a\u0007b') })[1]?.key, 'euca.user-data.encoding');
  assert.throws(() => kvpItemsFromInput({ userData: bytes }, { ignition: 'always' }), KvpError);
});

test('an Ignition config is also published as ignition.config; the CloudStack key on request', () => {
  const ign = '{"ignition":{"version":"3.4.0"}}';
  const records = kvpItemsFromInput({ userData: utf8(ign) }, { cloudstack: ' template=domP type=router name=r-4-VM' });
  assert.deepEqual(records, [
    { key: 'euca.user-data.0', value: ign },
    { key: 'ignition.config.0', value: ign },
    { key: 'cloudstack-vm-userdata', value: ' template=domP type=router name=r-4-VM' },
  ]);
  assert.deepEqual(kvpItemsFromInput({ userData: utf8(ign) }, { ignition: 'never', form: 'auto', prefix: 'df' }), [{ key: 'df.user-data', value: ign }]);
  assert.equal(kvpItemsFromInput({ userData: utf8('x') }, { cloudstack: true }).at(-1)?.value, 'x');
  assert.throws(
    () => kvpItemsFromInput({ userData: utf8('x'.repeat(1024)) }, { cloudstack: true }),
    (e: unknown) => e instanceof KvpLimitError && e.key === 'cloudstack-vm-userdata',
  );
});

test('empty input gives no items and an empty pool; bad keys and base64 are refused', () => {
  assert.deepEqual(kvpItemsFromInput({ userData: new Uint8Array(0), publicKeys: ['  '] }), []);
  assert.equal(kvpPoolFromInput({}).length, 0);
  assert.throws(() => kvpItemsFromInput({ publicKeys: ['ssh-rsa A\nssh-rsa B'] }), /public key 1 spans several lines/);
  // Named by its place in the caller's list, blank entries included.
  assert.throws(() => kvpItemsFromInput({ publicKeys: [' ', 'ssh-rsa A\rssh-rsa B'] }), (e: unknown) => e instanceof KvpError && e.path === '/publicKeys/1' && /public key 2 spans/.test(e.message));
  // The instance parser refuses bad base64 already; decodeUserData checks again for other callers.
  assert.throws(() => decodeUserData('not base64!'), (e: unknown) => e instanceof KvpError && e.path === '/instance/userData');
  assert.deepEqual(decodeUserData(' aGk=\n'), utf8('hi'));
});

test('an sshKey attribute holding several keys, one a line, gives one public key each', () => {
  const instance = parseInstance(readFileSync(fixture, 'utf8'), { file: fixture });
  const two = { ...instance, key: { ...instance.key, sshKey: 'ssh-ed25519 AAAA one@x\r\nssh-rsa BBBB two@y\n\n' } };
  const input = kvpInputFromInstance(two);
  assert.deepEqual(input.publicKeys, ['ssh-ed25519 AAAA one@x', 'ssh-rsa BBBB two@y']);
  const pool = decodePool(kvpPoolFromInput(input), { fatal: true }).records;
  assert.equal(reassemble(pool, 'euca.public-keys'), 'ssh-ed25519 AAAA one@x\nssh-rsa BBBB two@y\n');
});

test('metadata items cannot replace instance-id, uuid or hostname in euca.meta-data', () => {
  for (const name of ['instance-id', 'uuid', 'hostname']) {
    assert.throws(
      () => kvpItemsFromInput({ instanceId: 'i-1', uuid: 'u', hostname: 'h', metadata: { role: 'web', [name]: 'spoofed' } }),
      (e: unknown) => e instanceof KvpError && e.path === `/metadata/${name}` && /would replace the built-in/.test((e as Error).message),
    );
  }
  // Without the built-in value the name is still reserved.
  assert.throws(() => kvpItemsFromInput({ metadata: { 'instance-id': 'x' } }), KvpError);
  const records = kvpItemsFromInput({ instanceId: 'i-1', metadata: { role: 'web' } });
  assert.deepEqual(JSON.parse(reassemble(records, 'euca.meta-data')!), { 'instance-id': 'i-1', role: 'web' });
});

test('metadata keys that are names of Object.prototype members are written like any other key', () => {
  const pairs: [string, string][] = [['toString', 'a'], ['constructor', 'b'], ['hasOwnProperty', 'c'], ['__proto__', 'd']];
  const fromPairs = kvpItemsFromInput({ instanceId: 'i-1', metadata: Object.fromEntries(pairs) });
  assert.equal(reassemble(fromPairs, 'euca.meta-data'), '{"instance-id":"i-1","toString":"a","constructor":"b","hasOwnProperty":"c","__proto__":"d"}');
  // From instance.xml, through the instance's ordered pairs.
  const text = readFileSync(fixture, 'utf8').replace('<item key="zone">', pairs.map(([k, v]) => `<item key="${k}">${v}</item>\n    `).join('') + '<item key="zone">');
  const items = kvpItemsFromInstance(parseInstance(text, { file: 'i.xml' }));
  // JSON.parse makes an own `__proto__` property, as a guest's JSON reader does.
  const meta = JSON.parse(reassemble(items, 'euca.meta-data')!) as Record<string, unknown>;
  for (const [k, v] of pairs) assert.equal(Object.getOwnPropertyDescriptor(meta, k)?.value, v, k);
});

test('kvpItemsFromInstance: a refusal names the file, line and path of the field it comes from, the typed error as its cause', () => {
  const text = readFileSync(fixture, 'utf8').replace('<item key="zone">', '<item key="uuid">x</item>\n    <item key="zone">');
  const lineOf = (needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;
  const instance = parseInstance(text, { file: 'i.xml' });
  assert.throws(
    () => kvpItemsFromInstance(instance),
    (e: unknown) =>
      e instanceof KvpError && e.file === 'i.xml' && e.line === lineOf('<item key="uuid">') && e.column === 5 && e.path === '/instance/metadata/item[2]/@key' &&
      (e.cause as KvpError).path === '/metadata/uuid',
  );
  // User data: not text when text is asked for, and too long for the single CloudStack key.
  const ok = parseInstance(readFileSync(fixture, 'utf8'), { file: 'i.xml' });
  const userData = readFileSync(fixture, 'utf8').split('\n').findIndex((l) => l.includes('<userData>')) + 1;
  const binary = parseInstance(readFileSync(fixture, 'utf8').replace(/<userData>[^<]*</, '<userData>//4AAQ==<'), { file: 'i.xml' });
  for (const options of [{ ignition: 'always' as const }, { cloudstack: true }]) {
    assert.throws(() => kvpItemsFromInstance(binary, options), (e: unknown) => e instanceof KvpError && e.line === userData && e.path === '/instance/userData' && /not UTF-8 text/.test(e.message));
  }
  const long = parseInstance(readFileSync(fixture, 'utf8').replace(/<userData>[^<]*</, `<userData>${Buffer.from('é'.repeat(1100)).toString('base64')}<`), { file: 'i.xml' });
  assert.throws(
    () => kvpItemsFromInstance(long, { cloudstack: true }),
    (e: unknown) => e instanceof KvpError && e.line === userData && e.path === '/instance/userData' && e.cause instanceof KvpLimitError && e.cause.key === 'cloudstack-vm-userdata',
  );
  // The same value given as the option is the option's problem, not the instance's: thrown as it is.
  assert.throws(() => kvpItemsFromInstance(ok, { cloudstack: 'x'.repeat(1024) }), (e: unknown) => e instanceof KvpLimitError && e.file === undefined && e.path === undefined);
  assert.equal(kvpItemsFromInstance(ok).length, 4);
});

test('kvpItemsFromInstance: a copy made in code names the field alone; the parsed object changed in place keeps its file\'s lines', () => {
  const text = readFileSync(fixture, 'utf8');
  const lineOf = (needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;
  const parsed = parseInstance(text, { file: 'i.xml' });
  const copy = { ...parsed, metadata: [['hostname', 'h'] as [string, string]] };
  assert.throws(() => kvpItemsFromInstance(copy), (e: unknown) => e instanceof KvpError && e.file === undefined && e.line === undefined && e.path === '/instance/metadata/item[1]/@key');
  // Values neither XML nor JSON can carry only reach KVP from code: named by the field of their payload.
  for (const [field, change, path, line] of [
    ['password', { password: 'a\u0000b' }, '/instance/password', lineOf('<password>')],
    ['key', { key: { doInjectKey: true, sshKey: 'ssh-rsa A\u0000' } }, '/instance/key/@sshKey', lineOf('<key ')],
  ] as const) {
    assert.throws(() => kvpItemsFromInstance({ ...parsed, ...change }), (e: unknown) => e instanceof KvpError && e.file === undefined && e.path === path && e.cause instanceof KvpCharacterError, field);
    const inPlace = parseInstance(text, { file: 'i.xml' });
    Object.assign(inPlace, change);
    assert.throws(() => kvpItemsFromInstance(inPlace), (e: unknown) => e instanceof KvpError && e.file === 'i.xml' && e.line === line && e.path === path, field);
  }
});

test('kvpItemsFromInstance: a metadata key given twice (only an Instance changed in code has one) is refused at the second item', () => {
  const text = readFileSync(fixture, 'utf8');
  const parsed = parseInstance(text, { file: 'i.xml' });
  const [first] = parsed.metadata;
  const twice: [string, string][] = [...parsed.metadata, [first![0], 'other']];
  const n = twice.length;
  const path = `/instance/metadata/item[${n}]/@key`;
  assert.throws(() => kvpItemsFromInstance({ ...parsed, metadata: twice }), (e: unknown) => e instanceof KvpError && e.file === undefined && e.path === path && /is given twice \(first at \/instance\/metadata\/item\[1\]\/@key\)/.test(e.message));
  // Changed in place: at the line of <metadata> (the file has no item N), the path of the second item.
  Object.assign(parsed, { metadata: twice });
  assert.throws(() => kvpItemsFromInstance(parsed), (e: unknown) => e instanceof KvpError && e.file === 'i.xml' && e.line === text.slice(0, text.indexOf('<metadata>')).split('\n').length && e.path === path);
  assert.throws(() => kvpInputFromInstance(parsed), (e: unknown) => e instanceof KvpError && e.path === path);
});
