// The pool itself: same output as an in-thread render, errors rebuilt as their own classes
// with the admin's file names, versions bound to their hash, options checked up front.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TransformSandbox, TransformTimeoutError, resolveSandboxOptions, type SandboxedTransform } from '../../engine/transform/sandbox/index.js';
import { loadTransform } from '../../engine/transform/load.js';
import { xmlEqual } from '../../engine/xml/compare.js';
import { TransformError, UsageError } from '../../engine/errors.js';
import { DEFAULT_XSL, PROVING_INPUTS, RUNAWAY_FOR_EACH, TERMINATING_INPUT, readInput, sheet, tempDir, type TempDir } from './fixtures.js';
import { readFile } from 'node:fs/promises';
import { getEventListeners } from 'node:events';

let sandbox: TransformSandbox;
let good: SandboxedTransform;
let tmp: TempDir;

before(async () => {
  tmp = await tempDir();
  sandbox = new TransformSandbox({ size: 2, timeoutMs: 20_000 });
  good = await sandbox.load(DEFAULT_XSL);
});
after(async () => {
  await sandbox.close();
  await tmp.cleanup();
});

test('defaults are 2 s and 256 MB in a child process; bad options are refused with what was given', () => {
  const o = resolveSandboxOptions();
  assert.equal(o.timeoutMs, 2000);
  assert.equal(o.maxHeapMb, 256);
  assert.equal(o.semiSpaceMb, 16);
  assert.equal(o.isolation, 'process');
  assert.ok(o.size >= 2 && o.size <= 4);
  // timeoutMs is checked as a load's and a task's are, in the same words.
  for (const bad of [-1, 0, 1.5]) {
    assert.throws(() => new TransformSandbox({ timeoutMs: bad }), (e: unknown) => e instanceof UsageError && e.message === `Expected \`timeoutMs\` to be a positive integer, got \`${bad}\` (number)`, String(bad));
  }
  assert.throws(() => new TransformSandbox({ isolation: 'vm' as 'thread' }), UsageError);
  assert.throws(() => new TransformSandbox({ semiSpaceMb: 0 }), (e: unknown) => e instanceof UsageError && /Expected `semiSpaceMb` to be an integer >= 1/.test(e.message));
});

test('every proving input renders in the sandbox exactly as in the thread', async () => {
  const direct = await loadTransform(DEFAULT_XSL);
  assert.equal(good.hash, direct.hash);
  assert.deepEqual(good.files, direct.files);
  for (const name of PROVING_INPUTS) {
    const xml = await readInput(name);
    const [a, b] = await Promise.all([good.render({ xml, file: name }), direct.render({ xml, file: name })]);
    assert.ok(xmlEqual(a.output, b.output), name);
    assert.equal(a.engine, b.engine);
  }
});

test('xsl:message terminate comes back as TRANSFORM_MESSAGE with the stylesheet line', async () => {
  const e = await good.render({ xml: await readFile(TERMINATING_INPUT, 'utf8'), file: '09.xml' }).catch((x: unknown) => x);
  assert.ok(e instanceof TransformError, String(e));
  assert.equal(e.code, 'TRANSFORM_MESSAGE');
  assert.equal(e.file, DEFAULT_XSL);
  assert.ok(e.line! > 0);
  assert.match(e.message, /Xen instance/);
});

test('a version is bound to its hash: a fresh worker refuses files that changed since the load', async () => {
  const small = new TransformSandbox({ size: 1, timeoutMs: 20_000 });
  try {
    const file = await tmp.write('v.xsl', sheet('<domain type="kvm"><name>one</name></domain>'));
    const v1 = await small.load(file);
    const xml = await readInput('01-linux-kvm-virtio.xml');
    assert.match((await v1.render({ xml })).output, /one/);
    await writeFile(file, sheet('<domain type="kvm"><name>two</name></domain>'));
    // Warm: the worker keeps the compiled version the hash names.
    assert.match((await v1.render({ xml })).output, /one/);
    // Kill the only worker; its replacement must load from disk and finds other content.
    const bad = await small.load(await tmp.write('r.xsl', RUNAWAY_FOR_EACH), { timeoutMs: 300 });
    await assert.rejects(bad.render({ xml }), TransformTimeoutError);
    await assert.rejects(v1.render({ xml }), /changed on disk since this version was loaded/);
    const v2 = await small.load(file);
    assert.notEqual(v2.hash, v1.hash);
    assert.match((await v2.render({ xml })).output, /two/);
  } finally {
    await small.close();
  }
});

test('a copy loaded with displayRoot reports errors under the folder the admin edits', async () => {
  const admin = join(tmp.dir, 'admin');
  const copy = join(tmp.dir, 'copy');
  await tmp.write('admin/x.xsl', '');
  await tmp.write('copy/x.xsl', sheet('<domain>\n<xsl:value-of select="count(("/></domain>'));
  const e = await sandbox.load(join(copy, 'x.xsl'), { displayRoot: admin }).catch((x: unknown) => x);
  assert.ok(e instanceof TransformError);
  assert.equal(e.file, join(admin, 'x.xsl'));
  assert.ok(!e.fullMessage.includes(copy), e.fullMessage);
});

test('close() fails what is queued and refuses new work', async () => {
  const s = new TransformSandbox({ size: 1 });
  const t = await s.load(DEFAULT_XSL);
  const xml = await readInput('01-linux-kvm-virtio.xml');
  const pending = [t.render({ xml }), t.render({ xml })].map((p) => p.catch((e: unknown) => e));
  await s.close();
  for (const r of await Promise.all(pending)) assert.ok(r instanceof TransformError && /closed/.test(r.message));
  await assert.rejects(t.render({ xml }), /sandbox is closed/);
});

test('worker threads remain available as an isolation mode', async () => {
  const s = new TransformSandbox({ size: 1, isolation: 'thread' });
  try {
    const t = await s.load(DEFAULT_XSL);
    const xml = await readInput('01-linux-kvm-virtio.xml');
    assert.ok(xmlEqual((await t.render({ xml })).output, (await good.render({ xml })).output));
  } finally {
    await s.close();
  }
});


test('many tasks under one signal: one abort listener, removed once none waits; an abort drops those not started', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => void warnings.push(w);
  process.on('warning', onWarning);
  try {
    const xml = await readInput(PROVING_INPUTS[0]!);
    const stop = new AbortController();
    const all = Array.from({ length: 25 }, () => sandbox.run({ kind: 'render', source: good.source, hash: good.hash, xml, params: {} }, { file: good.file }, stop.signal));
    assert.ok(getEventListeners(stop.signal, 'abort').length <= 1);
    await Promise.all(all);
    assert.equal(getEventListeners(stop.signal, 'abort').length, 0);
    // Queued beyond the pool's two workers, then cancelled: those not started fail, the rest finish.
    const again = Array.from({ length: 12 }, () => sandbox.run({ kind: 'render', source: good.source, hash: good.hash, xml, params: {} }, { file: good.file }, stop.signal).then(() => 'done', (e: Error) => e.message));
    stop.abort();
    const outcomes = await Promise.all(again);
    assert.ok(outcomes.filter((o) => o === 'done').length <= 2, outcomes.join(', '));
    assert.ok(outcomes.some((o) => /cancelled before it started/.test(o)));
    assert.equal(getEventListeners(stop.signal, 'abort').length, 0);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings.map((w) => w.name), []);
  } finally {
    process.off('warning', onWarning);
  }
});
