/**
 * `{{a.b}}` reads own properties in place (environment.ts `ownLookup`) and leaves the rest
 * to Handlebars's lookupProperty: what a template can and cannot reach stays Handlebars's.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compileHandlebars } from '../../engine/transform/handlebars/index.js';
import { createEnvironment } from '../../engine/transform/handlebars/environment.js';
import { parseInstance } from '../../engine/instance/parse.js';
import type { Instance } from '../../engine/instance/model.js';
import { tmpTemplate, variant } from './fixtures.js';

function render(main: string, instance: unknown, params: Record<string, string> = {}): string {
  const t = compileHandlebars(tmpTemplate(main));
  return t.renderSync({ xml: '<instance/>', instance: instance as Instance }, params).output;
}

describe('property lookups in compiled templates', () => {
  test('own properties are read, at any depth, including null, 0, false and empty text', () => {
    const xml = variant((i) => {
      i.name = 'i-lookup';
    });
    const instance = parseInstance(xml);
    assert.equal(render('{{instance.name}}|{{instance.hypervisor.type}}|{{params.x}}', instance, { x: 'y' }), 'i-lookup|kvm|y');
    const odd = { zero: 0, no: false, empty: '', none: null, nested: { 'with-dash': 'd', 3: 'three' } };
    assert.equal(render('[{{instance.zero}}][{{instance.no}}][{{instance.empty}}][{{instance.none}}][{{instance.nested.with-dash}}][{{instance.nested.[3]}}]', odd), '[0][false][][][d][three]');
  });

  test("what comes from a prototype stays out of reach, as with Handlebars's own lookup", () => {
    class Model {
      own = 'mine';
      get computed(): string {
        return 'from-a-getter';
      }
      method(): string {
        return 'from-a-method';
      }
    }
    const out = render(
      '[{{instance.own}}][{{instance.computed}}][{{instance.method}}][{{instance.toString}}][{{instance.hasOwnProperty}}][{{instance.constructor}}][{{instance.__proto__}}][{{input.length}}]',
      new Model(),
    );
    // A string's length is its own property (Handlebars writes it too); the rest is refused.
    assert.equal(out, '[mine][][][][][][][8]');
    // Data (@-variables) follows the same rule.
    assert.equal(render('[{{@root.input}}][{{@constructor}}][{{@toString}}][{{@root.constructor}}]', {}), '[instance][][][]');
  });

  test('the compiled code reads own properties in place instead of through lookupProperty', () => {
    const env = createEnvironment();
    const source = String(env.precompile('{{a.b}}', { knownHelpersOnly: true }));
    // Object.prototype.hasOwnProperty, under an alias when the code uses it more than once.
    const alias = /(alias\d+)=Object\.prototype\.hasOwnProperty\b/.exec(source)?.[1] ?? 'Object.prototype.hasOwnProperty';
    assert.ok(source.includes(`${alias}.call(depth0,"a") ? depth0["a"] : lookupProperty(depth0,"a")`), source);
    assert.match(source, /\["b"\]/);
    // Names with a rule of their own in Handlebars's lookupProperty are left to it.
    const guarded = String(env.precompile('{{a.constructor}}{{a.__proto__}}', { knownHelpersOnly: true }));
    assert.doesNotMatch(guarded, /\["constructor"\]|\["__proto__"\]/);
  });

  test('known helpers are read in place, and a call shares its loc and its empty hash instead of building them', async () => {
    const env = createEnvironment();
    const constants = (env.helpers as Record<string, unknown>)['domforge#constants'];
    const source = String(env.precompile('{{#if a}}{{eq a 1}}{{/if}}', { knownHelpersOnly: true, knownHelpers: { eq: true }, constants } as never));
    assert.match(source, /helpers\["if"\]\.call/);
    assert.match(source, /helpers\["eq"\]\.call/);
    assert.doesNotMatch(source, /lookupProperty\(helpers/);
    assert.doesNotMatch(source, /"loc":\{|"hash":\{\}/);
    // Errors still carry the call's place (the loc read from the shared table).
    const file = tmpTemplate('{{#with instance}}\n\n  {{mul name 2}}{{/with}}');
    const t = compileHandlebars(file);
    for (let i = 0; i < 2; i++) {
      assert.throws(
        () => t.renderSync({ xml: '<instance/>', instance: { name: 'x' } as unknown as Instance }),
        (e: Error & { line?: number; column?: number; file?: string }) => e.line === 3 && e.column === 3 && e.file === file,
      );
    }
  });
});

test("Handlebars' own message on a denied property is a warning of the render, never written to stderr", () => {
  const t = compileHandlebars(tmpTemplate('<domain type="kvm">[{{instance.hasOwnProperty}}]</domain>'));
  const written: string[] = [];
  const write = process.stderr.write;
  const error = console.error;
  process.stderr.write = ((chunk: unknown) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
  console.error = (...a: unknown[]) => void written.push(a.map(String).join(' '));
  let results: { output: string; warnings: string[] }[];
  try {
    // Handlebars tells of each property once per process; every render here hears of it.
    results = [0, 1].map(() => t.renderSync({ xml: '<instance/>', instance: { name: 'n' } as unknown as Instance }, {}));
  } finally {
    process.stderr.write = write;
    console.error = error;
  }
  assert.deepEqual(written, []);
  for (const r of results) {
    assert.equal(r.output, '<domain type="kvm">[]</domain>');
    assert.equal(r.warnings.length, 1, r.warnings.join('\n'));
    assert.match(r.warnings[0]!, /domain\.xml\.hbs: "hasOwnProperty" is not a field of its parent/);
  }
});
