/** The render worker as a process: its V8 flags and malloc settings, read from /proc. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { TransformSandbox } from '../../engine/transform/sandbox/index.js';
import { RENDER_WORKER } from '../../engine/transform/sandbox/options.js';
import { workerMallocEnv } from '../../engine/transform/sandbox/runners.js';
import { DEFAULT_XSL } from './fixtures.js';

/** This process's children, by pid. */
function children(): number[] {
  return readdirSync('/proc/self/task').flatMap((t) => {
    try {
      return readFileSync(`/proc/self/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  });
}

/** The worker process of a sandbox made by `make` (children are listed before it exists: it may start its worker at once). */
async function workerOf(make: () => TransformSandbox): Promise<{ sandbox: TransformSandbox; env: Map<string, string>; argv: string[] }> {
  const before = new Set(children());
  const sandbox = make();
  await sandbox.load(DEFAULT_XSL); // the worker runs by now
  const pid = children().find((p) => !before.has(p));
  assert.ok(pid, 'a worker process started');
  const env = new Map(
    readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((kv): [string, string] => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  return { sandbox, env, argv: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0') };
}

test("a controller's render worker runs with a 1 MB nursery, one malloc arena and a 128 KiB trim threshold", async () => {
  const w = await workerOf(() => new TransformSandbox({ ...RENDER_WORKER }));
  try {
    assert.ok(w.argv.includes('--max-semi-space-size=1'), w.argv.join(' '));
    assert.equal(w.env.get('MALLOC_ARENA_MAX'), '1');
    assert.equal(w.env.get('MALLOC_TRIM_THRESHOLD_'), '131072');
  } finally {
    await w.sandbox.close();
  }
});

test("malloc settings the environment gives are the worker's too", async () => {
  assert.deepEqual(
    [workerMallocEnv({ MALLOC_ARENA_MAX: '4', PATH: '/bin' }).MALLOC_ARENA_MAX, workerMallocEnv({ MALLOC_ARENA_MAX: '4' }).MALLOC_TRIM_THRESHOLD_],
    ['4', '131072'],
  );
  const saved = process.env.MALLOC_TRIM_THRESHOLD_;
  process.env.MALLOC_TRIM_THRESHOLD_ = '65536';
  let sandbox: TransformSandbox | undefined;
  try {
    const w = await workerOf(() => (sandbox = new TransformSandbox({ ...RENDER_WORKER })));
    assert.equal(w.env.get('MALLOC_TRIM_THRESHOLD_'), '65536');
    assert.equal(w.env.get('MALLOC_ARENA_MAX'), '1');
  } finally {
    if (saved === undefined) delete process.env.MALLOC_TRIM_THRESHOLD_;
    else process.env.MALLOC_TRIM_THRESHOLD_ = saved;
    await sandbox?.close();
  }
});
