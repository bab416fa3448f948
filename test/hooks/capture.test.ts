import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeadTailLines } from '../../engine/hooks/capture.js';

/** Feeds `text` in chunks of `chunk` bytes; returns the lines passed on, with `[dropped N]` where the notice came. */
function run(text: string, o: { head: number; tail: number; lines?: number; chunk?: number }): string[] {
  const out: string[] = [];
  const h = new HeadTailLines((l) => out.push(l), (n) => out.push(`[dropped ${n}]`), o.head, o.tail, o.lines);
  const bytes = Buffer.from(text);
  const size = o.chunk ?? 3;
  for (let i = 0; i < bytes.length; i += size) h.push(bytes.subarray(i, i + size));
  h.end();
  return out;
}

const numbered = (n: number) => Array.from({ length: n }, (_, i) => `l${i}`).join('\n') + '\n';

test('HeadTailLines: output within the limits is passed on whole, in order, with no notice', () => {
  assert.deepEqual(run('a\nbb\nccc', { head: 4, tail: 6 }), ['a', 'bb', 'ccc']);
  assert.deepEqual(run(numbered(6), { head: 100, tail: 100, lines: 3 }), ['l0', 'l1', 'l2', 'l3', 'l4', 'l5']);
  assert.deepEqual(run('', { head: 4, tail: 4 }), []);
});

test('HeadTailLines: the first and the last bytes, and the count of what was left out between them', () => {
  // 10 lines of 3 bytes: the head keeps 6 bytes (2 lines), the tail's last 7 bytes start in a line, which is left out.
  assert.deepEqual(run(numbered(10), { head: 6, tail: 7 }), ['l0', 'l1', '[dropped 18]', 'l8', 'l9']);
  // A head limit in the middle of a line passes the line on as far as it goes.
  assert.deepEqual(run('abcdef\nxyz\n', { head: 4, tail: 4 }), ['abcd', '[dropped 3]', 'xyz']);
});

test('HeadTailLines: at most maxLines lines from each end, however short they are', () => {
  assert.deepEqual(run(numbered(100), { head: 1000, tail: 1000, lines: 2 }), ['l0', 'l1', '[dropped 376]', 'l98', 'l99']);
  // An unterminated last line counts as a line.
  assert.deepEqual(run('a\nb\nc\nd\ne\nf', { head: 100, tail: 100, lines: 2 }), ['a', 'b', '[dropped 4]', 'e', 'f']);
  // The line count is reached exactly at a chunk's end.
  assert.deepEqual(run('a\nb\nc\nd\ne\nf\n', { head: 100, tail: 100, lines: 2, chunk: 4 }), ['a', 'b', '[dropped 4]', 'e', 'f']);
});

test('HeadTailLines: 200 MiB of short lines come out as the first and the last maxLines', () => {
  const out: string[] = [];
  let dropped = 0;
  const h = new HeadTailLines((l) => out.push(l), (n) => (dropped = n), 1024, 1024, 100);
  const chunk = Buffer.from('y\n'.repeat(32 * 1024));
  for (let i = 0; i < 3200; i++) h.push(chunk); // 200 MiB, as `yes` prints it
  h.end();
  assert.equal(out.length, 200);
  assert.equal(dropped, 3200 * chunk.length - 400);
});
