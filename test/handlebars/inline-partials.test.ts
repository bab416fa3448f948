/**
 * Partials written into their callers at load time (inline-partials.ts) render exactly as
 * Handlebars's partial calls do, keep their errors' file and line, and are left as calls
 * wherever writing them in place could change the output.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { basename, dirname } from 'node:path';
import { compileHandlebars } from '../../engine/transform/handlebars/index.js';
import { parseInstance } from '../../engine/instance/parse.js';
import type { Instance } from '../../engine/instance/model.js';
import { TransformError } from '../../engine/errors.js';
import { HBS, read, sampleFiles, tmpTemplate } from './fixtures.js';

/** Renders `data` as the context's `instance` with partials written in place and with Handlebars's calls. */
function both(main: string, partials: Record<string, string>, data: unknown): { inlined: string; called: string; names: ReadonlySet<string> } {
  const file = tmpTemplate(main, partials);
  const input = { xml: '<instance/>', instance: data as Instance };
  const on = compileHandlebars(file);
  const off = compileHandlebars(file, { inlinePartials: false });
  assert.equal(off.inlined.size, 0);
  return { inlined: on.renderSync(input).output, called: off.renderSync(input).output, names: on.inlined };
}

describe('partials written in place', () => {
  test('the shipped template: every sample renders the same, and its plain partial calls are written in place', () => {
    const on = compileHandlebars(HBS);
    const off = compileHandlebars(HBS, { inlinePartials: false });
    for (const file of sampleFiles()) {
      const input = { xml: read(file), file, instance: parseInstance(read(file), { file }) };
      assert.equal(on.renderSync(input).output, off.renderSync(input).output, basename(dirname(file)));
    }
    assert.deepEqual([...on.inlined].sort(), ['config-drive', 'console', 'description', 'disk', 'hotplug-disk', 'hyperv-domain', 'interface', 'memory-backing', 'os']);
  });

  test('a standalone call keeps its indentation once, as Handlebars writes it', () => {
    const r = both('<a>\n  {{> p}}\n</a>\n', { 'p.hbs': '<b/>\n<c/>\n' }, {});
    assert.equal(r.inlined, r.called);
    assert.equal(r.inlined, '<a>\n  <b/>\n<c/>\n</a>\n');
    assert.ok(r.names.has('p'));
  });

  test('context, @root, @index and {{#let}} values reach a partial written in place as they reach a called one', () => {
    const main = '{{#with instance}}{{#let k="K"}}{{#each items}}{{> item}}{{/each}}{{/let}}{{/with}}';
    const r = both(main, { 'item.hbs': '[{{@index}}:{{name}}:{{@k}}:{{@root.input}}:{{#if @last}}last{{/if}}]' }, { items: [{ name: 'a' }, { name: 'b' }] });
    assert.equal(r.inlined, '[0:a:K:instance:][1:b:K:instance:last]');
    assert.equal(r.inlined, r.called);
    assert.ok(r.names.has('item'));
  });

  test('a partial that reads ../ is called, not written in place (../ stops at the partial)', () => {
    const data = { name: 'outer', inner: { name: 'inner', list: [1] } };
    const main = '{{#with instance}}{{#with inner}}{{> p}}{{/with}}{{/with}}';
    // In the partial, ../name is the partial's context's parent: none. In place it would be "outer".
    const r = both(main, { 'p.hbs': '{{#each list}}<{{../name}}|{{../../name}}>{{/each}}' }, data);
    assert.equal(r.inlined, r.called);
    assert.equal(r.inlined, '<inner|>');
    assert.ok(!r.names.has('p'));
  });

  test('a call inside a block with block parameters is called: the partial does not see them', () => {
    const data = { item: 'from-context', list: ['from-block-param'] };
    const main = '{{#with instance}}{{#each list as |item|}}{{> p}}{{/each}}|{{> p}}{{/with}}';
    const r = both(main, { 'p.hbs': '({{item}})' }, data);
    assert.equal(r.inlined, r.called);
    // Inside the each, the partial's context is the list entry (a string: no "item" in it).
    assert.equal(r.inlined, '()|(from-context)');
  });

  test('calls with a context or name=value pairs, recursive partials and inline partials render as called', () => {
    const tree = { name: 'root', children: [{ name: 'a', children: [{ name: 'a1', children: [] }] }, { name: 'b', children: [] }] };
    const recursive = both('{{#with instance}}{{> node}}{{/with}}', { 'node.hbs': '{{name}}({{#each children}}{{> node}}{{/each}})' }, tree);
    assert.equal(recursive.inlined, 'root(a(a1())b())');
    assert.equal(recursive.inlined, recursive.called);

    const args = both('{{#with instance}}{{> p inner}}{{> p name="hash"}}{{> p}}{{/with}}', { 'p.hbs': '[{{name}}]' }, { name: 'ctx', inner: { name: 'arg' } });
    assert.equal(args.inlined, '[arg][hash][ctx]');
    assert.equal(args.inlined, args.called);

    // An inline partial may take a file partial's name at render time: nothing is written in place.
    const withInline = both('{{#*inline "p"}}inline{{/inline}}{{> p}}{{> q}}', { 'q.hbs': '{{> p}}', 'p.hbs': 'file' }, {});
    assert.equal(withInline.inlined, 'inlineinline');
    assert.equal(withInline.inlined, withInline.called);
    assert.equal(withInline.names.size, 0);
  });

  test('a partial tree that would grow without bound stops being written in place', () => {
    const partials: Record<string, string> = { 'p20.hbs': 'x' };
    for (let i = 0; i < 20; i++) partials[`p${i}.hbs`] = `{{> p${i + 1}}}{{> p${i + 1}}}`;
    const r = both('{{> p0}}', partials, {});
    assert.equal(r.inlined.length, 2 ** 20);
    assert.equal(r.inlined, r.called);
  });

  test('errors and log messages from a partial written in place name the partial file and line', () => {
    const file = tmpTemplate('{{#with instance}}\n{{> outer}}{{/with}}', {
      'outer.hbs': '{{!-- outer --}}\n{{> inner}}',
      'inner.hbs': '{{log "note from" name}}\n\n{{#if (eq name "bad")}}{{fail "refused " name}}{{/if}}{{mul name 2}}',
    });
    const t = compileHandlebars(file);
    assert.ok(t.inlined.has('inner') && t.inlined.has('outer'));
    const render = (name: string) => t.renderSync({ xml: '<instance/>', instance: { name } as unknown as Instance });
    const check = (name: string, code: string, message: RegExp) =>
      assert.throws(
        () => render(name),
        (e: TransformError) => e.code === code && e.file!.endsWith('partials/inner.hbs') && e.line === 3 && message.test(e.message),
      );
    check('bad', 'TRANSFORM_MESSAGE', /refused bad/);
    check('lots', 'TRANSFORM_RUNTIME', /mul: expected a number/);
    const ok = render('7');
    assert.equal(ok.output, '\n\n14');
    assert.equal(ok.warnings.length, 1);
    assert.match(ok.warnings[0]!, /partials\/inner\.hbs: note from 7$/);
  });

  test("a compile error in a partial written in place names the partial's file and line", () => {
    const file = tmpTemplate('<a>\n{{> p}}</a>', { 'p.hbs': '\n\n{{> q a b}}', 'q.hbs': 'q' });
    assert.throws(
      () => compileHandlebars(file),
      (e: TransformError) => e.code === 'TRANSFORM_SYNTAX' && e.file!.endsWith('partials/p.hbs') && e.line === 3 && /Unsupported number of partial arguments/.test(e.message),
    );
  });

  test('Handlebars block helpers with a wrong number of values, or not used as blocks, are refused at load, with file and line', () => {
    for (const [text, helper, n] of [
      ['{{#if a b}}x{{/if}}', 'if', 2],
      ['{{#each}}x{{/each}}', 'each', 0],
      ['{{#with a b}}x{{/with}}', 'with', 2],
      ['{{#unless}}x{{/unless}}', 'unless', 0],
    ] as const) {
      const file = tmpTemplate('{{#with instance}}\n{{> p}}{{/with}}', { 'p.hbs': `\n\n${text}` });
      assert.throws(
        () => compileHandlebars(file),
        (e: TransformError) => e.code === 'TRANSFORM_SYNTAX' && e.file!.endsWith('partials/p.hbs') && e.line === 3 && e.message.includes(`{{#${helper}}} takes exactly one value (it has ${n})`),
        text,
      );
    }
    for (const text of ['{{if a}}', '{{each list}}', '{{eq (with a) 1}}', '{{#if (unless a)}}x{{/if}}']) {
      const file = tmpTemplate(`\n${text}`);
      assert.throws(() => compileHandlebars(file), (e: TransformError) => e.code === 'TRANSFORM_SYNTAX' && e.line === 2 && /is a block helper: write \{\{#\w+ value\}\}/.test(e.message), text);
    }
  });
});
