// What Namespaces in XML 1.0 forbids and xmldom reads (engine/xml/strict-handler.ts):
// refused, as libxml2 reports it, at the declaration, attribute or target.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml } from '../../engine/xml/parse.js';

type Placed = Error & { code?: string; file?: string; line?: number; column?: number; shortMessage?: string };

function refusedAt(xml: string, line: number, column: number, message: string): void {
  assert.throws(
    () => parseXml(xml, { file: 'x.xml' }),
    (e: Placed) => {
      assert.equal(e.code, 'XML_SYNTAX', String(e));
      assert.deepEqual([e.file, e.line, e.column], ['x.xml', line, column], e.message);
      assert.ok(e.shortMessage!.startsWith(message), e.message);
      return true;
    },
    JSON.stringify(xml),
  );
}

const XML = 'http://www.w3.org/XML/1998/namespace';
const XMLNS = 'http://www.w3.org/2000/xmlns/';

test('a declaration Namespaces in XML 1.0 §3 forbids is refused at its attribute', () => {
  refusedAt('<r xmlns:p=""/>', 1, 4, 'xmlns:p="" cannot undeclare a prefix: only the default namespace is undeclared, with xmlns="" (Namespaces in XML 1.0 §3)');
  refusedAt('<r xmlns:p="u">\n  <s a="1" xmlns:p=""/>\n</r>', 2, 12, 'xmlns:p="" cannot undeclare a prefix');
  refusedAt('<r xmlns:xml="urn:x"/>', 1, 4, `the prefix 'xml' cannot be bound to 'urn:x': it is bound to ${XML} only`);
  refusedAt(`<r a="1"\n   xmlns:p="${XML}"/>`, 2, 4, `the prefix 'p' cannot be ${XML}: only 'xml' is bound to it`);
  refusedAt(`<r xmlns="${XML}"/>`, 1, 4, `the default namespace cannot be ${XML}`);
  refusedAt('<r xmlns:xmlns="urn:x"/>', 1, 4, "the prefix 'xmlns' cannot be declared");
  refusedAt(`<r xmlns:p="${XMLNS}"/>`, 1, 4, `the prefix 'p' cannot be ${XMLNS}: it is the name of 'xmlns' itself`);
  refusedAt(`<r xmlns="${XMLNS}"/>`, 1, 4, `the default namespace cannot be ${XMLNS}`);
});

test('two attributes that are one once their prefixes are resolved are refused at the second', () => {
  const one = "attributes 'p:a' and 'q:a' are one attribute: both prefixes are bound to 'u' (Namespaces in XML 1.0 §6.3)";
  refusedAt('<r xmlns:p="u" xmlns:q="u" p:a="1" q:a="2"/>', 1, 36, one);
  refusedAt('<r xmlns:p="u">\n  <s xmlns:q="u"/>\n  <s xmlns:q="u" p:a="1"\n     q:a="2"/>\n</r>', 4, 6, one);
  // The same local name in two namespaces, or once with no namespace, is two attributes.
  const doc = parseXml('<r xmlns:p="u" xmlns:q="u" xmlns:z="v" p:a="1" q:b="2" z:a="3" a="4"><s xmlns:p="v" p:a="1" q:a="2"/></r>');
  assert.equal(doc.documentElement!.attributes.length, 7);
});

test('a colon in a processing instruction target is refused at the target', () => {
  refusedAt('<r>\n  <?a:b?>\n</r>', 2, 5, "processing instruction target 'a:b' has a colon (Namespaces in XML 1.0 §7: targets are names without one)");
  refusedAt('<?a:b x?><r/>', 1, 3, "processing instruction target 'a:b' has a colon");
});

test('declarations and targets Namespaces in XML 1.0 allows', () => {
  const doc = parseXml(
    `<?xml-stylesheet href="a"?><r xmlns="u" xmlns:xml="${XML}" xml:lang="en" xmlns:p="rel"><s xmlns=""/><p:t xmlns:p="v"/><?pi-x y?></r>`,
  );
  assert.equal(doc.documentElement!.getAttributeNS(XML, 'lang'), 'en');
});

test('a namespace name that is no URI reference is refused at its declaration', () => {
  const notUri = (name: string) => `the namespace name '${name}' is not a URI reference (Namespaces in XML 1.0 §2, RFC 3986`;
  refusedAt('<r xmlns:p="urn:a b"/>', 1, 4, notUri('urn:a b'));
  refusedAt('<r>\n  <s x="1" xmlns="http://h/\u00e9t\u00e9"/>\n</r>', 2, 12, notUri('http://h/\u00e9t\u00e9'));
  refusedAt('<r xmlns:p="u" xmlns:q="a%4"/>', 1, 16, notUri('a%4'));
});
