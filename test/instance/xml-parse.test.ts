// The strict XML parser under xmldom's grammar cache (engine/xml/xmldom-grammar-cache.ts):
// the cache is installed, shares one RegExp per argument list, and parsing keeps every
// strictness rule it had — end tags, comments and CDATA are exactly where xmldom builds
// those RegExps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { parseXml } from '../../engine/xml/parse.js';
import { cacheXmldomGrammar } from '../../engine/xml/xmldom-grammar-cache.js';

const grammar = createRequire(import.meta.url)('@xmldom/xmldom/lib/grammar.js') as { reg(...parts: unknown[]): RegExp; QName_group: RegExp; S_OPT: RegExp };

test('xmldom’s grammar RegExps are built once per argument list and shared', () => {
  assert.equal(cacheXmldomGrammar(), true, 'xmldom’s grammar module has the shape the cache expects');
  const a = grammar.reg('^', grammar.QName_group, grammar.S_OPT, '$');
  const b = grammar.reg('^', grammar.QName_group, grammar.S_OPT, '$');
  assert.equal(a, b);
  assert.equal(a.global || a.sticky, false);
  assert.notEqual(grammar.reg('^', grammar.QName_group), a);
  // A longer string is not a grammar constant: not cached.
  assert.notEqual(grammar.reg('^abcdef'), grammar.reg('^abcdef'));
});

test('strictness is unchanged: end tags, comments and CDATA parse and fail as before', () => {
  const doc = parseXml('<a>\n  <b x="1"><!-- note --><![CDATA[<raw>]]></b >\n  <c:d xmlns:c="urn:c">t</c:d>\n</a>');
  assert.equal(doc.documentElement?.getElementsByTagName('b')[0]?.textContent, '<raw>');
  for (const [xml, at] of [
    ['<a>\n<b></c>\n</a>', 2],
    ['<a>\n\n<b></b x>\n</a>', 3],
    ['<a><b></a>', 1],
    ['<a><!-- a -- b --></a>', 1],
  ] as const) {
    assert.throws(
      () => parseXml(xml, { file: 'x.xml' }),
      (e: Error & { code?: string; line?: number; file?: string }) => e.code === 'XML_SYNTAX' && e.file === 'x.xml' && e.line === at,
      xml,
    );
  }
});
