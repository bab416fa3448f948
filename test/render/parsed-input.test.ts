// renderText's first step on its own (parseRenderInput), and a render given that step's
// result instead of parsing again — what the sandbox does for proving samples it keeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseRenderInput, renderText } from '../../engine/render/render.js';
import { loadTransform } from '../../engine/transform/load.js';
import { TransformSandbox } from '../../engine/transform/sandbox/index.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const SAMPLE = join(ROOT, 'samples', '01-linux-virtio', 'instance.xml');
const XSL = join(ROOT, 'transforms', 'libvirt.xsl');
const HBS = join(ROOT, 'transforms', 'libvirt.xml.hbs');
const text = readFileSync(SAMPLE, 'utf8');

test('parseRenderInput tells the input kind and reads an instance; bad input fails as renderText fails', async () => {
  const p = parseRenderInput(text, SAMPLE);
  assert.equal(p.kind, 'instance');
  assert.equal(p.document?.documentElement?.nodeName, 'instance');
  assert.equal(p.instance?.name, (await renderText(text, { transform: XSL, file: SAMPLE })).instance?.name);
  const nic = parseRenderInput('<nic mac="d0:0d:12:34:56:78" bridgeDeviceName="br0" device="1"/>', 'eni.xml');
  assert.equal(nic.kind, 'nic');
  assert.equal(nic.instance, undefined);
  assert.equal(nic.stub?.kind, 'nic');
  const broken = text.replace('<cores>', '<cores>x');
  const viaRender = await renderText(broken, { transform: XSL, file: SAMPLE }).catch((e: Error & { code?: string; line?: number }) => e);
  assert.throws(
    () => parseRenderInput(broken, SAMPLE),
    (e: Error & { code?: string; line?: number; file?: string }) => e.code === (viaRender as { code?: string }).code && e.line === (viaRender as { line?: number }).line && e.file === SAMPLE,
  );
});

test('renderText given the parsed input renders from it without reading the text again', async () => {
  const hbs = await loadTransform(HBS);
  const plain = await renderText(text, { transform: hbs, file: SAMPLE });
  const p = parseRenderInput(text, SAMPLE);
  // The Handlebars context is the given Instance: a changed copy shows in the output.
  const renamed = { kind: p.kind, instance: { ...p.instance!, name: 'i-given00' } };
  const r = await renderText(text, { transform: hbs, file: SAMPLE, parsed: renamed });
  assert.match(r.xml, /<name>i-given00<\/name>/);
  assert.equal(r.instance, renamed.instance);
  // Exactly what the text with that name renders to.
  const named = await renderText(text.replace(`<name>${p.instance!.name}</name>`, '<name>i-given00</name>'), { transform: hbs, file: SAMPLE });
  assert.equal(r.xml, named.xml);
  assert.notEqual(r.xml, plain.xml);
  // An instance kind without its Instance is no parsed input: the text is read as usual.
  const again = await renderText(text, { transform: hbs, file: SAMPLE, parsed: { kind: 'instance' } });
  assert.equal(again.xml, plain.xml);
});

test('a sample proved again and again in the sandbox renders exactly as in-thread, with the Handlebars and XSLT transforms alike', async () => {
  const sandbox = new TransformSandbox({ size: 1, timeoutMs: 20_000 });
  try {
    for (const file of [XSL, HBS]) {
      const expected = (await renderText(text, { transform: file, file: SAMPLE })).xml;
      const t = await sandbox.load(file);
      for (let i = 0; i < 3; i++) {
        const r = await t.prove({ name: '01', file: SAMPLE, xml: text, expected });
        assert.equal(r.output, expected, file);
        assert.equal(r.difference, undefined);
      }
      // The same text under another file name, and a changed text, are read on their own.
      const other = await t.prove({ name: 'copy', file: join(ROOT, 'copy.xml'), xml: text });
      assert.equal(other.output, expected);
      const changed = await t.prove({ name: '01b', file: SAMPLE, xml: text.replace(/<cores>\d+<\/cores>/, '<cores>3</cores>') });
      assert.notEqual(changed.output, expected);
    }
  } finally {
    await sandbox.close();
  }
});

test('a dry run renders what a launch renders: the input as written back, not as typed', async () => {
  // Each variant reads as the same instance as the sample; the launch writes and renders that
  // form, so the dry run must give the same domain, with either transform.
  const variants: [string, string][] = [
    ['spaces around values', text.replace(/<name>([^<]*)<\/name>/, '<name> $1 </name>').replace(/<uuid>([^<]*)<\/uuid>/, '<uuid>\n  $1\n</uuid>').replace(/<memoryKB>([^<]*)<\/memoryKB>/, '<memoryKB> $1 </memoryKB>')],
    ['a signed number', text.replace(/<cores>(\d+)<\/cores>/, '<cores>+$1</cores>')],
    ['a default namespace on the root', text.replace('<instance', '<instance xmlns="urn:x"')],
  ];
  for (const transform of [await loadTransform(XSL), await loadTransform(HBS)]) {
    const want = (await renderText(text, { transform, file: SAMPLE })).xml;
    for (const [label, variant] of variants) {
      assert.notEqual(variant, text, label);
      const p = parseRenderInput(variant, SAMPLE);
      assert.ok(p.canonical, label);
      assert.equal((await renderText(variant, { transform, file: SAMPLE })).xml, want, `${label} (${transform.kind})`);
    }
  }
  // The sample itself is already in written form: nothing is parsed twice.
  assert.equal(parseRenderInput(text, SAMPLE).canonical, undefined);
});

test('the written form is not parsed again: what parseRenderInput keeps of 1,000 terse <vbr>s is their Instance, not a tree of 36,000 written elements', () => {
  // Each <vbr><id>x</id></vbr> is written back with all 17 of its fields. A parse tree of that
  // text (xmldom: about 1 KB an element) took 20 MB here, and 4 GB, out of memory, at 200,000.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const many = text.replace('<vbrs/>', `<vbrs>${'<vbr><id>x</id></vbr>'.repeat(1000)}</vbrs>`);
  gc();
  const before = process.memoryUsage().heapUsed;
  const p = parseRenderInput(many, SAMPLE);
  gc();
  const kept = process.memoryUsage().heapUsed - before;
  assert.equal(p.instance?.vbrs.length, 1000);
  assert.equal(p.canonical?.match(/<guestDeviceSerialId\/>/g)?.length, 1000);
  assert.ok(kept < 6 * 1024 * 1024, `parseRenderInput kept ${(kept / 1048576).toFixed(1)} MiB`);
});

test('a device stub is read field by field before it is rendered', async () => {
  const stub = '<nic xml-version="2" vlan="abc" networkIndex="-1" mac="d0:0d:00:00:00:09" bridgeDeviceName="br0" device="1"/>';
  await assert.rejects(renderText(stub, { transform: XSL, file: 'eni-1234.xml' }), (e: Error & { code?: string; file?: string; path?: string; line?: number }) => {
    assert.equal(e.file, 'eni-1234.xml');
    assert.equal(e.line, 1);
    assert.equal(e.path, '/nic/@vlan');
    return true;
  });
  await assert.rejects(renderText('<nic bridgeDeviceName="br0" device="1"/>', { transform: XSL, file: 'eni-1234.xml' }), (e: Error & { file?: string; path?: string }) => {
    assert.equal(e.file, 'eni-1234.xml', 'blamed on the stub, not on the transform output');
    assert.match(e.path ?? '', /^\/nic\/@mac/);
    return true;
  });
});
