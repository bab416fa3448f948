// libxml2's limit on one text node (XML_MAX_TEXT_LENGTH, 10,000,000 bytes of UTF-8 without
// XML_PARSE_HUGE): parseXml refuses what xsltproc refuses, at the element whose text it is, and
// reads what it reads. Held to xsltproc itself where it is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseXml } from '../../engine/xml/parse.js';
import { MAX_TEXT_BYTES } from '../../engine/xml/text-length.js';

type Placed = Error & { code?: string; file?: string; line?: number; column?: number; path?: string };

const dir = mkdtempSync(join(tmpdir(), 'domforge-text-length-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const IDENTITY = join(dir, 'out.xsl');
writeFileSync(IDENTITY, '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:template match="/"><out/></xsl:template></xsl:stylesheet>');
const xsltproc = spawnSync('xsltproc', ['--version'], { stdio: 'ignore' }).status === 0;

/** Whether xsltproc (which reads CDATA as text, XML_PARSE_NOCDATA) reads `xml`; undefined without it. */
function xsltprocReads(xml: string): boolean | undefined {
  if (!xsltproc) return undefined;
  return spawnSync('xsltproc', ['--nonet', IDENTITY, '-'], { input: xml, stdio: ['pipe', 'ignore', 'ignore'] }).status === 0;
}

const N = MAX_TEXT_BYTES;
const cases: [about: string, within: string, over: string, at: [line: number, column: number, path: string]][] = [
  ['a text node', `<r>\n  <userData>${'A'.repeat(N)}</userData>\n</r>`, `<r>\n  <userData>${'A'.repeat(N + 1)}</userData>\n</r>`, [2, 3, '/r/userData']],
  ['a text node of two-byte characters (bytes, not characters)', `<r>${'é'.repeat(N / 2)}</r>`, `<r>${'é'.repeat(N / 2 - 1)}éA</r>`, [1, 1, '/r']],
  ['references, counted as the characters they stand for', `<r>${'&amp;'.repeat(N)}</r>`, `<r>${'&amp;'.repeat(N + 1)}</r>`, [1, 1, '/r']],
  ['text and a CDATA section side by side (one text node to xsltproc)', `<r>${'A'.repeat(N / 2)}<![CDATA[${'B'.repeat(N / 2)}]]></r>`, `<r>${'A'.repeat(N / 2)}<![CDATA[${'B'.repeat(N / 2 + 1)}]]></r>`, [1, 1, '/r']],
  ['a processing instruction', `<r><?p ${'P'.repeat(N)}?></r>`, `<r><?p ${'P'.repeat(N + 1)}?></r>`, [1, 4, '/r']],
];

for (const [about, within, over, [line, column, path]] of cases) {
  test(`${about}: ${N} bytes are read, one more is refused at its place`, () => {
    assert.equal(parseXml(within).documentElement!.nodeName, 'r');
    assert.throws(
      () => parseXml(over, { file: 'big.xml' }),
      (e: Placed) => {
        assert.equal(e.code, 'XML_FORBIDDEN', e.message);
        assert.deepEqual([e.file, e.line, e.column, e.path], ['big.xml', line, column, path], e.message);
        assert.match(e.message, new RegExp(`is ${N + 1} bytes \\(UTF-8\\), more than the ${N} libxml2 reads in one text node \\(XML_MAX_TEXT_LENGTH`));
        return true;
      },
    );
    // xsltproc, where installed, draws the same line.
    assert.notEqual(xsltprocReads(within), false, 'xsltproc reads the one within the limit');
    assert.notEqual(xsltprocReads(over), true, 'xsltproc refuses the one over it');
  });
}

test('text split by a comment is two text nodes, each held to the limit alone', () => {
  const xml = `<r>${'A'.repeat(N)}<!-- c -->${'B'.repeat(N)}</r>`;
  assert.equal(parseXml(xml).documentElement!.childNodes.length, 3);
  assert.notEqual(xsltprocReads(xml), false);
});

test('a comment longer than xmldom reads (about 8,388,000 characters; libxml2 reads up to 10,000,000 bytes) is refused at it, saying so', () => {
  assert.equal(parseXml(`<r><!--${'C'.repeat(8_000_000)}--></r>`).documentElement!.firstChild!.nodeType, 8);
  // Characters xmldom reads that are more bytes than libxml2 reads: held to libxml2's limit.
  assert.throws(
    () => parseXml(`<r><!--${'\u20ac'.repeat(N / 3 + 1)}--></r>`, { file: 'big.xml' }),
    (e: Placed) => e.code === 'XML_FORBIDDEN' && e.line === 1 && e.column === 4 && e.message.includes(`a comment is ${N + 2} bytes (UTF-8), more than the ${N}`),
  );
  for (const n of [9_000_000, N + 1]) {
    assert.throws(
      () => parseXml(`<r>\n  <!--${'C'.repeat(n)}--></r>`, { file: 'big.xml' }),
      (e: Placed) => {
        assert.deepEqual([e.code, e.file, e.line, e.column], ['XML_SYNTAX', 'big.xml', 2, 3], e.message);
        assert.match(e.message, new RegExp(`a comment of ${n} characters is longer than domforge's XML parser \\(xmldom\\) reads, about 8 million \\(libxml2 reads up to 10000000 bytes\\): shorten it$`));
        return true;
      },
    );
  }
});

// An attribute value is held to the same limit ("AttValue length too long"), at the attribute:
// sample 01's <key sshKey> (line 33, column 27), as an instance.xml carries it. xsltproc reads
// there a value of exactly N ASCII characters; elsewhere in a document, or with references,
// non-ASCII characters, tabs or line ends, it may refuse one a few hundred bytes shorter
// ("Huge input lookup", XML_MAX_LOOKUP_LIMIT, on the bytes it holds from its buffer's start,
// which depend on how its reads fall), which is not modelled: only its side of the line over N
// is checked for those.
const SAMPLE = readFileSync(new URL('../../../samples/01-linux-virtio/instance.xml', import.meta.url), 'utf8');
const inKey = (value: string) => SAMPLE.replace(/sshKey="[^"]*"/, () => `sshKey="${value}"`);
const attributeCases: [about: string, within: string, over: string, xsltprocWithin: boolean][] = [
  ['an attribute value', inKey('A'.repeat(N)), inKey('A'.repeat(N + 1)), true],
  ['an attribute value of two-byte characters (bytes, not characters)', inKey('é'.repeat(N / 2)), inKey(`${'é'.repeat(N / 2 - 1)}éA`), false],
  ['references in an attribute value, counted as the characters they stand for', inKey('&amp;'.repeat(N)), inKey('&amp;'.repeat(N + 1)), false],
];

for (const [about, within, over, xsltprocWithin] of attributeCases) {
  test(`${about}: ${N} bytes are read, one more is refused at the attribute`, () => {
    assert.equal(parseXml(within).documentElement!.getElementsByTagName('key')[0]!.getAttribute('sshKey')!.length, within.includes('&amp;') ? N : within.includes('é') ? N / 2 : N);
    assert.throws(
      () => parseXml(over, { file: 'big.xml' }),
      (e: Placed) => {
        assert.equal(e.code, 'XML_FORBIDDEN', e.message);
        assert.deepEqual([e.file, e.line, e.column, e.path], ['big.xml', 33, 27, '/instance/key/@sshKey'], e.message);
        assert.match(e.message, new RegExp(`the value of attribute sshKey of <key> is ${N + 1} bytes \\(UTF-8\\), more than the ${N} libxml2 reads in one attribute value \\(XML_MAX_TEXT_LENGTH`));
        return true;
      },
    );
    if (xsltprocWithin) assert.notEqual(xsltprocReads(within), false, 'xsltproc reads the one within the limit');
    assert.notEqual(xsltprocReads(over), true, 'xsltproc refuses the one over it');
  });
}

test('an attribute value over the limit is found before the text of its element', () => {
  assert.throws(
    () => parseXml(`<r a="${'A'.repeat(N + 1)}">${'B'.repeat(N + 1)}</r>`),
    (e: Placed) => e.code === 'XML_FORBIDDEN' && e.path === '/r/@a' && e.column === 4,
  );
});
