import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { registerConfigDrive } from '../../engine/cli/configdrive.js';
import { commands } from '../../engine/cli/commands.js';
import type { CliIo } from '../../engine/cli/io.js';
import { runCli } from '../../engine/cli/main.js';
import { configDriveInputFromInstance, configDriveOptionsFromInstance, decodeUserData } from '../../engine/configdrive/from-instance.js';
import { parseInstance } from '../../engine/instance/parse.js';
import { ConfigDriveError, DomforgeError } from '../../engine/errors.js';
import { cloudInitRead, extract, sha256, skipUnless, tempDir, xorrisoFind } from './helpers.js';

const tmp = tempDir();
after(() => tmp.cleanup());
const FIXTURE = fileURLToPath(new URL('../../../test/configdrive/fixtures/instance.xml', import.meta.url));
const fixtureText = readFileSync(FIXTURE, 'utf8');

/** User data with non-ASCII and binary bytes, as instance.xml carries it: base64. */
const USER_DATA = Buffer.concat([Buffer.from('#!/bin/sh\necho "héllo wörld"\n', 'utf8'), Buffer.from([0, 1, 2, 0xfe, 0xff])]);

function fixture(userData = USER_DATA.toString('base64')): string {
  return fixtureText.replace('<userData/>', `<userData>${userData}</userData>`);
}

test('an instance maps to the drive input', () => {
  const input = configDriveInputFromInstance(parseInstance(fixture()));
  assert.equal(input.uuid, '6f1c2d0e-8d6b-4b1e-9a57-1a2b3c4d5e06');
  assert.equal(input.name, 'i-4e7a1206');
  assert.equal(input.hostname, 'euca-172-31-0-16.eucalyptus.internal');
  assert.deepEqual(Buffer.from(input.userData!), USER_DATA);
  assert.deepEqual(input.publicKeys, [{ name: 'key', type: 'ssh', data: 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7examplekey admin@euca' }]);
  assert.equal(input.password, 's3cr3t-Pässword');
  assert.equal(input.availabilityZone, 'zone-a');
  assert.deepEqual(input.meta, { role: 'webserver', essential: 'false' });
  assert.equal(input.timestamp, 1700000000);
  assert.deepEqual(input.networks, [
    { mac: 'd0:0d:4e:7a:12:06', ip: '172.31.0.16', bridge: 'br-vpc0' },
    { mac: 'd0:0d:4e:7a:12:07', ip: '172.31.1.16', bridge: 'br-vpc0' },
  ]);
  assert.equal(input.cloudstack?.publicIp, '10.111.5.16');
  assert.deepEqual(configDriveOptionsFromInstance(parseInstance(fixture())), { label: 'config-2', layouts: ['openstack', 'ec2', 'cloudstack'] });
});

test('hostname falls back to dnsName, then the instance id; empty user data is none', () => {
  const noPrivate = fixture('').replace(/<privateDnsName>[^<]*<\/privateDnsName>/, '<privateDnsName/>');
  assert.equal(configDriveInputFromInstance(parseInstance(noPrivate)).hostname, 'euca-10-111-5-16.eucalyptus.cloud.example.com');
  const neither = noPrivate.replace(/<dnsName>[^<]*<\/dnsName>/, '<dnsName/>');
  const input = configDriveInputFromInstance(parseInstance(neither));
  assert.equal(input.hostname, 'i-4e7a1206');
  assert.equal(input.userData, undefined);
});

test('user data must be real base64', () => {
  assert.deepEqual(Buffer.from(decodeUserData('aGlo\n  aGk=')!), Buffer.from('hihhi'));
  assert.throws(() => decodeUserData('not base64!'), (e: unknown) => {
    assert.ok(e instanceof ConfigDriveError);
    assert.equal(e.path, '/instance/userData');
    return true;
  });
  // The instance parser already refuses it, with the line: either way the admin learns where.
  assert.throws(() => configDriveInputFromInstance(parseInstance(fixture('not base64!'))), (e: unknown) => {
    assert.ok(e instanceof DomforgeError);
    assert.equal(e.path, '/instance/userData');
    return true;
  });
});

test('megabytes of user data reach the drive input through instance.xml', () => {
  // 4 MiB: past the ~3.2 MiB at which a backtracking base64 check overflowed the stack.
  const big = Buffer.alloc(4 << 20, 0xa5);
  const input = configDriveInputFromInstance(parseInstance(fixture(big.toString('base64').replace(/.{76}/g, '$&\n'))));
  assert.deepEqual(Buffer.from(input.userData!), big);
});

function captureIo(): CliIo & { out: string; err: string } {
  const io = { out: '', err: '', stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  return io;
}
if (!commands.includes(registerConfigDrive)) commands.push(registerConfigDrive);

test('domforge configdrive writes a drive cloud-init reads', { skip: skipUnless('xorriso', 'cloud-init') }, async () => {
  const xml = join(tmp.dir, 'instance.xml');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(xml, fixture());
  const out = join(tmp.dir, 'config.iso');
  const io = captureIo();
  const code = await runCli(['node', 'domforge', 'configdrive', '--instance', xml, '--out', out, '--json'], io);
  assert.equal(code, 0, io.err);
  const summary = JSON.parse(io.out);
  assert.equal(summary.sha256, sha256(readFileSync(out)));
  assert.equal(statSync(out).mode & 0o777, 0o600);
  const dest = join(tmp.dir, 'cli-x');
  extract(out, dest);
  const r = cloudInitRead(dest);
  assert.equal(r.instanceId, '6f1c2d0e-8d6b-4b1e-9a57-1a2b3c4d5e06');
  assert.equal(r.localHostname, 'euca-172-31-0-16.eucalyptus.internal');
  assert.deepEqual(Buffer.from(r.userdataB64, 'base64'), USER_DATA);
  assert.deepEqual(r.publicKeys, ['ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7examplekey admin@euca']);
  assert.equal(r.adminPass, 's3cr3t-Pässword');

  const again = join(tmp.dir, 'again.iso');
  assert.equal(await runCli(['node', 'domforge', 'configdrive', '--instance', xml, '--out', again], captureIo()), 0);
  assert.equal(sha256(readFileSync(again)), summary.sha256, 'same instance, same bytes');

  const ec2 = join(tmp.dir, 'ec2.iso');
  assert.equal(await runCli(['node', 'domforge', 'configdrive', '--instance', xml, '--out', ec2, '--layout', 'ec2', '--label', 'config'], captureIo()), 0);
  assert.deepEqual(new Set(xorrisoFind(ec2).dirs.map((d) => d.split('/')[0])), new Set(['ec2']));
});

test('domforge configdrive reports bad flags and missing folders', async () => {
  const xml = join(tmp.dir, 'instance-flags.xml');
  const { writeFileSync, readdirSync } = await import('node:fs');
  writeFileSync(xml, fixture());
  let io = captureIo();
  assert.equal(await runCli(['node', 'domforge', 'configdrive', '--instance', xml, '--out', join(tmp.dir, 'x.iso'), '--layout', 'nocloud'], io), 2);
  assert.match(io.err, /unknown config drive layout "nocloud"/);
  io = captureIo();
  assert.equal(await runCli(['node', 'domforge', 'configdrive', '--instance', xml, '--out', join(tmp.dir, 'missing', 'x.iso')], io), 1);
  assert.match(io.err, /missing does not exist/);
  io = captureIo();
  assert.equal(await runCli(['node', 'domforge', 'configdrive', '--instance', xml, '--out', join(tmp.dir, 'y.iso'), '--max-user-data', '4'], io), 1);
  assert.match(io.err, /over the 4-byte cap/);
  assert.ok(!readdirSync(tmp.dir).some((f) => f === 'x.iso' || f === 'y.iso'));
});

test('domforge configdrive takes megabytes of user data when --max-user-data allows it', async () => {
  const { writeFileSync } = await import('node:fs');
  const big = Buffer.alloc(4 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
  const xml = join(tmp.dir, 'instance-big.xml');
  writeFileSync(xml, fixture(big.toString('base64')));
  const out = join(tmp.dir, 'big.iso');
  let io = captureIo();
  assert.equal(await runCli(['node', 'domforge', 'configdrive', '--instance', xml, '--out', out, '--json'], io), 1);
  assert.match(JSON.parse(io.err).error.message, /over the 65536-byte cap/);
  io = captureIo();
  assert.equal(await runCli(['node', 'domforge', 'configdrive', '--instance', xml, '--out', out, '--max-user-data', String(8 << 20), '--json'], io), 0, io.err);
  assert.ok(JSON.parse(io.out).bytes > big.length);
  if (skipUnless('xorriso')) return;
  const dest = join(tmp.dir, 'big-x');
  extract(out, dest);
  assert.deepEqual(readFileSync(join(dest, 'openstack', 'latest', 'user_data')), big);
});
