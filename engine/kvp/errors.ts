import { KvpError } from '../errors.js';
import type { DomforgeErrorOptions } from '../errors.js';
import { codePointName } from '../xml/serialize.js';
import type { LimitProfile } from './constants.js';

/**
 * Typed KVP failures. All are `KvpError` (code `KVP_INVALID`, exit code 1 in the CLI);
 * the subclass and its fields say which rule was broken so a caller can react without
 * parsing the message.
 */

/** Shortens a key for a message: JSON-quoted, at most ~60 characters. */
export function quoteKey(key: string): string {
  const q = JSON.stringify(key.length > 60 ? key.slice(0, 57) + '...' : key);
  return q;
}

/** Which size rule a record broke. */
export type KvpLimitName = 'key-utf16' | 'value-utf16' | 'key-utf8' | 'value-utf8';

/** A key or value longer than the profile allows. Names the key, the limit and the size found. */
export class KvpLimitError extends KvpError {
  readonly key: string;
  readonly limit: KvpLimitName;
  readonly max: number;
  readonly actual: number;
  readonly profile: LimitProfile;
  constructor(init: { key: string; limit: KvpLimitName; max: number; actual: number; profile: LimitProfile; why: string }, o: DomforgeErrorOptions = {}) {
    const [field, unit] = init.limit.split('-') as ['key' | 'value', 'utf8' | 'utf16'];
    const units = unit === 'utf8' ? 'UTF-8 bytes' : 'UTF-16 code units';
    const what = field === 'key' ? `key ${quoteKey(init.key)}` : `value of key ${quoteKey(init.key)}`;
    super(`${what} is ${init.actual} ${units}; the ${init.profile} profile allows at most ${init.max} (${init.why})`, o);
    this.key = init.key;
    this.limit = init.limit;
    this.max = init.max;
    this.actual = init.actual;
    this.profile = init.profile;
  }
}

/** Why a character cannot be carried. */
export type KvpCharacterProblem = 'nul' | 'lone-surrogate' | 'xml-invalid';

/** A key or value holding a character KVP (or the XML that carries it) cannot transport. */
export class KvpCharacterError extends KvpError {
  readonly key: string;
  readonly field: 'key' | 'value';
  /** UTF-16 index of the character in the key or value. */
  readonly index: number;
  readonly problem: KvpCharacterProblem;
  constructor(init: { key: string; field: 'key' | 'value'; index: number; problem: KvpCharacterProblem; codeUnit: number }, o: DomforgeErrorOptions = {}) {
    const hex = codePointName(init.codeUnit);
    const what = init.field === 'key' ? `key ${quoteKey(init.key)}` : `value of key ${quoteKey(init.key)}`;
    const why =
      init.problem === 'nul'
        ? 'a NUL would end the C string in the pool file early'
        : init.problem === 'lone-surrogate'
          ? 'an unpaired surrogate has no UTF-8 form; the kernel would drop it'
          : 'XML 1.0 cannot carry it, not even as a character reference';
    super(`${what} contains ${hex} at index ${init.index}: ${why}`, o);
    this.key = init.key;
    this.field = init.field;
    this.index = init.index;
    this.problem = init.problem;
  }
}

/** A key that is empty, or a base name that would collide with chunk keys. */
export class KvpKeyError extends KvpError {
  readonly key: string;
  constructor(key: string, message: string, o: DomforgeErrorOptions = {}) {
    super(message, o);
    this.key = key;
  }
}

/** The same key twice where the daemon (or one WMI call) never has it twice. */
export class KvpDuplicateKeyError extends KvpError {
  readonly key: string;
  constructor(key: string, where: string, o: DomforgeErrorOptions = {}) {
    super(`key ${quoteKey(key)} appears more than once ${where}`, o);
    this.key = key;
  }
}

/** More items than one WMI method call accepts. */
export class KvpTooManyItemsError extends KvpError {
  readonly count: number;
  readonly max: number;
  constructor(count: number, max: number, method: string, o: DomforgeErrorOptions = {}) {
    super(`${method} takes at most ${max} items in one call, got ${count}; split them over several calls`, o);
    this.count = count;
    this.max = max;
  }
}

/** A pool file whose length is not a whole number of 2560-byte records, where that matters. */
export class KvpTruncatedPoolError extends KvpError {
  readonly trailingBytes: number;
  constructor(trailingBytes: number, o: DomforgeErrorOptions = {}) {
    super(
      `pool file ends with a partial record (${trailingBytes} bytes after the last whole 2560-byte record); ` +
        'it is probably being rewritten by hv_kvp_daemon: read it again',
      o,
    );
    this.trailingBytes = trailingBytes;
  }
}

/** A WS-Management reply that is a SOAP fault or not the expected method output. */
export class WsmanResponseError extends KvpError {
  /** SOAP fault code and subcode (e.g. `s:Sender`, `w:InvalidParameter`), when a fault. */
  readonly faultCode?: string;
  readonly faultSubcode?: string;
  constructor(message: string, o: DomforgeErrorOptions & { faultCode?: string; faultSubcode?: string } = {}) {
    super(message, o);
    this.faultCode = o.faultCode;
    this.faultSubcode = o.faultSubcode;
  }
}
