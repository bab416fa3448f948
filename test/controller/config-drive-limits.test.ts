import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { NodeController, OperationError, type NodeControllerOptions } from '../../engine/controller/index.js';
import { UsageError } from '../../engine/errors.js';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { lifecycleCli } from './cli-program.js';
import { launchFailure, sampleFileUnderFreshId, sandbox, shippedTransform, XSL, type Sandbox } from './fixtures.js';

let conn: LibvirtConnection;
let sb: Sandbox;
let nc: NodeController;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
  sb = await sandbox();
  nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform() });
});
test.after(async () => {
  await nc.close();
  await sb.cleanup();
  await closeConnections();
});

/** A controller on the shared folder and connection with these config-drive caps; closed after `f`. */
async function withLimits<T>(limits: Pick<NodeControllerOptions, 'maxUserDataBytes' | 'maxImageBytes'>, f: (nc: NodeController) => Promise<T>): Promise<T> {
  const own = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), ...limits });
  try {
    return await f(own);
  } finally {
    await own.close();
  }
}

/** 1-based line of the first `needle` in `text`. */
const lineIn = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;

/** Sample 09 (a config drive) as a file of its own, under a fresh id and uuid, with this user data (the sample's own by default). */
function withUserData(name: string, userData?: Buffer) {
  const f = sampleFileUnderFreshId(sb.root, '09-q35-config-drive', name, (t) => (userData ? t.replace(/<userData>[^<]*</, `<userData>${userData.toString('base64')}<`) : t));
  const bytes = Buffer.from(/<userData>([^<]*)</.exec(f.text)![1]!, 'base64');
  return { ...f, userData: bytes, line: lineIn(f.text, '<userData>') };
}

/** Bytes that repeat nowhere within a few KiB, so finding them on the drive means the user data is there whole. */
function patterned(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 8) * 13) & 0xff;
  return b;
}

/** The refusal of a launch that must leave nothing behind: no domain, no folder. */
async function refusedCleanly(e: OperationError, id: string): Promise<void> {
  assert.ok(e instanceof OperationError, String(e));
  assert.equal(e.step, 'config-drive', e.message);
  assert.equal(e.code, 'CONFIG_DRIVE_INVALID');
  assert.equal(e.rolledBack, true);
  assert.equal(await conn.find(id), undefined);
  assert.equal(existsSync(join(sb.instances, id)), false);
}

test('open() refuses a bad maxUserDataBytes or maxImageBytes with a UsageError naming the option, before creating anything', async () => {
  const dir = join(sb.root, 'never-created');
  for (const [option, value, expected] of [
    ['maxUserDataBytes', -1, 'Expected `maxUserDataBytes` to be a non-negative integer, got `-1` (number)'],
    ['maxUserDataBytes', 1.5, 'Expected `maxUserDataBytes` to be a non-negative integer, got `1.5` (number)'],
    ['maxUserDataBytes', NaN, 'Expected `maxUserDataBytes` to be a non-negative integer, got `NaN` (number)'],
    ['maxUserDataBytes', '65536', 'Expected `maxUserDataBytes` to be a non-negative integer, got `65536` (string)'],
    ['maxImageBytes', 0, 'Expected `maxImageBytes` to be a positive integer, got `0` (number)'],
    ['maxImageBytes', Infinity, 'Expected `maxImageBytes` to be a positive integer, got `Infinity` (number)'],
    ['maxImageBytes', 2 ** 53, 'Expected `maxImageBytes` to be a positive integer, got `9007199254740992` (number)'],
    ['maxImageBytes', null, 'Expected `maxImageBytes` to be a positive integer, got `null` (object)'],
  ] as const) {
    await assert.rejects(
      NodeController.open({ instancesDir: dir, connection: conn, [option]: value } as unknown as NodeControllerOptions),
      (e: unknown) => e instanceof UsageError && e.message === expected,
      `${option}: ${String(value)}`,
    );
  }
  assert.equal(existsSync(dir), false);
  // 0 user data bytes is a cap (no user data at all), not a mistake.
  await withLimits({ maxUserDataBytes: 0 }, async () => undefined);
});

test('a launch with user data over a lowered maxUserDataBytes is refused at config-drive, naming the file, line, path and the cap; the default launches it', async () => {
  const { file, id, userData, line } = withUserData('ud-low');
  const cap = userData.length - 1;
  const e = await withLimits({ maxUserDataBytes: cap }, (low) => launchFailure(low, file));
  await refusedCleanly(e, id);
  assert.equal(
    e.message,
    `${file}:${line}:3: launch of ${id} failed at step 'config-drive': user data is ${userData.length} bytes once decoded, over the ${cap}-byte cap (raise maxUserDataBytes, or --max-user-data on the CLI, to allow it) (at /instance/userData)`,
  );
  assert.deepEqual([e.file, e.line, e.column, e.path], [file, line, 3, '/instance/userData']);

  const r = await nc.launch(file);
  assert.equal(r.domain.state, 'running');
  assert.ok(readFileSync(r.configDrive!.path).includes(userData), 'the user data is on the drive');
  await nc.terminate(id);
});

test('a raised maxUserDataBytes lets user data over the default 64 KiB onto the drive', async () => {
  const { file, id, userData } = withUserData('ud-high', patterned(100 * 1024));
  const e = await launchFailure(nc, file);
  await refusedCleanly(e, id);
  assert.match(e.shortMessage, /user data is 102400 bytes once decoded, over the 65536-byte cap/);

  await withLimits({ maxUserDataBytes: 1 << 20 }, async (high) => {
    const r = await high.launch(file);
    assert.equal(r.domain.state, 'running');
    assert.ok(r.configDrive!.bytes > userData.length, String(r.configDrive!.bytes));
    assert.ok(readFileSync(r.configDrive!.path).includes(userData), 'the user data is on the drive whole');
    await high.terminate(id);
  });
});

test('a lowered maxImageBytes refuses a drive the default lets through, naming its largest field and the cap', async () => {
  const { file, id, userData, line } = withUserData('img-low', patterned(60 * 1024));
  const e = await withLimits({ maxImageBytes: 64 * 1024 }, (low) => launchFailure(low, file));
  await refusedCleanly(e, id);
  assert.match(e.shortMessage, new RegExp(`^launch of ${id} failed at step 'config-drive': config drive would be \\d+ bytes, over the 65536-byte image cap \\(maxImageBytes, or --max-image on the CLI\\); its largest field is ${userData.length} bytes$`));
  assert.deepEqual([e.file, e.line, e.column, e.path], [file, line, 3, '/instance/userData']);

  const r = await nc.launch(file);
  assert.ok(r.configDrive!.bytes > 64 * 1024, String(r.configDrive!.bytes));
  await nc.terminate(id);
});

test('a raised maxImageBytes lets a drive over the default 64 MiB through', async () => {
  // No one field can pass 64 MiB (xsltproc refuses a text or an attribute over 10,000,000 bytes): the
  // key is written six times (two meta_data.json, EC2, CloudStack), the password three (see launch.test.ts).
  const key = `ssh-ed25519 ${'A'.repeat(9.5 * 1024 * 1024)}`;
  const { file, id } = sampleFileUnderFreshId(sb.root, '09-q35-config-drive', 'img-high', (t) =>
    t.replace(/sshKey="[^"]*"/, `sshKey="${key}"`).replace('</availabilityZone>', `</availabilityZone>\n  <password>${'p'.repeat(3 << 20)}</password>`),
  );
  await withLimits({ maxImageBytes: 128 << 20 }, async (high) => {
    const r = await high.launch(file);
    assert.equal(r.domain.state, 'running');
    assert.ok(r.configDrive!.bytes > 64 << 20, String(r.configDrive!.bytes));
    await high.terminate(id);
  });
});

test('domforge launch --max-user-data and --max-image: the caps of its config drive; a bad value is a usage error', async () => {
  const cli = (...args: string[]) => lifecycleCli(args, ['--instances', sb.instances, '--uri', 'test:///default', '--transform', XSL]);
  const { file, id, userData, line } = withUserData('cli-low');

  const low = await cli('launch', '--instance', file, '--max-user-data', String(userData.length - 1));
  assert.equal(low.code, 1, low.stderr);
  assert.equal(
    low.stderr.split('\n')[0],
    `domforge: ${file}:${line}:3: launch of ${id} failed at step 'config-drive': user data is ${userData.length} bytes once decoded, over the ${userData.length - 1}-byte cap (raise maxUserDataBytes, or --max-user-data on the CLI, to allow it) (at /instance/userData)`,
  );
  assert.equal(existsSync(join(sb.instances, id)), false);

  const small = await cli('launch', '--instance', file, '--max-image', '4096');
  assert.equal(small.code, 1, small.stderr);
  assert.match(small.stderr, new RegExp(`^domforge: ${file}:\\d+:\\d+: launch of ${id} failed at step 'config-drive': config drive would be \\d+ bytes, over the 4096-byte image cap`));
  assert.equal(existsSync(join(sb.instances, id)), false);

  for (const [flag, value, expected] of [
    ['--max-user-data', '-1', 'Expected `--max-user-data` to be a non-negative integer (bytes), got "-1"'],
    ['--max-user-data', '', '--max-user-data must not be empty'],
    ['--max-user-data', '64k', 'Expected `--max-user-data` to be a non-negative integer (bytes), got "64k"'],
    ['--max-user-data', '1e3', 'Expected `--max-user-data` to be a non-negative integer (bytes), got "1e3"'],
    ['--max-image', '0x400', 'Expected `--max-image` to be a positive integer (bytes), got "0x400"'],
    ['--max-image', '0', 'Expected `--max-image` to be a positive integer (bytes), got "0"'],
    ['--max-image', '9007199254740993', 'Expected `--max-image` to be at most 9007199254740991 bytes (the largest integer domforge reads exactly), got "9007199254740993"'],
  ] as const) {
    const r = await cli('launch', '--instance', file, flag, value);
    assert.equal(r.code, 2, `${flag} ${value}: ${r.stderr}`);
    assert.equal(r.stderr, `domforge: ${expected}\n`);
  }
  assert.deepEqual(readdirSync(sb.instances).filter((d) => d === id), []);

  const ok = await cli('launch', '--instance', file, '--max-user-data', String(userData.length), '--max-image', String(1 << 20));
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^config drive: .*config\.iso \(\d+ bytes\)$/m);
  assert.equal((await cli('terminate', id)).code, 0);
});
