// Runaway transforms in the sandbox: each is stopped within its limit, named by file,
// its worker is replaced, and renders of a good transform keep succeeding meanwhile.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { TransformSandbox, TransformTimeoutError, TransformOutOfMemoryError, type SandboxedTransform } from '../../engine/transform/sandbox/index.js';
import { renderText } from '../../engine/render/render.js';
import { TransformError } from '../../engine/errors.js';
import { ALLOCATION_BOMB, DEFAULT_XSL, RECURSIVE, RUNAWAY_FOR_EACH, readInput, tempDir, type TempDir } from './fixtures.js';

// The good transform gets the sandbox's generous limit (a cold worker on a loaded CI host is
// slow); each runaway one is loaded with a short limit of its own.
const TIMEOUT = 1000;
let sandbox: TransformSandbox;
let good: SandboxedTransform;
let tmp: TempDir;
let input = '';
let expected = '';

before(async () => {
  tmp = await tempDir();
  sandbox = new TransformSandbox({ size: 2, timeoutMs: 20_000, maxHeapMb: 96 });
  good = await sandbox.load(DEFAULT_XSL);
  input = await readInput('01-linux-kvm-virtio.xml');
  expected = (await good.render({ xml: input })).output;
});
after(async () => {
  await sandbox.close();
  await tmp.cleanup();
});

/** Starts a bad render and, while it runs, renders the good transform `n` times. */
async function whileRunning(bad: SandboxedTransform, n: number) {
  const t0 = performance.now();
  const pending = bad.render({ xml: input, file: 'instance.xml' }).then(
    () => assert.fail('the runaway render finished'),
    (e: unknown) => ({ error: e, ms: performance.now() - t0 }),
  );
  const outputs: string[] = [];
  for (let i = 0; i < n; i++) outputs.push((await good.render({ xml: input })).output);
  return { ...(await pending), outputs };
}

test('a self-recursive named template is stopped and named by file; other renders go on', async () => {
  // xslt-processor fills the heap with it (the sandbox stops it at the time limit); an
  // engine that counts its depth reports the recursion itself. Pinned to xslt-processor.
  const file = await tmp.write('recursive.xsl', RECURSIVE);
  const bad = await sandbox.load(file, { timeoutMs: TIMEOUT, engine: 'xslt-processor' });
  const r = await whileRunning(bad, 5);
  assert.ok(r.error instanceof TransformTimeoutError, String(r.error));
  assert.equal(r.error.code, 'TRANSFORM_TIMEOUT');
  assert.equal(r.error.file, file);
  assert.match(r.error.message, new RegExp(`^${file}: the transform ran longer than ${TIMEOUT} ms on instance.xml`));
  assert.ok(r.ms >= TIMEOUT - 5 && r.ms < TIMEOUT + 3000, `stopped after ${r.ms} ms`);
  assert.deepEqual(r.outputs, Array(5).fill(expected));
});

test('a runaway xsl:for-each is stopped at the time limit', async () => {
  const bad = await sandbox.load(await tmp.write('for-each.xsl', RUNAWAY_FOR_EACH), { timeoutMs: TIMEOUT });
  const r = await whileRunning(bad, 3);
  assert.ok(r.error instanceof TransformTimeoutError, String(r.error));
  assert.equal(r.error.timeoutMs, TIMEOUT);
  assert.equal(r.outputs.length, 3);
});

test('a template that allocates without end hits the heap limit in its worker only', async () => {
  const file = await tmp.write('bomb.xsl', ALLOCATION_BOMB);
  const bad = await sandbox.load(file, { timeoutMs: 15_000, engine: 'xslt-processor' });
  const before = process.memoryUsage().heapUsed;
  const r = await whileRunning(bad, 2);
  assert.ok(r.error instanceof TransformOutOfMemoryError, String(r.error));
  assert.equal(r.error.code, 'TRANSFORM_OUT_OF_MEMORY');
  assert.equal(r.error.file, file);
  assert.equal(r.error.heapLimitMb, 96);
  // The controller's own heap never saw the allocation.
  assert.ok(process.memoryUsage().heapUsed - before < 64 * 1024 * 1024);
});

test('every variant of a string-doubling bomb ends its own process only (a thread would abort the controller on some)', async () => {
  // Seeds of 1, 3 and 25 characters: with worker threads, about half of these abort the
  // whole process (nodejs/node#47224); with a child process each is a clean OUT_OF_MEMORY.
  for (const seed of ['x', 'xxx', 'x'.repeat(25)]) {
    const bad = await sandbox.load(await tmp.write(`bomb-${seed.length}.xsl`, ALLOCATION_BOMB.replace(`'xxxxxxxxxxxxxxxx'`, `'${seed}'`)), { timeoutMs: 15_000, engine: 'xslt-processor' });
    await assert.rejects(bad.render({ xml: input }), TransformOutOfMemoryError);
  }
  assert.equal((await good.render({ xml: input })).output, expected);
});

test('after the kills the pool is whole again and the next render works', async () => {
  const s = sandbox.stats();
  assert.equal(s.workers, 2);
  assert.ok(s.replaced >= 3, `replaced ${s.replaced}`);
  assert.ok(s.timeouts >= 2 && s.outOfMemory >= 1, JSON.stringify(s));
  assert.equal((await good.render({ xml: input })).output, expected);
});

test('through the render pipeline, a runaway transform fails the render with the same error', async () => {
  const bad = await sandbox.load(await tmp.write('runaway2.xsl', RUNAWAY_FOR_EACH), { timeoutMs: TIMEOUT });
  await assert.rejects(renderText(input, { transform: bad, file: 'instance.xml' }), TransformTimeoutError);
  const ok = await renderText(input, { transform: good, file: 'instance.xml' });
  assert.equal(ok.validated, true);
  assert.equal(ok.transform.hash, good.hash);
});

test('a render queued behind busy workers gets its own full time limit', async () => {
  const bad = await sandbox.load(await tmp.write('runaway3.xsl', RUNAWAY_FOR_EACH), { timeoutMs: TIMEOUT });
  // Two runaway renders occupy both workers; the good one waits, then runs normally.
  const runaways = [bad.render({ xml: input }), bad.render({ xml: input })].map((p) => p.catch((e: unknown) => e));
  const ok = await good.render({ xml: input });
  assert.equal(ok.output, expected);
  for (const e of await Promise.all(runaways)) assert.ok(e instanceof TransformError && e.code === 'TRANSFORM_TIMEOUT');
});
