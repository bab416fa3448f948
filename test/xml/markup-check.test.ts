// The markup xmldom reads and libxml2 refuses (engine/xml/markup-check.ts): refused at the
// character libxml2 stops at, with what to write instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { parseXml } from '../../engine/xml/parse.js';

type Placed = Error & { code?: string; file?: string; line?: number; column?: number; shortMessage?: string };

/** Asserts `xml` is refused at line:column with a message starting `message`. */
function refusedAt(xml: string, line: number, column: number, message: string | RegExp): void {
  assert.throws(
    () => parseXml(xml, { file: 'x.xml' }),
    (e: Placed) => {
      assert.equal(e.code, 'XML_SYNTAX', String(e));
      assert.deepEqual([e.file, e.line, e.column], ['x.xml', line, column], e.message);
      if (typeof message === 'string') assert.ok(e.shortMessage!.startsWith(message), e.message);
      else assert.match(e.shortMessage!, message);
      return true;
    },
    JSON.stringify(xml),
  );
}

test('attributes not separated by whitespace are refused at the second one', () => {
  refusedAt('<r a="1"b="2"/>', 1, 9, "no whitespace before attribute 'b' (XML 1.0 §3.1");
  refusedAt("<r a='1'b='2'></r>", 1, 9, "no whitespace before attribute 'b'");
  refusedAt('<r>\n  <s x="1" y="2"z="3"/>\n</r>', 2, 17, "no whitespace before attribute 'z'");
  refusedAt('<r a="1"\u0080b="2"/>', 1, 9, 'character U+0080 in a tag is not whitespace');
  refusedAt('<r\u0080a="1"/>', 1, 3, 'character U+0080 in a tag is not whitespace');
  refusedAt('<r\u0080/>', 1, 3, 'character U+0080 in a tag is not whitespace');
});

test('an attribute without a quoted value is refused at it, saying what to write', () => {
  refusedAt('<r a=1/>', 1, 6, `the value of attribute 'a' is not quoted (XML 1.0 §3.1: write a="1")`);
  refusedAt('<r>\n<s b = x-y c="2"/></r>', 2, 8, `the value of attribute 'b' is not quoted (XML 1.0 §3.1: write b="x-y")`);
  refusedAt('<r a/>', 1, 4, "attribute 'a' has no value");
  refusedAt('<r a b="1"></r>', 1, 4, "attribute 'a' has no value");
  refusedAt('<r b="1" a></r>', 1, 10, "attribute 'a' has no value");
  refusedAt('<r a"1"/>', 1, 5, "'=' is missing between attribute 'a' and its value");
});

test("'/' and '>' of an empty-element tag with anything between them are refused at the '/'", () => {
  refusedAt('<r/ >', 1, 3, "'/' is not followed by '>' (XML 1.0 §3.1");
  refusedAt('<r>\n  <s a="1"/\n  >\n</r>', 2, 11, "'/' is not followed by '>'");
  refusedAt('<r a="1"/\t>', 1, 9, "'/' is not followed by '>'");
  refusedAt('<r a="1"/\r\n>', 1, 9, "'/' is not followed by '>'");
});

test("'//>' (which xmldom reads as '/>') is refused at the first '/'", () => {
  refusedAt('<r a="1"//>', 1, 9, "'/' is not followed by '>'");
  refusedAt('<r>\n  <s//>\n</r>', 2, 5, "'/' is not followed by '>'");
  refusedAt('<r/ / >', 1, 3, "'/' is not followed by '>'");
});

test('an end tag with more than its name, or none, is refused where it goes wrong, before the root element too', () => {
  refusedAt('<r></r a="1">', 1, 8, "end tag </r> holds more than its name (XML 1.0 §3.1: an end tag is </name>, with at most whitespace before its '>')");
  refusedAt('<r><s>\n</s\n  x></r>', 3, 3, 'end tag </s> holds more than its name');
  refusedAt('<r>\n</>\n</r>', 2, 3, "no name after '</' (XML 1.0 §3.1: an end tag is </name>)");
  refusedAt('</r a="1"><r/>', 1, 1, 'end tag </r> with no start tag');
  refusedAt('</><r/>', 1, 3, "no name after '</'");
});

test("an end tag of another element's name is refused at that end tag, naming the start tag's line; a document that ends inside an element, at its end", () => {
  const rule = '(XML 1.0 §3: an element ends with an end tag of its own name)';
  const cases: [xml: string, line: number, column: number, message: string][] = [
    ['<a><b/></c>', 1, 8, `Opening and ending tag mismatch: <a> (line 1) ends with </c> ${rule}`],
    ['<a>\n  <b>x</b>\n  <c>\n</a>', 4, 1, 'Opening and ending tag mismatch: <c> (line 3) ends with </a>'],
    ['<a>\n<!-- x -->\n<?p x?>\n</c >', 4, 1, 'Opening and ending tag mismatch: <a> (line 1) ends with </c>'],
    ['<a><![CDATA[\n]]></c>', 2, 4, 'Opening and ending tag mismatch: <a> (line 1) ends with </c>'],
    ['<a>\n<b>\n', 3, 1, `the document ends inside <b> (line 2): its end tag is missing ${rule}`],
    ['<a>', 1, 4, 'the document ends inside <a> (line 1)'],
  ];
  for (const c of cases) refusedAt(...c);
});

test('a mismatched end tag in an instance is placed where xmllint places it, not at the text before it (30 lines up in a wrapped <userData>)', () => {
  const sample = readFileSync(new URL('../../../samples/01-linux-virtio/instance.xml', import.meta.url), 'utf8');
  const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;
  const disk = sample.replace('</disks>', '</disk>');
  const wrapped = sample.replace(/<userData>[^<]*<\/userData>/, `<userData>${Array(30).fill('QUJDRA==').join('\n')}</userdata>`);
  assert.notEqual(disk, sample);
  assert.notEqual(wrapped, sample);
  const cases: [string, number, number, string][] = [
    [disk, lineOf(disk, '</disk>'), 3, `Opening and ending tag mismatch: <disks> (line ${lineOf(disk, '<disks>')}) ends with </disk>`],
    [wrapped, lineOf(wrapped, '</userdata>'), 9, `Opening and ending tag mismatch: <userData> (line ${lineOf(wrapped, '<userData>')}) ends with </userdata>`],
  ];
  const xmllint = spawnSync('xmllint', ['--version'], { stdio: 'ignore' }).status === 0;
  for (const [xml, line, column, message] of cases) {
    refusedAt(xml, line, column, message);
    if (!xmllint) continue;
    const said = spawnSync('xmllint', ['--noout', '-'], { input: xml }).stderr.toString();
    assert.match(said, new RegExp(`^-:${line}: parser error : Opening and ending tag mismatch`), said);
  }
});

test('the first problem in the document is the one named, whoever finds it', () => {
  refusedAt('<r>\n<s a="1"b="2"/>\n<t c=3/>\n</r>', 2, 9, "no whitespace before attribute 'b'");
  refusedAt('<r>\n<s a="1"/ >\n<t c=3/>\n</r>', 2, 9, "'/' is not followed by '>'");
  // xmldom's own refusal of an earlier problem stands.
  assert.throws(() => parseXml('<r><s a="1" a="2"/>\n<t b="1"c="2"/></r>'), (e: Placed) => e.line === 1 && /Attribute a redefined/.test(e.message));
});

test("'/', whitespace and U+0080 where they may stand: values, text, comments, CDATA, processing instructions, between attributes", () => {
  const xml =
    '<?pi a/ b\u0080?>\n<r a="x / y\u0080" b=\'/\n\' \n c = "1" \t/>'.replace('/>', '>') +
    '\n  a / b\u0080 <!-- c/ d --><![CDATA[e/\tf]]><s/><s\n/><s x="1"\r\n/>\n</r>';
  const doc = parseXml(xml);
  assert.equal(doc.documentElement!.getAttribute('a'), 'x / y\u0080');
  assert.equal(doc.documentElement!.getElementsByTagName('s').length, 3);
});

test("an '&' that starts no reference XML allows is refused at the '&', in text and in values", () => {
  const bare = "'&' does not start a reference (XML 1.0 §4.1: write '&amp;' for a literal '&')";
  refusedAt('<r>\n  a & b\n</r>', 2, 5, bare);
  refusedAt('<r>&&amp;</r>', 1, 4, bare);
  refusedAt('<r>&<s/></r>', 1, 4, bare);
  refusedAt('<r>x&</r>', 1, 5, bare);
  refusedAt('<r>\n  <s a="x &amp; y" b="&"/>\n</r>', 2, 23, bare);
  refusedAt('<r a="&#;"/>', 1, 7, "'&#;' is not a character reference (XML 1.0 §4.1: &#decimal; or &#xhexadecimal;)");
  refusedAt('<r>&#x;&#xZ;</r>', 1, 4, "'&#x;' is not a character reference");
  refusedAt('<r>\n&#X41;</r>', 2, 1, "'&#X41;' is not a character reference");
  refusedAt('<r>&#65</r>', 1, 4, "'&#65' is not a character reference");
  refusedAt('<r>ab&amp</r>', 1, 6, "'&amp' has no ';' (XML 1.0 §4.1");
});

test('an entity XML does not predefine is refused at its reference, whatever its name', () => {
  const undefinedEntity = (name: string) => `entity '&${name};' is not defined (XML 1.0 §4.6: without a DTD only &lt; &gt; &amp; &apos; &quot; are;`;
  refusedAt('<r>\n  x &foo; y\n</r>', 2, 5, undefinedEntity('foo'));
  refusedAt('<r>&\u00e9;</r>', 1, 4, undefinedEntity('\u00e9'));
  refusedAt('<r>\n <s a="&\u00e9t\u00e9;"/></r>', 2, 8, undefinedEntity('\u00e9t\u00e9'));
  refusedAt('<r a="x&nbsp;"/>', 1, 8, undefinedEntity('nbsp'));
});

test("references XML allows, and '&' where it is only text: comments, CDATA sections, processing instructions", () => {
  const doc = parseXml('<?p a & b?><r a="&lt;&#38;&#x26;"><!-- & &x; --><![CDATA[&&#;]]>&amp;&apos;&quot;&gt;&#x10FFFF;</r>');
  assert.equal(doc.documentElement!.getAttribute('a'), '<&&');
  assert.equal(doc.documentElement!.textContent, '&&#;&\'">\u{10FFFF}');
});

test('after the root element: a CDATA section, an end tag, a character JavaScript calls whitespace, refused where they stand', () => {
  const after = 'after the root element (XML 1.0 §2.1: only comments, processing instructions and whitespace may follow it)';
  refusedAt('<r>\n  <s/>\n</r>\n<![CDATA[x]]>\n', 4, 1, `a CDATA section ${after}`);
  refusedAt('<r/><!-- c --><![CDATA[]]>', 1, 15, `a CDATA section ${after}`);
  refusedAt('<r>\n</r>\n</r>\n', 3, 1, 'end tag </r> after the root element has ended (XML 1.0 §2.1: a document has one root element)');
  refusedAt('<r/></r><!-- c -->', 1, 5, 'end tag </r> after the root element has ended');
  refusedAt('<r/>\n\u00a0\n', 2, 1, 'character U+00A0 after the root element (XML 1.0 §2.1: only comments, processing instructions and whitespace (space, tab, CR, LF) may follow it)');
  refusedAt('<r/>\ufeff', 1, 5, 'character U+FEFF after the root element');
  refusedAt('<r/>\r\n\u2028', 2, 1, 'character U+2028 after the root element');
});

test('what stands outside the root element is refused where it stands, and a document without one where it ends', () => {
  refusedAt('<r>\n</r>\ntext\n', 3, 1, 'text after the root element');
  refusedAt('<r/>  &amp;', 1, 7, 'text after the root element');
  refusedAt('<r/>\n<!-- c -->\n<s/>', 3, 1, 'a second root element <s> (XML 1.0 §2.1: a document has one root element');
  refusedAt('<!-- c -->\ntext<r/>', 2, 1, 'text before the root element (XML 1.0 §2.1: only comments, processing instructions and whitespace may precede it)');
  refusedAt('\n&#32;<r/>', 2, 1, 'text before the root element');
  refusedAt('\ufeff\ufeff<r/>', 1, 1, 'character U+FEFF before the root element');
  refusedAt('<?xml version="1.0"?>\n</x><r/>', 2, 1, 'end tag </x> with no start tag');
  refusedAt('<!-- c -->\n<![CDATA[x]]><r/>', 2, 1, 'a CDATA section before the root element');
  const none = 'no root element (XML 1.0 §2.1: a document is one element, with only comments, processing instructions and whitespace around it)';
  refusedAt('', 1, 1, none);
  refusedAt('\ufeff \n', 2, 1, none);
  refusedAt('<?xml version="1.0"?>\n<!-- c -->\n', 3, 1, none);
});

test('a character xmldom allows in a name and XML 1.0 does not is refused where it stands in the name', () => {
  refusedAt('<r>\n  <a\u037e/>\n</r>', 2, 5, 'character U+037E cannot be part of a name (XML 1.0 §2.3)');
  refusedAt('<r x="1" \u037e="2"/>', 1, 10, 'character U+037E cannot be part of a name');
  refusedAt('<r>\n<?pi\u037e x?></r>', 2, 5, 'character U+037E cannot be part of a name');
  refusedAt('<r>\u{1F600}<\u{F0000}/></r>', 1, 7, 'character U+F0000 cannot be part of a name');
  refusedAt('<r a\u{10FFFF}="1"/>', 1, 5, 'character U+10FFFF cannot be part of a name');
  const doc = parseXml('<\u{EFFFF} a="\u037e\u{F0000}">\u037e\u{10FFFF}</\u{EFFFF}>');
  assert.equal(doc.documentElement!.textContent, '\u037e\u{10FFFF}');
});
