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
