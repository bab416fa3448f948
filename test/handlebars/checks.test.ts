/** Compile-time refusals and error places: triple-stash and trust, unknown helpers, blocks, partials. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compileHandlebars } from '../../engine/transform/handlebars/index.js';
import { loadTransform } from '../../engine/transform/load.js';
import { TransformError } from '../../engine/errors.js';
import { tmpTemplate, variant } from './fixtures.js';

function compileError(main: string, partials: Record<string, string> = {}, options = {}): TransformError {
  const file = tmpTemplate(main, partials);
  try {
    compileHandlebars(file, options);
  } catch (e) {
    assert.ok(e instanceof TransformError, String(e));
    return e;
  }
  return assert.fail('compiled');
}

describe('triple-stash and trust', () => {
  test('{{{value}}} is refused with file:line:column', () => {
    const e = compileError(`<domain>\n  <name>{{{instance.name}}}</name>\n</domain>`);
    assert.equal(e.code, 'TRANSFORM_SYNTAX');
    assert.equal(e.line, 2);
    assert.equal(e.column, 9);
    assert.match(e.file!, /domain\.xml\.hbs$/);
    assert.match(e.message, /\{\{\{instance\.name\}\}\} writes a value without XML escaping/);
  });

  test('{{& value}} and a helper over a value are refused too; a literal is not', () => {
    assert.equal(compileError(`{{& instance.name}}`).line, 1);
    assert.equal(compileError(`\n{{{lower instance.name}}}`).line, 2);
    compileHandlebars(tmpTemplate(`<domain>{{{"<x/>"}}}</domain>`));
  });

  test('a refused triple-stash in a partial names the partial file', () => {
    const e = compileError(`<domain>{{> bad}}</domain>`, { 'bad.hbs': `\n\n{{{name}}}` });
    assert.match(e.file!, /partials\/bad\.hbs$/);
    assert.equal(e.line, 3);
  });

  test('the trust comment on the first line allows it, for that file', async () => {
    const file = tmpTemplate(`{{!-- domforge: trusted --}}\n<domain>{{{instance.name}}}</domain>`);
    const { output } = await compileHandlebars(file).render({ xml: variant((i) => (i.name = '<b>bold<\\b>')) });
    assert.equal(output.trim(), '<domain><b>bold<\\b></domain>');
    // The mark anywhere else does not count.
    assert.equal(compileError(`<domain/>{{!-- domforge: trusted --}}{{{instance.name}}}`).code, 'TRANSFORM_SYNTAX');
    // A trusted main template does not trust its partials.
    assert.match(compileError(`{{!-- domforge: trusted --}}{{> p}}`, { 'p.hbs': '{{{name}}}' }).file!, /p\.hbs$/);
  });

  test('the trusted load option trusts every file', async () => {
    const file = tmpTemplate(`<domain>{{> p}}</domain>`, { 'p.hbs': '{{{instance.name}}}' });
    await assert.rejects(loadTransform(file), TransformError);
    const t = await loadTransform(file, { trusted: true });
    assert.equal((await t.render({ xml: variant((i) => (i.name = 'x')) })).output, '<domain>x</domain>');
  });
});

describe('template errors name the file, line and what is wrong', () => {
  test('unknown helper', () => {
    const e = compileError(`<domain>\n\n  {{frobnicate instance.name}}</domain>`);
    assert.equal(e.line, 3);
    assert.match(e.message, /unknown helper "frobnicate"/);
    assert.match(compileError(`{{#if (nope 1)}}x{{/if}}`).message, /unknown helper "nope"/);
    assert.match(compileError(`{{#each (lower 1) }}{{/each}}\n{{#bogus 1}}{{/bogus}}`).message, /unknown helper "bogus"/);
  });

  test('lookup with other than two values, as {{…}} or (…), is refused at its place; with two it compiles', () => {
    for (const [text, count, column] of [
      ['{{lookup}}', 0, 9],
      ['{{lookup instance}}', 1, 9],
      ['{{lookup instance "name" "x"}}', 3, 9],
      ['{{lower (lookup instance)}}', 1, 17],
    ] as const) {
      const e = compileError(`<domain>\n  <name>${text}</name>\n</domain>`);
      assert.equal(e.code, 'TRANSFORM_SYNTAX', text);
      assert.deepEqual([e.line, e.column], [2, column], text);
      assert.match(e.message, new RegExp(`takes exactly 2 values \\(it has ${count}\\): \\{\\{lookup object key\\}\\}`), text);
    }
    compileHandlebars(tmpTemplate(`<domain><name>{{lookup instance "name"}}</name></domain>`));
  });

  test('lookup as a block, with any number of values, is refused at its place', () => {
    for (const text of ['{{#lookup instance}}x{{/lookup}}', '{{#lookup}}x{{/lookup}}', '{{#lookup instance "name"}}x{{else}}y{{/lookup}}']) {
      const e = compileError(`<domain>\n  <name>${text}</name>\n</domain>`);
      assert.equal(e.code, 'TRANSFORM_SYNTAX', text);
      assert.deepEqual([e.line, e.column], [2, 9], text);
      assert.match(e.message, /lookup is not a block helper: write \{\{lookup object key\}\}/, text);
    }
  });

  test('unclosed block', () => {
    const e = compileError(`<domain>\n{{#if instance}}\n  {{#each instance.nics}}x{{/each}}\n</domain>\n`);
    assert.equal(e.code, 'TRANSFORM_SYNTAX');
    assert.equal(e.line, 2);
    assert.match(e.message, /block \{\{#if\}\} is never closed/);
  });

  test('block closed by another name', () => {
    const e = compileError(`<domain>\n{{#if instance}}\n{{/each}}</domain>`);
    assert.equal(e.line, 2);
    assert.match(e.message, /\{\{#if\}\} is closed by \{\{\/each\}\}/);
  });

  test('other syntax errors keep the line', () => {
    const e = compileError(`<domain>\n\n{{instance.name</domain>`);
    assert.equal(e.code, 'TRANSFORM_SYNTAX');
    assert.equal(e.line, 3);
  });

  test('missing partial', () => {
    const e = compileError(`<domain>\n  {{> disk}}\n</domain>`);
    assert.equal(e.line, 2);
    assert.match(e.message, /partial "disk" not found/);
  });

  test('partial names stay inside partials/', () => {
    assert.match(compileError(`{{> ../secret}}`).message, /stay inside partials/);
    assert.match(compileError(`{{> (lookup instance "name")}}`).message, /named in the template/);
  });

  test('fail "message" stops the render with its place', async () => {
    const file = tmpTemplate(`<domain>\n{{#if instance}}\n  {{fail "instance " instance.name " is not wanted"}}\n{{/if}}</domain>`);
    const t = compileHandlebars(file);
    const e = await t.render({ xml: variant((i) => (i.name = 'i-1')) }).then(() => assert.fail('rendered'), (x: unknown) => x as TransformError);
    assert.ok(e instanceof TransformError);
    assert.equal(e.code, 'TRANSFORM_MESSAGE');
    assert.equal(e.shortMessage, 'instance i-1 is not wanted');
    assert.equal(e.file, file);
    assert.equal(e.line, 3);
  });

  test('a helper failing in a partial names the partial and line', async () => {
    const file = tmpTemplate(`<domain>{{> mem}}</domain>`, { 'mem.hbs': `\n<memory>{{div instance.memoryKB 0}}</memory>` });
    const e = await compileHandlebars(file).render({ xml: variant(() => undefined) }).then(() => assert.fail('rendered'), (x: unknown) => x as TransformError);
    assert.equal(e.code, 'TRANSFORM_RUNTIME');
    assert.match(e.file!, /partials\/mem\.hbs$/);
    assert.equal(e.line, 2);
    assert.match(e.message, /division by zero/);
  });
});
