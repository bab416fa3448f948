// libvirt's limit on memory sizes (2^53 - 1 KiB on a 64-bit host), with libvirt's test driver as
// the oracle: on each side of the limit, in several units, domforge refuses a size at its
// element or attribute exactly when `define` refuses it as a numerical overflow, for every
// memory size domforge checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainInvalidError, closeConnections, connect, type LibvirtConnection } from '../../engine/index.js';
import { validateDomainXml } from '../../engine/validate/validate-domain.js';
import { defineError } from './helpers.js';

let conn: LibvirtConnection;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
});
test.after(() => closeConnections());

/** A domain around `parts` (children of `<domain>`, with `<memory>` unless they have one; a `<memoryBacking>` is not one) and `devices`. */
const domain = (parts: string, devices = '') => `<domain type='kvm'>
  <name>domforge-memory-limit</name>
  ${/<memory[\s>]/.test(parts) ? '' : "<memory unit='GiB'>1</memory>\n  "}${parts}
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>${devices}</devices>
</domain>`;

/** Sizes on each side of the limit: the last one libvirt takes in a unit, and the first it refuses. */
const SIZES: [value: string, unit: string, taken: boolean][] = [
  ['9007199254740991', 'KiB', true],
  ['9007199254740992', 'KiB', false],
  ['18014398509481984', 'KiB', false],
  ['9223372036854774784', 'b', true], // 2^63 - 1024 bytes: 2^53 - 1 KiB
  ['9223372036854774785', 'b', false], // libvirt: "size value too large" (rounded up to 2^53 KiB)
  ['9223372036854775808', 'b', false], // past LLONG_MAX bytes: "value too large"
  ['9223372036854774', 'KB', true],
  ['9223372036854775', 'KB', false],
  ['8796093022207', 'MiB', true],
  ['8796093022208', 'MiB', false],
  ['7', 'EiB', true],
  ['8', 'EiB', false],
  ['16', 'EiB', false],
  ['9', 'EB', true],
  ['10', 'EB', false],
];
/** A hugepage size must be a power of two as well (domforge's own rule): the powers of two on each side. */
const PAGE_SIZES: [string, string, boolean][] = [
  ['4503599627370496', 'KiB', true],
  ['9007199254740992', 'KiB', false],
  ['4611686018427387904', 'b', true],
  ['9223372036854775808', 'b', false],
  ['4', 'EiB', true],
  ['8', 'EiB', false],
];

/**
 * A memory device's sizes: the ones refused as SIZES's, the ones taken the largest that fit in
 * a whole domain beside its 1 GiB NUMA cell (libvirt refuses a total over the limit, not as a
 * numerical overflow) and that a virtio-mem device's 2 MiB blocks divide: 2^53 − 2^20 − 2^11 KiB.
 */
const DEVICE_MAX_KIB = 9007199253690368n;
const DEVICE_SIZES: [string, string, boolean][] = [
  [String(DEVICE_MAX_KIB), 'KiB', true],
  [String(DEVICE_MAX_KIB * 1024n), 'b', true],
  [String((DEVICE_MAX_KIB * 1024n) / 1000n), 'KB', true],
  [String(DEVICE_MAX_KIB / 1024n), 'MiB', true],
  ['7', 'EiB', true],
  ...SIZES.filter(([, , taken]) => !taken),
];
/** Room for memory devices up to the limit: `<maxMemory>` and `<memory>` at 2^53 − 1 KiB, one 1 GiB NUMA cell. */
const maxMemory =
  "<maxMemory slots='4' unit='KiB'>9007199254740991</maxMemory><memory unit='KiB'>9007199254740991</memory><cpu><numa><cell id='0' cpus='0' memory='1' unit='GiB'/></numa></cpu>";
const PLACES: { place: string; path: string; xml: (v: string, u: string) => string; sizes?: typeof SIZES }[] = [
  { place: '<memory>', path: '/domain/memory', xml: (v, u) => domain(`<memory unit='${u}'>${v}</memory>`) },
  {
    place: '<currentMemory>',
    path: '/domain/currentMemory',
    xml: (v, u) => domain(`<memory unit='KiB'>9007199254740991</memory><currentMemory unit='${u}'>${v}</currentMemory>`),
  },
  {
    place: '<maxMemory>',
    path: '/domain/maxMemory',
    // With a NUMA cell, without which libvirt's QEMU driver refuses <maxMemory> (memory hotplug) on kvm.
    xml: (v, u) => domain(`<maxMemory slots='4' unit='${u}'>${v}</maxMemory><cpu><numa><cell id='0' cpus='0' memory='1' unit='GiB'/></numa></cpu>`),
  },
  {
    place: 'a hugepage size',
    path: '/domain/memoryBacking/hugepages/page/@size',
    xml: (v, u) => domain(`<memoryBacking><hugepages><page size='${v}' unit='${u}'/></hugepages></memoryBacking>`),
    sizes: PAGE_SIZES,
  },
  { place: 'a NUMA cell', path: '/domain/cpu/numa/cell/@memory', xml: (v, u) => domain(`<cpu><numa><cell id='0' cpus='0' memory='${v}' unit='${u}'/></numa></cpu>`) },
  {
    place: "a memory device's <target><size>",
    path: '/domain/devices/memory/target/size',
    xml: (v, u) => domain(maxMemory, `<memory model='dimm'><target><size unit='${u}'>${v}</size><node>0</node></target></memory>`),
    sizes: DEVICE_SIZES,
  },
  {
    place: "a memory device's <source><pagesize>",
    path: '/domain/devices/memory/source/pagesize',
    xml: (v, u) => domain(maxMemory, `<memory model='dimm'><source><pagesize unit='${u}'>${v}</pagesize></source><target><size unit='MiB'>512</size><node>0</node></target></memory>`),
  },
  {
    place: "a virtio-mem device's <requested>",
    path: '/domain/devices/memory/target/requested',
    xml: (v, u) => domain(maxMemory, `<memory model='virtio-mem'><target><size unit='KiB'>${DEVICE_MAX_KIB}</size><node>0</node><block unit='MiB'>2</block><requested unit='${u}'>${v}</requested></target></memory>`),
    sizes: DEVICE_SIZES,
  },
];


/** domforge's problem at `path`, or undefined. */
async function problemAt(xml: string, path: string): Promise<string | undefined> {
  const err = await validateDomainXml(xml, { file: 'd.xml' }).then(() => undefined, (e: unknown) => e);
  if (err === undefined) return undefined;
  assert.ok(err instanceof DomainInvalidError, String(err));
  return err.problems.find((p) => p.path === path)?.shortMessage;
}

for (const { place, path, xml, sizes = SIZES } of PLACES) {
  test(`${place}: refused at ${path} exactly where libvirt's define refuses it as a numerical overflow`, async () => {
    for (const [value, unit, taken] of sizes) {
      const doc = xml(value, unit);
      const libvirt = await defineError(conn, doc);
      assert.equal(!/numerical overflow/.test(libvirt ?? ''), taken, `libvirt on ${value} ${unit}: ${libvirt}`);
      if (taken) {
        // A size libvirt takes leaves nothing to say: domforge finds no problem anywhere, and libvirt defines the domain.
        await assert.doesNotReject(validateDomainXml(doc, { file: 'd.xml' }), `${value} ${unit}`);
        assert.equal(libvirt, undefined, `${value} ${unit}`);
        continue;
      }
      const problem = await problemAt(doc, path);
      assert.match(problem ?? '', new RegExp(`${value} ${unit} is too large: libvirt takes memory sizes up to 9007199254740991 KiB \\(just under 8 EiB\\)`), `${value} ${unit}`);
    }
  });
}

test('the error is placed at the element, with its line and column', async () => {
  const xml = domain("<memory unit='EiB'>16</memory>");
  const err = await validateDomainXml(xml, { file: 'd.xml' }).then(() => assert.fail('accepted'), (e: unknown) => e);
  assert.ok(err instanceof DomainInvalidError);
  assert.deepEqual([err.file, err.line, err.column, err.path], ['d.xml', 3, 3, '/domain/memory']);
  assert.equal(err.problems.length, 1, err.fullMessage);
  assert.match(err.message, /^d\.xml:3:3: <memory>: 16 EiB is too large: libvirt takes memory sizes up to 9007199254740991 KiB \(just under 8 EiB\) and refuses more as a numerical overflow/);
});
