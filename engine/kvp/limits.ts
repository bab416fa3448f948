import {
  GUEST_MAX_KEY_UTF8,
  GUEST_MAX_VALUE_UTF8,
  HOST_MAX_KEY_UTF16,
  HOST_MAX_VALUE_UTF16,
  KEY_FIELD_BYTES,
  LIMIT_PROFILES,
  VALUE_FIELD_BYTES,
  type KvpRecord,
  type LimitProfile,
} from './constants.js';
import { KvpCharacterError, KvpDuplicateKeyError, KvpKeyError, KvpLimitError, type KvpLimitName } from './errors.js';
import { KvpError } from '../errors.js';
import { findLoneSurrogate } from '../xml/serialize.js';

// Kept here too: KVP's character rules were its first user, and the package exports it from here.
export { findLoneSurrogate };

/**
 * The three limit profiles (see `LimitProfile`) and the character rules every profile shares:
 * no empty key, no U+0000, no unpaired surrogate. Pure functions; each violation is a typed
 * error naming the key and the limit.
 */

/** UTF-8 length of a string without lone surrogates. */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** UTF-8 length of one code point. */
export function codePointUtf8Length(cp: number): number {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

interface ProfileLimits {
  keyUtf8: number;
  valueUtf8: number;
  keyUtf16?: number;
  valueUtf16?: number;
  why: string;
}

const PROFILE_LIMITS: Record<LimitProfile, ProfileLimits> = {
  field: { keyUtf8: KEY_FIELD_BYTES, valueUtf8: VALUE_FIELD_BYTES, why: 'the size of the pool-file field' },
  daemon: { keyUtf8: GUEST_MAX_KEY_UTF8, valueUtf8: GUEST_MAX_VALUE_UTF8, why: 'what hv_kvp_daemon writes, plus a NUL' },
  host: {
    keyUtf8: GUEST_MAX_KEY_UTF8,
    valueUtf8: GUEST_MAX_VALUE_UTF8,
    keyUtf16: HOST_MAX_KEY_UTF16,
    valueUtf16: HOST_MAX_VALUE_UTF16,
    why: 'what travels host to guest unmodified',
  },
};

/** Throws a usage-style KvpError unless `profile` is one of the three profiles. */
export function assertProfile(profile: unknown): asserts profile is LimitProfile {
  if (!LIMIT_PROFILES.includes(profile as LimitProfile)) {
    throw new KvpError(`Expected \`profile\` to be one of ${LIMIT_PROFILES.join(', ')}, got ${JSON.stringify(profile)}`);
  }
}

/** Checks the characters of one key or value (no NUL, no unpaired surrogate). */
export function checkCharacters(key: string, field: 'key' | 'value', text: string): void {
  const nul = text.indexOf('\u0000');
  if (nul >= 0) throw new KvpCharacterError({ key, field, index: nul, problem: 'nul', codeUnit: 0 });
  const lone = findLoneSurrogate(text);
  if (lone >= 0) throw new KvpCharacterError({ key, field, index: lone, problem: 'lone-surrogate', codeUnit: text.charCodeAt(lone) });
}

/**
 * Validates a record against a profile (default `host`): the key is not empty, neither key nor
 * value holds U+0000 or an unpaired surrogate, and both fit the profile's sizes.
 * Throws KvpKeyError, KvpCharacterError or KvpLimitError.
 */
export function validateRecord(r: KvpRecord, profile: LimitProfile = 'host'): void {
  assertProfile(profile);
  if (typeof r?.key !== 'string' || typeof r?.value !== 'string') {
    throw new KvpError(`Expected a record { key: string, value: string }, got ${JSON.stringify(r)}`);
  }
  if (r.key === '') throw new KvpKeyError('', 'a KVP key must not be empty (the guest reads an empty key as an unused record)');
  checkCharacters(r.key, 'key', r.key);
  checkCharacters(r.key, 'value', r.value);
  const lim = PROFILE_LIMITS[profile];
  const fail = (limit: KvpLimitName, max: number, actual: number): never => {
    throw new KvpLimitError({ key: r.key, limit, max, actual, profile, why: lim.why });
  };
  if (lim.keyUtf16 !== undefined && r.key.length > lim.keyUtf16) fail('key-utf16', lim.keyUtf16, r.key.length);
  if (lim.valueUtf16 !== undefined && r.value.length > lim.valueUtf16) fail('value-utf16', lim.valueUtf16, r.value.length);
  const k8 = utf8Length(r.key);
  if (k8 > lim.keyUtf8) fail('key-utf8', lim.keyUtf8, k8);
  const v8 = utf8Length(r.value);
  if (v8 > lim.valueUtf8) fail('value-utf8', lim.valueUtf8, v8);
}

/**
 * Throws KvpDuplicateKeyError at the second record of a key already seen: the daemon never
 * writes a key twice into a pool, and `AddKvpItems` fails on a key the VM already has.
 * @param where ends the message: `in one pool (…)`, `in one AddKvpItems call`.
 */
export function assertUniqueKeys(records: readonly KvpRecord[], where: string): void {
  const seen = new Set<string>();
  for (const r of records) {
    if (seen.has(r.key)) throw new KvpDuplicateKeyError(r.key, where);
    seen.add(r.key);
  }
}
