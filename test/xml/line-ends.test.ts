// Line ends as XML 1.0 has them (§2.11), as libxml2 reads them: CR LF and a lone CR are one
// LF; NEL (U+0085), LINE SEPARATOR (U+2028) and PARAGRAPH SEPARATOR (U+2029) are characters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml } from '../../engine/xml/parse.js';

type Placed = Error & { line?: number; column?: number };

test('NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR are kept in text and values, as libxml2 keeps them', () => {
  const doc = parseXml('<r a="x\u0085\u2028\u2029y">\u0085\u2028\u2029<!-- \u2028 --></r>');
  assert.equal(doc.documentElement!.getAttribute('a'), 'x\u0085\u2028\u2029y');
  assert.equal(doc.documentElement!.firstChild!.nodeValue, '\u0085\u2028\u2029');
  assert.equal(doc.documentElement!.textContent, '\u0085\u2028\u2029');
});

test('CR LF and a lone CR are still one line end: in text, in values (as a space), and in line numbers', () => {
  const doc = parseXml('<r a="x\r\ny\rz">a\r\nb\rc</r>');
  assert.equal(doc.documentElement!.getAttribute('a'), 'x y z');
  assert.equal(doc.documentElement!.textContent, 'a\nb\nc');
  // The end tag </r> that does not close <s> is on line 4: after CR LF, a lone CR and CR LF.
  assert.throws(() => parseXml('<r>\r\n\r<s>\r\n</r>'), (e: Placed) => e.line === 4 && e.column === 1 && /<s> \(line 3\) ends with <\/r>/.test(e.message));
});

test('lines after a U+2028 or U+0085 are numbered as libxml2 numbers them', () => {
  assert.equal((parseXml('<r>\u2028\u0085<s/></r>').documentElement!.firstChild!.nextSibling as unknown as { lineNumber: number }).lineNumber, 1);
  // xmllint: "-:1: parser error : Opening and ending tag mismatch: s line 1 and r"; the end tag is at column 9.
  assert.throws(() => parseXml('<r>\u2028\u0085<s></r>'), (e: Placed) => e.line === 1 && e.column === 9);
});
