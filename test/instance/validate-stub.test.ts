// A hot-plug stub's values are held, where the stub gives them, to the rules their fields have in
// instance.xml: `render --instance eni-XXX.xml` or `vol-XXX.xml` with a value libvirt refuses is an
// InstanceError at the stub's file, line and path, not a schema error at a line of the rendered
// fragment; a boundary value libvirt takes still renders, and virt-xml-validate takes the fragment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InstanceError, loadTransform, renderText, type CompiledTransform } from '../../engine/index.js';
import { EUCA_INPUTS_DIR } from '../fixtures/reference.js';
import { oracleAcceptsFragment } from '../validate/helpers.js';
import { cli } from '../render/cli.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const ENI = readFileSync(join(EUCA_INPUTS_DIR, '08-nic-eni-attach.xml'), 'utf8');
const VOL = readFileSync(join(EUCA_INPUTS_DIR, '07-volume-attach-kvm-virtio.xml'), 'utf8');
let transforms: CompiledTransform[] = [];
const dir = mkdtempSync(join(tmpdir(), 'domforge-stub-values-'));
test.before(async () => {
  transforms = await Promise.all(['libvirt.xsl', 'libvirt.xml.hbs'].map((f) => loadTransform(join(ROOT, 'transforms', f))));
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

function edit(text: string, from: string, to: string): string {
  const out = text.replace(from, to);
  assert.notEqual(out, text, `the edit applies: ${from}`);
  return out;
}
const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;

/** Both shipped transforms refuse to render `text` as an InstanceError at `path`, on the line of `needle`, with a message matching `message`. */
async function refused(text: string, path: string, needle: string, message: RegExp): Promise<void> {
  for (const transform of transforms) {
    await assert.rejects(renderText(text, { file: 'stub.xml', transform }), (e: unknown) => {
      assert.ok(e instanceof InstanceError, String(e));
      assert.deepEqual([e.file, e.path, e.line], ['stub.xml', path, lineOf(text, needle)], e.message);
      assert.match(e.shortMessage, message);
      return true;
    });
  }
}

/** Both shipped transforms render `text`, validated, and libvirt's virt-xml-validate takes the fragment as a device. */
async function accepted(text: string): Promise<string> {
  let xml = '';
  for (const transform of transforms) {
    const r = await renderText(text, { file: 'stub.xml', transform });
    assert.equal(r.validated, true);
    assert.ok(oracleAcceptsFragment(r.xml), `${transform.kind}:\n${r.xml}`);
    xml = r.xml;
  }
  return xml;
}

test("an eni- stub's MAC, bridge or tap name libvirt's schema refuses is refused at its <nic>; what the schema takes still renders", async () => {
  const mac = 'mac="d0:0d:4e:7a:12:08"';
  await refused(edit(ENI, mac, 'mac="d0:0d:4e:7a:12"'), '/nic/@mac', '<nic ', /^malformed MAC address "d0:0d:4e:7a:12"/);
  // uniMacAddr: a multicast address (odd first byte) is no NIC's.
  await refused(edit(ENI, mac, 'mac="d1:0d:4e:7a:12:08"'), '/nic/@mac', '<nic ', /^MAC address d1:0d:4e:7a:12:08 is a multicast address$/);
  await refused(edit(ENI, 'bridgeDeviceName="br-vpc0"', 'bridgeDeviceName="br;vpc0"'), '/nic/@bridgeDeviceName', '<nic ', /^the bridge name "br;vpc0" may hold only letters, digits/);
  await refused(edit(ENI, 'guestDeviceName="vn_eni-8c9d0e1f"', 'guestDeviceName="vn eni-8c9d0e1f"'), '/nic/@guestDeviceName', '<nic ', /^the tap device name "vn eni-8c9d0e1f" may hold only letters, digits/);
  // Linux takes no ':' or '/' in an interface name, nor '.' or '..': the host would refuse the tap.
  await refused(edit(ENI, 'guestDeviceName="vn_eni-8c9d0e1f"', 'guestDeviceName="vn:eni-8c9d0e"'), '/nic/@guestDeviceName', '<nic ', /^the tap device name "vn:eni-8c9d0e" holds ":"; a network interface is named other than '\.' and '\.\.', with no '\/', ':' or whitespace/);
  await refused(edit(ENI, 'guestDeviceName="vn_eni-8c9d0e1f"', 'guestDeviceName="."'), '/nic/@guestDeviceName', '<nic ', /^the tap device name "\." is reserved/);
  // An upper-case unicast MAC, an empty bridge, and every character the tap name may hold (libvirt's, less Linux's ':' and '/').
  const xml = await accepted(edit(edit(edit(ENI, mac, 'mac="D2:0D:4E:7A:12:08"'), 'bridgeDeviceName="br-vpc0"', 'bridgeDeviceName=""'), 'guestDeviceName="vn_eni-8c9d0e1f"', 'guestDeviceName="a\\b.c-d_e"'));
  assert.match(xml, /<source bridge=""\/>/);
});

test("a model attribute on an eni- stub's <nic> is refused there, not rendered e1000e by one transform and e1000 by the other; a prefixed one is kept", async () => {
  const mac = 'mac="d0:0d:4e:7a:12:08"';
  await refused(edit(ENI, mac, `${mac} model="e1000e"`), '/nic/@model', '<nic ', /^a Eucalyptus <nic> has no model attribute \(model="e1000e"\): its model follows osVirtioNetwork and NicType, and the shipped XSLT would take the attribute where the Handlebars template would not$/);
  const xml = await accepted(edit(ENI, mac, `${mac} xmlns:x="urn:x" x:model="e1000e"`));
  assert.match(xml, /<model type="e1000"\/>/);
});

test("a vol- stub's partition target (sdh1, vdb1) is refused at its <diskPath> on KVM and QEMU, as in instance.xml; Xen's is taken, and partition 0 is none", async () => {
  for (const type of ['kvm', 'qemu']) {
    const stub = type === 'kvm' ? VOL : edit(VOL, 'type="kvm"', `type="${type}"`);
    for (const bad of ['sdh1', 'vdb1', 'sdh12']) {
      const partition = /\d+$/.exec(bad)![0];
      await refused(
        edit(stub, 'targetDeviceName="sdh"', `targetDeviceName="${bad}"`),
        '/volume/diskPath/@targetDeviceName',
        '<diskPath',
        new RegExp(`^the guest device name "${bad}" names partition ${partition} of a disk; on ${type}, libvirt's QEMU driver attaches whole disks and refuses partitions in disk targets \\(Xen takes them\\)$`),
      );
    }
  }
  // The CLI says it at the stub's file and line, and writes nothing on stdout.
  const file = join(dir, 'vol-partition.xml');
  writeFileSync(file, edit(VOL, 'targetDeviceName="sdh"', 'targetDeviceName="sdh1"'));
  const r = await cli(['render', '--instance', file]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`^domforge: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${lineOf(VOL, '<diskPath')}:3: the guest device name "sdh1" names partition 1 of a disk; on kvm, .* \\(at /volume/diskPath/@targetDeviceName\\)\n$`));
  // virDiskNameParse reads vdh0 as vdh, no partition: the QEMU driver takes it.
  assert.match(await accepted(edit(VOL, 'targetDeviceName="sdh"', 'targetDeviceName="sdh0"')), /<target dev="vdh0" bus="virtio"\/>/);
  await accepted(edit(edit(VOL, 'type="kvm"', 'type="xen"'), 'targetDeviceName="sdh"', 'targetDeviceName="sdh1"'));
});

test("a vol- stub's <diskPath> is held to the rules of instance.xml's: a path, device name or serial libvirt refuses is refused at its line", async () => {
  const path = '>/dev/disk/by-path/ip-10.111.5.2:3260-iscsi-iqn.2009-06.com.eucalyptus.ctrl:store-vol-3a3b3c3d-lun-1<';
  const file = (p: string) => edit(edit(VOL, 'sourceType="block"', 'sourceType="file"'), path, `>${p}<`);
  for (const bad of ['vol.img', '/', '/vol&#10;.img']) await refused(file(bad), '/volume/diskPath', '<diskPath', /^the backing path of a file disk must be an absolute path/);
  await refused(edit(VOL, path, '>my vol<'), '/volume/diskPath', '<diskPath', /^the backing path of a block disk must be an absolute path/);
  for (const bad of ['sd', 'sd1']) await refused(edit(VOL, 'targetDeviceName="sdh"', `targetDeviceName="${bad}"`), '/volume/diskPath/@targetDeviceName', '<diskPath', /has no drive letter after its prefix sd/);
  await refused(edit(VOL, 'serial="vol-3a3b3c3d-dev-sdh"', 'serial="vol/3"'), '/volume/diskPath/@serial', '<diskPath', /^the disk serial "vol\/3" may hold only letters, digits/);
  // The boundaries: a one-character file name, a relative device name and "/" for a block device, any prefix before the drive letter.
  assert.match(await accepted(file('/v')), /<source file="\/v"\/>/);
  for (const dev of ['dev/vol', '/']) assert.ok((await accepted(edit(VOL, path, `>${dev}<`))).includes(`<source dev="${dev}"/>`));
  assert.match(await accepted(edit(VOL, 'targetDeviceName="sdh"', 'targetDeviceName="abz"')), /<target dev="vdz" bus="virtio"\/>/);
  assert.match(await accepted(edit(VOL, 'serial="vol-3a3b3c3d-dev-sdh"', 'serial="a b+c.d_e-f"')), /<serial>a b\+c\.d_e-f<\/serial>/);
});

test('domforge render --instance names the stub file, line and path of a refused value', async () => {
  const f = join(dir, 'eni-bad.xml');
  writeFileSync(f, edit(ENI, 'bridgeDeviceName="br-vpc0"', 'bridgeDeviceName="br,vpc0"'));
  const r = await cli(['render', '--instance', f]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `domforge: ${f}:2:1: the bridge name "br,vpc0" may hold only letters, digits, '_', '.', '-', '\\', ':', '/' and spaces (libvirt's schema) (at /nic/@bridgeDeviceName)\n`);
});
