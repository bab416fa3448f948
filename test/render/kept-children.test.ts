// An unknown element in a list container of instance.xml (a future Eucalyptus field inside
// <disks>, say) reaches the transform in its container, as a launch renders the record it
// writes: the shipped stylesheet ignores it, an admin's stylesheet can read it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderText } from '../../engine/render/render.js';
import { parseXml } from '../../engine/xml/parse.js';
import { cli } from './cli.js';
import { STRAYS, withStrays } from '../fixtures/strays.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const SAMPLE = join(ROOT, 'samples', '01-linux-virtio', 'instance.xml');
const XSL = join(ROOT, 'transforms', 'libvirt.xsl');
const withThem = withStrays(readFileSync(SAMPLE, 'utf8'), (x) => x);
const without = withStrays(readFileSync(SAMPLE, 'utf8'), () => '');

const dir = mkdtempSync(join(tmpdir(), 'domforge-kept-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** An admin's stylesheet that reads the unknown elements, each in its container. */
const READER = `<?xml version="1.0"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="xml" indent="yes"/>
  <xsl:template match="/instance">
    <domain type="kvm">
      <name><xsl:value-of select="name"/></name>
      <description><xsl:value-of select="concat(disks/x-disk-future/@x, '|', count(disks/x-disk-future/detail), '|', name(disks/*[last()]), '|', groupNames/x-group-note/@by, '|', name(vbrs/*), '|', volumes/x-volume-future/@state, '|', name(nics/*), '|', name(extraNics/*[last()]))"/></description>
    </domain>
  </xsl:template>
</xsl:stylesheet>
`;
const SEEN = '7|1|x-disk-second|admin|x-vbr-future|new|x-nic-future|x-extra-future';

test('the shipped stylesheet renders an instance with unknown elements in its list containers as without them', async () => {
  const kept = await renderText(withThem, { transform: XSL, file: SAMPLE });
  assert.deepEqual(kept.instance?.unknownChildren, STRAYS);
  const plain = await renderText(without, { transform: XSL, file: SAMPLE });
  assert.equal(kept.xml, plain.xml);
  assert.equal(kept.validated, true);
});

test('a stylesheet that reads an unknown element of a list container sees it there, through renderText and the CLI, with every XSLT engine', async () => {
  const xsl = join(dir, 'reader.xsl');
  writeFileSync(xsl, READER);
  const description = (xml: string) => parseXml(xml).getElementsByTagName('description')[0]?.textContent;
  const r = await renderText(withThem, { transform: xsl, file: SAMPLE, validate: false });
  assert.equal(description(r.xml), SEEN);
  const file = join(dir, 'instance.xml');
  writeFileSync(file, withThem);
  for (const engine of ['compiled', 'xslt-processor', 'libxslt']) {
    const c = await cli(['render', '--instance', file, '--transform', xsl, '--engine', engine, '--no-validate']);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(description(c.stdout), SEEN, engine);
  }
});
