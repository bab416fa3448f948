import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileXslt } from '../../engine/transform/xslt/compile.js';

// A RangeError escaping a compiled render (call stack exceeded, string too long) is named by
// the stylesheet instruction that was running: its module's file, line and column.

const dir = mkdtempSync(join(tmpdir(), 'domforge-xslt-runtime-errors-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

type Failure = Error & { code?: string; file?: string; line?: number; column?: number };

function write(name: string, body: string): { file: string; text: string } {
  const file = join(dir, name);
  const text = `<?xml version="1.0"?>\n<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">\n${body}\n</xsl:stylesheet>\n`;
  writeFileSync(file, text);
  return { file, text };
}

/** 1-based line and column of the first `needle` in `text`. */
function where(text: string, needle: string): { line: number; column: number } {
  const i = text.indexOf(needle);
  assert.ok(i >= 0, needle);
  const before = text.slice(0, i).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

async function failure(file: string): Promise<Failure> {
  try {
    await compileXslt(file, { engine: 'compiled' }).render({ xml: '<r/>' });
  } catch (e) {
    return e as Failure;
  }
  assert.fail('rendered');
}

function assertAt(e: Failure, code: string, file: string, at: { line: number; column: number }, what: RegExp): void {
  assert.equal(e.code, code, e.message);
  assert.equal(e.file, file, e.message);
  assert.equal(e.line, at.line, e.message);
  assert.equal(e.column, at.column, e.message);
  assert.ok(e.message.startsWith(`${file}:${at.line}:${at.column}: `), e.message);
  assert.match(e.message, what);
}

test('a self-recursive named template overflowing the stack names the call-template that recursed, with its file:line:column', async () => {
  const { file, text } = write(
    'self.xsl',
    `  <xsl:template match="/"><out><xsl:call-template name="loop"/></out></xsl:template>
  <xsl:template name="loop">
    <x>
      <xsl:value-of select="'.'"/>
      <xsl:call-template name="loop"/>
    </x>
  </xsl:template>`,
  );
  const e = await failure(file);
  assertAt(e, 'TRANSFORM_RUNTIME', file, where(text, '<xsl:call-template name="loop"/>\n'), /recursed too deeply at xsl:call-template name="loop" \(infinite recursion\?\)/);
  assert.match(String((e.cause as Error).message), /call stack/);
});

test('infinite recursion inside an xsl:include-d module names the included file and its line, not the main stylesheet', async () => {
  const inc = write(
    'recursing-module.xsl',
    `  <xsl:template name="loop">
    <xsl:param name="n" select="0"/>
    <x>
      <xsl:call-template name="loop">
        <xsl:with-param name="n" select="$n + 1"/>
      </xsl:call-template>
    </x>
  </xsl:template>`,
  );
  const main = write('including.xsl', `  <xsl:include href="recursing-module.xsl"/>\n  <xsl:template match="/"><out><xsl:call-template name="loop"/></out></xsl:template>`);
  const e = await failure(main.file);
  assertAt(e, 'TRANSFORM_RUNTIME', inc.file, where(inc.text, '<xsl:call-template name="loop">'), /recursed too deeply at xsl:call-template name="loop"/);
});

test('infinite recursion that calls a recursive helper at every level names the endless call, not the helper', async () => {
  // The stack often overflows inside the helper's own (bounded) recursion; the endless call is the one the stack holds most
  // (test/xslt-compiled/fault.test.ts checks that choice without depending on where V8 runs out of stack).
  const { file, text } = write(
    'with-helper.xsl',
    `  <xsl:template match="/"><out><xsl:call-template name="loop"/></out></xsl:template>
  <xsl:template name="loop">
    <x>
      <xsl:call-template name="countdown"><xsl:with-param name="n" select="100"/></xsl:call-template>
      <xsl:call-template name="loop"/>
    </x>
  </xsl:template>
  <xsl:template name="countdown">
    <xsl:param name="n"/>
    <xsl:if test="$n &gt; 0"><xsl:call-template name="countdown"><xsl:with-param name="n" select="$n - 1"/></xsl:call-template></xsl:if>
  </xsl:template>`,
  );
  const e = await failure(file);
  assertAt(e, 'TRANSFORM_RUNTIME', file, where(text, '<xsl:call-template name="loop"/>\n'), /recursed too deeply at xsl:call-template name="loop"/);
});

test('a template doubling a string until JavaScript cannot hold it names the instruction that built the string', async () => {
  const { file, text } = write(
    'doubling-lines.xsl',
    `  <xsl:template match="/">
    <domain type="kvm">
      <xsl:call-template name="double">
        <xsl:with-param name="s" select="'xxxxxxxxxxxxxxxx'"/>
      </xsl:call-template>
    </domain>
  </xsl:template>
  <xsl:template name="double">
    <xsl:param name="s"/>
    <xsl:variable name="twice" select="concat($s, $s)"/>
    <xsl:call-template name="double">
      <xsl:with-param name="s" select="$twice"/>
    </xsl:call-template>
  </xsl:template>`,
  );
  const e = await failure(file);
  assertAt(e, 'TRANSFORM_OUT_OF_MEMORY', file, where(text, '<xsl:variable name="twice"'), /a string grew past the largest JavaScript can hold at xsl:variable name="twice" select="concat\(\$s, \$s\)"/);
});

test('a string doubled in a with-param, or in a value-of, is named at that instruction', async () => {
  for (const [name, body, needle] of [
    [
      'with-param',
      `    <xsl:call-template name="double">
      <xsl:with-param name="s" select="concat($s, $s)"/>
    </xsl:call-template>`,
      '<xsl:with-param name="s" select="concat($s, $s)"/>',
    ],
    [
      'value-of',
      `    <xsl:variable name="twice">
      <xsl:value-of select="$s"/>
      <xsl:value-of select="concat('', $s)"/>
    </xsl:variable>
    <xsl:call-template name="double"><xsl:with-param name="s" select="$twice"/></xsl:call-template>`,
      // The first value-of copies $s into a text node, the second appends to it: the string that grows too long.
      `<xsl:value-of select="concat('', $s)"/>`,
    ],
  ] as const) {
    const { file, text } = write(
      `doubling-${name}.xsl`,
      `  <xsl:template match="/"><out><xsl:call-template name="double"><xsl:with-param name="s" select="'xxxxxxxxxxxxxxxx'"/></xsl:call-template></out></xsl:template>
  <xsl:template name="double">
    <xsl:param name="s"/>
${body}
  </xsl:template>`,
    );
    const e = await failure(file);
    assertAt(e, 'TRANSFORM_OUT_OF_MEMORY', file, where(text, needle), new RegExp(`grew past the largest JavaScript can hold at xsl:${name}`));
  }
});
