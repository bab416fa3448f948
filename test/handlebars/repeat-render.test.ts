/**
 * One compiled transform renders many inputs: what the render reuses from one call to the
 * next (the runtime set up once, helpers called directly, kept `<disk>` XML parsed once
 * per text) must not change any output or any error, whatever came before.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { basename, dirname } from 'node:path';
import { compileHandlebars } from '../../engine/transform/handlebars/index.js';
import { parseInstance } from '../../engine/instance/parse.js';
import { TransformError } from '../../engine/errors.js';
import { HBS, read, sampleFiles, tmpTemplate, variant } from './fixtures.js';
import type { Instance } from '../../engine/instance/model.js';

const volume = (libvirt: string): Instance['volumes'][number] => ({ id: 'vol-1', attachmentToken: '', devName: 'sdb', stateName: 'attached', connectionString: '', libvirt });

async function rejection(p: Promise<unknown>): Promise<TransformError> {
  return p.then(
    () => assert.fail('rendered'),
    (e: unknown) => e as TransformError,
  );
}

describe('one compiled transform, many renders', () => {
  test('every sample renders the same through one transform, in any order, as through a fresh one', async () => {
    const shared = compileHandlebars(HBS);
    const files = sampleFiles();
    for (const order of [files, [...files].reverse()]) {
      for (const file of order) {
        const input = { xml: read(file), file, instance: parseInstance(read(file), { file }) };
        const fresh = compileHandlebars(HBS).renderSync(input);
        assert.equal(shared.renderSync(input).output, fresh.output, basename(dirname(file)));
      }
    }
  });

  test('errors keep their code, file and line on every render, after good ones', async () => {
    const file = tmpTemplate('{{#with instance}}<r>{{#each volumes}}{{> vol}}{{/each}}</r>{{/with}}', { 'vol.hbs': '{{!-- one volume --}}\n{{#if (eq id "vol-bad")}}{{fail "bad volume " id}}{{/if}}{{xml libvirt}}' });
    const t = compileHandlebars(file);
    const good = variant((i) => i.volumes.push(volume('<disk type="block"><target dev="vdb"/></disk>')));
    const failing = variant((i) => i.volumes.push({ ...volume('<disk/>'), id: 'vol-bad' }));
    // Not expressible in instance.xml (it would not parse): handed over as the typed instance.
    const malformed = parseInstance(good);
    malformed.volumes[malformed.volumes.length - 1]!.libvirt = '<disk><target dev="vdb"></disk>';
    for (let round = 0; round < 3; round++) {
      assert.equal((await t.render({ xml: good })).output, '<r><disk type="block"><target dev="vdb"/></disk></r>');
      const e = await rejection(t.render({ xml: failing }));
      assert.equal(e.code, 'TRANSFORM_MESSAGE');
      assert.equal(e.shortMessage, 'bad volume vol-bad');
      assert.match(e.file!, /vol\.hbs$/);
      assert.equal(e.line, 2);
      // A kept <disk> that does not parse is refused every time (failures are not remembered).
      const m = await rejection(t.render({ xml: good, instance: malformed }));
      assert.equal(m.code, 'TRANSFORM_RUNTIME');
      assert.match(m.message, /xml: the value is not one well-formed XML element/);
      assert.match(m.file!, /vol\.hbs$/);
    }
  });

  test('escaping of values is the same for text, numbers, booleans and missing values', async () => {
    const t = compileHandlebars(tmpTemplate('{{#with instance}}<r a="{{@root.params.v}}">{{@root.params.v}}|{{cores}}|{{cpuPassthrough}}|{{kernel}}</r>{{/with}}'));
    const xml = variant((i) => (i.kernel = undefined));
    for (const v of ['plain', `a&b<c>"d"'e\tf\ng\rh`, 'plain', '']) {
      const { output } = await t.render({ xml }, { v });
      const esc = v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
      assert.equal(output, `<r a="${esc}">${esc}|2|false|</r>`);
    }
  });
});
