import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseInstance } from '../../engine/instance/index.js';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { parseXml } from '../../engine/xml/parse.js';
import { lifecycleCli } from './cli-program.js';
import { SAMPLES, XSL, sandbox, type Sandbox } from './fixtures.js';

let conn: LibvirtConnection;
let sb: Sandbox;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
  sb = await sandbox();
});
test.after(async () => {
  await sb.cleanup();
  await closeConnections();
});

function cli(...args: string[]) {
  return lifecycleCli(args, ['--instances', sb.instances, '--uri', 'test:///default', '--transform', XSL, '--hooks', sb.hooks]);
}

const ID = 'i-0a000001'; // samples/01-linux-virtio
const dir = () => join(sb.instances, ID);
const launch = async () => assert.equal((await cli('launch', '--instance', join(SAMPLES, '01-linux-virtio', 'instance.xml'))).code, 0);
const liveTargets = async () => [...parseXml(await conn.getXML(ID)).getElementsByTagName('disk')].map((d) => d.getElementsByTagName('target')[0].getAttribute('dev')).sort();
const record = () => parseInstance(readFileSync(join(dir(), 'instance.xml'), 'utf8'));
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A `<volume>` stub as domforge writes it for sample 01 in this test's instances folder (and as Eucalyptus writes one from the same instance). */
function volumeStub(id: string, disk: string, edit: (text: string) => string = (t) => t): string {
  return edit(
    [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<volume>',
      '  <hypervisor type="kvm" capability="hw" bitness="64"/>',
      `  <id>${id}</id>`,
      '  <user>AIDAOPSEXAMPLE</user>',
      `  <instancePath>${dir()}</instancePath>`,
      '  <os platform="linux" virtioRoot="true" virtioDisk="true" virtioNetwork="true"/>',
      '  <backing><root type="image"/></backing>',
      `  ${disk}`,
      '</volume>',
      '',
    ].join('\n'),
  );
}

test('attach-volume --volume vol.xml and detach-volume ID VOLUME_ID, with describe showing the volume', async () => {
  const trace = join(sb.root, 'trace');
  await sb.script(sb.hooks, '10-trace', `echo "$1 $3" >> ${trace}`);
  await launch();
  const before = await liveTargets();
  const text = volumeStub('vol-0a0b0c0d', '<diskPath targetDeviceType="disk" targetDeviceName="sdf" targetDeviceBus="virtio" sourceType="block" serial="vol-0a0b0c0d">/dev/mapper/vol-0a0b0c0d</diskPath>');
  const stub = join(sb.root, 'vol-0a0b0c0d.xml');
  writeFileSync(stub, text);

  const a = await cli('attach-volume', ID, '--volume', stub);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stderr, '', 'a stub written from the instance: nothing to warn about');
  assert.match(a.stdout, /^attached vol-0a0b0c0d to i-0a000001 as sdf \(target vdf\): live and persistent \(redefine-restart, domain restarted\)$/m);
  const printed = a.stdout.slice(a.stdout.indexOf('<disk'));
  assert.match(printed, /<source dev="\/dev\/mapper\/vol-0a0b0c0d"\/>/);
  assert.match(printed, /<serial>vol-0a0b0c0d<\/serial>/);
  assert.deepEqual(await liveTargets(), [...before, 'vdf'].sort());
  assert.equal(await conn.getState(ID), 'running');
  assert.equal(readFileSync(join(dir(), 'vol-0a0b0c0d.xml'), 'utf8'), text, 'the stub domforge renders is the one given');
  assert.equal(readFileSync(join(dir(), 'vol-0a0b0c0d-libvirt.xml'), 'utf8').trim(), printed.trim());
  const [v] = record().volumes;
  assert.deepEqual([v.id, v.devName, v.stateName], ['vol-0a0b0c0d', 'sdf', 'attached']);
  assert.match(v.libvirt ?? '', /<target dev="vdf" bus="virtio"\/>/);

  const d = await cli('describe', ID);
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /^ {2}volume: vol-0a0b0c0d as sdf \(attached\)$/m);

  // The same stub again: refused before libvirt, exit 1 with the reason; --json gives the code.
  const again = await cli('attach-volume', ID, '--volume', stub, '--json');
  assert.equal(again.code, 1);
  const err = JSON.parse(again.stderr).error;
  assert.equal(err.code, 'STATE_CONFLICT');
  assert.match(err.message, /vol-0a0b0c0d is already attached/);

  const t = await cli('detach-volume', ID, 'vol-0a0b0c0d');
  assert.equal(t.code, 0, t.stderr);
  assert.equal(t.stdout, 'detached vol-0a0b0c0d from i-0a000001\n');
  assert.deepEqual(await liveTargets(), before);
  assert.deepEqual(record().volumes, []);
  assert.equal(existsSync(join(dir(), 'vol-0a0b0c0d.xml')), false);
  assert.equal(existsSync(join(dir(), 'vol-0a0b0c0d-libvirt.xml')), false);
  assert.doesNotMatch((await cli('describe', ID)).stdout, /volume:/);
  const xmlPath = join(dir(), 'vol-0a0b0c0d-libvirt.xml');
  assert.deepEqual(readFileSync(trace, 'utf8').trim().split('\n').filter((l) => l.includes('vol-')), [`euca-nc-pre-attach ${xmlPath}`, `euca-nc-post-detach ${xmlPath}`]);

  const gone = await cli('detach-volume', ID, 'vol-0a0b0c0d');
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /i-0a000001 has no volume vol-0a0b0c0d attached/);
  assert.equal((await cli('terminate', ID)).code, 0);
});

test('attach-volume by flags (--volume-id, --dev, --path, --file, --serial, the record-only fields), --json; a reboot keeps it', async () => {
  await launch();
  const before = await liveTargets();
  const image = join(sb.root, 'vol-11111111.img');
  const a = await cli(
    'attach-volume', ID, '--volume-id', 'vol-11111111', '--dev', 'sdg', '--path', image, '--file', '--serial', 'data-1',
    '--attachment-token', 'tok-1', '--connection-string', '{"target":"iqn.2026-11.net.example:vol-11111111"}', '--json',
  );
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stderr, '');
  const r = JSON.parse(a.stdout);
  assert.deepEqual([r.id, r.deviceId, r.change.method, r.change.live, r.change.config, r.warnings], [ID, 'vol-11111111', 'redefine-restart', true, true, []]);
  assert.match(r.deviceXml, /<disk type="file" device="disk">/);
  assert.match(r.deviceXml, new RegExp(`<source file="${escape(image)}"/>`));
  assert.match(r.deviceXml, /<target dev="vdg" bus="virtio"\/>/);
  assert.match(r.deviceXml, /<serial>data-1<\/serial>/);
  assert.deepEqual(await liveTargets(), [...before, 'vdg'].sort());
  const [v] = record().volumes;
  assert.deepEqual([v.id, v.devName, v.attachmentToken, v.connectionString], ['vol-11111111', 'sdg', 'tok-1', '{"target":"iqn.2026-11.net.example:vol-11111111"}']);

  // A reboot starts from the persistent configuration, which has the volume.
  assert.equal((await cli('reboot', ID)).code, 0);
  assert.deepEqual(await liveTargets(), [...before, 'vdg'].sort());

  const t = await cli('detach-volume', ID, 'vol-11111111', '--json');
  assert.equal(t.code, 0, t.stderr);
  const detached = JSON.parse(t.stdout);
  assert.deepEqual([detached.id, detached.deviceId, detached.detachedFromDomain, detached.postDetachFailures], [ID, 'vol-11111111', true, []]);
  assert.deepEqual(await liveTargets(), before);
  assert.equal((await cli('terminate', ID)).code, 0);
});

test('a stub that says more than an attachment takes: attached as the record says, and each difference is a warning at its line', async () => {
  await launch();
  const stub = join(sb.root, 'vol-22222222.xml');
  writeFileSync(
    stub,
    volumeStub('vol-22222222', '<diskPath targetDeviceType="disk" targetDeviceName="sdh" targetDeviceBus="scsi" sourceType="block">/dev/vol2</diskPath>', (t) =>
      t.replace('virtioDisk="true"', 'virtioDisk="false"').replace('</volume>', '  <qos iops="500"/>\n</volume>'),
    ),
  );
  const a = await cli('attach-volume', ID, '--volume', stub);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /^attached vol-22222222 to i-0a000001 as sdh \(target vdh\): /m);
  assert.deepEqual(a.stderr.trim().split('\n'), [
    `domforge: warning: ${stub}:2:1: what domforge does not know in <volume> (<qos>) is not carried into the attachment (at /volume)`,
    `domforge: warning: ${stub}:7:3: <os> is not used: attach-volume writes that of the record of i-0a000001 (virtioDisk true, not false) (at /volume/os)`,
    `domforge: warning: ${stub}:9:3: targetDeviceBus "scsi" is not used: attach-volume writes "virtio", from the record of i-0a000001 (at /volume/diskPath/@targetDeviceBus)`,
  ]);
  assert.match(readFileSync(join(dir(), 'vol-22222222-libvirt.xml'), 'utf8'), /<target dev="vdh" bus="virtio"\/>/);

  // Under --json the warnings are the result's.
  assert.equal((await cli('detach-volume', ID, 'vol-22222222')).code, 0);
  const j = await cli('attach-volume', ID, '--volume', stub, '--json');
  assert.equal(j.code, 0, j.stderr);
  assert.equal(j.stderr, '');
  assert.equal(JSON.parse(j.stdout).warnings.length, 3);
  assert.equal((await cli('terminate', ID)).code, 0);
});

test('attach-volume and detach-volume refuse bad input clearly (flags by name, stubs by file:line), before anything is written', async () => {
  await launch();
  const file = (name: string, text: string) => {
    const path = join(sb.root, name);
    writeFileSync(path, text);
    return path;
  };
  const good = file('vol-good.xml', volumeStub('vol-33333333', '<diskPath targetDeviceName="sdf" targetDeviceBus="virtio">/dev/vol3</diskPath>'));
  const badDev = file('vol-bad-dev.xml', volumeStub('vol-33333333', '<diskPath targetDeviceName="floppy" targetDeviceBus="virtio">/dev/vol3</diskPath>'));
  const relative = file('vol-relative.xml', volumeStub('vol-33333333', '<diskPath targetDeviceName="sdf" targetDeviceBus="virtio">dev/vol3</diskPath>'));
  const badSerial = file('vol-bad-serial.xml', volumeStub('vol-33333333', '<diskPath targetDeviceName="sdf" targetDeviceBus="virtio" serial="vol/3">/dev/vol3</diskPath>'));
  const noId = file('vol-no-id.xml', volumeStub('', '<diskPath targetDeviceName="sdf" targetDeviceBus="virtio">/dev/vol3</diskPath>', (t) => t.replace('  <id></id>\n', '')));
  const nic = file('eni-0e0e0e0e.xml', '<nic xml-version="2" mac="d0:0d:0e:0e:0e:0e" bridgeDeviceName="br0" device="1" attachmentId="eni-attach-0e0e0e0e"/>\n');
  const bareNic = file('eni-0f0f0f0f.xml', '<nic/>\n'); // not a <volume>, rather than a <nic> missing its mac
  const syntax = file('vol-syntax.xml', '<volume>\n  <hypervisor type="kvm"/>\n  <id>vol-33333333</di>\n</volume>\n');
  const missing = join(sb.root, 'vol-nothere.xml');
  const flags = ['--volume-id', 'vol-33333333', '--dev', 'sdf', '--path', '/dev/vol3'];
  const withFlag = (flag: string, value: string) => flags.map((f, i) => (flags[i - 1] === flag ? value : f));

  const cases: [string[], number, RegExp | string][] = [
    [['attach-volume'], 2, /missing required argument 'id'/],
    [['attach-volume', ID], 2, 'domforge: attach-volume needs --volume FILE (a vol-XXX.xml stub), or --volume-id, --dev and --path'],
    [['attach-volume', ID, ...flags.slice(0, 4)], 2, 'domforge: attach-volume without --volume needs --volume-id, --dev and --path; missing --path'],
    [['attach-volume', ID, '--volume', good, '--dev', 'sdf', '--file'], 2, 'domforge: give the volume as a stub (--volume) or by its flags, not both: --volume with --dev, --file'],
    [['attach-volume', ID, ...withFlag('--dev', 'floppy')], 2, 'domforge: Expected `--dev` to be a guest disk name such as sdf or vdf, got "floppy"'],
    [['attach-volume', ID, ...withFlag('--path', 'dev/vol3')], 2, 'domforge: Expected `--path` to be an absolute path, got "dev/vol3"'],
    [['attach-volume', ID, ...withFlag('--volume-id', '../vol')], 2, /^domforge: Expected `--volume-id` to be a volume id of letters, digits, '\.', '_' and '-' \(e\.g\. vol-1a2b3c4d\), got "\.\.\/vol"$/],
    // A serial libvirt's schema refuses: named as the flag or the stub's attribute, not as the rendered <serial>.
    [['attach-volume', ID, ...flags, '--serial', 'vol/3'], 2, "domforge: Expected `--serial` to be a disk serial of letters, digits, '_', '.', '+', '-' and spaces (libvirt's schema), got \"vol/3\""],
    [['attach-volume', ID, '--volume', badSerial], 1, `domforge: ${badSerial}:9:3: serial must be a disk serial of letters, digits, '_', '.', '+', '-' and spaces (libvirt's schema), got "vol/3" (at /volume/diskPath/@serial)`],
    [['attach-volume', '../i', '--volume', good], 2, /^domforge: Expected an instance id of letters/],
    [['attach-volume', ID, '--volume', badDev], 1, `domforge: ${badDev}:9:3: targetDeviceName must be a guest disk name such as sdf or vdf, got "floppy" (at /volume/diskPath/@targetDeviceName)`],
    [['attach-volume', ID, '--volume', relative], 1, `domforge: ${relative}:9:3: the path in <diskPath> must be an absolute path, got "dev/vol3" (at /volume/diskPath)`],
    [['attach-volume', ID, '--volume', noId], 1, `domforge: ${noId}:2:1: missing required element <id>: the volume's id, which names it and its files (at /volume/id)`],
    [['attach-volume', ID, '--volume', nic], 1, `domforge: ${nic}:1:1: expected a <volume> stub (a vol-XXX.xml), found <nic> (at /nic)`],
    [['attach-volume', ID, '--volume', bareNic], 1, `domforge: ${bareNic}:1:1: expected a <volume> stub (a vol-XXX.xml), found <nic> (at /nic)`],
    [['attach-volume', ID, '--volume', missing], 1, new RegExp(`^domforge: ${escape(missing)}: cannot read the volume stub: ENOENT`)],
    [['attach-volume', ID, '--volume', syntax], 1, `domforge: ${syntax}:3:19: Opening and ending tag mismatch: <id> (line 3) ends with </di> (XML 1.0 §3: an element ends with an end tag of its own name)`],
    [['detach-volume', ID], 2, /missing required argument 'volume-id'/],
    [['detach-volume', ID, '../vol'], 2, /^domforge: Expected a volume id of letters/],
  ];
  const listing = readdirSync(dir()).sort();
  const instanceXml = readFileSync(join(dir(), 'instance.xml'), 'utf8');
  const log = readFileSync(join(dir(), 'instance.log'), 'utf8');
  const domainXml = await conn.getXML(ID);
  const never = join(sb.root, 'never');
  for (const [args, code, message] of cases) {
    for (const instances of [sb.instances, never]) {
      const r = await lifecycleCli(args, ['--instances', instances, '--uri', 'test:///default', '--transform', XSL, '--hooks', sb.hooks]);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      if (typeof message === 'string') assert.equal(r.stderr.trim(), message);
      else assert.match(r.stderr.trim(), message);
    }
    assert.equal(existsSync(never), false, `${args.join(' ')} wrote the instances folder before its checks`);
  }
  assert.deepEqual(readdirSync(dir()).sort(), listing);
  assert.equal(readFileSync(join(dir(), 'instance.xml'), 'utf8'), instanceXml);
  assert.equal(readFileSync(join(dir(), 'instance.log'), 'utf8'), log, 'no operation was even begun');
  assert.equal(await conn.getXML(ID), domainXml);

  // --json: the stub's place as fields.
  const j = await cli('attach-volume', ID, '--volume', badDev, '--json');
  assert.equal(j.code, 1);
  assert.deepEqual(JSON.parse(j.stderr).error, { code: 'INSTANCE_INVALID', message: 'targetDeviceName must be a guest disk name such as sdf or vdf, got "floppy"', file: badDev, line: 9, column: 3, path: '/volume/diskPath/@targetDeviceName' });
  assert.equal((await cli('terminate', ID)).code, 0);
});

test("attach-volume refuses a path libvirt's schema refuses for the disk's <source> (a file's \"/\" alone, a line break) as its flag or at the stub's line, before anything is written; the boundary paths attach", async () => {
  await launch();
  const stub = join(sb.root, 'vol-44444444.xml');
  writeFileSync(stub, volumeStub('vol-44444444', '<diskPath targetDeviceName="sdf" targetDeviceBus="virtio" sourceType="file">/</diskPath>'));
  const listing = readdirSync(dir()).sort();
  for (const [args, code, message] of [
    [['--volume-id', 'vol-44444444', '--dev', 'sdf', '--path', '/', '--file'], 2, 'domforge: Expected `--path` to be an absolute path naming a file after its leading "/", on one line (libvirt\'s schema), got "/"'],
    [['--volume-id', 'vol-44444444', '--dev', 'sdf', '--path', '/dev/vol\n4'], 2, 'domforge: Expected `--path` to be an absolute path on one line (libvirt\'s schema), got "/dev/vol\\n4"'],
    [['--volume', stub], 1, `domforge: ${stub}:9:3: the path in <diskPath> must be an absolute path naming a file after its leading "/", on one line (libvirt's schema), got "/" (at /volume/diskPath)`],
  ] as const) {
    const r = await cli('attach-volume', ID, ...args);
    assert.deepEqual([r.code, r.stderr.trim()], [code, message]);
  }
  assert.deepEqual(readdirSync(dir()).sort(), listing, 'nothing written');
  // What the schema takes: a one-character file name, and "/" as a block device (a device name).
  assert.equal((await cli('attach-volume', ID, '--volume-id', 'vol-44444444', '--dev', 'sdf', '--path', '/v', '--file')).code, 0);
  assert.equal((await cli('attach-volume', ID, '--volume-id', 'vol-55555555', '--dev', 'sdg', '--path', '/')).code, 0);
  assert.deepEqual(await liveTargets(), ['vda', 'vdb', 'vdf', 'vdg']);
  assert.equal((await cli('terminate', ID)).code, 0);
});

test('a volume left "detaching" (a detach that failed past libvirt): describe and adopt say how to finish, attach-volume refuses it, detach-volume finishes it', async () => {
  await launch();
  const before = await liveTargets();
  assert.equal((await cli('attach-volume', ID, '--volume-id', 'vol-0d0d0d0d', '--dev', 'sdf', '--path', '/dev/mapper/vol-0d0d0d0d')).code, 0);
  // What a detach that failed after libvirt let go of the volume leaves (the detach-faults tests make it for real).
  const file = join(dir(), 'instance.xml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('<stateName>attached</stateName>', '<stateName>detaching</stateName>'));
  const hint = 'volume vol-0d0d0d0d is still detaching (a detach that did not finish): detach-volume i-0a000001 vol-0d0d0d0d finishes it';

  const d = await cli('describe', ID);
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /^ {2}volume: vol-0d0d0d0d as sdf \(detaching\)$/m);
  assert.ok(d.stdout.includes(`\n  unfinished: ${hint}\n`), d.stdout);
  const adopted = await cli('adopt');
  assert.ok(adopted.stdout.includes(`adopted ${ID}: domain running\n  unfinished: ${hint}\n`), adopted.stdout);
  const again = await cli('attach-volume', ID, '--volume-id', 'vol-0d0d0d0d', '--dev', 'sdg', '--path', '/dev/mapper/vol-0d0d0d0d');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /vol-0d0d0d0d is still detaching \(a detach that did not finish\): detach-volume i-0a000001 vol-0d0d0d0d finishes it/);

  const t = await cli('detach-volume', ID, 'vol-0d0d0d0d');
  assert.equal(t.code, 0, t.stderr);
  assert.equal(t.stdout, 'detached vol-0d0d0d0d from i-0a000001: finished the detach an earlier one began\n');
  assert.deepEqual(await liveTargets(), before);
  assert.deepEqual(record().volumes, []);
  assert.doesNotMatch((await cli('describe', ID)).stdout, /unfinished/);
  assert.equal((await cli('terminate', ID)).code, 0);
});

test('a volume left "attaching" (a controller that died after libvirt attached it): list counts it, describe and adopt say how to finish, the same attach-volume finishes it', async () => {
  await launch();
  const args = ['--volume-id', 'vol-0e0e0e0e', '--dev', 'sdf', '--path', '/dev/mapper/vol-0e0e0e0e'];
  assert.equal((await cli('attach-volume', ID, ...args)).code, 0);
  // What a controller killed between libvirt's attach and the record leaves (attach-faults.test.ts makes it for real).
  const file = join(dir(), 'instance.xml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('<stateName>attached</stateName>', '<stateName>attaching</stateName>'));
  const hint = `volume vol-0e0e0e0e is still attaching (an attach that did not finish): attach-volume ${ID} with the same volume finishes the attach, detach-volume ${ID} vol-0e0e0e0e removes it`;

  assert.match((await cli('list')).stdout, new RegExp(`^${ID} +Extant, 1 unfinished +running `, 'm'));
  const d = await cli('describe', ID);
  assert.match(d.stdout, /^ {2}volume: vol-0e0e0e0e as sdf \(attaching\)$/m);
  assert.ok(d.stdout.includes(`\n  unfinished: ${hint}\n`), d.stdout);
  const adopted = await cli('adopt');
  assert.ok(adopted.stdout.includes(`adopted ${ID}: domain running\n  unfinished: ${hint}\n`), adopted.stdout);
  // Another volume on its device is refused while it is attaching; the same attach finishes it.
  const other = await cli('attach-volume', ID, '--volume-id', 'vol-0f0f0f0f', '--dev', 'sdf', '--path', '/dev/mapper/vol-0f0f0f0f');
  assert.equal(other.code, 1);
  assert.match(other.stderr, /device sdf is already used by vol-0e0e0e0e/);

  const again = await cli('attach-volume', ID, ...args);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.split('\n')[0], `attached vol-0e0e0e0e to ${ID} as sdf (target vdf): live and persistent (the domain held it already); finished the attach an earlier one began`);
  assert.deepEqual(record().volumes.map((v) => [v.id, v.stateName]), [['vol-0e0e0e0e', 'attached']]);
  assert.match((await cli('list')).stdout, new RegExp(`^${ID} +Extant +running `, 'm'));
  assert.doesNotMatch((await cli('describe', ID)).stdout, /unfinished/);
  assert.equal((await cli('terminate', ID)).code, 0);
});
