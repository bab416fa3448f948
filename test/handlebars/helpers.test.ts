/** Each helper, through a real template (so options handling and escaping are exercised too). */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compileHandlebars } from '../../engine/transform/handlebars/index.js';
import { nextFreeName, nameOnBus, suffixOfName } from '../../engine/transform/handlebars/device-names.js';
import { TransformError } from '../../engine/errors.js';
import { tmpTemplate, variant } from './fixtures.js';
import type { Instance } from '../../engine/instance/model.js';

/** Renders `{{#with instance}}<r>BODY</r>{{/with}}` over the base instance changed by `edit`. */
async function render(body: string, edit: (i: Instance) => void = () => undefined, params: Record<string, string> = {}): Promise<string> {
  const t = compileHandlebars(tmpTemplate(`{{#with instance}}<r>${body}</r>{{/with}}`));
  const { output } = await t.render({ xml: variant(edit) }, params);
  return output.replace(/^<r>|<\/r>$/g, '');
}

describe('helpers', () => {
  const cases: [string, string, string][] = [
    ['eq on strings and numbers', '{{eq hypervisor.type "kvm"}} {{eq hypervisor.bitness "64"}} {{eq hypervisor.bitness 32}}', 'true true false'],
    ['eq: missing equals empty', '{{eq features.legacyDiskBus ""}}', 'true'],
    ['ne', '{{ne hypervisor.type "xen"}} {{ne cores 2}}', 'true false'],
    ['and / or / not', '{{and true 1 "x"}} {{and true ""}} {{or 0 "" nics}} {{or 0 ""}} {{not extraNics}} {{not nics}}', 'true false true false true false'],
    ['ternary', '{{ternary (eq os.platform "linux") "utc" "localtime"}}', 'utc'],
    ['default', '{{default features.legacyDiskBus "ide"}} {{default reservation "none"}} {{default "" "empty"}}', 'ide r-8f00ba11 empty'],
    ['lower / upper', '{{lower "D0:0D:AB"}} {{upper "br0"}}', 'd0:0d:ab BR0'],
    ['replace (every occurrence, literal)', '{{replace "sda sdb" "sd" "hd"}} {{replace "a.b" "." "-"}}', 'hda hdb a-b'],
    ['startsWith / contains', '{{startsWith "vda" "vd"}} {{startsWith "sda" "vd"}} {{contains "pc-q35-7.2" "q35"}}', 'true false true'],
    ['substringAfter / normalizeSpace / concat', '{{substringAfter "root=/dev/vda1" "root="}} [{{normalizeSpace "  a   b "}}] {{concat "vd" "a" 1}}', '/dev/vda1 [a b] vda1'],
    ['mul / div / add', '{{div memoryKB 1024}} {{mul cores 2}} {{div 7 2}} {{add 1 "2"}}', '2048 4 3 3'],
    ['devName / devSuffix / devLetter / hasPartition', '{{devName "sda" "ide"}} {{devName "xvdb1" "virtio"}} {{devName "vdc" "sata"}} {{devSuffix "xvda1"}} {{devLetter 2}}{{devLetter 26}} {{hasPartition "sda1"}} {{hasPartition "sda"}}', 'hda vdb1 sdc a1 c true false'],
    ['nextFreeDev', '{{nextFreeDev this "sd"}}', 'sda'],
    ['let: values as @name, seen by nested blocks', '{{#let a="x" b=(upper "y")}}{{@a}}{{#each nics}}{{@b}}{{/each}}{{/let}}', 'xY'],
    ['lookup and each (built-in)', '{{#each disks.diskPaths}}{{targetDeviceName}},{{/each}}{{lookup os "platform"}}', 'vda,vdb,linux'],
  ];
  for (const [name, body, expected] of cases) {
    test(name, async () => assert.equal(await render(body), expected));
  }

  test('xml: kept XML is written as markup, and checked to be one element', async () => {
    const out = await render('{{#each volumes}}{{xml libvirt}}{{/each}}', (i) => {
      i.volumes.push({ id: 'v', attachmentToken: '', devName: 'sdb', stateName: 'attached', connectionString: '', libvirt: '<disk type="block"><target dev="vdb"/><serial>a&amp;b</serial></disk>' });
    });
    assert.equal(out, '<disk type="block"><target dev="vdb"/><serial>a&amp;b</serial></disk>');
    await assert.rejects(render('{{xml "<a><b></a>"}}'), (e: TransformError) => e.code === 'TRANSFORM_RUNTIME' && /not one well-formed XML element/.test(e.message));
  });

  test('helpers refuse bad input with the template line', async () => {
    await assert.rejects(render('\n{{mul "lots" 2}}'), (e: TransformError) => e.code === 'TRANSFORM_RUNTIME' && e.line === 2 && /mul: expected a number/.test(e.message));
    await assert.rejects(render('{{lower nics}}'), /lower: expected text as argument, got a list/);
    await assert.rejects(render('{{nextFreeDev name "sd"}}'), /first argument must be the instance/);
    // let's misuses are refused when the template loads, at their line and column.
    const atLoad = (line: number, column: number, message: RegExp) => (e: TransformError) => e.code === 'TRANSFORM_SYNTAX' && e.line === line && e.column === column && message.test(e.message);
    await assert.rejects(render('\n{{#let root=1}}{{/let}}'), atLoad(2, 8, /let: @root is Handlebars's own and cannot be set/));
    await assert.rejects(render('\n{{#let "x"}}{{/let}}'), atLoad(2, 1, /let: takes only name=value pairs/));
    await assert.rejects(render('\n{{let a=1}}'), atLoad(2, 1, /let is a block helper: write \{\{#let name=value\}\}/));
  });

  test('fail joins its arguments', async () => {
    await assert.rejects(render('{{fail "cores: " cores}}'), (e: TransformError) => e.code === 'TRANSFORM_MESSAGE' && e.shortMessage === 'cores: 2');
  });
});

describe('device names', () => {
  const base = { disks: { floppyPath: '', diskPaths: [] as Instance['disks']['diskPaths'] }, volumes: [] as Instance['volumes'] };
  test('a bus rename keeps the letter and partition', () => {
    assert.equal(nameOnBus('sdb2', 'xen'), 'xvdb2');
    assert.equal(nameOnBus('hdc', 'scsi'), 'sdc');
    assert.equal(nameOnBus('fda', 'fdc'), 'fda');
    assert.equal(suffixOfName('vd'), '');
  });
  test('next free name skips letters non-virtio disks and volumes take, not virtio ones', () => {
    const i = structuredClone(base);
    i.disks.diskPaths.push({ path: '/a', targetDeviceType: 'disk', targetDeviceName: 'hda', targetDeviceBus: 'ide', sourceType: 'file' });
    i.disks.diskPaths.push({ path: '/b', targetDeviceType: 'disk', targetDeviceName: 'vdb', targetDeviceBus: 'virtio', sourceType: 'file' });
    i.volumes.push({ id: 'v', attachmentToken: '', devName: '', stateName: 'attached', connectionString: '', libvirt: '<disk><target dev="sdb" bus="scsi"/></disk>' });
    assert.equal(nextFreeName(i, 'sd'), 'sdc');
    assert.equal(nextFreeName(i, 'hd'), 'hdb');
  });
  test('no letter left gives the empty string', () => {
    const i = structuredClone(base);
    for (const l of 'abcdefghijklmnopqrstuvwxyz') i.disks.diskPaths.push({ path: '/x', targetDeviceType: 'disk', targetDeviceName: `sd${l}`, targetDeviceBus: 'scsi', sourceType: 'file' });
    assert.equal(nextFreeName(i, 'sd'), '');
  });
});
