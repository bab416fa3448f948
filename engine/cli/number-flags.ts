/** Numeric CLI flags read strictly: what `Number()` would also accept (`1e3`, `0x10`, `" 5"`) is a usage error naming the flag. */

import { UsageError } from '../errors.js';
import { TIMER_BOUND } from '../option-checks.js';

/** The most a whole-number flag may be, and why: `{ value: 4294967296, why: 'the largest Buffer' }`. */
export interface FlagBound {
  value: number;
  why: string;
}

/** Past it, a number is not held exactly: the default bound of {@link integerFlag}. */
const EXACT: FlagBound = { value: Number.MAX_SAFE_INTEGER, why: 'the largest integer domforge reads exactly' };

/**
 * A whole-number flag (`--hook-timeout 500`, `--max-image 1048576`): decimal digits only,
 * so `1e3`, `0x400`, ` 5` or `5.0` are refused rather than read as numbers, with a usage
 * error naming the flag (exit 2). `unit` is said in the message (`ms`, `bytes`). Digits
 * past `max` (default 2^53 - 1) are refused as more than it, compared exactly: the message
 * says the bound and why.
 */
export function integerFlag(flag: string, value: string, min: 0 | 1, unit?: string, max: FlagBound = EXACT): number {
  const digits = /^[0-9]+$/.test(value);
  if (digits && BigInt(value) > BigInt(max.value)) {
    throw new UsageError(`Expected \`${flag}\` to be at most ${max.value}${unit ? ` ${unit}` : ''} (${max.why}), got ${JSON.stringify(value)}`);
  }
  const n = digits ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`Expected \`${flag}\` to be ${min ? 'a positive' : 'a non-negative'} integer${unit ? ` (${unit})` : ''}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/**
 * A time in ms that a timer waits (`--timeout 2000`, `--grace 0`): a whole number as
 * {@link integerFlag} reads it, and no more than the longest timer Node holds (a longer one
 * would fire at once, with a Node warning on stderr), else a usage error naming the flag.
 */
export function millisecondsFlag(flag: string, value: string, min: 0 | 1): number {
  return integerFlag(flag, value, min, 'ms', TIMER_BOUND);
}

/**
 * A positive decimal flag (`--timeout 1.5`): digits with an optional fraction, so `1e3`,
 * `0x10`, `Infinity` or ` 5` are refused rather than read as numbers, with a usage error
 * naming the flag (exit 2). `unit` is said in the message (`seconds`).
 */
export function positiveDecimalFlag(flag: string, value: string, unit?: string): number {
  const n = /^[0-9]+(\.[0-9]+)?$/.test(value) ? Number(value) : NaN;
  if (!(n > 0) || !Number.isFinite(n)) {
    throw new UsageError(`Expected \`${flag}\` to be a positive number${unit ? ` of ${unit}` : ''}, got ${JSON.stringify(value)}`);
  }
  return n;
}
