/**
 * Every flag that sets a time a timer waits (`--timeout`, `--hook-timeout`, `--grace`,
 * `--debounce`) refuses more than the longest timer Node holds (2^31 - 1 ms) as a usage
 * error naming the flag: no TimeoutOverflowWarning on stderr, no false TRANSFORM_TIMEOUT.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants as bufferConstants } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli } from '../render/cli.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SAMPLE = join(ROOT, 'samples', '01-linux-virtio', 'instance.xml');
const dir = mkdtempSync(join(tmpdir(), 'domforge-timer-flags-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const message = (flag: string, value: string) => `Expected \`${flag}\` to be at most 2147483647 ms (about 24.8 days, the longest timer Node can hold), got "${value}"`;

test('render --timeout above 2^31 - 1 ms is a usage error naming the flag, as JSON under --json, with no Node warning', () => {
  for (const value of ['2147483648', '99999999999999']) {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'domforge.js'), 'render', '--instance', SAMPLE, '--timeout', value, '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.deepEqual(JSON.parse(r.stderr), { error: { code: 'USAGE', message: message('--timeout', value) } });
  }
});

test('the longest timer Node holds is taken: render --timeout 2147483647 renders', async () => {
  const r = await cli(['render', '--instance', SAMPLE, '--timeout', '2147483647']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^<domain /);
});

test('--hook-timeout, --grace, and watch / transforms prove --timeout and --debounce refuse it too', async () => {
  const instances = join(dir, 'never-created');
  const common = ['--instances', instances, '--uri', 'test:///default'];
  for (const [args, flag] of [
    [['launch', '--instance', SAMPLE, ...common, '--hook-timeout'], '--hook-timeout'],
    [['terminate', 'i-12345678', ...common, '--grace'], '--grace'],
    [['reboot', 'i-12345678', ...common, '--grace'], '--grace'],
    [['stop', 'i-12345678', ...common, '--grace'], '--grace'],
    [['transforms', 'prove', '--transforms', dir, '--timeout'], '--timeout'],
    [['watch', '--transforms', dir, '--timeout'], '--timeout'],
    [['watch', '--transforms', dir, '--debounce'], '--debounce'],
  ] as const) {
    const r = await cli([...args, '2147483648']);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr, `domforge: ${message(flag, '2147483648')}\n`);
  }
});

test("digits past a whole-number flag's bound name the flag and the real bound, compared exactly (not the library option, not 'a positive integer')", async () => {
  const common = ['--instances', join(dir, 'never-created'), '--uri', 'test:///default'];
  const big = '9007199254740993'; // 2^53 + 1: a positive integer, though not one a double holds
  // console-output's bound is the largest Buffer, which depends on Node (2^32 on 20, 2^53 - 1 on 64-bit 22 and later).
  const maxBuffer = BigInt(bufferConstants.MAX_LENGTH);
  const largestBuffer = `at most ${maxBuffer} bytes (the largest Buffer)`;
  const bytes = ['console-output', 'i-12345678', '--bytes'] as const;
  for (const [args, value, expected] of [
    ...(maxBuffer < BigInt(Number.MAX_SAFE_INTEGER) ? [[bytes, String(Number.MAX_SAFE_INTEGER), largestBuffer] as const] : []),
    [bytes, big, largestBuffer],
    [bytes, String(maxBuffer + 1n), largestBuffer],
    [['stats', '--interval'], big, 'at most 3600000 ms (an hour)'],
    [['launch', '--instance', SAMPLE, '--max-image'], big, 'at most 9007199254740991 bytes (the largest integer domforge reads exactly)'],
    [['terminate', 'i-12345678', '--grace'], big, 'at most 2147483647 ms (about 24.8 days, the longest timer Node can hold)'],
  ] as const) {
    const flag = args[args.length - 1]!;
    const r = await cli([...args, value, ...common]);
    assert.deepEqual([r.code, r.stderr], [2, `domforge: Expected \`${flag}\` to be ${expected}, got "${value}"\n`], args.join(' '));
  }
  // The largest Buffer itself is not refused for its size (the instance is not there: a later error).
  const r = await cli([...bytes, String(maxBuffer), ...common]);
  assert.notEqual(r.code, 2, r.stderr);
  assert.doesNotMatch(r.stderr, /Expected `--bytes`/);
});
