/**
 * domforge's `{{#each}}` (each.ts) beside Handlebars's own: the same calls of the block,
 * with the same element, `this`, data and block parameters, and the same `{{else}}`, over
 * every kind of value a template can iterate.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import Handlebars from 'handlebars';
import { eachHelper } from '../../engine/transform/handlebars/each.js';
import { compileHandlebars } from '../../engine/transform/handlebars/index.js';
import type { Instance } from '../../engine/instance/model.js';
import { tmpTemplate } from './fixtures.js';

type Each = (this: unknown, context: unknown, options: Handlebars.HelperOptions) => unknown;
const handlebarsEach = Handlebars.create().helpers['each'] as Each;

interface Call {
  element: unknown;
  data?: Record<string, unknown>;
  blockParams?: unknown[];
}

/** Runs one `each` over `value`, recording every call of the block and of `{{else}}`. */
function run(each: Each, value: unknown, o: { data?: Record<string, unknown>; declared: number; self: unknown }) {
  const calls: Call[] = [];
  const fn = Object.assign(
    (element: unknown, options?: { data?: Record<string, unknown>; blockParams?: unknown[] }) => {
      const data = options?.data;
      calls.push({
        element,
        // A snapshot: the frame is one object updated at each step.
        data: data && { ...data, _parentIsCaller: data._parent === o.data, _parent: undefined },
        blockParams: o.declared > 0 ? options?.blockParams?.slice(0, 2) : undefined,
      });
      return `<${String(element)}>`;
    },
    { blockParams: o.declared },
  );
  let elseThis: unknown = 'not called';
  const inverse = function (this: unknown, self: unknown) {
    elseThis = self;
    return 'ELSE';
  };
  const options = { fn, inverse, data: o.data, hash: {}, name: 'each' } as unknown as Handlebars.HelperOptions;
  let out: unknown;
  let error: string | undefined;
  try {
    out = each.call(o.self, value, options);
  } catch (e) {
    error = (e as Error).message;
  }
  return { out, error, calls, elseThis };
}

function* generate(xs: unknown[]) {
  yield* xs;
}

const sparse: unknown[] = [];
sparse[1] = 'b';
sparse[3] = 'd';

const VALUES: [string, () => unknown][] = [
  ['array', () => ['a', 'b', 'c']],
  ['one element', () => [{ name: 'x' }]],
  ['array with holes', () => sparse],
  ['holes only', () => new Array(3)],
  ['empty array', () => []],
  ['Set', () => new Set([1, 2, 3])],
  ['Map', () => new Map([['k1', 'v1'], ['k2', 'v2']])],
  ['generator', () => generate(['g1', 'g2'])],
  ['empty generator', () => generate([])],
  ['object', () => ({ b: 1, a: 2, 10: 'ten', 2: 'two' })],
  ['empty object', () => ({})],
  ['object with a prototype', () => Object.assign(Object.create({ inherited: 1 }), { own: 2 })],
  ['string', () => 'text'],
  ['number', () => 42],
  ['zero', () => 0],
  ['true', () => true],
  ['null', () => null],
  ['undefined', () => undefined],
  ['function returning an array', () => function (this: unknown) {
    return ['from', this === SELF ? 'this' : 'other'];
  }],
];
const SELF = { self: true };

describe('{{#each}}', () => {
  test('the same calls, data, block parameters and {{else}} as Handlebars, over every kind of value', () => {
    for (const [label, make] of VALUES) {
      for (const data of [undefined, { root: { r: 1 }, hv: 'kvm', index: 99 }]) {
        for (const declared of [0, 1, 2]) {
          const o = { data, declared, self: SELF };
          const ours = run(eachHelper as Each, make(), o);
          const theirs = run(handlebarsEach, make(), o);
          assert.deepEqual(ours, theirs, `${label}, data ${data ? 'on' : 'off'}, ${declared} block parameters`);
        }
      }
    }
  });

  test('an error in the block ends an unfinished iterator, as for...of does', () => {
    for (const each of [eachHelper as Each, handlebarsEach]) {
      let closed = false;
      const iterable = {
        [Symbol.iterator]() {
          let i = 0;
          return {
            next: () => ({ done: i >= 3, value: i++ }),
            return: () => {
              closed = true;
              return { done: true, value: undefined };
            },
          };
        },
      };
      const options = {
        fn: Object.assign(() => {
          throw new Error('block failed');
        }, { blockParams: 0 }),
        inverse: () => '',
        data: {},
        hash: {},
      } as unknown as Handlebars.HelperOptions;
      assert.throws(() => each.call({}, iterable, options), /block failed/);
      assert.equal(closed, true, each === handlebarsEach ? "Handlebars's" : "domforge's");
    }
  });

  test('in a template: @index, @key, @first, @last, block parameters, nesting with ../ and {{else}}', () => {
    const file = tmpTemplate(
      '{{#with instance}}' +
        '{{#each disks as |d i|}}[{{i}}:{{d.name}}:{{@first}}:{{@last}}{{#each d.parts}}({{@../index}}.{{@index}}={{this}}{{#if @last}}!{{/if}}){{/each}}]{{/each}}' +
        '{{#each tags}}{{@key}}={{this}};{{else}}none{{/each}}|{{#each missing}}x{{else}}no {{name}}{{/each}}' +
        '{{#each disks}}{{../name}}{{/each}}' +
        '{{/with}}',
    );
    const instance = { name: 'i-1', disks: [{ name: 'vda', parts: ['p1', 'p2'] }, { name: 'vdb', parts: [] }], tags: { a: '1', b: '2' } };
    const out = compileHandlebars(file).renderSync({ xml: '<instance/>', instance: instance as unknown as Instance }).output;
    assert.equal(out, '[0:vda:true:false(0.0=p1)(0.1=p2!)][1:vdb:false:true]a=1;b=2;|no i-1i-1i-1');
  });
});
