import { IGNITION_CHUNK_BYTES, type KvpRecord, type LimitProfile } from './constants.js';
import { KvpCharacterError, KvpKeyError, quoteKey } from './errors.js';
import { codePointUtf8Length, findLoneSurrogate, validateRecord } from './limits.js';
import { toMap } from './pool-file.js';
import { KvpError } from '../errors.js';

/**
 * Ignition-compatible chunking. A payload under base name `B` is stored as the single key `B`
 * or as keys `B.0 … B.(N-1)` (decimal, no padding, no gaps), whose values concatenate with no
 * separator. Readers take `B` when it exists and is non-empty, else `B.0, B.1, …` up to the
 * first missing index — exactly what Ignition's Hyper-V provider does.
 */

export interface SplitOptions {
  /** Largest chunk in UTF-8 bytes (default 990, libhvee's `KvpValueMaxLen`); at least 4. */
  maxChunkUtf8Bytes?: number;
}

/**
 * Splits `value` greedily on code-point boundaries into chunks of at most `maxChunkUtf8Bytes`
 * UTF-8 bytes. Never splits a UTF-8 sequence or a surrogate pair; always returns at least one
 * chunk (`""` → `[""]`); an exact multiple of the size gives no empty tail. With ASCII input
 * the chunks are the plain 990-byte slices libhvee cuts.
 */
export function splitValue(value: string, options: SplitOptions = {}): string[] {
  const max = options.maxChunkUtf8Bytes ?? IGNITION_CHUNK_BYTES;
  if (!Number.isInteger(max) || max < 4) {
    throw new KvpError(`Expected \`maxChunkUtf8Bytes\` to be an integer of at least 4 (one code point), got \`${max}\` (${typeof max})`);
  }
  const lone = findLoneSurrogate(value);
  if (lone >= 0) throw new KvpCharacterError({ key: '', field: 'value', index: lone, problem: 'lone-surrogate', codeUnit: value.charCodeAt(lone) });
  const chunks: string[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < value.length; ) {
    const cp = value.codePointAt(i)!;
    const units = cp > 0xffff ? 2 : 1;
    const len = codePointUtf8Length(cp);
    if (bytes + len > max) {
      chunks.push(value.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += len;
    i += units;
  }
  chunks.push(value.slice(start));
  return chunks;
}

/** A chunk index as Ignition formats it: decimal, no padding. */
const CHUNK_INDEX = /^(0|[1-9][0-9]*)$/;

/** Throws KvpKeyError unless `base` can name a chunked payload (not empty, no `.<digits>` end). */
export function assertBaseName(base: string): void {
  if (typeof base !== 'string' || base === '') throw new KvpKeyError(String(base), 'a payload base name must not be empty');
  if (/\.[0-9]+$/.test(base)) {
    throw new KvpKeyError(base, `payload base name ${quoteKey(base)} ends in .<digits> and would collide with the chunk keys of another payload`);
  }
}

export interface ChunkOptions extends SplitOptions {
  /**
   * `chunked` (default): always `B.0 … B.N-1`, as `kvpctl add-ign` writes;
   * `auto`: the single key `B` when the value fits one chunk, else chunked.
   */
  form?: 'chunked' | 'auto';
  /** Profile every produced record is validated with (default `host`). */
  profile?: LimitProfile;
}

/** The records that carry `value` under base name `base`, validated (default profile `host`). */
export function chunkKeys(base: string, value: string, options: ChunkOptions = {}): KvpRecord[] {
  assertBaseName(base);
  let chunks: string[];
  try {
    chunks = splitValue(value, options);
  } catch (e) {
    if (e instanceof KvpCharacterError) {
      throw new KvpCharacterError({ key: base, field: 'value', index: e.index, problem: e.problem, codeUnit: value.charCodeAt(e.index) });
    }
    throw e;
  }
  const records =
    options.form === 'auto' && chunks.length === 1 ? [{ key: base, value: chunks[0]! }] : chunks.map((c, i) => ({ key: `${base}.${i}`, value: c }));
  for (const r of records) validateRecord(r, options.profile ?? 'host');
  return records;
}

/** Anything reassembly can read from. */
export type KvpSource = ReadonlyMap<string, string> | readonly KvpRecord[] | Readonly<Record<string, string>>;

function asMap(source: KvpSource): ReadonlyMap<string, string> {
  if (source instanceof Map) return source;
  if (Array.isArray(source)) return toMap(source as readonly KvpRecord[]);
  return new Map(Object.entries(source as Record<string, string>));
}

/**
 * Reads the payload under `base` as Ignition does: a non-empty `B` wins; otherwise `B.0`,
 * `B.1`, … concatenated up to the first missing index; `undefined` when neither exists.
 * A list of records is read first-occurrence-wins (`toMap`).
 */
export function reassemble(source: KvpSource, base: string): string | undefined {
  const m = asMap(source);
  const single = m.get(base);
  if (single !== undefined && single !== '') return single;
  const parts: string[] = [];
  for (let i = 0; ; i++) {
    const part = m.get(`${base}.${i}`);
    if (part === undefined) break;
    parts.push(part);
  }
  return parts.length ? parts.join('') : undefined;
}

/** Suffix of the key flagging a base64 payload (`B.encoding = base64`); not a chunk key. */
export const ENCODING_SUFFIX = '.encoding';

/**
 * Keys among `keys` that belong to payload `base`: `B` itself, every `B.<n>` and the
 * `B.encoding` flag.
 */
export function payloadKeys(keys: Iterable<string>, base: string): string[] {
  const out: string[] = [];
  for (const k of keys) {
    if (k === base || k === base + ENCODING_SUFFIX) out.push(k);
    else if (k.startsWith(base + '.') && CHUNK_INDEX.test(k.slice(base.length + 1))) out.push(k);
  }
  return out;
}

/** What a writer must do to replace payload `base`: remove these keys, then add these records. */
export interface PayloadUpdate {
  remove: string[];
  add: KvpRecord[];
}

/**
 * Plans the replacement of payload `base` given the keys that exist now (for WMI, the VM's
 * `HostExchangeItems`): every existing `B` and `B.N` is removed first, because `AddKvpItems`
 * fails on an existing key and a leftover higher chunk would be appended by readers.
 */
export function planPayloadUpdate(existingKeys: Iterable<string>, base: string, value: string, options: ChunkOptions = {}): PayloadUpdate {
  const add = chunkKeys(base, value, options);
  return { remove: payloadKeys(existingKeys, base), add };
}

/** Applies a plan to a list of records (a pool's content): removals first, additions appended. */
export function applyPayloadUpdate(records: readonly KvpRecord[], update: PayloadUpdate): KvpRecord[] {
  const gone = new Set(update.remove);
  return [...records.filter((r) => !gone.has(r.key)), ...update.add];
}
