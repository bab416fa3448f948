import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { validateDomainFragment, type FragmentKind } from '../../engine/validate/fragment.js';
import { DomainInvalidError } from '../../engine/errors.js';
import { fixture, oracleAcceptsFragment } from './helpers.js';

async function problemsOf(p: Promise<unknown>): Promise<DomainInvalidError> {
  const err = await p.then(
    () => assert.fail('accepted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof DomainInvalidError, String(err));
  return err;
}

describe('hot-plug fragments', () => {
  for (const [file, kind] of [
    ['disk-valid.xml', 'disk'],
    ['interface-valid.xml', 'interface'],
  ] as [string, FragmentKind][]) {
    test(`${file} passes, as virt-xml-validate agrees`, async () => {
      const xml = fixture('fragments/' + file);
      assert.equal(oracleAcceptsFragment(xml), true);
      assert.deepEqual((await validateDomainFragment(xml, kind, { file })).warnings, []);
      await validateDomainFragment(xml, kind, { file, schema: 'virt-xml-validate' });
    });
  }

  const bad: { file: string; kind: FragmentKind; path: string; line: number; message: RegExp; domain?: string; schemaValid: boolean }[] = [
    { file: 'disk-bad-bus.xml', kind: 'disk', path: '/disk/target/@bus', line: 3, message: /bus="virtual" .*expected one of/, schemaValid: false },
    { file: 'interface-unknown-element.xml', kind: 'interface', path: '/interface/speed', line: 4, message: /unknown element <speed> in <interface>/, schemaValid: false },
    { file: 'interface-multicast-mac.xml', kind: 'interface', path: '/interface/mac/@address', line: 3, message: /multicast/, schemaValid: false },
    { file: 'interface-second-mac.xml', kind: 'interface', path: '/interface/mac[2]', line: 4, message: /^<mac> is given more than once in <interface> \(first at line 3\); libvirt's schema takes one$/, schemaValid: false },
    {
      file: 'interface-duplicate-mac.xml',
      kind: 'interface',
      path: '/interface/mac/@address',
      line: 2,
      message: /"D0:0D:3F:2A:1B:7C" is used twice \(first at line 26\)/,
      domain: 'valid/kvm-virtio.xml',
      schemaValid: true,
    },
    {
      file: 'disk-duplicate-target.xml',
      kind: 'disk',
      path: '/disk/target/@dev',
      line: 3,
      message: /target dev "vdb" is used twice \(first at line 23\)/,
      domain: 'valid/kvm-virtio.xml',
      schemaValid: true,
    },
  ];
  for (const c of bad) {
    test(`${c.file}: ${c.path} at line ${c.line}`, async () => {
      const xml = fixture('fragments/' + c.file);
      assert.equal(oracleAcceptsFragment(xml), c.schemaValid);
      const domainXml = c.domain ? fixture(c.domain) : undefined;
      const err = await problemsOf(validateDomainFragment(xml, c.kind, { file: c.file, domainXml }));
      assert.equal(err.problems.length, 1, err.fullMessage);
      assert.equal(err.problems[0]!.path, c.path);
      assert.equal(err.problems[0]!.line, c.line);
      assert.match(err.problems[0]!.shortMessage, c.message);
      if (!c.schemaValid) {
        // libxml2 blames the <devices> the fragment is checked in: the problem is placed on the fragment.
        const viaTool = await problemsOf(validateDomainFragment(xml, c.kind, { file: c.file, schema: 'virt-xml-validate' }));
        for (const p of viaTool.problems) {
          assert.ok(p.line !== undefined && p.line >= 1, p.fullMessage);
          assert.ok(p.path?.startsWith(`/${c.kind}`), p.fullMessage);
          assert.doesNotMatch(p.shortMessage, /devices|domain/, p.fullMessage);
        }
      }
      else if (!c.domain) await validateDomainFragment(xml, c.kind, { file: c.file, schema: 'virt-xml-validate' });
    });
  }

  test('a clash is only about the fragment: without the domain it passes', async () => {
    await validateDomainFragment(fixture('fragments/interface-duplicate-mac.xml'), 'interface');
  });

  test('an IDE disk cannot be attached to a q35 domain', async () => {
    const xml = `<disk type='file' device='cdrom'>\n  <source file='/a.iso'/>\n  <target dev='hdc' bus='ide'/>\n</disk>`;
    await validateDomainFragment(xml, 'disk', { domainXml: fixture('valid/kvm-virtio.xml') });
    const err = await problemsOf(validateDomainFragment(xml, 'disk', { domainXml: fixture('valid/q35-sata-cdrom.xml') }));
    assert.equal(err.problems[0]!.path, '/disk/target/@bus');
  });

  test('the wrong kind of element is refused', async () => {
    const err = await problemsOf(validateDomainFragment(fixture('fragments/disk-valid.xml'), 'interface'));
    assert.match(err.message, /expected a <interface> fragment, found <disk>/);
  });

  test('checkPaths looks at the fragment source', async () => {
    const err = await problemsOf(validateDomainFragment(fixture('fragments/disk-valid.xml'), 'disk', { checkPaths: true, exists: () => false }));
    assert.equal(err.problems[0]!.path, '/disk/source/@dev');
  });
});

describe('a fragment nested deeper than the domain it is checked in takes', () => {
  const nested = (levels: number): string => `<disk type="file" device="disk">\n  <target dev="vdb" bus="virtio"/>\n${'<a>'.repeat(levels)}${'</a>'.repeat(levels)}</disk>\n`;

  test('is refused at the first element too deep, naming the file (fuzzing found an internal error)', async () => {
    const err = await problemsOf(validateDomainFragment(nested(254), 'disk', { file: 'vol-deep-libvirt.xml' }));
    assert.equal(err.file, 'vol-deep-libvirt.xml');
    assert.equal(err.line, 3);
    assert.equal(err.column, 1 + 3 * 253);
    assert.match(err.message, /<a> is more than 253 levels below <disk>, so more than 255 below the <domain>/);
    const ok = await problemsOf(validateDomainFragment(nested(253), 'disk', { file: 'vol-deep-libvirt.xml' }));
    assert.doesNotMatch(ok.message, /nested too deeply/);
  });
});
