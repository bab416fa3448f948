import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderFile, renderText, domainCoverageProblems } from '../../engine/render/index.js';
import { parseInstance } from '../../engine/instance/parse.js';
import { parseXml } from '../../engine/xml/parse.js';
import { DomainInvalidError } from '../../engine/errors.js';
import { cli } from './cli.js';
import { minimalJsonInstance } from '../instance/json-fixture.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const XSL = join(ROOT, 'transforms', 'libvirt.xsl');
const HBS = join(ROOT, 'transforms', 'libvirt.xml.hbs');
const VOLUMES = readFileSync(join(ROOT, 'samples', '07-several-volumes', 'instance.xml'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'domforge-covers-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const lineOf = (text: string, needle: string, from = 0) => {
  const i = text.indexOf(needle, from);
  assert.ok(i >= 0, `fixture contains ${needle}`);
  return text.slice(0, i).split('\n').length;
};
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const edited = (text: string, from: string | RegExp, to: string) => {
  const t = text.replace(from, to);
  assert.notEqual(t, text, `edit applies: ${from}`);
  return t;
};
const refusal = async (p: Promise<unknown>): Promise<DomainInvalidError> =>
  p.then(
    () => assert.fail('rendered'),
    (e: unknown) => {
      assert.ok(e instanceof DomainInvalidError, String(e));
      return e;
    },
  );

// The first volume's <libvirt> block, as sample 07 writes it.
const FIRST_LIBVIRT = /\n\s*<libvirt>\s*<disk[^]*?<\/libvirt>/;
const FIRST_VOLUME_LINE = lineOf(VOLUMES, '<volume>');

for (const [kind, transform] of [['XSLT', XSL], ['Handlebars', HBS]] as const) {
  test(`${kind}: an attached volume with no <libvirt> disk is refused, naming the volume, its line and its devName, not silently left out of the domain`, async () => {
    const file = write(`no-libvirt-${kind}.xml`, edited(VOLUMES, FIRST_LIBVIRT, ''));
    const e = await refusal(renderFile(file, { transform }));
    assert.equal(e.code, 'DOMAIN_INVALID');
    assert.equal(e.file, `${transform} (output for ${file})`);
    assert.equal(e.path, '/domain/devices');
    assert.equal(typeof e.line, 'number');
    assert.match(e.message, new RegExp(`no <disk> for volume vol-0e000002, attached \\(${file}:${FIRST_VOLUME_LINE}\\): it has no <libvirt> <disk>`));
    assert.match(e.message, /no <disk> has its devName, "vdc", as target dev; libvirt would start the guest without it/);
    assert.equal(e.problems.length, 1, 'the other two volumes are in the domain');
  });
}

test('an instance.xml of Eucalyptus 3.4–4.0 (volumes with localDev/localDevReal) still parses, but rendering its attached volume is refused, saying why', async () => {
  const text = edited(VOLUMES, FIRST_LIBVIRT, '\n      <localDev>/dev/vdc</localDev>\n      <localDevReal>vdc</localDevReal>');
  const inst = parseInstance(text);
  assert.equal(inst.volumes[0]!.localDev, '/dev/vdc');
  const file = write('euca-3.4.xml', text);
  const e = await refusal(renderFile(file, { transform: XSL }));
  assert.match(e.message, /localDev\/localDevReal, not the host's device/);
  assert.match(e.message, /its devName, "vdc"/);
  // Detached: nothing is expected in the domain, and the same file renders.
  const detached = write('euca-3.4-detached.xml', edited(text, '<stateName>attached</stateName>', '<stateName>detached</stateName>'));
  const r = await renderFile(detached, { transform: XSL });
  assert.equal(r.document.getElementsByTagName('disk').length, 4);
});

test('a transform that leaves the volumes out is refused with every missing volume, by the target dev of its <libvirt> disk', async () => {
  const xsl = write('no-volumes.xsl', readFileSync(XSL, 'utf8').replaceAll('<xsl:copy-of select="libvirt/disk"/>', ''));
  const e = await refusal(renderText(VOLUMES, { file: 'i.xml', transform: xsl }));
  assert.equal(e.file, `${xsl} (output for i.xml)`);
  assert.match(e.shortMessage, /^the domain has no <disk> for volume vol-0e000002, attached \(i\.xml:\d+\): no <disk> has target dev "vdc" \(its <libvirt> disk's\); libvirt would start the guest without it \(and 2 more devices of the instance\)$/);
  assert.deepEqual(
    e.problems.map((p) => /volume (vol-\w+)/.exec(p.message)?.[1]),
    ['vol-0e000002', 'vol-0e000003', 'vol-0e000004'],
  );
  const lines = e.problems.map((p) => Number(/i\.xml:(\d+)/.exec(p.message)?.[1]));
  assert.deepEqual(lines, [lineOf(VOLUMES, '<volume>'), lineOf(VOLUMES, '<volume>', VOLUMES.indexOf('vol-0e000002')), lineOf(VOLUMES, '<volume>', VOLUMES.indexOf('vol-0e000003'))]);
});

test('a volume whose disk is given another target dev by the transform counts as missing (the guest would not find it where the cloud said)', async () => {
  const xsl = write('renamed.xsl', edited(readFileSync(XSL, 'utf8'), /(<xsl:for-each select="volumes\/volume\[stateName = 'attached' or stateName = 'attaching'\]">\s*)<xsl:copy-of select="libvirt\/disk"\/>/, '$1<disk type="block" device="disk"><source dev="{concat(\'/dev/mapper/\', id)}"/><target dev="{concat(\'x\', devName)}" bus="virtio"/></disk>'));
  const e = await refusal(renderText(VOLUMES, { file: 'i.xml', transform: xsl }));
  assert.match(e.message, /no <disk> has target dev "vdc"/);
  assert.equal(e.problems.length, 3);
});

test('a transform that drops a NIC is refused naming its MAC and line; NicType none expects none', async () => {
  const xsl = write('no-nics.xsl', edited(readFileSync(XSL, 'utf8'), /<xsl:for-each select="nics\/nic">\s*<xsl:call-template name="interface"\/>\s*<\/xsl:for-each>/, ''));
  const e = await refusal(renderText(VOLUMES, { file: 'i.xml', transform: xsl }));
  assert.match(e.shortMessage, new RegExp(`^the domain has no <interface> with MAC address d0:0d:5a:3e:00:07, the instance's NIC \\(i\\.xml:${lineOf(VOLUMES, '<nic ')}\\); libvirt would start the guest without it$`));
  const r = await renderText(edited(VOLUMES, '<NicType>virtio</NicType>', '<NicType>none</NicType>'), { file: 'i.xml', transform: XSL });
  assert.equal(r.document.getElementsByTagName('interface').length, 0);
});

test('domainCoverageProblems on an Instance built in code: no place of its own, the MAC matched whatever its case; validate: false skips the check', async () => {
  const inst = parseInstance(VOLUMES);
  const copy = { ...inst, nics: inst.nics.map((n) => ({ ...n, mac: n.mac.toUpperCase() })) };
  const domain = parseXml('<domain type="kvm"><name>x</name><devices><disk type="block" device="disk"><target dev="vdc"/></disk><interface type="bridge"><mac address="d0:0d:5a:3e:00:07"/></interface></devices></domain>');
  const problems = domainCoverageProblems(copy, domain, { file: 'd.xml' });
  assert.deepEqual(problems.map((p) => [p.file, p.line, p.path]), [['d.xml', 1, '/domain/devices'], ['d.xml', 1, '/domain/devices']]);
  assert.deepEqual(problems.map((p) => /volume (vol-\w+), attached:/.exec(p.message)?.[1]), ['vol-0e000003', 'vol-0e000004']);
  const xsl = write('no-volumes-2.xsl', readFileSync(XSL, 'utf8').replaceAll('<xsl:copy-of select="libvirt/disk"/>', ''));
  const r = await renderText(VOLUMES, { file: 'i.xml', transform: xsl, validate: false });
  assert.equal(r.validated, false);
});

test('domforge render: the refusal is exit 1 with the output label, line and the volume on stderr, and no file written', async () => {
  const file = write('cli-no-libvirt.xml', edited(VOLUMES, FIRST_LIBVIRT, ''));
  const out = join(dir, 'out.xml');
  const r = await cli(['render', '--instance', file, '--out', out]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^domforge: ${XSL} \\(output for ${file}\\):\\d+:\\d+: the domain has no <disk> for volume vol-0e000002, attached \\(${file}:${FIRST_VOLUME_LINE}\\)`));
  assert.throws(() => readFileSync(out));
});

test('domforge render of a JSON description: the refusal names the volume’s line in the JSON file, not in the XML written from it', async () => {
  const desc = { ...minimalJsonInstance(), volumes: [{ id: 'vol-1', attachmentToken: 't', devName: 'vdb', stateName: 'attached', connectionString: '' }] };
  const text = JSON.stringify(desc, null, 2);
  const file = write('volume.json', text);
  const r = await cli(['render', '--instance', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`the domain has no <disk> for volume vol-1, attached \\(${file}:${lineOf(text, '"id": "vol-1"') - 1}\\): it has no <libvirt> <disk>.*its devName, "vdb"`));
  // With its disk, it renders.
  const withDisk = { ...desc, volumes: [{ ...desc.volumes[0], libvirt: '<disk type="block" device="disk"><source dev="/dev/sdz"/><target dev="vdb" bus="virtio"/></disk>' }] };
  const ok = await cli(['render', '--instance', write('volume-ok.json', JSON.stringify(withDisk, null, 2))]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /<target dev="vdb" bus="virtio"\/>/);
});
