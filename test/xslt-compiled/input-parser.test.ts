// The compiled engine's input reader: its fast parser against the strict parse it falls back to.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseInput, parseInputFast, parseInputStrict, type StripRule } from '../../engine/transform/xslt/compiled/input-parser.js';
import { ELEMENT, PI, ROOT, type XNode } from '../../engine/transform/xslt/compiled/tree.js';
import { ROOT as REPO } from './helpers.js';
import { CASES, DIFFERENCES, label } from '../xml/well-formed-cases.js';

/** Whitespace rules to read each document with: none, every element's, every element's but <name>'s. */
const STRIPS: readonly [string, StripRule | undefined][] = [
  ['no strip-space', undefined],
  ['strip-space *', () => true],
  ['strip-space * but name', (name) => name !== 'name'],
];

/** A node and its descendants as plain data (kind, name, value; attributes and children in order), to compare trees with. */
function shape(n: XNode): unknown {
  if (n.kind === ROOT || n.kind === ELEMENT) return [n.kind, n.name, n.attrs.map((a) => [a.name, a.value]), n.children.map(shape)];
  return [n.kind, n.name, n.value];
}

const samples = readdirSync(join(REPO, 'samples'))
  .map((d) => join(REPO, 'samples', d, 'instance.xml'))
  .filter(existsSync);

test("every sample instance.xml is read by the fast parser, to the strict parse's tree", () => {
  assert.ok(samples.length >= 10);
  for (const file of samples) {
    const xml = readFileSync(file, 'utf8');
    for (const [rule, strip] of STRIPS) {
      const fast = parseInputFast(xml, strip);
      assert.ok(fast, `${file} (${rule}): the fast parser does not read it`);
      assert.deepEqual(shape(fast), shape(parseInputStrict(xml, strip, file)), `${file} (${rule})`);
    }
  }
});

test('the XML declaration is no node of the tree, on either path (XPath 1.0 §5: xsltproc has none for it)', () => {
  const xml = '<?xml version="1.0" encoding="UTF-8"?>\n<!-- c -->\n<r/>';
  const want = shape(parseInputStrict('<!-- c --><r/>', undefined));
  assert.deepEqual(shape(parseInputStrict(xml, undefined)), want);
  assert.deepEqual(shape(parseInputFast(xml, undefined)!), want);
});

type Placed = Error & { code?: string; file?: string; line?: number; column?: number };

test('names XML 1.0 does not allow are refused at their line and column; names past U+FFFF are read; a namespace is refused only in a well-formed document', () => {
  for (const [xml, line, column] of [
    ['<r>\n  <a\u00d7/>\n</r>', 2, 3],
    ['<r>\n  <a b\u00f7="1"/>\n</r>', 2, 3],
    ['<r>\n  <?p\u037e x?>\n</r>', 2, 6],
  ] as const) {
    assert.equal(parseInputFast(xml, undefined), undefined, xml);
    assert.throws(() => parseInput(xml, undefined, 'x.xml'), (e: Placed) => e.code === 'XML_SYNTAX' && e.file === 'x.xml' && e.line === line && e.column === column, xml);
  }
  assert.deepEqual(shape(parseInput('<\ud800\udc00 a="1"/>', undefined)), [ROOT, '', [], [[ELEMENT, '\ud800\udc00', [['a', '1']], []]]]);
  // xsltproc names the mismatched end tag; the engine's refusal of namespaces would hide it.
  assert.throws(() => parseInput('<p:r xmlns:p="urn:p">\n</r>', undefined, 'x.xml'), (e: Placed) => e.code === 'XML_SYNTAX' && /tag mismatch/.test(e.message));
  assert.throws(() => parseInput('<p:r xmlns:p="urn:p">\n</p:r>', undefined, 'x.xml'), (e: Placed) => e.code === 'TRANSFORM_UNSUPPORTED' && /namespaces in the input/.test(e.message));
});

test('an XML declaration XML 1.0 does not allow is left to the strict parse, which refuses it; one it allows is read by the fast parser', () => {
  for (const decl of ['<?xml version="2.0"?>', '<?xml encoding="UTF-8"?>', '<?xml version="1.0" standalone="maybe"?>', '<?xml version="1.0" foo="bar"?>', '<?xml version="1.0"encoding="UTF-8"?>', '<?xml\u00a0version="1.0"?>']) {
    const xml = `${decl}\n<r/>`;
    assert.equal(parseInputFast(xml, undefined), undefined, xml);
    assert.throws(() => parseInput(xml, undefined, 'x.xml'), (e: Placed) => e.code === 'XML_SYNTAX' && e.line === 1, xml);
  }
  for (const decl of ['<?xml version="1.0"?>', "<?xml version='1.1' encoding='utf-8' standalone='no' ?>", '<?xml\tversion = "1.0"\r\n  encoding="UTF-8"\n?>']) {
    assert.deepEqual(shape(parseInputFast(`\ufeff${decl}\n<r/>`, undefined)!), [ROOT, '', [], [[ELEMENT, 'r', [], []]]], decl);
  }
});

test("only XML's whitespace (space, tab, CR, LF) ends a processing instruction's target or follows the name of an end tag", () => {
  for (const xml of ['<r>\n<?pi\u00a0x?></r>', '<r>\n<?pi\u2028x?></r>', '<r>\n</r\u00a0>', '<r>\n</r\u3000>', '<r>\n</r\ufeff>']) {
    assert.equal(parseInputFast(xml, undefined), undefined, xml);
    assert.throws(() => parseInput(xml, undefined, 'x.xml'), (e: Placed) => e.code === 'XML_SYNTAX', xml);
  }
  // U+00A0 after the separating space is data, as libxml2 reads it.
  assert.deepEqual(shape(parseInputFast('<r><?pi \u00a0x ?></r\t\r\n>', undefined)!), [ROOT, '', [], [[ELEMENT, 'r', [], [[PI, 'pi', '\u00a0x ']]]]]);
});

/** What a reader makes of a document: its tree, or its error's code and message. */
function outcome(read: () => XNode): { tree: unknown } | { error: string } {
  try {
    return { tree: shape(read()) };
  } catch (e) {
    return { error: `${(e as Placed).code} ${(e as Error).message}` };
  }
}

/**
 * What the compiled engine refuses on purpose in a document parseXml reads: namespaces
 * (it does not model namespace nodes) and elements nested deeper than libxml2 reads.
 */
const REFUSED_ON_PURPOSE = /^TRANSFORM_UNSUPPORTED .*namespaces in the input document|^XML_SYNTAX .*elements nested too deeply/;

describe("the well-formedness probe: the fast parser reads a document only if the strict parse does, and to its tree; parseInput accepts a document if and only if parseXml does (but for what the engine refuses on purpose)", () => {
  const documents = [...CASES, ...DIFFERENCES.map((d) => [d.about, d.xml, d.domforge] as const)];
  for (const [about, xml, parseXmlReads] of documents) {
    test(label(about, xml), () => {
      for (const [rule, strip] of STRIPS) {
        const strict = outcome(() => parseInputStrict(xml, strip, 'x.xml'));
        const fast = parseInputFast(xml, strip);
        if (fast) assert.deepEqual({ tree: shape(fast) }, strict, `${rule}: the fast parser reads it, the strict parse ${'error' in strict ? 'refuses it' : 'to another tree'}`);
        const read = outcome(() => parseInput(xml, strip, 'x.xml'));
        assert.deepEqual(read, strict, `${rule}: parseInput`);
        if ('tree' in read) assert.ok(parseXmlReads, `${rule}: parseInput reads it, parseXml refuses it`);
        else if (parseXmlReads) assert.match(read.error, REFUSED_ON_PURPOSE, `${rule}: parseXml reads it`);
      }
    });
  }
});

test('mutants of the probe\'s well-formed documents and the samples: the fast parser reads none the strict parse refuses, and each it reads to the strict tree', () => {
  const seeds = [...CASES.filter((c) => c[2]).map((c) => c[1]), ...samples.slice(0, 2).map((f) => readFileSync(f, 'utf8'))];
  const pieces = ['<', '>', '&', ';', '#', 'x', '"', "'", '=', '/', '?', '!', '-', '--', ']', ']]>', ' ', '\t', '\n', '\r', '\u00a0', '\u2028', '\ufeff', ':', 'a', '0', '.', '\u00b7', '\u00d7', '\u0300', '\ud800\udc00', '<![CDATA[', '<!--', '-->', '<?', '?>', '<?xml ', 'version="1.0"', '&amp;', '&lt', '&#', '&#10;', '&#13;', '<a>', '</a>', '<a/>', ' a="1"', "b='2'", 'xmlns'];
  // A linear congruential generator with a fixed seed: the same mutants at every run.
  let state = 20240611;
  const random = (n: number) => (state = (state * 1103515245 + 12345) & 0x7fffffff) % n;
  let read = 0;
  for (let t = 0; t < 4000; t++) {
    let xml = seeds[random(seeds.length)]!;
    for (let k = 1 + random(3); k > 0; k--) {
      const at = random(xml.length + 1);
      const how = random(3);
      if (how === 0) xml = xml.slice(0, at) + pieces[random(pieces.length)] + xml.slice(at);
      else if (how === 1) xml = xml.slice(0, at) + xml.slice(at + 1 + random(3));
      else {
        const to = random(xml.length + 1);
        xml = xml.slice(0, at) + xml.slice(Math.min(at, to), Math.max(at, to)) + xml.slice(at);
      }
    }
    const strip = t % 2 ? STRIPS[1]![1] : undefined;
    const fast = parseInputFast(xml, strip);
    if (!fast) continue;
    read++;
    assert.deepEqual({ tree: shape(fast) }, outcome(() => parseInputStrict(xml, strip)), JSON.stringify(xml));
  }
  // Most mutants are malformed; enough are not for the comparison to mean something.
  assert.ok(read > 300, `${read} read`);
});
