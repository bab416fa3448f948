import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { renderFile, diffXml, connect, closeConnections, parseXml, childElements, runVirtXmlValidate, type LibvirtConnection } from '../../engine/index.js';
import { compileXslt } from '../../engine/transform/xslt/compile.js';
import type { Element } from '../../engine/xml/parse.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const SAMPLES = join(ROOT, 'samples');
const XSL = join(ROOT, 'transforms', 'libvirt.xsl');
const samples = readdirSync(SAMPLES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();
const transform = compileXslt(XSL);

let conn: LibvirtConnection;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
});
test.after(() => closeConnections());

test('there are at least ten samples, each with an instance and its expected libvirt.xml', () => {
  assert.ok(samples.length >= 10, `${samples.length} samples`);
  for (const s of samples) {
    assert.ok(readFileSync(join(SAMPLES, s, 'instance.xml'), 'utf8').includes('<instance'), s);
    assert.ok(readFileSync(join(SAMPLES, s, 'libvirt.xml'), 'utf8').includes('<domain'), s);
  }
});

for (const s of samples) {
  test(`sample ${s}: expected tree, same as xsltproc, valid for libvirt, defined and started on test:///default`, async () => {
    const input = join(SAMPLES, s, 'instance.xml');
    const r = await renderFile(input, { transform });
    assert.equal(r.validated, true);

    const expected = readFileSync(join(SAMPLES, s, 'libvirt.xml'), 'utf8');
    const d = diffXml(expected, r.xml, {}, ['expected', 'domforge']);
    assert.equal(d, undefined, d && `${d.path}: ${d.message}`);

    const libxslt = execFileSync('xsltproc', ['--nonet', XSL, input], { encoding: 'utf8' });
    const dx = diffXml(libxslt, r.xml, {}, ['xsltproc', 'domforge']);
    assert.equal(dx, undefined, dx && `${dx.path}: ${dx.message}`);
    // The golden file is exactly what xsltproc writes, and so is domforge's default (compiled) engine.
    assert.equal(expected, libxslt, 'samples/*/libvirt.xml is byte-identical to xsltproc output');
    assert.equal(r.transform.engine, 'compiled');
    assert.equal(r.xml, libxslt);

    const v = await runVirtXmlValidate(r.xml);
    assert.equal(v.valid, true, v.errors.join('\n'));

    const name = parseXml(r.xml).getElementsByTagName('name')[0].textContent!;
    // The output parsed once by the pipeline is handed on with it (the controller checks it without parsing again).
    assert.equal(r.document.documentElement?.nodeName, 'domain');
    assert.equal(r.document.getElementsByTagName('name')[0]?.textContent, name);
    const ref = await conn.define(r.xml);
    try {
      assert.equal(ref.name, name);
      await conn.start(name);
      assert.equal(await conn.getState(name), 'running');
      // libvirt holds the devices the transform made.
      const live = parseXml(await conn.getXML(name));
      const devices = childElements(live.getElementsByTagName('devices')[0]);
      const want = childElements(parseXml(expected).getElementsByTagName('devices')[0]);
      for (const kind of ['disk', 'interface']) {
        assert.equal(devices.filter((e) => e.nodeName === kind).length, want.filter((e) => e.nodeName === kind).length, `${kind} count`);
      }
      const targets = (els: Element[]) => els.filter((e) => e.nodeName === 'disk').map((e) => e.getElementsByTagName('target')[0].getAttribute('dev')).sort();
      assert.deepEqual(targets(devices), targets(want));
      const hp = live.getElementsByTagName('hugepages').length;
      assert.equal(hp, parseXml(expected).getElementsByTagName('hugepages').length, 'hugepages kept');
    } finally {
      await conn.destroy(name).catch(() => undefined);
      await conn.undefine(name);
    }
    assert.equal((await conn.list()).some((x) => x.name === name), false, 'nothing left behind');
  });
}
