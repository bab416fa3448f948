import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerXslt } from '../../engine/cli/xslt.js';
import { DEFAULT_XSL, EUCA_INPUTS, ROOT, skipWithoutXsltproc } from './helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'domforge-xslt-cli-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ stdout: string; error?: Error & { code?: string } }> {
  let stdout = '';
  const program = new Command().exitOverride();
  registerXslt(program, { stdout: (s) => (stdout += s), stderr: () => undefined });
  try {
    await program.parseAsync(['node', 'domforge', ...args]);
    return { stdout };
  } catch (e) {
    return { stdout, error: e as Error & { code?: string } };
  }
}

test('xslt check reports the guard verdict on the default stylesheet', { skip: skipWithoutXsltproc() }, async () => {
  const r = await run(['xslt', 'check', DEFAULT_XSL, '--proving', `${EUCA_INPUTS}/01-linux-kvm-virtio.xml`, '--json']);
  assert.equal(r.error, undefined);
  const j = JSON.parse(r.stdout);
  assert.equal(j.engine, 'compiled');
  assert.equal(j.guard.compared, 1);
  assert.deepEqual(j.caveats, []);
});

test('xslt check rejects an unknown engine with a usage error', async () => {
  const r = await run(['xslt', 'check', DEFAULT_XSL, '--engine', 'saxon']);
  assert.equal(r.error?.code, 'USAGE');
  assert.match(r.error!.message, /Expected `--engine` to be one of auto, compiled, xslt-processor, libxslt, got "saxon"/);
});

test('xslt check names a --proving input it cannot read (a missing file, a FIFO) as an input error, not an internal one', { timeout: 10_000 }, async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { spawnSync } = await import('node:child_process');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'domforge-xslt-cli-'));
  try {
    const missing = join(dir, 'nothere.xml');
    const m = await run(['xslt', 'check', DEFAULT_XSL, '--proving', missing]);
    assert.equal(m.error?.code, 'IO_ERROR');
    assert.equal((m.error as Error & { file?: string }).file, missing);
    assert.match(m.error!.message, /cannot read proving input: ENOENT/);
    const fifo = join(dir, 'fifo.xml');
    spawnSync('mkfifo', [fifo]);
    const f = await run(['xslt', 'check', DEFAULT_XSL, '--proving', fifo]);
    assert.equal(f.error?.code, 'IO_ERROR');
    assert.match(f.error!.message, /cannot read proving input: a FIFO, not a regular file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('xslt probes names a probe folder without a readable manifest.json, or one that is not JSON, as an input error', async () => {
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'domforge-probes-'));
  try {
    const m = await run(['xslt', 'probes', join(dir, 'nothere')]);
    assert.equal(m.error?.code, 'IO_ERROR');
    assert.equal((m.error as Error & { file?: string }).file, join(dir, 'nothere', 'manifest.json'));
    assert.match(m.error!.message, /cannot read the probe manifest: ENOENT/);
    writeFileSync(join(dir, 'manifest.json'), '{');
    const j = await run(['xslt', 'probes', dir]);
    assert.equal(j.error?.code, 'IO_ERROR');
    assert.match(j.error!.message, /cannot read the probe manifest: .*JSON/);
    writeFileSync(join(dir, 'manifest.json'), '{"id": "x"}');
    const o = await run(['xslt', 'probes', dir]);
    assert.match(o.error!.message, /the probe manifest is not a JSON array of probes/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('xslt check refuses a --proving input a render would refuse, at its place, instead of pinning the stylesheet to libxslt over it', { skip: skipWithoutXsltproc() }, async () => {
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'domforge-xslt-cli-'));
  try {
    const broken = join(dir, 'broken.xml');
    writeFileSync(broken, '<instance><name>x</name>');
    const r = await run(['xslt', 'check', DEFAULT_XSL, '--proving', broken, '--json']);
    assert.equal(r.stdout, '', 'no verdict is printed for a stylesheet checked on a broken input');
    assert.equal(r.error?.code, 'XML_SYNTAX');
    assert.equal((r.error as Error & { file?: string; line?: number }).file, broken);
    assert.equal((r.error as Error & { line?: number }).line, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("xslt check without --proving checks the documented default proving set, domforge's samples (as watch and transforms prove do)", { skip: skipWithoutXsltproc() }, async () => {
  const samples = readdirSync(join(ROOT, 'samples')).filter((d) => existsSync(join(ROOT, 'samples', d, 'instance.xml')));
  assert.ok(samples.length > 0);
  const r = await run(['xslt', 'check', DEFAULT_XSL, '--json']);
  assert.equal(r.error, undefined, r.error?.message);
  const j = JSON.parse(r.stdout);
  assert.equal(j.guard.compared, samples.length);
  assert.equal(j.guard.summary, `compiled and libxslt agree on ${samples.length} proving inputs`);
  const text = await run(['xslt', 'check', DEFAULT_XSL]);
  assert.match(text.stdout, new RegExp(`: compiled and libxslt agree on ${samples.length} proving inputs \\(\\d+ ms\\)\\n$`));
});

test('xslt check fails on a stylesheet that recurses without end, at its place, naming the proving input, whatever the engine', { skip: skipWithoutXsltproc() }, async () => {
  const sheet = join(scratch, 'loop.xsl');
  writeFileSync(
    sheet,
    `<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:template match="/"><domain><xsl:call-template name="loop"/></domain></xsl:template>
<xsl:template name="loop"><x><xsl:call-template name="loop"/></x></xsl:template>
</xsl:stylesheet>
`,
  );
  const first = join(ROOT, 'samples', '01-linux-virtio', 'instance.xml');
  for (const engine of ['auto', 'compiled', 'libxslt']) {
    const r = await run(['xslt', 'check', sheet, '--engine', engine]);
    const e = r.error as (Error & { code?: string; file?: string; line?: number }) | undefined;
    assert.equal(e?.code, 'TRANSFORM_RUNTIME', `${engine}: ${e?.message}`);
    assert.equal(e!.file, sheet);
    assert.equal(e!.line, 3);
    assert.match(e!.message, /recursed too deeply|infinite template recursion/);
    assert.ok(e!.message.includes(`(rendering the proving input ${first})`), e!.message);
  }
});
