/**
 * A small seeded PRNG (mulberry32) and random-text generators, so that a failing round trip
 * prints its seed and can be replayed with `KVP_SEED=<seed>`.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seedFromEnv(fallback: number): number {
  const s = process.env['KVP_SEED'];
  return s ? Number(s) : fallback;
}

const POOLS: Array<[number, number]> = [
  [0x20, 0x7e], // ASCII printable
  [0x20, 0x7e],
  [0xa0, 0x7ff], // two-byte UTF-8 (é, ß, Cyrillic…)
  [0x0300, 0x036f], // combining marks
  [0x0800, 0xd7ff], // three-byte UTF-8 before the surrogates
  [0xe000, 0xfffd], // three-byte UTF-8 after them (private use, CJK compatibility, …)
  [0x10000, 0x10ffff], // astral: four bytes of UTF-8, a surrogate pair in UTF-16
  [0x1f600, 0x1f64f], // emoji
];

/** One random code point that KVP and XML can carry (no C0 controls, no U+FFFE/FFFF, no surrogates). */
export function randomCodePoint(rnd: () => number): number {
  const [lo, hi] = POOLS[Math.floor(rnd() * POOLS.length)]!;
  let cp = lo + Math.floor(rnd() * (hi - lo + 1));
  if (cp === 0xfffe || cp === 0xffff || (cp & 0xfffe) === 0xfffe) cp = 0x41;
  return cp;
}

/** A random string of `n` code points. */
export function randomText(rnd: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCodePoint(randomCodePoint(rnd));
  return s;
}

/** A random string whose UTF-8 length stays within `maxBytes` (and its UTF-16 length within `maxUnits`). */
export function randomTextWithin(rnd: () => number, maxBytes: number, maxUnits: number): string {
  let s = '';
  let bytes = 0;
  const target = Math.floor(rnd() * maxBytes);
  for (;;) {
    const c = String.fromCodePoint(randomCodePoint(rnd));
    const b = Buffer.byteLength(c, 'utf8');
    if (bytes + b > target || s.length + c.length > maxUnits) return s;
    s += c;
    bytes += b;
  }
}
