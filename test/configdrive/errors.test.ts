import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ConfigDriveOptions } from '../../engine/configdrive/build.js';
import type { ConfigDriveInput } from '../../engine/configdrive/input.js';
import { writeConfigDrive } from '../../engine/configdrive/write.js';
import { ConfigDriveError, DomforgeError, IoError, UsageError } from '../../engine/errors.js';
import { sampleInputs, sha256, tempDir } from './helpers.js';

const tmp = tempDir();
after(() => tmp.cleanup());
const good = sampleInputs()[0].input;
let n = 0;

/** Writes into a fresh, empty folder, expects the error, and checks the folder is still empty. */
async function rejects(input: ConfigDriveInput, options: ConfigDriveOptions, kind: new (...args: never[]) => DomforgeError, message: RegExp, path?: string) {
  const dir = join(tmp.dir, `case-${n++}`);
  mkdirSync(dir);
  await assert.rejects(writeConfigDrive(join(dir, 'config.iso'), input, options), (e: unknown) => {
    assert.ok(e instanceof kind, `expected ${kind.name}, got ${String(e)}`);
    assert.match((e as Error).message, message);
    if (path !== undefined) assert.equal((e as DomforgeError).path, path);
    return true;
  });
  assert.deepEqual(readdirSync(dir), [], 'no image and no temporary file left behind');
}

test('user data over the default 64 KiB cap', async () => {
  await rejects({ ...good, userData: new Uint8Array(64 * 1024 + 1) }, {}, ConfigDriveError, /user data is 65537 bytes once decoded, over the 65536-byte cap/, '/userData');
});

test('the user data cap is configurable both ways', async () => {
  await rejects({ ...good, userData: new Uint8Array(11) }, { maxUserDataBytes: 10 }, ConfigDriveError, /over the 10-byte cap/);
  const drive = await writeConfigDrive(join(tmp.dir, 'big.iso'), { ...good, userData: new Uint8Array(200 * 1024).fill(1) }, { maxUserDataBytes: 1024 * 1024 });
  assert.ok(drive.image.length > 200 * 1024);
});

test('a cap that is not a whole number of bytes is refused, not taken as no cap (NaN compares false with every size)', async () => {
  for (const [options, name, shown] of [
    [{ maxUserDataBytes: NaN }, 'maxUserDataBytes', '`NaN` (number)'],
    [{ maxUserDataBytes: -1 }, 'maxUserDataBytes', '`-1` (number)'],
    [{ maxImageBytes: Infinity }, 'maxImageBytes', '`Infinity` (number)'],
    [{ maxImageBytes: 0 }, 'maxImageBytes', '`0` (number)'],
    [{ maxImageBytes: '1000' as unknown as number }, 'maxImageBytes', '`1000` (string)'],
  ] as const) {
    const min = name === 'maxImageBytes' ? 'a positive' : 'a non-negative';
    await rejects({ ...good, userData: new Uint8Array(100 * 1024) }, options, UsageError, new RegExp(`^Expected \`${name}\` to be ${min} integer, got ${shown.replace(/[()]/g, '\\$&')}$`));
  }
});

test('file names that are not portable', async () => {
  for (const bad of ['bad name', 'café', '../escape', 'a/b', 'x'.repeat(61), 'semi;colon']) {
    await rejects({ ...good, cloudstack: { extra: { [bad]: 'v' } } }, {}, ConfigDriveError, /is not portable: use 1 to 64 of A-Z a-z 0-9 \. _ -/);
  }
});

test('a name ending in a dot, which Windows and 7-Zip read without it (so `a.` would replace `a`)', async () => {
  const { buildIsoImage } = await import('../../engine/configdrive/iso9660.js');
  const data = new TextEncoder().encode('x');
  for (const [files, bad] of [
    [[{ path: 'd/a.', data }, { path: 'd/a', data }], 'a.'],
    [[{ path: 'e/readme.', data }], 'readme.'],
    [[{ path: 'trailing./f', data }], 'trailing.'],
    [[{ path: 'f/..', data }], '..'],
  ] as const) {
    assert.throws(() => buildIsoImage(files, { timestamp: 0 }), (e: unknown) => {
      assert.ok(e instanceof ConfigDriveError, String(e));
      assert.match(e.shortMessage, new RegExp(`^file name "${bad.replace(/\./g, '\\.')}" in ".*" is not portable: use 1 to 64 of A-Z a-z 0-9 \\. _ -, not ending in \\. \\(Windows drops a trailing dot\\)$`));
      return true;
    }, bad);
  }
});

test('names that differ only in case', async () => {
  await rejects({ ...good, cloudstack: { extra: { 'Cloud': 'a', 'cloud': 'b' } } }, { layouts: ['cloudstack'] }, ConfigDriveError, /differs only in case/);
});

test('NUL bytes anywhere in metadata', async () => {
  await rejects({ ...good, meta: { role: 'web\0server' } }, {}, ConfigDriveError, /metadata value at \/meta\/role contains a NUL byte \(offset 3\)/, '/meta/role');
  await rejects({ ...good, hostname: 'host\0' }, {}, ConfigDriveError, /NUL byte/, '/hostname');
  await rejects({ ...good, password: '\0' }, {}, ConfigDriveError, /NUL byte/, '/password');
  await rejects({ ...good, meta: { 'k\0': 'v' } }, {}, ConfigDriveError, /NUL byte/);
  await rejects({ ...good, publicKeys: [{ name: 'k', data: 'ssh-rsa A\0' }] }, {}, ConfigDriveError, /NUL byte/, '/publicKeys/0/data');
});

test('an output folder that does not exist', async () => {
  const missing = join(tmp.dir, 'no-such-folder');
  await assert.rejects(writeConfigDrive(join(missing, 'config.iso'), good), (e: unknown) => {
    assert.ok(e instanceof IoError);
    assert.match((e as Error).message, /folder .*no-such-folder does not exist/);
    return true;
  });
  assert.ok(!readdirSync(tmp.dir).includes('no-such-folder'));
});

test('a folder where the image should go is named as one, once, and no temporary file is left beside it', async () => {
  const dir = join(tmp.dir, 'out-is-a-folder');
  mkdirSync(join(dir, 'config.iso'), { recursive: true });
  await assert.rejects(writeConfigDrive(join(dir, 'config.iso'), good), (e: unknown) => {
    assert.ok(e instanceof IoError);
    assert.equal((e as IoError).shortMessage, `cannot write ${join(dir, 'config.iso')}: it is a folder, not a regular file`);
    return true;
  });
  assert.deepEqual(readdirSync(dir), ['config.iso']);
});

test('an image over the size cap', async () => {
  await rejects(good, { maxImageBytes: 64 * 1024 }, ConfigDriveError, /config drive would be \d+ bytes, over the 65536-byte image cap \(maxImageBytes, or --max-image on the CLI\); shrink the user data or files$/, 'maxImageBytes');
});

test('bad labels, required fields, MACs and timestamps', async () => {
  await rejects(good, { label: 'has space' }, ConfigDriveError, /volume label "has space" must be 1 to 32/);
  await rejects(good, { label: 'x'.repeat(33) }, ConfigDriveError, /volume label/);
  await rejects({ ...good, uuid: '' }, {}, ConfigDriveError, /non-empty `uuid`/, '/uuid');
  await rejects({ ...good, networks: [{ mac: '52:54:00:12:34' }] }, {}, ConfigDriveError, /NIC 0 has MAC address/, '/networks/0/mac');
  await rejects({ ...good, timestamp: 1.5 }, {}, ConfigDriveError, /`timestamp` must be whole seconds/);
  await rejects({ ...good, launchIndex: -1 }, {}, ConfigDriveError, /`launchIndex` must be a non-negative integer/);
  // NaN and Infinity are said as such, not as JSON's `null`.
  await rejects({ ...good, timestamp: NaN }, {}, ConfigDriveError, /`timestamp` must be whole seconds since 1970 before the year 2100, got NaN/);
  await rejects({ ...good, launchIndex: Infinity }, {}, ConfigDriveError, /`launchIndex` must be a non-negative integer, got Infinity/);
  await rejects({ ...good, networks: [{ ...good.networks![0]!, mtu: NaN }] }, {}, ConfigDriveError, /NIC 0 has MTU NaN; expected an integer from 68 to 65535/, '/networks/0/mtu');
  await rejects({ ...good, networks: [{ ...good.networks![0]!, mtu: '1500' as never }] }, {}, ConfigDriveError, /NIC 0 has MTU "1500"; expected an integer/, '/networks/0/mtu');
});

test('a NIC or a public key that is not an object (a JavaScript caller) is refused at its path, not thrown as a bare TypeError', async () => {
  await rejects({ ...good, networks: [null as never] }, {}, ConfigDriveError, /^NIC 0 is null; expected an object with a `mac` \(at \/networks\/0\)$/, '/networks/0');
  await rejects({ ...good, networks: [good.networks![0]!, '52:54:00:12:34:57' as never] }, {}, ConfigDriveError, /^NIC 1 is "52:54:00:12:34:57"; expected an object/, '/networks/1');
  await rejects({ ...good, publicKeys: [null as never] }, {}, ConfigDriveError, /^public key 0 needs a non-empty name and data \(at \/publicKeys\/0\)$/, '/publicKeys/0');
});

test('a failed rebuild leaves the previous image untouched', async () => {
  const dir = join(tmp.dir, 'rebuild');
  mkdirSync(dir);
  const out = join(dir, 'config.iso');
  const first = await writeConfigDrive(out, good);
  await assert.rejects(writeConfigDrive(out, { ...good, userData: new Uint8Array(70_000) }), ConfigDriveError);
  assert.equal(sha256(readFileSync(out)), sha256(first.image));
  assert.deepEqual(readdirSync(dir), ['config.iso']);
});

test('a write that fails at rename removes its temporary file', async () => {
  const dir = join(tmp.dir, 'rename');
  mkdirSync(join(dir, 'config.iso'), { recursive: true }); // the target is a folder: rename fails
  await assert.rejects(writeConfigDrive(join(dir, 'config.iso'), good), IoError);
  assert.deepEqual(readdirSync(dir), ['config.iso']);
  assert.deepEqual(readdirSync(join(dir, 'config.iso')), []);
});

test('two public keys of the same name (OpenStack would keep only one)', async () => {
  const keys = [
    { name: 'a', data: 'ssh-ed25519 AAAA one' },
    { name: 'a', data: 'ssh-ed25519 AAAA two' },
  ];
  await rejects({ ...good, publicKeys: keys }, {}, ConfigDriveError, /public keys 0 and 1 are both named "a"/, '/publicKeys/1/name');
});

test('lone UTF-16 surrogates anywhere in metadata (no UTF-8 form)', async () => {
  await rejects({ ...good, hostname: 'host-\ud800-x' }, {}, ConfigDriveError, /\/hostname contains a lone UTF-16 surrogate \(U\+D800 at offset 5\)/, '/hostname');
  await rejects({ ...good, meta: { role: 'web\udc00' } }, {}, ConfigDriveError, /lone UTF-16 surrogate \(U\+DC00/, '/meta/role');
  await rejects({ ...good, meta: { ['k\ud83d']: 'v' } }, {}, ConfigDriveError, /lone UTF-16 surrogate/, '/meta/k\ufffd');
  // A pair is a character like any other.
  const drive = await writeConfigDrive(join(tmp.dir, 'emoji.iso'), { ...good, hostname: 'host-\ud83d\ude00' });
  assert.ok(drive.image.length > 0);
});

test('vendorData that is not JSON data is refused at its path, not thrown as a bare TypeError or written as an empty vendor_data.json cloud-init refuses', async () => {
  const cycle: Record<string, unknown> = { a: 1 };
  cycle.self = cycle;
  for (const [vendorData, path, what] of [
    [{ big: 1n }, '/vendorData/big', 'a bigint'],
    [cycle, '/vendorData/self', 'the object that holds it (a cycle)'],
    [() => 1, '/vendorData', 'a function'],
    [Symbol('s'), '/vendorData', 'a symbol'],
    [{ n: [1, NaN] }, '/vendorData/n/1', 'NaN, which JSON cannot write'],
    [{ when: new Date(0) }, '/vendorData/when', 'a Date object'],
    [new Map([['k', 'v']]), '/vendorData', 'a Map object'],
    [[undefined], '/vendorData/0', 'undefined, which JSON writes as null in a list'],
  ] as const) {
    await rejects({ ...good, vendorData }, {}, ConfigDriveError, new RegExp(`^vendorData must be JSON data .*, but at ${path} it is ${what.replace(/[()]/g, '\\$&')}$`), path);
  }
  // JSON data is written as JSON.stringify writes it: a member that is undefined left out, a value met twice (not a cycle) written twice.
  const shared = { x: [true, null, 'é'] };
  const drive = await writeConfigDrive(join(tmp.dir, 'vendor.iso'), { ...good, vendorData: { a: shared, b: shared, gone: undefined, bare: Object.assign(Object.create(null), { k: 1 }) } });
  const file = drive.files.find((f) => f.path === 'openstack/latest/vendor_data.json')!;
  assert.deepEqual(JSON.parse(Buffer.from(file.data).toString('utf8')), { a: shared, b: shared, bare: { k: 1 } });
});

test('a bad --label is a usage error (exit 2), like a bad --layout', async () => {
  const { runCli } = await import('../../engine/cli/main.js');
  const { commands } = await import('../../engine/cli/commands.js');
  const { registerConfigDrive } = await import('../../engine/cli/configdrive.js');
  if (!commands.includes(registerConfigDrive)) commands.push(registerConfigDrive);
  const { writeFileSync } = await import('node:fs');
  const fixture = new URL('../../../test/configdrive/fixtures/instance.xml', import.meta.url).pathname;
  const dir = join(tmp.dir, 'label-cli');
  mkdirSync(dir);
  const xml = join(dir, 'instance.xml');
  writeFileSync(xml, readFileSync(fixture));
  let err = '';
  const io = { stdout: () => undefined, stderr: (t: string) => void (err += t) };
  assert.equal(await runCli(['node', 'domforge', 'configdrive', '--instance', xml, '--out', join(dir, 'x.iso'), '--label', 'has space'], io), 2);
  assert.match(err, /volume label "has space" must be 1 to 32/);
  assert.deepEqual(readdirSync(dir), ['instance.xml']);
});
