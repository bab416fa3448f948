import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { buildConfigDrive } from '../../engine/configdrive/build.js';
import { writeConfigDrive } from '../../engine/configdrive/write.js';
import { statSync } from 'node:fs';
import {
  blkid,
  bsdtarExtract,
  cloudInitRead,
  extract,
  isoinfoDescribe,
  readTree,
  sampleInputs,
  sha256,
  skipUnless,
  tempDir,
  writeBytes,
  xorrisoFind,
} from './helpers.js';

const tmp = tempDir();
after(() => tmp.cleanup());

for (const [i, { title, input }] of sampleInputs().entries()) {
  describe(`drive ${i + 1}: ${title}`, () => {
    const iso = join(tmp.dir, `drive-${i}.iso`);
    const built = buildConfigDrive(input);
    const expected = new Map(built.files.map((f) => [f.path, Buffer.from(f.data)]));

    test('is written with mode 0600 and the built bytes', async () => {
      const drive = await writeConfigDrive(iso, input);
      assert.equal(statSync(iso).mode & 0o777, 0o600);
      assert.equal(sha256(drive.image), sha256(built.image));
    });

    test('xorriso lists exactly the tree (Rock Ridge names)', { skip: skipUnless('xorriso') }, () => {
      const { files, dirs } = xorrisoFind(iso);
      assert.deepEqual(files, [...expected.keys()].sort());
      const wantDirs = new Set<string>();
      for (const p of expected.keys()) for (let at = p.indexOf('/'); at > 0; at = p.indexOf('/', at + 1)) wantDirs.add(p.slice(0, at));
      assert.deepEqual(dirs, [...wantDirs].sort());
    });

    test('osirrox extraction gives identical names, sizes and contents', { skip: skipUnless('xorriso') }, () => {
      const dest = join(tmp.dir, `x-${i}`);
      extract(iso, dest);
      const got = readTree(dest);
      assert.deepEqual([...got.keys()].sort(), [...expected.keys()].sort());
      for (const [path, data] of expected) {
        assert.equal(got.get(path)!.length, data.length, `size of ${path}`);
        assert.ok(got.get(path)!.equals(data), `contents of ${path}`);
      }
    });

    test('bsdtar (libarchive, reading front to back) extracts identical names, modes and contents', { skip: skipUnless('bsdtar') }, () => {
      const dest = join(tmp.dir, `bsdtar-${i}`);
      bsdtarExtract(iso, dest);
      const got = readTree(dest);
      assert.deepEqual([...got.keys()].sort(), [...expected.keys()].sort());
      for (const [path, data] of expected) assert.ok(got.get(path)!.equals(data), `contents of ${path}`);
      // Rock Ridge, not Joliet: the modes are the drive's.
      assert.equal(statSync(join(dest, 'openstack', 'latest', 'meta_data.json')).mode & 0o777, 0o444);
    });

    test('isoinfo sees the label, Joliet and Rock Ridge', { skip: skipUnless('isoinfo') }, () => {
      const d = isoinfoDescribe(iso);
      assert.match(d, /^Volume id: config-2$/m);
      assert.match(d, /Joliet with UCS level 3 found/);
      assert.match(d, /Rock Ridge signatures version 1 found/);
      assert.match(d, new RegExp(`^Volume size is: ${built.image.length / 2048}$`, 'm'));
    });

    test('blkid sees TYPE=iso9660 LABEL=config-2', { skip: skipUnless('blkid') }, () => {
      const b = blkid(iso);
      assert.equal(b.TYPE, 'iso9660');
      assert.equal(b.LABEL, 'config-2');
    });

    test("cloud-init's read_config_drive returns the instance", { skip: skipUnless('xorriso', 'cloud-init') }, () => {
      const dest = join(tmp.dir, `ci-${i}`);
      extract(iso, dest);
      const r = cloudInitRead(dest);
      assert.equal(r.version, 2);
      assert.equal(r.instanceId, input.uuid);
      assert.equal(r.localHostname, input.hostname);
      assert.equal(Buffer.from(r.userdataB64, 'base64').toString('hex'), Buffer.from(input.userData ?? new Uint8Array()).toString('hex'));
      assert.deepEqual(r.publicKeys, (input.publicKeys ?? []).map((k) => k.data));
      assert.equal(r.ec2InstanceId, input.name);
      assert.equal(r.adminPass ?? undefined, input.password);
      assert.deepEqual(r.meta, input.meta ?? {});
    });

    test('building again gives the same SHA-256', () => {
      assert.equal(sha256(buildConfigDrive(input).image), sha256(built.image));
      assert.equal(sha256(buildConfigDrive(structuredClone(input)).image), sha256(built.image));
    });
  });
}

test('another label reaches blkid, isoinfo and Joliet', { skip: skipUnless('blkid', 'isoinfo') }, async () => {
  const iso = join(tmp.dir, 'label-config.iso');
  await writeConfigDrive(iso, sampleInputs()[0].input, { label: 'config', layouts: ['cloudstack'] });
  assert.equal(blkid(iso).LABEL, 'config');
  assert.match(isoinfoDescribe(iso), /^Volume id: config$/m);
});

test('the timestamp is the only date in the image', { skip: skipUnless('blkid') }, () => {
  const input = sampleInputs()[3].input;
  const a = buildConfigDrive(input).image;
  const b = buildConfigDrive({ ...input, timestamp: input.timestamp + 1 }).image;
  assert.notEqual(sha256(a), sha256(b));
  const iso = join(tmp.dir, 'dated.iso');
  writeBytes(iso, a);
  assert.equal(blkid(iso).UUID, '2023-11-14-22-13-20-00'); // 1700000000 = 2023-11-14T22:13:20Z
});
