// A differential probe: parseXml against libxml2 (xmllint, the reference libvirt and
// xsltproc parse with) on small documents either side of the well-formedness line.
// Every case's verdict is recorded in well-formed-cases.ts; xmllint is held to it where it
// is installed (so a table that is wrong, or a libxml2 that changed, shows), and parseXml
// always, every refusal with its line and column.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parseXml } from '../../engine/xml/parse.js';
import { CASES, DIFFERENCES, label } from './well-formed-cases.js';

const skipXmllint = spawnSync('xmllint', ['--version'], { stdio: 'ignore' }).status === 0 ? false : 'xmllint is not installed';

/** The UTF-8 bytes of `s`; a lone surrogate becomes the three bytes UTF-8 would give it (which no decoder accepts). */
function utf8Bytes(s: string): Buffer {
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  }
  return Buffer.from(out);
}

/** xmllint's verdict: well-formed unless it exits non-zero or prints an error (a namespace error leaves the exit code 0). */
function xmllintAccepts(xml: string): { ok: boolean; said: string } {
  const r = spawnSync('xmllint', ['--noout', '-'], { input: utf8Bytes(xml) });
  const said = r.stderr.toString();
  return { ok: r.status === 0 && !/\berror :/.test(said), said: said.split('\n')[0] ?? '' };
}

type Refusal = Error & { code?: string; file?: string; line?: number; column?: number };

/** parseXml's verdict: undefined when it accepts, else its error. */
function parseXmlRefusal(xml: string): Refusal | undefined {
  try {
    parseXml(xml, { file: 'x.xml' });
    return undefined;
  } catch (e) {
    return e as Refusal;
  }
}

describe('xmllint gives each case the verdict the table records', { skip: skipXmllint }, () => {
  for (const [about, xml, wellFormed] of CASES) {
    test(label(about, xml), () => {
      const lint = xmllintAccepts(xml);
      assert.equal(lint.ok, wellFormed, `xmllint ${lint.ok ? 'accepts' : `refuses (${lint.said})`}`);
    });
  }
});

describe('parseXml agrees with libxml2, and names line and column for every refusal', () => {
  for (const [about, xml, wellFormed] of CASES) {
    test(label(about, xml), () => {
      const e = parseXmlRefusal(xml);
      if (wellFormed) {
        assert.equal(e, undefined, `parseXml refuses: ${e?.message}`);
        return;
      }
      assert.ok(e, 'parseXml accepts it');
      assert.match(e.code ?? '', /^XML_(SYNTAX|FORBIDDEN)$/, String(e));
      assert.equal(e.file, 'x.xml');
      assert.ok(Number.isInteger(e.line) && e.line! >= 1 && Number.isInteger(e.column) && e.column! >= 1, `no line and column: ${e.message}`);
      assert.ok(e.message.startsWith(`x.xml:${e.line}:${e.column}: `), e.message);
    });
  }
});

describe('the known differences from libxml2 still hold', () => {
  for (const d of DIFFERENCES) {
    test(`${d.about} (${d.why})`, () => {
      assert.equal(parseXmlRefusal(d.xml) === undefined, d.domforge, 'parseXml');
      if (!skipXmllint) assert.equal(xmllintAccepts(d.xml).ok, d.libxml2, 'xmllint');
    });
  }
});

test('the cases are distinct', () => {
  const seen = new Set<string>();
  for (const [about, xml] of CASES) {
    assert.ok(!seen.has(xml), `twice: ${about}`);
    seen.add(xml);
  }
});
