/**
 * A small line diff (Myers' O(ND) algorithm) and the unified format `diff -u` and
 * `patch` understand, used to log what the XML filters changed.
 */

export interface DiffOp {
  kind: ' ' | '-' | '+';
  line: string;
}

export interface UnifiedDiffOptions {
  /** Name on the `---` line (default `a`). */
  fromFile?: string;
  /** Name on the `+++` line (default `b`). */
  toFile?: string;
  /** Unchanged lines around each change (default 3). */
  context?: number;
  /**
   * Give up looking for the shortest edit after this many differences and report the
   * remaining middle as replaced wholesale (default 2000; keeps huge rewrites cheap).
   */
  maxEdits?: number;
}

/** The edit script turning lines `a` into lines `b`. */
export function diffLines(a: readonly string[], b: readonly string[], maxEdits = 2000): DiffOp[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const ops: DiffOp[] = a.slice(0, start).map((line) => ({ kind: ' ', line }));
  ops.push(...myers(a.slice(start, endA), b.slice(start, endB), maxEdits));
  for (let i = endA; i < a.length; i++) ops.push({ kind: ' ', line: a[i]! });
  return ops;
}

function myers(a: readonly string[], b: readonly string[], maxEdits: number): DiffOp[] {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0 || maxEdits <= 0) return replaceAll(a, b);
  const max = Math.min(n + m, maxEdits);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(trace, a, b, offset, d);
    }
  }
  return replaceAll(a, b);
}

function backtrack(trace: Int32Array[], a: readonly string[], b: readonly string[], offset: number, dEnd: number): DiffOp[] {
  const ops: DiffOp[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = dEnd; d > 0; d--) {
    const v = trace[d]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? k + 1 : k - 1;
    const prevX = v[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ kind: ' ', line: a[--x]! });
      y--;
    }
    if (x === prevX) ops.push({ kind: '+', line: b[--y]! });
    else ops.push({ kind: '-', line: a[--x]! });
  }
  while (x > 0 && y > 0) {
    ops.push({ kind: ' ', line: a[--x]! });
    y--;
  }
  return ops.reverse();
}

function replaceAll(a: readonly string[], b: readonly string[]): DiffOp[] {
  return [...a.map((line): DiffOp => ({ kind: '-', line })), ...b.map((line): DiffOp => ({ kind: '+', line }))];
}

/**
 * `diff -u` output between two texts; the empty string when they are equal.
 * A last line without a newline is marked `\ No newline at end of file`, as diff does.
 */
export function unifiedDiff(from: string, to: string, options: UnifiedDiffOptions = {}): string {
  if (from === to) return '';
  const context = options.context ?? 3;
  const [a, aNoEol] = splitLines(from);
  const [b, bNoEol] = splitLines(to);
  // Mark the unterminated last line so that "x" and "x\n" differ, as they do for diff.
  const NOEOL = '\n\\ No newline at end of file';
  if (aNoEol) a[a.length - 1] += NOEOL;
  if (bNoEol) b[b.length - 1] += NOEOL;
  const ops = diffLines(a, b, options.maxEdits);

  const out = [`--- ${options.fromFile ?? 'a'}`, `+++ ${options.toFile ?? 'b'}`];
  // Positions of ops in each file, then group changes closer than 2*context into hunks.
  const changes: number[] = [];
  ops.forEach((op, i) => op.kind !== ' ' && changes.push(i));
  let h = 0;
  while (h < changes.length) {
    const first = changes[h]!;
    let last = first;
    while (h + 1 < changes.length && changes[h + 1]! - last <= 2 * context + 1) last = changes[++h]!;
    h++;
    const lo = Math.max(0, first - context);
    const hi = Math.min(ops.length - 1, last + context);
    let aStart = 0;
    let bStart = 0;
    for (let i = 0; i < lo; i++) {
      if (ops[i]!.kind !== '+') aStart++;
      if (ops[i]!.kind !== '-') bStart++;
    }
    let aCount = 0;
    let bCount = 0;
    const body: string[] = [];
    for (let i = lo; i <= hi; i++) {
      const op = ops[i]!;
      if (op.kind !== '+') aCount++;
      if (op.kind !== '-') bCount++;
      body.push(op.kind + op.line);
    }
    out.push(`@@ -${range(aStart, aCount)} +${range(bStart, bCount)} @@`, ...body);
  }
  return out.join('\n') + '\n';
}

function range(start: number, count: number): string {
  if (count === 0) return `${start},0`;
  return count === 1 ? `${start + 1}` : `${start + 1},${count}`;
}

function splitLines(text: string): [string[], boolean] {
  if (text === '') return [[], false];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') {
    lines.pop();
    return [lines, false];
  }
  return [lines, true];
}
