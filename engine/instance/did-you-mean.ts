/** "Did you mean ...?": the known name an unknown one is a close spelling of. */

/**
 * The known name `name` is likely a misspelling of (a JSON key, an attribute of instance.xml):
 * equal but for case, else the nearest at an edit distance of at most 2 (letters compared
 * without case; the first in `known` on a tie), else the only one it is the start of, when
 * it has at least 4 letters (`pagesize` for `pageSizeKiB`: a unit left off).
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const same = known.find((k) => k.toLowerCase() === lower);
  if (same !== undefined) return same;
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase(), bestDistance);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  if (best !== undefined || lower.length < 4) return best;
  const starts = known.filter((k) => k.toLowerCase().startsWith(lower));
  return starts.length === 1 ? starts[0] : undefined;
}

/** Levenshtein distance of `a` and `b`, or `limit` when it is at least that (long names stop early). */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin >= limit) return limit;
    prev = cur;
  }
  return Math.min(prev[b.length]!, limit);
}
