// The strict XML parser under xmldom's grammar cache (engine/xml/xmldom-grammar-cache.ts):
// the cache is installed, shares one RegExp per argument list, and parsing keeps every
// strictness rule it had — end tags, comments and CDATA are exactly where xmldom builds
// those RegExps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { parseXml } from '../../engine/xml/parse.js';
import { parseInstance } from '../../engine/instance/parse.js';
import { parseStylesheetXml } from '../../engine/transform/xslt/stylesheet.js';
import { parseInput } from '../../engine/transform/xslt/compiled/input-parser.js';
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

test('characters XML 1.0 cannot carry are refused at parse time, raw or as references, at their line and column', () => {
  for (const [xml, line, column] of [
    ['<a>\n  <b>x\u0001</b>\n</a>', 2, 7],
    ['<a>\n  <b>x\u0000</b>\n</a>', 2, 7],
    ['<a>\n  <b>x\uFFFE</b>\n</a>', 2, 7],
    ['<a>\n  <b>x\uD800y</b>\n</a>', 2, 7],
    ['<a>\n  <b>x&#0;</b>\n</a>', 2, 7],
    ['<a>\n  <b>x&#1;</b>\n</a>', 2, 7],
    ['<a>\n  <b c="&#xD800;"/>\n</a>', 2, 9],
    ['<a>\n  <b>&#xFFFF;</b>\n</a>', 2, 6],
    ['<a>\r  <b>&#99999999999;</b>\r</a>', 2, 6],
  ] as const) {
    assert.throws(
      () => parseXml(xml, { file: 'x.xml' }),
      (e: Error & { code?: string; line?: number; column?: number; file?: string }) => e.code === 'XML_SYNTAX' && e.file === 'x.xml' && e.line === line && e.column === column && /not (allowed in XML 1.0|an XML 1.0 character)/.test(e.message),
      JSON.stringify(xml),
    );
  }
  // Characters that are allowed, and references in places where they are only text.
  for (const xml of ['<a>&#9;&#xA;&#13;&#x20;&#xD7FF;&#xE000;&#xFFFD;&#x10000;&#x10FFFF;\uD83D\uDE00\t</a>', '<a><!-- &#0; --><![CDATA[&#1;]]></a>', '<?pi &#0;?><a/>', '<a b="&#x00000000010FFFF;">&#00000000065;</a>']) {
    assert.doesNotThrow(() => parseXml(xml), JSON.stringify(xml));
  }
});

test('a byte order mark left at the start of the text is not content', () => {
  assert.equal(parseXml('\uFEFF<?xml version="1.0"?>\n<a/>').documentElement?.nodeName, 'a');
});

test('<!DOCTYPE inside a comment, CDATA or processing instruction is text; a DOCTYPE anywhere else is still refused', () => {
  for (const xml of ['<!-- <!DOCTYPE x> -->\n<a/>', '<a><!-- <!doctype a [<!ENTITY e "x">]> --></a>', '<a><![CDATA[<!DOCTYPE x>]]></a>', '<?note <!DOCTYPE x>?><a/>']) {
    assert.doesNotThrow(() => parseXml(xml), xml);
  }
  for (const [xml, line] of [
    ['<!-- x -->\n<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<a>&e;</a>', 2],
    ['<?xml version="1.0"?>\n<?pi x?>\n<!doctype a [<!ENTITY e "e"><!ENTITY f "&e;&e;">]><a>&f;</a>', 3],
    ['<!-- <!DOCTYPE x> -->\n<a>\n<!DOCTYPE b></a>', 3],
    ['<!-- unclosed <!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', undefined],
  ] as const) {
    assert.throws(
      () => parseXml(xml, { file: 'x.xml' }),
      (e: Error & { code?: string; line?: number }) => (line === undefined ? /XML_/.test(e.code ?? '') : e.code === 'XML_FORBIDDEN' && e.line === line),
      xml,
    );
  }
});

/** `<a>` with one child element `<name>` carrying `n` attributes, on line 2 column 3. */
const withAttributes = (n: number, name = 'x', value = 'v') => `<a>\n  <${name}${Array.from({ length: n }, (_, i) => ` a${i}="${value}"`).join('')}/>\n</a>`;
type Placed = Error & { code?: string; file?: string; line?: number; column?: number; shortMessage?: string };

test('an element with more than 1024 attributes is refused at its line and column, naming it, the count and the cap; 1024 parse', () => {
  assert.equal(parseXml(withAttributes(1024)).documentElement!.getElementsByTagName('x')[0]!.attributes.length, 1024);
  for (const n of [1025, 200_000]) {
    assert.throws(
      () => parseXml(withAttributes(n), { file: 'x.xml' }),
      (e: Placed) =>
        e.code === 'XML_FORBIDDEN' && e.file === 'x.xml' && e.line === 2 && e.column === 3 &&
        e.message.startsWith(`x.xml:2:3: too many attributes: <x> has ${n}, more than the 1024 one element may have`),
      String(n),
    );
  }
  // Namespace declarations are attributes of the element as xmldom counts them.
  const ns = `<a>\n  <x xmlns:p="urn:p"${Array.from({ length: 1024 }, (_, i) => ` a${i}="v"`).join('')}/>\n</a>`;
  assert.throws(() => parseXml(ns), /<x> has 1025,/);
});

test('only start tags are counted: quotes in values, text, comments, CDATA and processing instructions are not attributes', () => {
  const quotes = Array.from({ length: 2000 }, (_, i) => `"q${i}"='r'`).join(' ');
  const xml =
    `<?pi ${quotes}?>\n<a>\n  <!-- ${quotes} -->\n  <![CDATA[${quotes}]]>\n  ${quotes.replace(/</g, '')}\n` +
    `  <x${Array.from({ length: 1024 }, (_, i) => ` a${i}="it's > ${i}"`).join('')}/>\n` +
    `  <y${Array.from({ length: 1024 }, (_, i) => ` b${i}='say "${i}" >'`).join('')}></y>\n</a>`;
  const doc = parseXml(xml);
  assert.equal(doc.documentElement!.getElementsByTagName('x')[0]!.getAttribute('a7'), "it's > 7");
  assert.equal(doc.documentElement!.getElementsByTagName('y')[0]!.attributes.length, 1024);
});

test('too many attributes are refused before xmldom parses: a later syntax error is not reached', () => {
  assert.throws(
    () => parseXml(`${withAttributes(5000).slice(0, -4)}\n  <b></c>\n</a>`, { file: 'x.xml' }),
    (e: Placed) => e.code === 'XML_FORBIDDEN' && e.line === 2 && /<x> has 5000,/.test(e.message),
  );
});

/** `<a>` holding `n - 1` empty `<v/>`, one per line from line 2: `n` elements in all. */
const withElements = (n: number, extra = '') => `<a>${extra}\n${'<v/>\n'.repeat(n - 1)}</a>`;

test('a document of more than 100,000 elements is refused at the first past the cap, before xmldom builds any; 100,000 parse, in the strict and the compiled input parser alike', () => {
  assert.equal(parseXml(withElements(100_000)).getElementsByTagName('v').length, 99_999);
  assert.equal(parseInput(withElements(100_000), undefined).children[0]!.children.filter((c) => c.name === 'v').length, 99_999);
  for (const parse of [(x: string) => parseXml(x, { file: 'x.xml' }), (x: string) => parseInput(x, undefined, 'x.xml')]) {
    for (const n of [100_001, 1_000_000]) {
      assert.throws(
        // A syntax error after the cap is not reached: the count comes first.
        () => parse(`${withElements(n)}<b></c>`),
        (e: Placed) =>
          e.code === 'XML_FORBIDDEN' && e.file === 'x.xml' && e.line === 100_001 && e.column === 1 &&
          e.message === 'x.xml:100001:1: too many elements: <v> here is element 100001, more than the 100000 one document may have (the parser holds about 1 KB for each; a libvirt domain has a few hundred)',
        String(n),
      );
    }
  }
  // Only start tags count: '<' in comments, CDATA, processing instructions and end tags does not.
  const noise = '<!-- <x><x> --><![CDATA[<x><x>]]><?pi <x> ?></z><z>'.repeat(20_000).replace(/<\/z><z>/g, '<z></z>');
  assert.equal(parseXml(withElements(60_000, noise)).getElementsByTagName('z').length, 20_000);
});

test("']]>' in character data is refused at its line and column, as libxml2 refuses it; it may end a CDATA section and stand in attributes", () => {
  for (const [xml, line, column] of [
    ['<a>\n  <b>x ]]> y</b>\n</a>', 2, 8],
    ['<a>]]]></a>', 1, 5],
    ['<a>\n<![CDATA[x]]>]]></a>', 2, 14],
    ['<a b="]]>">\n  <!-- ]]> -->\n  <?p ]]>?>\n  <![CDATA[]]>\n  ]]>\n</a>', 5, 3],
    ['<a><c d=\'>\' e=">">]]></c></a>', 1, 19],
  ] as const) {
    assert.throws(
      () => parseXml(xml, { file: 'x.xml' }),
      (e: Placed) => e.code === 'XML_SYNTAX' && e.file === 'x.xml' && e.line === line && e.column === column && /^x\.xml:\d+:\d+: ']]>' is not allowed in character data/.test(e.message),
      JSON.stringify(xml),
    );
  }
  const doc = parseXml(`<a b="]]>" c='x]]>y'><![CDATA[<raw>]]]]><![CDATA[>]]>]]&gt;]]&#62;<!-- ]]> --><?p ]]>?></a>`);
  const a = doc.documentElement!;
  assert.equal(a.getAttribute('b'), ']]>');
  assert.equal(a.getAttribute('c'), 'x]]>y');
  assert.equal(a.textContent, '<raw>]]>]]>]]>');
  // Only where a DOCTYPE is allowed: a ']]>' in its literals or comments is not content.
  assert.doesNotThrow(() => parseXml('<!DOCTYPE a [<!ENTITY e "]]>"><!-- ]]> \' -->]>\n<a>x</a>', { forbidDoctype: false }));
  assert.throws(() => parseXml('<!DOCTYPE a [<!ENTITY e "]]>">]>\n<a>]]></a>', { forbidDoctype: false }), (e: Placed) => e.line === 2 && e.column === 4);
});

test("an instance, a stylesheet and the compiled engine's input refuse ']]>' in text through the strict parse", () => {
  const sample = readFileSync(new URL('../../../samples/01-linux-virtio/instance.xml', import.meta.url), 'utf8');
  const instance = sample.replace('<user>AIDAOPSEXAMPLE</user>', '<user>AIDA]]>OPS</user>');
  assert.notEqual(instance, sample);
  const at = (line: number, column: number) => (e: Placed) => e.file === 'x.xml' && e.line === line && e.column === column && /']]>' is not allowed in character data/.test(e.message);
  assert.throws(() => parseInstance(instance, { file: 'x.xml' }), at(10, 13));
  assert.throws(() => parseInput(instance, undefined, 'x.xml'), at(10, 13));
  const xsl = '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">\n  <xsl:template match="/">a ]]> b</xsl:template>\n</xsl:stylesheet>';
  assert.throws(() => parseStylesheetXml(xsl, 'x.xml'), (e: Placed) => e.code === 'TRANSFORM_SYNTAX' && at(2, 29)(e));
  assert.equal(parseInstance(sample.replace('<user>AIDAOPSEXAMPLE</user>', '<user>AIDA]]&gt;OPS</user>')).user, 'AIDA]]>OPS');
});
