import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { registerConfigDrive } from '../../engine/cli/configdrive.js';
import { commands } from '../../engine/cli/commands.js';
import type { CliIo } from '../../engine/cli/io.js';
import { runCli } from '../../engine/cli/main.js';
import { buildConfigDriveFromInstance, configDriveInputFromInstance, configDriveOptionsFromInstance, decodeUserData } from '../../engine/configdrive/from-instance.js';
import { parseInstance } from '../../engine/instance/parse.js';
import type { Instance } from '../../engine/instance/model.js';
import { ConfigDriveError, DomforgeError, InstanceError } from '../../engine/errors.js';
import { blkid, cloudInitRead, extract, isoinfoDescribe, run, sha256, skipUnless, tempDir, writeBytes, xorrisoFind } from './helpers.js';

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

test('launchTime is decimal seconds (spaces around them allowed); a hex, exponent or binary number is refused, not read as another date', () => {
  const at = (t: string) => fixture().replace('<launchTime>1700000000</launchTime>', `<launchTime>${t}</launchTime>`);
  assert.equal(configDriveInputFromInstance(parseInstance(at('\n  1700000000\n'))).timestamp, 1700000000);
  assert.equal(configDriveInputFromInstance(parseInstance(at(''))).timestamp, 0);
  for (const bad of ['0x10', '1e3', '0b1', '+5', '1_000', 'Infinity']) {
    assert.throws(() => configDriveInputFromInstance(parseInstance(at(bad))), (e: unknown) => {
      assert.ok(e instanceof ConfigDriveError);
      assert.equal(e.path, '/instance/timestamps/launchTime');
      assert.equal(e.shortMessage, `launchTime ${JSON.stringify(bad)} is not whole seconds since 1970`);
      return true;
    }, bad);
  }
});

test('host names written indented in instance.xml reach the guest without the spaces and line breaks around them; one of whitespace only is none', () => {
  const indented = fixture('')
    .replace(/<privateDnsName>([^<]*)<\/privateDnsName>/, '<privateDnsName>\n    $1\n  </privateDnsName>')
    .replace(/<dnsName>([^<]*)<\/dnsName>/, '<dnsName>\n    $1\n  </dnsName>');
  const input = configDriveInputFromInstance(parseInstance(indented));
  assert.equal(input.hostname, 'euca-172-31-0-16.eucalyptus.internal');
  assert.equal(input.cloudstack?.publicHostname, 'euca-10-111-5-16.eucalyptus.cloud.example.com');
  const drive = buildConfigDriveFromInstance(parseInstance(indented));
  const text = (path: string) => Buffer.from(drive.files.find((f) => f.path === path)!.data).toString('utf8');
  assert.equal(JSON.parse(text('openstack/latest/meta_data.json')).hostname, 'euca-172-31-0-16.eucalyptus.internal');
  assert.equal(JSON.parse(text('ec2/latest/meta-data.json'))['local-hostname'], 'euca-172-31-0-16.eucalyptus.internal');
  assert.equal(text('cloudstack/metadata/local-hostname.txt'), 'euca-172-31-0-16.eucalyptus.internal');
  assert.equal(text('cloudstack/metadata/public-hostname.txt'), 'euca-10-111-5-16.eucalyptus.cloud.example.com');
  // Whitespace only: the next field is the host name (before, the drive was refused for an empty host name).
  const blank = fixture('').replace(/<privateDnsName>[^<]*<\/privateDnsName>/, '<privateDnsName>  </privateDnsName>');
  assert.equal(configDriveInputFromInstance(parseInstance(blank)).hostname, 'euca-10-111-5-16.eucalyptus.cloud.example.com');
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

test('/instance/configDrive/@label and --label follow one rule: a "." is a label on both, read back as written by blkid, isoinfo and xorriso; config-2 and CONFIG-2 still are', { skip: skipUnless('blkid', 'isoinfo', 'xorriso') }, async () => {
  const { writeFileSync } = await import('node:fs');
  const xml = join(tmp.dir, 'instance-label.xml');
  writeFileSync(xml, fixture());
  const withLabel = (label: string) => fixture().replace('label="config-2"', `label="${label}"`);
  for (const [i, label] of ['config-2', 'CONFIG-2', 'config', 'cfg.drive-2', '.', 'A'.repeat(28) + '.iso'].entries()) {
    // The launch's path: the instance's own label, parsed, validated and built.
    const fromInstance = join(tmp.dir, `label-${i}-instance.iso`);
    const built = buildConfigDriveFromInstance(parseInstance(withLabel(label), { file: 'i.xml' }));
    assert.equal(built.label, label);
    writeBytes(fromInstance, built.image);
    // The CLI's: the same label given as --label.
    const fromCli = join(tmp.dir, `label-${i}-cli.iso`);
    assert.equal(await runCli(['node', 'domforge', 'configdrive', '--instance', xml, '--out', fromCli, '--label', label], captureIo()), 0, label);
    assert.equal(sha256(readFileSync(fromCli)), sha256(built.image), label);
    assert.equal(blkid(fromCli).LABEL, label);
    assert.ok(isoinfoDescribe(fromCli).split('\n').includes(`Volume id: ${label}`), label);
    assert.match(run('xorriso', ['-indev', fromCli, '-pvd_info']), new RegExp(`^Volume Id +: ${label.replace(/\./g, '\\.')}$`, 'm'));
  }
  // What one path refuses, the other refuses too, in the same words.
  for (const label of ['has space', 'A'.repeat(33), 'caf\u00e9', 'a/b', 'config:2']) {
    let message = '';
    assert.throws(
      () => parseInstance(withLabel(label), { file: 'i.xml' }),
      (e: unknown) => e instanceof InstanceError && e.path === '/instance/configDrive/@label' && e.line === fixtureText.slice(0, fixtureText.indexOf('<configDrive ')).split('\n').length && ((message = e.shortMessage ?? ''), true),
      label,
    );
    const io = captureIo();
    assert.equal(await runCli(['node', 'domforge', 'configdrive', '--instance', xml, '--out', join(tmp.dir, 'refused.iso'), '--label', label], io), 2, label);
    assert.ok(message.startsWith(`volume label ${JSON.stringify(label)} must be 1 to 32 of A-Z a-z 0-9 _ - .`), message);
    assert.ok(io.err.includes(message), `${label}: ${io.err}`);
  }
});

test('domforge configdrive --help gives the defaults the command uses: /instance/configDrive/@layouts and @label before all layouts and config-2', async () => {
  // The fixture's <configDrive> names its label and layouts; without flags they are the drive's.
  const io = captureIo();
  assert.equal(await runCli(['node', 'domforge', 'configdrive', '--help'], io), 0);
  const help = io.out.replace(/\s+/g, ' ');
  assert.match(help, /--layout <list> comma-separated layouts: openstack, ec2, cloudstack \(default: \/instance\/configDrive\/@layouts, else all\)/);
  assert.match(help, /--label <label> volume label \(default: \/instance\/configDrive\/@label, else config-2;/);
  const xml = join(tmp.dir, 'instance-defaults.xml');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(xml, fixture().replace('label="config-2" layouts="openstack,ec2,cloudstack"', 'label="cfg" layouts="ec2"'));
  const out = captureIo();
  assert.equal(await runCli(['node', 'domforge', 'configdrive', '--instance', xml, '--out', join(tmp.dir, 'defaults.iso'), '--json'], out), 0, out.err);
  const summary = JSON.parse(out.out);
  assert.deepEqual([summary.label, summary.layouts], ['cfg', ['ec2']]);
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

test('domforge configdrive: an output that is the --instance file (by --out, through a link, or by /instance/configDrive/@path) is a usage error; the instance is kept', async () => {
  const { mkdirSync, symlinkSync, writeFileSync } = await import('node:fs');
  const d = join(tmp.dir, 'same-file');
  mkdirSync(d);
  const xml = join(d, 'instance.xml');
  symlinkSync(xml, join(d, 'link.xml'));
  const text = fixture();
  for (const out of [xml, join(d, '.', 'instance.xml'), join(d, 'link.xml')]) {
    writeFileSync(xml, text);
    const io = captureIo();
    assert.equal(await runCli(['node', 'domforge', 'configdrive', '--instance', xml, '--out', out], io), 2, io.err);
    assert.equal(io.err, `domforge: --out ${out} is the --instance file itself: the config drive would replace its input; write to another file\n`);
    assert.equal(readFileSync(xml, 'utf8'), text);
  }
  const pointing = text.replace(/<configDrive path="[^"]*"/, `<configDrive path="${xml}"`);
  writeFileSync(xml, pointing);
  const io = captureIo();
  assert.equal(await runCli(['node', 'domforge', 'configdrive', '--instance', xml], io), 2, io.err);
  assert.match(io.err, /^domforge: the config drive path .*instance\.xml \(\/instance\/configDrive\/@path\) is the --instance file itself/);
  assert.equal(readFileSync(xml, 'utf8'), pointing);
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

test('domforge configdrive --max-image caps the image as maxImageBytes does; bad cap values are usage errors', async () => {
  const { writeFileSync, existsSync } = await import('node:fs');
  const text = fixture(Buffer.alloc(40_000, 3).toString('base64'));
  const xml = join(tmp.dir, 'instance-image-cap.xml');
  writeFileSync(xml, text);
  const out = join(tmp.dir, 'image-cap.iso');
  let io = captureIo();
  assert.equal(await runCli(['node', 'domforge', 'configdrive', '--instance', xml, '--out', out, '--max-image', String(32 * 1024)], io), 1);
  assert.match(io.err, new RegExp(`^domforge: ${xml}:${lineIn(text, '<userData>')}:3: config drive would be \\d+ bytes, over the 32768-byte image cap \\(maxImageBytes, or --max-image on the CLI\\); its largest field is 40000 bytes \\(at /instance/userData\\)\n`));
  assert.equal(existsSync(out), false);
  io = captureIo();
  assert.equal(await runCli(['node', 'domforge', 'configdrive', '--instance', xml, '--out', out, '--max-image', String(1 << 20), '--json'], io), 0, io.err);
  assert.ok(JSON.parse(io.out).bytes > 40_000);

  for (const [flag, value, expected] of [
    ['--max-image', '0', 'Expected `--max-image` to be a positive integer (bytes), got "0"'],
    ['--max-image', '1e6', 'Expected `--max-image` to be a positive integer (bytes), got "1e6"'],
    ['--max-user-data', '-4', 'Expected `--max-user-data` to be a non-negative integer (bytes), got "-4"'],
    ['--max-user-data', '0x10', 'Expected `--max-user-data` to be a non-negative integer (bytes), got "0x10"'],
  ] as const) {
    io = captureIo();
    assert.equal(await runCli(['node', 'domforge', 'configdrive', '--instance', xml, '--out', join(tmp.dir, 'never-cap.iso'), flag, value], io), 2, `${flag} ${value}`);
    assert.equal(io.err, `domforge: ${expected}\n`);
  }
  assert.equal(existsSync(join(tmp.dir, 'never-cap.iso')), false);
});

/** 1-based line of the first `needle` in `text`. */
const lineIn = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;

test('domforge configdrive: a refusal of one of the instance\'s fields names the file, the line and column of its element, and its path', async () => {
  const { writeFileSync, existsSync } = await import('node:fs');
  const write = (name: string, text: string) => {
    const file = join(tmp.dir, name);
    writeFileSync(file, text);
    return file;
  };
  const firstLine = (io: { err: string }) => io.err.split('\n')[0];
  const out = join(tmp.dir, 'never-field.iso');

  // A launch index that is not a number: at <launchIndex>.
  const index = fixture().replace('<launchIndex>0</launchIndex>', '<launchIndex>first</launchIndex>');
  const indexFile = write('index.xml', index);
  let io = captureIo();
  assert.equal(await runCli(['node', 'domforge', 'configdrive', '--instance', indexFile, '--out', out], io), 1);
  assert.equal(firstLine(io), `domforge: ${indexFile}:${lineIn(index, '<launchIndex>')}:3: launchIndex "first" is not a non-negative integer (at /instance/launchIndex)`);

  // User data over the cap: at <userData>; the --json error carries the place.
  const okFile = write('ok.xml', fixture());
  io = captureIo();
  assert.equal(await runCli(['node', 'domforge', 'configdrive', '--instance', okFile, '--out', out, '--max-user-data', '4', '--json'], io), 1);
  const error = JSON.parse(io.err).error;
  assert.deepEqual([error.code, error.file, error.line, error.column, error.path], ['CONFIG_DRIVE_INVALID', okFile, lineIn(fixture(), '<userData>'), 3, '/instance/userData']);
  assert.match(error.message, /over the 4-byte cap/);

  // A launch time past 2099: at its element inside <timestamps>.
  const late = fixture().replace('<launchTime>1700000000</launchTime>', '<launchTime>4102444800</launchTime>');
  const lateFile = write('late.xml', late);
  io = captureIo();
  assert.equal(await runCli(['node', 'domforge', 'configdrive', '--instance', lateFile, '--out', out], io), 1);
  assert.equal(
    firstLine(io),
    `domforge: ${lateFile}:${lineIn(late, '<launchTime>')}:5: \`timestamp\` must be whole seconds since 1970 before the year 2100, got 4102444800 (at /instance/timestamps/launchTime)`,
  );

  // A JSON description: at the key of the offending value.
  const json = JSON.stringify(
    { name: 'i-4b1d2c3e', uuid: '9b3c8f0e-6a2b-4a8e-9d41-0c5f5c2b7e11', hypervisor: { type: 'kvm' }, os: { platform: 'linux' }, cores: 2, memoryKB: 1048576, launchIndex: '1.5', metadata: { role: 'web' } },
    null,
    2,
  );
  const jsonFile = write('index.json', json);
  io = captureIo();
  assert.equal(await runCli(['node', 'domforge', 'configdrive', '--instance', jsonFile, '--out', out], io), 1);
  assert.equal(firstLine(io), `domforge: ${jsonFile}:${lineIn(json, '"launchIndex"')}:3: launchIndex "1.5" is not a non-negative integer (at /instance/launchIndex)`);
  assert.equal(existsSync(out), false);
});

test('buildConfigDriveFromInstance: a copy made in code names the field alone; the parsed object changed in place keeps its file\'s lines; options are thrown as they are', () => {
  const text = fixture();
  const parsed = parseInstance(text, { file: 'i.xml' });
  assert.equal(buildConfigDriveFromInstance(parsed).label, 'config-2');
  // Values neither XML nor JSON can carry only reach the drive from code: named by the field they come from.
  for (const [change, path, line] of [
    [{ metadata: [['role', 'web'], ['essential', 'fa\u0000lse']] }, '/instance/metadata/item[2]', lineIn(text, '<item key="essential">')],
    [{ metadata: [['ro\ud800le', 'web']] }, '/instance/metadata/item[1]/@key', lineIn(text, '<item key="role">')],
    [{ privateDnsName: 'host\u0000' }, '/instance/privateDnsName', lineIn(text, '<privateDnsName>')],
    [{ VmType: 't2\u0000' }, '/instance/VmType', lineIn(text, '<VmType>')],
    [{ password: 'a\u0000' }, '/instance/password', lineIn(text, '<password>')],
  ] as const) {
    const what = JSON.stringify(change);
    assert.throws(
      () => buildConfigDriveFromInstance({ ...parsed, ...change } as Instance),
      (e: unknown) => e instanceof ConfigDriveError && e.file === undefined && e.line === undefined && e.path === path && e.cause instanceof ConfigDriveError,
      what,
    );
    const inPlace = parseInstance(text, { file: 'i.xml' });
    Object.assign(inPlace, change);
    assert.throws(() => buildConfigDriveFromInstance(inPlace), (e: unknown) => e instanceof ConfigDriveError && e.file === 'i.xml' && e.line === line && e.path === path, what);
  }
  // A NIC's values: its line, the attribute's path.
  const nic = parseInstance(text, { file: 'i.xml' });
  nic.nics[1]!.bridgeDeviceName = 'br\u0000';
  assert.throws(() => buildConfigDriveFromInstance(nic), (e: unknown) => e instanceof ConfigDriveError && e.line === lineIn(text, 'mac="d0:0d:4e:7a:12:07"') && e.path === '/instance/nics/nic[2]/@bridgeDeviceName');
  // The label of /instance/configDrive is the instance's; one given as an option is the caller's.
  const label = parseInstance(text, { file: 'i.xml' });
  label.configDrive!.label = 'has space';
  assert.throws(() => buildConfigDriveFromInstance(label), (e: unknown) => e instanceof ConfigDriveError && e.line === lineIn(text, '<configDrive ') && e.path === '/instance/configDrive/@label');
  assert.throws(() => buildConfigDriveFromInstance(parsed, { label: 'has space' }), (e: unknown) => e instanceof ConfigDriveError && e.file === undefined && e.path === 'label');
});

test('buildConfigDriveFromInstance: an image over the cap names the file, the line and the path of the field that holds the most bytes', () => {
  const cap = { maxImageBytes: 128 * 1024, maxUserDataBytes: 1 << 20 };
  const refusal = (bytes: number, what = `${bytes} bytes`) => new RegExp(`^config drive would be \\d+ bytes, over the 131072-byte image cap \\(maxImageBytes, or --max-image on the CLI\\); its largest field is ${what}$`);
  const items = (n: number, size: number) => Array.from({ length: n }, (_, i) => `<item key="k${i}">${'v'.repeat(size)}</item>`).join('\n    ');
  for (const [name, text, path, needle, message] of [
    ['user data', fixture(Buffer.alloc(200_000, 7).toString('base64')), '/instance/userData', '<userData>', refusal(200_000)],
    ['ssh key', fixtureText.replace(/sshKey="[^"]*"/, `sshKey="ssh-rsa ${'K'.repeat(60_000)}"`), '/instance/key/@sshKey', '<key ', refusal(60_008)],
    ['one item holding most of the metadata', fixtureText.replace('<item key="essential">false</item>', `<item key="big">${'b'.repeat(150_000)}</item>`), '/instance/metadata/item[2]', '<item key="big">', refusal(150_003)],
    ['many items, none holding most', fixtureText.replace('<item key="essential">false</item>', items(50, 4000)), '/instance/metadata', '<metadata>', refusal(0, `the metadata, \\d+ bytes in 51 items`)],
  ] as const) {
    const parsed = parseInstance(text, { file: 'i.xml' });
    assert.throws(
      () => buildConfigDriveFromInstance(parsed, cap),
      (e: unknown) => {
        assert.ok(e instanceof ConfigDriveError, String(e));
        assert.match(e.shortMessage, message, name);
        assert.deepEqual([e.file, e.line, e.path], ['i.xml', lineIn(text, needle), path], name);
        assert.equal((e.cause as ConfigDriveError).path, 'maxImageBytes');
        return true;
      },
    );
    // A copy made in code: the field alone.
    assert.throws(() => buildConfigDriveFromInstance({ ...parsed }, cap), (e: unknown) => e instanceof ConfigDriveError && e.file === undefined && e.line === undefined && e.path === path, name);
  }
});

test('a metadata key given twice (only an Instance changed in code has one) is refused, not collapsed into the drive\'s meta', () => {
  const text = fixture();
  const parsed = parseInstance(text, { file: 'i.xml' });
  const twice: [string, string][] = [['role', 'webserver'], ['essential', 'false'], ['role', 'db']];
  assert.throws(() => configDriveInputFromInstance({ ...parsed, metadata: twice }), (e: unknown) => e instanceof ConfigDriveError && e.path === '/instance/metadata/item[3]/@key');
  assert.throws(
    () => buildConfigDriveFromInstance({ ...parsed, metadata: twice }),
    (e: unknown) => e instanceof ConfigDriveError && e.file === undefined && e.shortMessage === 'metadata key "role" is given twice (first at /instance/metadata/item[1]/@key); give each item its own key',
  );
  // Changed in place: the second of the file's items names its line.
  Object.assign(parsed, { metadata: [['role', 'webserver'], ['role', 'db']] });
  assert.throws(() => buildConfigDriveFromInstance(parsed), (e: unknown) => e instanceof ConfigDriveError && e.file === 'i.xml' && e.line === lineIn(text, '<item key="essential">') && e.path === '/instance/metadata/item[2]/@key');
});

test('domforge configdrive: a metadata key given twice is refused at the second item\'s line (instance.xml) or key\'s line (JSON); nothing written', async () => {
  const { writeFileSync, existsSync } = await import('node:fs');
  const out = join(tmp.dir, 'never-dup.iso');
  const text = fixture().replace('<item key="essential">false</item>', '<item key="essential">false</item>\n    <item key="role">db</item>');
  const xml = join(tmp.dir, 'dup.xml');
  writeFileSync(xml, text);
  let io = captureIo();
  assert.equal(await runCli(['node', 'domforge', 'configdrive', '--instance', xml, '--out', out], io), 1);
  assert.equal(
    io.err.split('\n')[0],
    `domforge: ${xml}:${lineIn(text, '<item key="role">db')}:5: metadata key "role" is given twice (first at line ${lineIn(text, '<item key="role">')}); give each item its own key (at /instance/metadata/item[3]/@key)`,
  );
  // JSON: a key given twice in the metadata object (JSON.parse would keep the last).
  const json = JSON.stringify({ name: 'i-4b1d2c3e', uuid: '9b3c8f0e-6a2b-4a8e-9d41-0c5f5c2b7e11', hypervisor: { type: 'kvm' }, os: { platform: 'linux' }, cores: 2, memoryKB: 1048576, metadata: { role: 'web', tier: 'x' } }, null, 2).replace(
    '"tier": "x"',
    '"tier": "x",\n    "role": "db"',
  );
  const jsonFile = join(tmp.dir, 'dup.json');
  writeFileSync(jsonFile, json);
  io = captureIo();
  assert.equal(await runCli(['node', 'domforge', 'configdrive', '--instance', jsonFile, '--out', out], io), 1);
  assert.equal(io.err.split('\n')[0], `domforge: ${jsonFile}:${lineIn(json, '"role": "db"')}:5: key "role" is given twice in one object (first at line ${lineIn(json, '"role": "web"')})`);
  assert.equal(existsSync(out), false);
});
