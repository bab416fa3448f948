// An unknown element in instance.xml below <instance> (a future Eucalyptus field inside
// <disks>, a <vbr>, a <volume> or <backing>, say) reaches the transform in the element that
// held it, as a launch renders the record it writes: the shipped stylesheet ignores it, an
// admin's stylesheet can read it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderText } from '../../engine/render/render.js';
import { parseXml } from '../../engine/xml/parse.js';
import type { Instance } from '../../engine/instance/model.js';
import { cli } from './cli.js';
import { NESTED, NESTED_FILE, STRAYS, nestedOf, withNestedStrays, withStrays } from '../fixtures/strays.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const SAMPLE = join(ROOT, 'samples', '01-linux-virtio', 'instance.xml');
const XSL = join(ROOT, 'transforms', 'libvirt.xsl');

const dir = mkdtempSync(join(tmpdir(), 'domforge-kept-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * An admin's stylesheet that reads the unknown elements, each where it was: those of the
 * list containers into <description>, those of a vbr, a volume and backing into <title>.
 */
const READER = `<?xml version="1.0"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="xml" indent="yes"/>
  <xsl:template match="/instance">
    <domain type="kvm">
      <name><xsl:value-of select="name"/></name>
      <title><xsl:value-of select="concat(backing/x-backing-future/@mode, '|', backing/x-backing-future/note, '|', name(backing/*[last()]), '|', vbrs/vbr[1]/x-vbr-field/@tier, '|', name(vbrs/vbr[1]/*[last()]), '|', volumes/volume[2]/x-volume-field/@state, '|', name(volumes/volume[2]/*[last()]))"/></title>
      <description><xsl:value-of select="concat(disks/x-disk-future/@x, '|', count(disks/x-disk-future/detail), '|', name(disks/*[last()]), '|', groupNames/x-group-note/@by, '|', name(vbrs/*), '|', volumes/x-volume-future/@state, '|', name(nics/*))"/></description>
    </domain>
  </xsl:template>
</xsl:stylesheet>
`;

/** Each document with its unknown elements and without them, what parseInstance keeps, and what READER sees of them (in which element). */
const CASES = [
  { where: 'its list containers', file: SAMPLE, edit: withStrays, kept: (i: Instance) => i.unknownChildren, expected: STRAYS, readIn: 'description', seen: '7|1|x-disk-second|admin|x-vbr-future|new|x-nic-future' },
  { where: 'a vbr, a volume and backing', file: NESTED_FILE, edit: withNestedStrays, kept: nestedOf, expected: NESTED, readIn: 'title', seen: 'thin|n|x-backing-future|gold|x-vbr-last|new|x-volume-field' },
].map((c) => ({ ...c, withThem: c.edit(readFileSync(c.file, 'utf8'), (x) => x), without: c.edit(readFileSync(c.file, 'utf8'), () => '') }));

for (const c of CASES) {
  test(`the shipped stylesheet renders an instance with unknown elements in ${c.where} as without them`, async () => {
    const kept = await renderText(c.withThem, { transform: XSL, file: c.file });
    assert.deepEqual(c.kept(kept.instance!), c.expected);
    const plain = await renderText(c.without, { transform: XSL, file: c.file });
    assert.equal(kept.xml, plain.xml);
    assert.equal(kept.validated, true);
  });

  test(`a stylesheet that reads an unknown element in ${c.where} sees it there, through renderText and the CLI, with every XSLT engine`, async () => {
    const xsl = join(dir, 'reader.xsl');
    writeFileSync(xsl, READER);
    const read = (xml: string) => parseXml(xml).getElementsByTagName(c.readIn)[0]?.textContent;
    const r = await renderText(c.withThem, { transform: xsl, file: c.file, validate: false });
    assert.equal(read(r.xml), c.seen);
    const file = join(dir, 'instance.xml');
    writeFileSync(file, c.withThem);
    for (const engine of ['compiled', 'xslt-processor', 'libxslt']) {
      const out = await cli(['render', '--instance', file, '--transform', xsl, '--engine', engine, '--no-validate']);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(read(out.stdout), c.seen, engine);
    }
  });
}
