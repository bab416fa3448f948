import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateDomainXml } from '../../engine/validate/validate-domain.js';
import { DomainInvalidError } from '../../engine/errors.js';
import { FIXTURES, fixture, oracleAccepts } from './helpers.js';

const valid = readdirSync(FIXTURES + 'valid').filter((f) => f.endsWith('.xml'));
const tmp = mkdtempSync(join(tmpdir(), 'domforge-validate-domain-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

describe('valid domains', () => {
  test('there are several shapes', () => assert.ok(valid.length >= 6));
  for (const name of valid) {
    test(`${name}: domforge and virt-xml-validate both accept it`, async () => {
      assert.equal(oracleAccepts(FIXTURES + 'valid/' + name), true, 'virt-xml-validate rejects the fixture');
      const xml = fixture('valid/' + name);
      const wasm = await validateDomainXml(xml, { file: name });
      assert.deepEqual(wasm.warnings.map(String), []);
      await validateDomainXml(xml, { file: name, schema: 'virt-xml-validate' });
    });
  }
});

interface Bad {
  file: string;
  path: string;
  line: number;
  message: RegExp;
  /** What libvirt's schema alone says (virt-xml-validate is the oracle). */
  schemaValid: boolean;
  checkPaths?: boolean;
}

const bad: Bad[] = [
  { file: 'bad-memory-unit.xml', path: '/domain/memory/@unit', line: 3, message: /unit "XB" is not one libvirt knows/, schemaValid: false },
  { file: 'memory-zero.xml', path: '/domain/memory', line: 3, message: /<memory> must be positive/, schemaValid: true },
  { file: 'vcpu-zero.xml', path: '/domain/vcpu', line: 4, message: /<vcpu> must be a whole number of at least 1, got "0"/, schemaValid: false },
  { file: 'current-memory-larger.xml', path: '/domain/currentMemory', line: 4, message: /larger than <memory> 524288 KiB/, schemaValid: true },
  { file: 'missing-name.xml', path: '/domain', line: 1, message: /required element <name> is missing/, schemaValid: false },
  { file: 'bad-domain-type.xml', path: '/domain/@type', line: 1, message: /type="vmx" of <domain> .*expected one of "qemu"/, schemaValid: false },
  { file: 'unknown-element.xml', path: '/domain/devices/frobnicator', line: 13, message: /unknown element <frobnicator> in <devices>; libvirt's schema allows .*disk/, schemaValid: false },
  { file: 'unknown-attribute.xml', path: '/domain/devices/disk/@speed', line: 9, message: /<disk> has no attribute speed/, schemaValid: false },
  { file: 'bad-bus.xml', path: '/domain/devices/disk/target/@bus', line: 11, message: /bus="virtiox" .*expected one of "ide", "fdc", "scsi", "virtio"/, schemaValid: false },
  { file: 'duplicate-target.xml', path: '/domain/devices/disk[2]/target/@dev', line: 15, message: /target dev "vda" is used twice \(first at line 11\)/, schemaValid: true },
  { file: 'duplicate-mac.xml', path: '/domain/devices/interface[2]/mac/@address', line: 14, message: /MAC address "52:54:00:AA:BB:CC" is used twice/, schemaValid: true },
  { file: 'multicast-mac.xml', path: '/domain/devices/interface/mac/@address', line: 10, message: /multicast/, schemaValid: false },
  { file: 'ide-on-q35.xml', path: '/domain/devices/disk[2]/target/@bus', line: 15, message: /q35 machines have no IDE bus/, schemaValid: true },
  { file: 'five-ide-on-pc.xml', path: '/domain/devices/disk[5]/target/@dev', line: 27, message: /more than 4 IDE disks on a pc machine/, schemaValid: true },
  { file: 'duplicate-alias.xml', path: '/domain/devices/disk[3]/alias/@name', line: 21, message: /alias "ua-disk" is used twice/, schemaValid: true },
  { file: 'hugepage-size.xml', path: '/domain/memoryBacking/hugepages/page/@size', line: 6, message: /not a power of two/, schemaValid: true },
  { file: 'topology-mismatch.xml', path: '/domain/cpu/topology', line: 7, message: /gives 2 vCPUs .* <vcpu> is 4/, schemaValid: true },
  { file: 'missing-file.xml', path: '/domain/devices/disk/source/@file', line: 10, message: /\/nonexistent\/domforge\/missing.img does not exist/, schemaValid: true, checkPaths: true },
  { file: 'missing-kernel.xml', path: '/domain/os/kernel', line: 6, message: /<kernel> \/nonexistent\/domforge\/vmlinuz does not exist/, schemaValid: true, checkPaths: true },
];

describe('invalid domains', () => {
  test('at least 12 cases', () => assert.ok(bad.length >= 12));
  for (const c of bad) {
    test(`${c.file}: ${c.path} at line ${c.line}`, async () => {
      assert.equal(oracleAccepts(FIXTURES + 'invalid/' + c.file), c.schemaValid, 'virt-xml-validate disagrees with the fixture table');
      const xml = fixture('invalid/' + c.file);
      const err = await validateDomainXml(xml, { file: c.file, checkPaths: c.checkPaths }).then(
        () => assert.fail('accepted'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof DomainInvalidError, String(err));
      assert.equal(err.code, 'DOMAIN_INVALID');
      assert.equal(err.problems.length, 1, err.fullMessage);
      const [p] = err.problems;
      assert.equal(p!.path, c.path);
      assert.equal(p!.line, c.line);
      assert.equal(p!.file, c.file);
      assert.match(p!.shortMessage, c.message);
      assert.equal(err.path, c.path);
      assert.ok(err.message.startsWith(`${c.file}:${c.line}:`), err.message);
    });
  }

  test('without checkPaths, missing files are not looked for', async () => {
    await validateDomainXml(fixture('invalid/missing-file.xml'));
  });

  test('the process engine rejects every schema-invalid case too', async () => {
    for (const c of bad.filter((b) => !b.schemaValid)) {
      await assert.rejects(validateDomainXml(fixture('invalid/' + c.file), { file: c.file, schema: 'virt-xml-validate' }), DomainInvalidError, c.file);
    }
  });

  test('schema: false runs only domforge checks', async () => {
    await validateDomainXml(fixture('invalid/unknown-element.xml'), { schema: false });
    await assert.rejects(validateDomainXml(fixture('invalid/duplicate-mac.xml'), { schema: false }), /used twice/);
  });

  test('malformed XML is a DomainInvalidError carrying the syntax error', async () => {
    const err = await validateDomainXml(fixture('invalid/malformed.xml'), { file: 'malformed.xml' }).catch((e: unknown) => e);
    assert.ok(err instanceof DomainInvalidError);
    assert.equal(err.problems[0]!.code, 'XML_SYNTAX');
    assert.equal(err.file, 'malformed.xml');
    assert.ok(err.line! >= 9);
  });

  test('all problems are listed; the message names the first and counts the rest', async () => {
    const xml = `<domain type='kvm'>
  <name>x</name>
  <memory unit='KiB'>1024</memory>
  <vcpu>0</vcpu>
  <os><type>hvm</type></os>
  <devices>
    <disk type='file' device='disk'><source file='/a'/><target dev='vda' bus='virtio'/><bogus/></disk>
    <interface type='bridge'><mac address='zz'/><source bridge='br0'/></interface>
  </devices>
  <foo/>
</domain>`;
    const err = (await validateDomainXml(xml, { file: 'd.xml' }).catch((e: unknown) => e)) as DomainInvalidError;
    assert.deepEqual(
      err.problems.map((p) => [p.line, p.path]),
      [
        [4, '/domain/vcpu'],
        [7, '/domain/devices/disk/bogus'],
        [8, '/domain/devices/interface/mac/@address'],
        [10, '/domain/foo'],
      ],
    );
    assert.match(err.message, /^d\.xml:4:3: <vcpu> must be .* \(and 3 more problems\)/);
    assert.equal(err.details.length, 3);
  });

});

describe('an element the schema takes once, given again', () => {
  // libxml2 says only "Extra element name in interleave", with no line, or blames the first
  // one (a second <type> in <os>: "value hvm of <type> is not accepted"); virt-xml-validate is
  // the oracle that each document is schema-invalid.
  const domain = (body: string, devices = '') => `<domain type='kvm'>\n  <name>x</name>\n  <memory>1024</memory>\n${body}  <os><type>hvm</type></os>\n  <devices>${devices}</devices>\n</domain>\n`;
  const disk = (targets: string) => `\n    <disk type='file'>\n      <source file='/a'/>\n${targets}    </disk>\n  `;
  /** `script`: virt-xml-validate's message names the element (`Extra element name in interleave`), so it is placed at the repeat too. */
  const cases: { what: string; xml: string; repeats: [line: number, column: number, path: string, first: number][]; script?: true }[] = [
    { what: 'a second <name>', xml: domain('  <name>y</name>\n'), repeats: [[4, 3, '/domain/name[2]', 2]], script: true },
    { what: 'a second <memory>', xml: domain("  <memory unit='KiB'>2048</memory>\n"), repeats: [[4, 3, '/domain/memory[2]', 3]], script: true },
    { what: 'a third <vcpu> too', xml: domain('  <vcpu>1</vcpu>\n  <vcpu>2</vcpu>\n  <vcpu>3</vcpu>\n'), repeats: [[5, 3, '/domain/vcpu[2]', 4], [6, 3, '/domain/vcpu[3]', 4]], script: true },
    { what: 'a second <clock>', xml: domain("  <clock offset='utc'/>\n  <clock offset='utc'/>\n"), repeats: [[5, 3, '/domain/clock[2]', 4]] },
    { what: 'a second <devices>', xml: domain('').replace('</domain>', '<devices/>\n</domain>'), repeats: [[6, 1, '/domain/devices[2]', 5]], script: true },
    { what: 'a second <type> in <os>', xml: domain('').replace('<os><type>hvm</type>', '<os><type>hvm</type><type>hvm</type>'), repeats: [[4, 23, '/domain/os/type[2]', 4]] },
    { what: 'a second <target> in a disk', xml: domain('', disk("      <target dev='vda' bus='virtio'/>\n      <target dev='vdb' bus='virtio'/>\n")), repeats: [[9, 7, '/domain/devices/disk/target[2]', 8]] },
  ];
  for (const c of cases) {
    test(`${c.what} is placed at the repeat by line, column and path, naming the first, with either schema engine`, async () => {
      const file = join(tmp, 'repeat.xml');
      writeFileSync(file, c.xml);
      assert.equal(oracleAccepts(file), false, 'virt-xml-validate takes it');
      const err = await validateDomainXml(c.xml, { file: 'd.xml' }).then(() => assert.fail('accepted'), (e: unknown) => e);
      assert.ok(err instanceof DomainInvalidError, String(err));
      assert.deepEqual(
        err.problems.map((p) => [p.file, p.line, p.column, p.path, p.shortMessage]),
        c.repeats.map(([line, column, path, first]) => {
          const name = /(\w+)\[\d\]$/.exec(path)![1]!;
          const parent = path.split('/').at(-2)!.replace(/\[\d\]$/, '');
          return ['d.xml', line, column, path, `<${name}> is given more than once in <${parent}> (first at line ${first}); libvirt's schema takes one`];
        }),
      );
      assert.equal(err.path, c.repeats[0]![2]);
      if (c.script) {
        // libvirt's script: its own words ("Extra element name in interleave"), at the repeat too.
        const v = await validateDomainXml(c.xml, { file: 'd.xml', schema: 'virt-xml-validate' }).then(() => assert.fail('accepted'), (e: unknown) => e);
        assert.ok(v instanceof DomainInvalidError, String(v));
        assert.deepEqual([v.line, v.column, v.path], c.repeats[0]!.slice(0, 3));
        assert.match(v.message, /is not allowed as written, or appears more than once/);
      }
    });
  }

  test('elements the schema takes more than once are not repeats, nor is a wrong one among them', async () => {
    const xml = domain("  <seclabel type='none' model='selinux'/>\n  <seclabel type='none' model='dac'/>\n");
    const file = join(tmp, 'seclabels.xml');
    writeFileSync(file, xml);
    assert.equal(oracleAccepts(file), true);
    await validateDomainXml(xml);
    // The first and the last <vcpupin> are right, each alone and together: the middle one is wrong.
    const pins = domain("  <vcpu>3</vcpu>\n  <cputune><vcpupin vcpu='0' cpuset='1'/><vcpupin vcpu='1' cpuset='x'/><vcpupin vcpu='2' cpuset='1'/></cputune>\n");
    const err = await validateDomainXml(pins).then(() => assert.fail('accepted'), (e: unknown) => e);
    assert.ok(err instanceof DomainInvalidError, String(err));
    assert.deepEqual(err.problems.map((p) => p.path), ['/domain/cputune/vcpupin[2]/@cpuset']);
  });

  test('a repeat that is also wrong on its own is explained as wrong', async () => {
    const err = await validateDomainXml(domain("  <memory unit='XB'>2048</memory>\n")).then(() => assert.fail('accepted'), (e: unknown) => e);
    assert.ok(err instanceof DomainInvalidError, String(err));
    assert.deepEqual(err.problems.map((p) => p.path), ['/domain/memory[2]/@unit']);
  });
});

describe('warnings', () => {
  test('a target dev that does not fit its bus, a non-ua alias, an unusual page size', async () => {
    const xml = `<domain type='kvm'>
  <name>w</name>
  <memory unit='MiB'>1024</memory>
  <memoryBacking><hugepages><page size='8192' unit='KiB'/></hugepages></memoryBacking>
  <os><type>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <source file='/images/disk.img'/>
      <target dev='vda' bus='ide'/>
      <alias name='root'/>
    </disk>
  </devices>
</domain>`;
    const { warnings } = await validateDomainXml(xml, { checkPaths: true, exists: () => true });
    assert.deepEqual(
      warnings.map((w) => w.path),
      ['/domain/memoryBacking/hugepages/page/@size', '/domain/devices/disk/target/@dev', '/domain/devices/disk/alias/@name'],
    );
    assert.match(warnings[1]!.message, /does not fit bus "ide", whose disks are named hd\*/);
  });

  test('a relative path (the schema refuses it too) is a warning of domforge with checkPaths', async () => {
    const xml = fixture('valid/kvm-virtio.xml').replace('/var/lib/eucalyptus/instances/i-3f2a1b7c/disk', 'disk.img');
    const { warnings } = await validateDomainXml(xml, { schema: false, checkPaths: true, exists: () => true });
    assert.deepEqual(warnings.map((w) => w.path), ['/domain/devices/disk[1]/source/@file']);
    assert.match(warnings[0]!.message, /relative path/);
    await assert.rejects(validateDomainXml(xml), /expected string matching \(\/\|/);
  });
});

describe('a document nested deeper than libxml2 takes', () => {
  const nested = (levels: number): string => `<domain type="kvm">\n${'<a>'.repeat(levels)}${'</a>'.repeat(levels)}</domain>\n`;

  test('is refused at the first element too deep, naming the file, by each schema engine', async () => {
    // Fuzzing found 20,000 levels (and 256) an internal error: libxml2-wasm's own "Excessive depth in document".
    for (const levels of [20000, 256]) {
      const err = await validateDomainXml(nested(levels), { file: 'deep.xml' }).then(() => assert.fail('accepted'), (e: unknown) => e);
      assert.ok(err instanceof DomainInvalidError, String(err));
      assert.equal(err.file, 'deep.xml');
      assert.equal(err.line, 2);
      assert.equal(err.column, 1 + 3 * 255);
      assert.match(err.message, /elements nested too deeply: <a> is more than 255 levels below the root element/);
    }
    for (const schema of ['virt-xml-validate', false] as const) {
      const err = await validateDomainXml(nested(257), { file: 'deep.xml', schema }).then(() => assert.fail('accepted'), (e: unknown) => e);
      assert.ok(err instanceof DomainInvalidError, String(err));
      assert.match(err.message, /more than 256 levels below the root element \(libxml2, and so libvirt/);
    }
  });

  test('one level less reaches the schema, which speaks of the element it does not know', async () => {
    const err = await validateDomainXml(nested(255), { file: 'deep.xml' }).then(() => assert.fail('accepted'), (e: unknown) => e);
    assert.ok(err instanceof DomainInvalidError, String(err));
    assert.doesNotMatch(err.message, /nested too deeply/);
  });
});
