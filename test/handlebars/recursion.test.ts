/**
 * A partial that calls itself without end fills the stack: the error names the partial's
 * file and the line and column of the `{{> …}}` that recursed, and says it is recursion —
 * as the compiled XSLT engine names the xsl:call-template that recursed. In the command's
 * own process and in the sandbox.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { compileHandlebars } from '../../engine/transform/handlebars/index.js';
import { TransformError } from '../../engine/errors.js';
import { cli } from '../render/cli.js';
import { ROOT, baseInstance, tmpTemplate } from './fixtures.js';

const SAMPLE = join(ROOT, 'samples', '01-linux-virtio', 'instance.xml');

/** The error of rendering `file` over sample 01, as a compiled transform (with partials written in place or not). */
function failure(file: string, inlinePartials = true): TransformError {
  const t = compileHandlebars(file, { inlinePartials });
  try {
    t.renderSync({ xml: '', instance: baseInstance() });
  } catch (e) {
    assert.ok(e instanceof TransformError, String(e));
    return e;
  }
  assert.fail('rendered an endless recursion');
}

function assertRecursion(e: TransformError, file: string, line: number, column: number, call: string): void {
  assert.equal(e.code, 'TRANSFORM_RUNTIME');
  assert.deepEqual({ file: e.file, line: e.line, column: e.column }, { file, line, column });
  assert.equal(e.shortMessage, `the template recursed too deeply at ${call} (infinite recursion?)`);
  assert.ok(e.cause instanceof RangeError);
}

test('a file partial calling itself is named at its own {{> self}}, partials written in place or not', () => {
  const main = tmpTemplate('<domain>\n{{> self}}\n</domain>\n', { 'self.hbs': '<x>\n  {{> self}}\n</x>\n' });
  for (const inline of [true, false]) assertRecursion(failure(main, inline), join(main, '..', 'partials', 'self.hbs'), 2, 3, '{{> self}}');
});

test('an inline partial calling itself is named at the call inside it', () => {
  const main = tmpTemplate('<domain>\n{{#*inline "r"}}{{> r}}{{/inline}}{{> r}}\n</domain>\n');
  assertRecursion(failure(main), main, 2, 17, '{{> r}}');
});

test('through block helpers and helper calls the recursing call is still the one named, not a helper the stack ran out in', () => {
  const main = tmpTemplate('{{> loop}}', { 'loop.hbs': '{{upper @root.instance.name}}{{#each @root.instance.disks.diskPaths}}{{#if (eq 1 1)}}{{#let n=1}}\n{{> loop}}{{/let}}{{/if}}{{/each}}' });
  assertRecursion(failure(main), join(main, '..', 'partials', 'loop.hbs'), 2, 1, '{{> loop}}');
});

test('two partials calling each other: one of the two calls is named', () => {
  const main = tmpTemplate('{{> a}}', { 'a.hbs': 'a{{> b}}', 'b.hbs': 'b{{> a}}' });
  const e = failure(main);
  assert.match(e.shortMessage, /^the template recursed too deeply at \{\{> [ab]\}\} \(infinite recursion\?\)$/);
  assert.ok(e.file === join(main, '..', 'partials', 'a.hbs') || e.file === join(main, '..', 'partials', 'b.hbs'), e.file);
});

test('after a recursion the same transform renders an input that does not recurse', () => {
  const main = tmpTemplate('{{#if instance.name}}{{> self}}{{/if}}', { 'self.hbs': '{{> self}}' });
  const t = compileHandlebars(main);
  assert.throws(() => t.renderSync({ xml: '', instance: baseInstance() }), /recursed too deeply/);
  const noName = { ...baseInstance(), name: '' };
  assert.equal(t.renderSync({ xml: '', instance: noName }).output, '');
});

test('render names the recursing call with file:line:col, in the sandbox and with --no-sandbox', async () => {
  const main = tmpTemplate('<domain>\n{{> self}}\n</domain>\n', { 'self.hbs': '<x>\n  {{> self}}\n</x>\n' });
  const inline = tmpTemplate('<domain>\n{{#*inline "r"}}{{> r}}{{/inline}}{{> r}}\n</domain>\n');
  for (const extra of [[], ['--no-sandbox']]) {
    const r = await cli(['render', '--instance', SAMPLE, '--transform', main, ...extra]);
    assert.deepEqual(r, { code: 1, stdout: '', stderr: `domforge: ${join(main, '..', 'partials', 'self.hbs')}:2:3: the template recursed too deeply at {{> self}} (infinite recursion?)\n` }, extra.join(' '));
    const j = await cli(['render', '--instance', SAMPLE, '--transform', inline, '--json', ...extra]);
    assert.equal(j.code, 1);
    assert.deepEqual(JSON.parse(j.stderr), { error: { code: 'TRANSFORM_RUNTIME', message: 'the template recursed too deeply at {{> r}} (infinite recursion?)', file: inline, line: 2, column: 17 } });
  }
});

/** `{{> description}}` makes 10^7 copies of a line through seven levels of partials that each call the next ten times: past the longest string JavaScript can hold. */
function outputBomb(): string {
  const partials: Record<string, string> = { 'description.hbs': '{{> l1}}'.repeat(10) + '\n' };
  for (let i = 1; i < 7; i++) partials[`l${i}.hbs`] = `{{> l${i + 1}}}`.repeat(10);
  partials['l7.hbs'] = 'x'.repeat(100);
  return tmpTemplate('<domain>\n{{> description}}\n</domain>\n', partials);
}

const GREW = 'the output grew past what a render may produce (the longest string JavaScript can hold)';

test('partials that multiply their output past the longest string are named at the call whose output grew too long, not as JavaScript’s Invalid string length', async () => {
  const main = outputBomb();
  const e = failure(main, false);
  assert.equal(e.code, 'TRANSFORM_OUT_OF_MEMORY');
  assert.deepEqual({ file: e.file, line: e.line, column: e.column }, { file: main, line: 2, column: 1 });
  assert.equal(e.shortMessage, `${GREW} at {{> description}} (partials that multiply their output?)`);
  assert.ok(e.cause instanceof RangeError);
  // Every partial written in place: no call is left to name, the template is.
  const inlined = failure(main, true);
  assert.equal(inlined.code, 'TRANSFORM_OUT_OF_MEMORY');
  assert.equal(inlined.file, main);
  assert.match(inlined.shortMessage, new RegExp(`^${GREW.replace(/[()]/g, '\\$&')}`));
  // In the sandbox, as a launch or the watcher renders it.
  const r = await cli(['render', '--instance', SAMPLE, '--transform', main, '--json']);
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.stderr).error.code, 'TRANSFORM_OUT_OF_MEMORY');
  assert.match(JSON.parse(r.stderr).error.message, /^the output grew past what a render may produce/);
});
