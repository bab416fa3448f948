import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareValues, stringToNumber, xpathSubstring, xpathTranslate } from '../../engine/transform/xslt/processor-patches.js';
import { escapeAttributeWhitespace } from '../../engine/transform/xslt/processor-engine.js';
import { avtParts } from '../../engine/transform/xslt/preprocess.js';

const str = (n: unknown) => String(n);

test('comparisons follow XPath 1.0 §3.4, not JavaScript ==', () => {
  assert.equal(compareValues(true, 'x', '=', str), true); // boolean('x') = true
  assert.equal(compareValues('', 0, '=', str), false); // number('') is NaN
  assert.equal(compareValues('0x10', 16, '=', str), false); // not an XPath number
  assert.equal(compareValues(' 2 ', 2, '=', str), true);
  assert.equal(compareValues(['a', 'b'], 'b', '=', str), true); // existential
  assert.equal(compareValues(['a', 'b'], 'b', '!=', str), true);
  assert.equal(compareValues([], false, '=', str), true); // an empty node-set is false
  assert.equal(compareValues(['10', '2'], ['3'], '<', str), true);
  assert.equal(compareValues('abc', 'abd', '<', str), false); // relational compares numbers: NaN
  assert.equal(stringToNumber('-.5'), -0.5);
  assert.ok(Number.isNaN(stringToNumber('1e3')));
});

test('substring, translate and string-length count characters, not UTF-16 units', () => {
  assert.equal(xpathSubstring('a\u{1F600}bc', 3, 1), 'b');
  assert.equal(xpathSubstring('a\u{1F600}bc', 2, 1), '\u{1F600}');
  assert.equal(xpathSubstring('12345', 1.5, 2.6), '234');
  assert.equal(xpathSubstring('12345', 0, 3), '12');
  assert.equal(xpathSubstring('12345', NaN, 3), '');
  assert.equal(xpathSubstring('12345', -Infinity, Infinity), '');
  assert.equal(xpathTranslate('a\u{1F600}b', '\u{1F600}b', 'XY'), 'aXY');
  assert.equal(xpathTranslate('--aaa--', 'abc-', 'ABC'), 'AAA');
});

test('tab, newline and carriage return inside attribute values become character references, nowhere else', () => {
  assert.equal(escapeAttributeWhitespace('<r a="x\ty\nz\r">\n<!-- "\t" --><b c=\'1\n2\'/>\n</r>'), '<r a="x&#9;y&#10;z&#13;">\n<!-- "\t" --><b c=\'1&#10;2\'/>\n</r>');
});

test('attribute value templates split into text (braces unescaped) and expressions', () => {
  assert.deepEqual(avtParts('a{{b}}c{x}d'), [{ text: 'a{b}c' }, { expr: 'x' }, { text: 'd' }]);
});
