import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unifiedDiff, diffLines } from '../../engine/hooks/line-diff.js';

/** GNU diff -u as the oracle, without its timestamped header lines. */
function gnuDiff(a: string, b: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'domforge-diff-'));
  try {
    writeFileSync(join(dir, 'a'), a);
    writeFileSync(join(dir, 'b'), b);
    try {
      execFileSync('diff', ['-u', '--label', 'a', '--label', 'b', join(dir, 'a'), join(dir, 'b')], { encoding: 'utf8' });
      return '';
    } catch (e) {
      return (e as { stdout: string }).stdout;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const lines = (n: number, f = (i: number) => `line ${i}`) => Array.from({ length: n }, (_, i) => f(i)).join('\n') + '\n';

const cases: [string, string, string][] = [
  ['equal', 'a\nb\n', 'a\nb\n'],
  ['insert in the middle', lines(20), lines(20).replace('line 10\n', 'line 10\nnew\n')],
  ['delete at start', lines(10), lines(10).replace('line 0\n', '')],
  ['append at end', lines(10), lines(10) + 'tail\n'],
  ['two far-apart changes make two hunks', lines(40), lines(40).replace('line 3\n', 'three\n').replace('line 30\n', 'thirty\n')],
  ['two close changes make one hunk', lines(40), lines(40).replace('line 3\n', 'three\n').replace('line 8\n', 'eight\n')],
  ['from empty', '', 'x\ny\n'],
  ['to empty', 'x\ny\n', ''],
  ['no newline at end', 'a\nb', 'a\nc'],
  ['newline added at end', 'a\nb', 'a\nb\n'],
  ['everything differs', lines(5), lines(5, (i) => `other ${i}`)],
];

for (const [name, a, b] of cases) {
  test(`unifiedDiff matches diff -u: ${name}`, () => {
    assert.equal(unifiedDiff(a, b), gnuDiff(a, b));
  });
}

test('diffLines gives a minimal edit script', () => {
  const ops = diffLines(['a', 'b', 'c', 'a', 'b', 'b', 'a'], ['c', 'b', 'a', 'b', 'a', 'c']);
  assert.equal(ops.filter((o) => o.kind !== ' ').length, 5); // Myers' paper example: D = 5
  assert.deepEqual(ops.filter((o) => o.kind !== '+').map((o) => o.line), ['a', 'b', 'c', 'a', 'b', 'b', 'a']);
  assert.deepEqual(ops.filter((o) => o.kind !== '-').map((o) => o.line), ['c', 'b', 'a', 'b', 'a', 'c']);
});

test('maxEdits caps the work on a total rewrite and still gives a correct diff', () => {
  const a = lines(3000);
  const b = lines(3000, (i) => `x ${i}`);
  const d = unifiedDiff(a, b, { maxEdits: 10 });
  assert.equal(d.split('\n').filter((l) => l.startsWith('-line')).length, 3000);
  assert.equal(d.split('\n').filter((l) => l.startsWith('+x')).length, 3000);
});
