import { TextDecoder } from 'node:util';
import { KEY_FIELD_BYTES, RECORD_BYTES, VALUE_FIELD_BYTES, type KvpRecord, type LimitProfile } from './constants.js';
import { KvpTruncatedPoolError } from './errors.js';
import { assertUniqueKeys, validateRecord } from './limits.js';
import { KvpError } from '../errors.js';
import { firstBadUtf8 } from '../xml/decode.js';

/**
 * The pool-file codec: `struct kvp_record { char key[512]; char value[2048]; }` back to back,
 * no header and no count, UTF-8 text zero padded. Pure functions over bytes; reading and
 * writing files is in pool-io.ts.
 */

/**
 * Encodes one record into 2560 bytes: the UTF-8 key at offset 0, the UTF-8 value at offset 512,
 * every other byte zero. Under `host` and `daemon` both fields keep at least one NUL, so the
 * bytes equal what hv_kvp_daemon writes for the same host item into a zeroed buffer.
 */
export function encodeRecord(r: KvpRecord, profile: LimitProfile = 'host'): Buffer {
  validateRecord(r, profile);
  const out = Buffer.alloc(RECORD_BYTES);
  out.write(r.key, 0, KEY_FIELD_BYTES, 'utf8');
  out.write(r.value, KEY_FIELD_BYTES, VALUE_FIELD_BYTES, 'utf8');
  return out;
}

/**
 * Encodes a whole pool: `records.length × 2560` bytes in the given order (an empty list is a
 * valid, empty pool file). Every record is validated first and duplicate keys are refused, so
 * a failure produces no bytes at all.
 */
export function encodePool(records: readonly KvpRecord[], profile: LimitProfile = 'host'): Buffer {
  if (!Array.isArray(records)) throw new KvpError(`Expected \`records\` to be an array, got ${typeof records}`);
  for (const r of records) validateRecord(r, profile);
  assertUniqueKeys(records, 'in one pool (hv_kvp_daemon never writes a key twice)');
  const out = Buffer.alloc(records.length * RECORD_BYTES);
  records.forEach((r, i) => {
    out.write(r.key, i * RECORD_BYTES, KEY_FIELD_BYTES, 'utf8');
    out.write(r.value, i * RECORD_BYTES + KEY_FIELD_BYTES, VALUE_FIELD_BYTES, 'utf8');
  });
  return out;
}

export interface DecodePoolOptions {
  /** Throw on invalid UTF-8 instead of decoding it as U+FFFD. Default false. */
  fatal?: boolean;
  /** Drop records whose key is empty (all-zero records, deleted slots). Default true. */
  skipEmptyKeys?: boolean;
  /**
   * What to do with bytes after the last whole record (a partial record, typically a file
   * caught while the daemon rewrites it): `report` returns their count in `trailingBytes`,
   * `error` throws KvpTruncatedPoolError. Default `report`.
   */
  partialRecord?: 'report' | 'error';
  /** File name for error messages. */
  file?: string;
}

export interface DecodedPool {
  records: KvpRecord[];
  /** Bytes after the last whole 2560-byte record; non-zero suggests a concurrent rewrite. */
  trailingBytes: number;
  /** Whole records dropped because their key was empty. */
  emptyRecords: number;
}

/**
 * Decodes a pool file the way the guest's C readers do: each field is read up to its first
 * NUL (or to its end when there is none), bytes after the NUL are ignored whatever they hold
 * (the daemon leaves stale tails after a modify or delete).
 */
export function decodePool(buf: Uint8Array, options: DecodePoolOptions = {}): DecodedPool {
  const fatal = options.fatal ?? false;
  const skipEmpty = options.skipEmptyKeys ?? true;
  const decoder = new TextDecoder('utf-8', { fatal, ignoreBOM: true });
  const n = Math.floor(buf.length / RECORD_BYTES);
  const trailingBytes = buf.length - n * RECORD_BYTES;
  if (trailingBytes !== 0 && options.partialRecord === 'error') throw new KvpTruncatedPoolError(trailingBytes, { file: options.file });
  const records: KvpRecord[] = [];
  let emptyRecords = 0;
  for (let i = 0; i < n; i++) {
    const base = i * RECORD_BYTES;
    const key = readCString(buf, base, KEY_FIELD_BYTES, decoder, options.file, i, 'key');
    if (key === '' && skipEmpty) {
      emptyRecords++;
      continue;
    }
    const value = readCString(buf, base + KEY_FIELD_BYTES, VALUE_FIELD_BYTES, decoder, options.file, i, 'value', key);
    records.push({ key, value });
  }
  return { records, trailingBytes, emptyRecords };
}

/** A NUL-ended field; a decode error names the record, its key (`key`, for the value field) and the first bad byte. */
function readCString(buf: Uint8Array, start: number, size: number, decoder: TextDecoder, file: string | undefined, index: number, field: string, key?: string): string {
  const fieldBytes = buf.subarray(start, start + size);
  const nul = fieldBytes.indexOf(0);
  const bytes = nul < 0 ? fieldBytes : fieldBytes.subarray(0, nul);
  try {
    return decoder.decode(bytes);
  } catch (e) {
    const at = firstBadUtf8(bytes);
    throw new KvpError(`record ${index}${key === undefined ? '' : ` (${JSON.stringify(key)})`}: the ${field} field is not valid UTF-8 (byte ${at} of the field, file offset ${start + at})`, { file, cause: e });
  }
}

/** Key → value, keeping the first occurrence of a key (as a reader scanning the file does). */
export function toMap(records: readonly KvpRecord[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const r of records) if (!m.has(r.key)) m.set(r.key, r.value);
  return m;
}
