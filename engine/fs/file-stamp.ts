import type { BigIntStats } from 'node:fs';

/**
 * A file's device, inode, size, modification and change times (ns): what git compares to
 * tell that a file it has read is unchanged without reading it again. Any write changes
 * one of them, except a write of as many bytes within the clock tick of the one before
 * it (file times are a few ms coarse; whole seconds on some file systems): see
 * {@link settled}.
 */
export function fileStamp(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** How long after its last change a file's stamp is trusted, by default (git's "racy" window, generously). */
export const RACY_MS = 1000;

/**
 * Whether a stamp taken now can be trusted to show the file's next write: its times are
 * more than `racyMs` old, so any later write gets other times. A file changed just before
 * (racy) must be compared by content until then.
 */
export function settled(st: BigIntStats, racyMs: number = RACY_MS, nowMs: number = Date.now()): boolean {
  const limit = (BigInt(Math.floor(nowMs)) - BigInt(Math.max(0, Math.round(racyMs)))) * 1_000_000n;
  return st.mtimeNs < limit && st.ctimeNs < limit;
}
