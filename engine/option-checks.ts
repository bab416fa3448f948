/**
 * Checks of option values given by a caller (a library user's code), each a UsageError in
 * one wording: ``Expected `name` to be ..., got `value` (type)``.
 */
import { UsageError } from './errors.js';

/**
 * A value as a message shows it: a number as itself (JSON would write NaN and Infinity as
 * `null`), a string quoted unless `bare`, anything else as JSON, else as String() would.
 */
export function shownValue(value: unknown, { bare = false } = {}): string {
  if (typeof value === 'number' || (bare && typeof value === 'string')) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** `(number)`, `(string)`, ... as execa words it: ``Expected `timeoutMs` to be ..., got `-1` (number)``. */
function got(value: unknown): string {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `got \`${shownValue(value, { bare: true })}\` (${type})`;
}

/**
 * The options object of an operation (`stop`, `describe`…): absent, or an object. `null`, a
 * number or a string would otherwise fail as a bare TypeError when a field is read.
 */
export function expectOptions(operation: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`Expected the options of \`${operation}\` to be an object, ${got(value)}`);
}

/** A list of strings (ids), or absent: a string given alone would be read as its characters. */
export function expectStringList(name: string, value: unknown, what: string): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new UsageError(`Expected ${name} to be a list of ${what}, ${got(value)}`);
}

export function expectNonNegativeInteger(name: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new UsageError(`Expected \`${name}\` to be a non-negative integer, ${got(value)}`);
  }
}

/**
 * The longest delay Node's timers hold: 2^31 − 1 ms, about 24.8 days. A longer one is not
 * waited for: Node prints a TimeoutOverflowWarning and fires the timer after 1 ms.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** {@link MAX_TIMER_MS} and why, as the messages of the option checks and the CLI's flags say it. */
export const TIMER_BOUND: Readonly<{ value: number; why: string }> = { value: MAX_TIMER_MS, why: 'about 24.8 days, the longest timer Node can hold' };

function expectTimerBound(name: string, value: unknown): void {
  if ((value as number) > TIMER_BOUND.value) throw new UsageError(`Expected \`${name}\` to be at most ${TIMER_BOUND.value} ms (${TIMER_BOUND.why}), ${got(value)}`);
}

/**
 * A time in ms that a timer will wait (`graceMs`, `debounceMs`…): a non-negative integer
 * no longer than {@link MAX_TIMER_MS}. 0 means at once.
 */
export function expectTimerMs(name: string, value: unknown): void {
  expectNonNegativeInteger(name, value);
  expectTimerBound(name, value);
}

/**
 * A time limit in ms after which work is stopped (`libxslt.timeoutMs`, a sandbox's
 * `timeoutMs`): a positive integer no longer than {@link MAX_TIMER_MS}. 0 would stop every
 * piece of work before it could finish.
 */
export function expectPositiveTimerMs(name: string, value: unknown): void {
  expectPositiveInteger(name, value);
  expectTimerBound(name, value);
}

export function expectPositiveInteger(name: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new UsageError(`Expected \`${name}\` to be a positive integer, ${got(value)}`);
  }
}

export function expectString(name: string, value: unknown, { optional = true, nonEmpty = true } = {}): void {
  if (value === undefined && optional) return;
  if (typeof value !== 'string' || (nonEmpty && value === '')) {
    throw new UsageError(`Expected \`${name}\` to be a ${nonEmpty ? 'non-empty ' : ''}string, ${got(value)}`);
  }
}

export function expectFunction(name: string, value: unknown, { optional = true } = {}): void {
  if (value === undefined && optional) return;
  if (typeof value !== 'function') throw new UsageError(`Expected \`${name}\` to be a function, ${got(value)}`);
}

export function expectOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): asserts value is T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`Expected \`${name}\` to be one of ${allowed.map((a) => `\`${a}\``).join(', ')}, ${got(value)}`);
  }
}

export function expectStringRecord(name: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`Expected \`${name}\` to be an object of strings, ${got(value)}`);
  }
  for (const [k, v] of Object.entries(value)) {
    if (v !== undefined && typeof v !== 'string') throw new UsageError(`Expected \`${name}.${k}\` to be a string, ${got(v)}`);
  }
}
