/** `{{x}}` escapes for XML; markup in instance values cannot get into the output as markup. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml } from '../../engine/xml/parse.js';
import { compileHandlebars } from '../../engine/transform/handlebars/index.js';
import { xmlEscapeExpression } from '../../engine/transform/handlebars/escape.js';
import { hbsTransform, outcome, tmpTemplate, variant } from './fixtures.js';

const NASTY = `a<b>&c"d'e]]>f<![CDATA[g]]>h&amp;<!--i--><?pi j?>`;

describe('XML escaping', () => {
  test('the five XML specials, and nothing HTML-only', () => {
    assert.equal(xmlEscapeExpression(`<&>"'`), '&lt;&amp;&gt;&quot;&apos;');
    assert.equal(xmlEscapeExpression('a=b`c'), 'a=b`c');
    assert.equal(xmlEscapeExpression(undefined), '');
    assert.equal(xmlEscapeExpression(0), '0');
    assert.equal(xmlEscapeExpression(false), 'false');
  });

  test('a value in text and in both attribute quotings comes back exactly', async () => {
    const file = tmpTemplate(`<domain a="{{instance.name}}" b='{{instance.name}}'><name>{{instance.name}}</name></domain>`);
    const t = compileHandlebars(file);
    const i = variant((x) => (x.name = NASTY));
    const { output } = await t.render({ xml: i });
    const root = parseXml(output).documentElement!;
    assert.equal(root.getAttribute('a'), NASTY);
    assert.equal(root.getAttribute('b'), NASTY);
    assert.equal(root.textContent, NASTY);
  });

  test('tabs and newlines in attribute values survive as character references', async () => {
    const file = tmpTemplate(`<domain a="{{params.v}}"/>`);
    const { output } = await compileHandlebars(file).render({ xml: variant(() => undefined) }, { v: 'x\ty\nz' });
    assert.equal(parseXml(output).documentElement!.getAttribute('a'), 'x\ty\nz');
  });

  test('the default template renders markup-laden values as text, through the whole pipeline', async () => {
    const name = `i-<x>&"'y]]>`;
    const owner = `<owner attr="1"/>&amp;`;
    const text = variant((i) => ((i.name = name), (i.owner = owner), (i.VmType = ']]>')));
    const o = await outcome(text, await hbsTransform());
    assert.ok(o.ok, !o.ok ? o.error.message : '');
    const doc = parseXml(o.rendered.xml);
    const el = (tag: string) => doc.getElementsByTagName(tag)[0]!.textContent;
    assert.equal(el('name'), name);
    assert.equal(el('description'), `Eucalyptus instance ${name} (]]>), reservation r-8f00ba11, owner ${owner}`);
    assert.equal(doc.getElementsByTagName('owner').length, 0, 'no element injected');
  });
});
