import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { toKiB, unitBytes } from '../../engine/validate/scaled-integer.js';
import { diskIndex, machineOf } from '../../engine/validate/device-checks.js';
import { checkDomainSemantics } from '../../engine/validate/semantic.js';
import { parseXml } from '../../engine/xml/parse.js';

describe('libvirt memory units', () => {
  test('binary and decimal units, case-insensitive, rounded up to KiB', () => {
    const kib = (v: string, u?: string) => {
      const r = toKiB(v, u);
      return r.ok ? r.kib : r.reason;
    };
    assert.equal(kib('1024'), 1024n);
    assert.equal(kib('1', 'GiB'), 1048576n);
    assert.equal(kib('1', 'G'), 1048576n);
    assert.equal(kib('1', 'gb'), 976563n); // 10^9 bytes
    assert.equal(kib('1', 'KB'), 1n); // 1000 bytes, rounded up
    assert.equal(kib('2048', 'bytes'), 2n);
    assert.equal(kib('1', 'TiB'), 1073741824n);
    assert.match(String(kib('1', 'XB')), /not one libvirt knows/);
    assert.match(String(kib('-1')), /not a whole non-negative number/);
    assert.match(String(kib('1.5', 'GiB')), /not a whole/);
    assert.equal(unitBytes('EiB'), 1024n ** 6n);
  });
});

describe('disks', () => {
  test('disk name index like virDiskNameToIndex', () => {
    assert.equal(diskIndex('a'), 0);
    assert.equal(diskIndex('d'), 3);
    assert.equal(diskIndex('z'), 25);
    assert.equal(diskIndex('aa'), 26);
  });

  test('machine family', () => {
    const m = (xml: string) => machineOf(parseXml(xml).documentElement!);
    assert.equal(m(`<domain type='kvm'><os><type>hvm</type></os></domain>`), 'pc');
    assert.equal(m(`<domain type='kvm'><os><type machine='pc-i440fx-7.2'>hvm</type></os></domain>`), 'pc');
    assert.equal(m(`<domain type='qemu'><os><type machine='pc-q35-8.0'>hvm</type></os></domain>`), 'q35');
    assert.equal(m(`<domain type='kvm'><os><type arch='aarch64' machine='virt'>hvm</type></os></domain>`), 'other');
    assert.equal(m(`<domain type='xen'><os><type>linux</type></os></domain>`), 'other');
  });

  test('an unparsable target name and hde on pc are errors; an IDE controller on q35 too', () => {
    const f = checkDomainSemantics(
      parseXml(`<domain type='kvm'><memory>1024</memory><os><type>hvm</type></os><devices>
<disk type='file'><target dev='disk1'/></disk>
<disk type='file'><target dev='hde' bus='ide'/></disk>
</devices></domain>`),
    );
    assert.deepEqual(f.errors.map((e) => e.path), ['/domain/devices/disk[1]/target/@dev', '/domain/devices/disk[2]/target/@dev']);
    assert.match(f.errors[1]!.message, /past hdd/);
    const q = checkDomainSemantics(
      parseXml(`<domain type='kvm'><memory>1024</memory><os><type machine='q35'>hvm</type></os><devices><controller type='ide'/></devices></domain>`),
    );
    assert.deepEqual(q.errors.map((e) => e.path), ['/domain/devices/controller/@type']);
  });

  test('a partition in a disk target is an error on a KVM or QEMU domain (its driver refuses it), and taken on Xen, as libvirt takes it', () => {
    const domain = (type: string, dev: string) =>
      checkDomainSemantics(parseXml(`<domain type='${type}'><memory>1024</memory><os><type>hvm</type></os><devices><disk type='file'><target dev='${dev}'/></disk></devices></domain>`));
    for (const type of ['kvm', 'qemu']) {
      const f = domain(type, 'vdb1');
      assert.deepEqual(f.errors.map((e) => e.path), ['/domain/devices/disk/target/@dev'], type);
      assert.match(f.errors[0]!.message, /names partition 1 of a disk; libvirt's QEMU driver .* refuses partitions in disk targets \(use vdb\)/);
    }
    assert.deepEqual(domain('xen', 'xvda1').errors, []);
    assert.deepEqual(domain('xen', 'xvda12').errors, []);
    // Partition 0 is no partition to libvirt (virDiskNameParse), so the QEMU driver takes it.
    assert.deepEqual(domain('kvm', 'vda0').errors, []);
    assert.deepEqual(domain('kvm', 'vdb').errors, []);
    assert.match(domain('xen', 'xvd1').errors[0]?.message ?? '', /not a disk name libvirt can parse/);
  });
});

describe('serial and console files', () => {
  test('the folder of a file serial and of a console log must exist', () => {
    const doc = parseXml(`<domain type='kvm'><memory>1024</memory><os><type>hvm</type></os><devices>
<serial type='file'><source path='/var/log/euca/i-1/console.log'/></serial>
<console type='pty'><log file='/var/log/missing/console.log'/></console>
</devices></domain>`);
    const seen: string[] = [];
    const f = checkDomainSemantics(doc, { checkPaths: true, exists: (p) => (seen.push(p), p === '/var/log/euca/i-1') });
    assert.deepEqual(seen, ['/var/log/euca/i-1', '/var/log/missing']);
    assert.deepEqual(f.errors.map((e) => e.path), ['/domain/devices/console/log/@file']);
  });
});
