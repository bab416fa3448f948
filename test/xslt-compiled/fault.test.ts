import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaultTrace, type Site } from '../../engine/transform/xslt/compiled/fault.js';

const site = (file: string, line: number, what: string): Site => ({ file, line, column: 5, what });
const loop = site('/t/inc.xsl', 7, 'xsl:call-template name="loop"');
const helper = site('/t/inc.xsl', 12, 'xsl:call-template name="countdown"');
const literal = site('/t/inc.xsl', 5, '<x>');
const overflow = () => new RangeError('Maximum call stack size exceeded');

test('a stack overflow is named at the call the stack held most, even when it ran out inside a recursive helper', () => {
  const t = new FaultTrace();
  const e = overflow();
  // Unwinding, innermost first: 60 levels of the helper's own recursion, then 300 of the endless one.
  t.at(e, literal);
  for (let i = 0; i < 60; i++) t.call(e, helper);
  for (let i = 0; i < 300; i++) {
    t.at(e, literal);
    t.call(e, loop);
  }
  const err = t.error(e, '/t/main.xsl')!;
  assert.equal(err.code, 'TRANSFORM_RUNTIME');
  assert.deepEqual([err.file, err.line, err.column], ['/t/inc.xsl', 7, 5]);
  assert.equal(err.message, '/t/inc.xsl:7:5: compiled: the transform recursed too deeply at xsl:call-template name="loop" (infinite recursion?)');
  assert.equal(err.cause, e);
});

test('a string too long is named at the innermost instruction it came through; with none, at the main stylesheet', () => {
  const t = new FaultTrace();
  const e = new RangeError('Invalid string length');
  t.at(e, literal);
  t.call(e, loop);
  const err = t.error(e, '/t/main.xsl')!;
  assert.equal(err.code, 'TRANSFORM_OUT_OF_MEMORY');
  assert.equal(err.message, '/t/inc.xsl:5:5: compiled: a string grew past the largest JavaScript can hold at <x> (a template that doubles a value at every call?)');
  const none = new FaultTrace().error(new RangeError('Invalid array length'), '/t/main.xsl')!;
  assert.equal(none.message, '/t/main.xsl: compiled: a node-set grew past the largest JavaScript can hold (a template that doubles a value at every call?)');
});

test('other errors are not noted and not rewritten', () => {
  const t = new FaultTrace();
  const e = new Error('boom');
  t.at(e, literal);
  t.call(e, loop);
  assert.equal(t.error(e, '/t/main.xsl'), undefined);
  assert.equal(t.error(new RangeError('toFixed() digits argument must be between 0 and 100'), '/t/main.xsl'), undefined);
  // A RangeError after an unrelated error went through: nothing stale from the first.
  const o = overflow();
  assert.equal(t.error(o, '/t/main.xsl')!.message, '/t/main.xsl: compiled: the transform recursed too deeply (infinite recursion?)');
});
