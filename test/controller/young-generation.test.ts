/**
 * A controller holds V8's young generation where it is when it opens (holdYoungGeneration):
 * measured in child processes that open a real NodeController on `test:///default` and then
 * allocate as a launch loop does, short-lived objects with some survivors. V8's own figure
 * for the young generation (`new_space` in getHeapSpaceStatistics: both semi-spaces) says
 * what the process holds; with Node's defaults it grows to 2 × 16 MiB under this load.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NodeController } from '../../engine/controller/index.js';
import { holdYoungGeneration } from '../../engine/controller/young-generation.js';

const CONTROLLER = pathToFileURL(fileURLToPath(new URL('../../engine/controller/index.js', import.meta.url))).href;
const MiB = 1024 * 1024;

/** The young generation's size, in bytes, in a child right before it opened a controller with `options`, and after it then allocated. */
function youngGenerationAfterLoad(options: string, env: NodeJS.ProcessEnv = {}, execArgv: string[] = []): { before: number; after: number } {
  const dir = mkdtempSync(join(tmpdir(), 'domforge-young-'));
  try {
    const script = `
      import { getHeapSpaceStatistics } from 'node:v8';
      import { NodeController } from ${JSON.stringify(CONTROLLER)};
      const young = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
      const before = young();
      const nc = await NodeController.open({ instancesDir: ${JSON.stringify(join(dir, 'instances'))}, uri: 'test:///default', ${options} });
      let window = [];
      for (let i = 0; i < 3e6; i++) { window.push({ i, s: 'x' + i }); if (window.length > 100000) window = []; }
      await nc.close();
      process.stdout.write(JSON.stringify({ before, after: young() }));
    `;
    const { NODE_OPTIONS: _, ...inherited } = process.env;
    const r = spawnSync(process.execPath, [...execArgv, '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...inherited, ...env } });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { before: number; after: number };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('by default an open controller holds the young generation where it was under a launch loop\'s allocation; with holdYoungGeneration: false V8 grows it to its cap', () => {
  const held = youngGenerationAfterLoad('');
  assert.equal(held.after, held.before, `held: ${held.before / MiB} → ${held.after / MiB} MiB`);
  assert.ok(held.after < 32 * MiB, `held: ${held.after / MiB} MiB`);
  const grown = youngGenerationAfterLoad('holdYoungGeneration: false');
  assert.equal(grown.after, 32 * MiB, `grown: ${grown.before / MiB} → ${grown.after / MiB} MiB`);
});

test('the process\'s own young-generation flags win: on the command line or in NODE_OPTIONS, the controller leaves them', () => {
  // The process's cap, 2 × 16 MiB as Node's default, so that the young generation grows past
  // where it was at the open only when the controller left it alone.
  for (const [env, argv] of [[{}, ['--max-semi-space-size=16']], [{ NODE_OPTIONS: '--max-semi-space-size=16' }, []]] as const) {
    const { before, after } = youngGenerationAfterLoad('', env, [...argv]);
    assert.ok(before < 32 * MiB && after === 32 * MiB, `${JSON.stringify(env)} ${argv.join(' ')}: ${before / MiB} → ${after / MiB} MiB`);
  }
});

test('which flags count as the process sizing its young generation (V8 takes - and _ alike)', () => {
  for (const argv of [['--max-semi-space-size=8'], ['--min_semi_space_size=2'], ['--semi-space-growth-factor=4']]) {
    assert.equal(holdYoungGeneration(argv, undefined), 'process-sets-it', argv[0]);
  }
  assert.equal(holdYoungGeneration([], '--max-old-space-size=512 --max-semi-space-size=4'), 'process-sets-it');
});

test('holdYoungGeneration must be a boolean', async () => {
  await assert.rejects(NodeController.open({ instancesDir: join(tmpdir(), 'domforge-young-never'), uri: 'test:///default', holdYoungGeneration: 'no' as unknown as boolean }), /Expected `holdYoungGeneration` to be a boolean/);
});
