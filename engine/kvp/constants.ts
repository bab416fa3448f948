/**
 * Sizes and names of Hyper-V KVP data exchange, as the Linux guest side defines them
 * (uapi `linux/hyperv.h`: `HV_KVP_EXCHANGE_MAX_KEY_SIZE` / `_VALUE_SIZE`, "including any
 * null terminators") and as the host side carries them (UTF-16LE in the same fields).
 */

/** Bytes of the key field of one pool-file record (`char key[512]`). */
export const KEY_FIELD_BYTES = 512;
/** Bytes of the value field of one pool-file record (`char value[2048]`). */
export const VALUE_FIELD_BYTES = 2048;
/** Bytes of one pool-file record; a pool file is records back to back, no header. */
export const RECORD_BYTES = KEY_FIELD_BYTES + VALUE_FIELD_BYTES;

/** Longest key that travels host→guest unchanged: 512-byte UTF-16LE field minus the NUL. */
export const HOST_MAX_KEY_UTF16 = 255;
/** Longest value that travels host→guest unchanged: 2048-byte UTF-16LE field minus the NUL. */
export const HOST_MAX_VALUE_UTF16 = 1023;
/** Longest key `hv_kvp_daemon` writes to a pool file (bytes of UTF-8, a NUL follows). */
export const GUEST_MAX_KEY_UTF8 = 511;
/** Longest value `hv_kvp_daemon` writes to a pool file (bytes of UTF-8, a NUL follows). */
export const GUEST_MAX_VALUE_UTF8 = 2047;

/** Chunk size Ignition's host tool (libhvee `kvpctl add-ign`) uses: 990 bytes a value. */
export const IGNITION_CHUNK_BYTES = 990;
/** Most `DataItems` one `AddKvpItems` / `ModifyKvpItems` / `RemoveKvpItems` call accepts. */
export const MAX_ITEMS_PER_CALL = 128;

/** The five pools of `hv_kvp_daemon`, files `/var/lib/hyperv/.kvp_pool_N`. */
export const POOL = {
  /** Host→guest items added with `AddKvpItems` and `Source=0` (user data goes here). */
  EXTERNAL: 0,
  /** Guest→host items the guest publishes. */
  GUEST: 1,
  /** Guest intrinsics the daemon generates on the fly (file exists, unused). */
  AUTO: 2,
  /** The host describing itself (Windows `Guest\Parameter`). */
  AUTO_EXTERNAL: 3,
  /** Created by the daemon, no known use. */
  AUTO_INTERNAL: 4,
} as const;
export type PoolNumber = (typeof POOL)[keyof typeof POOL];

/** One key/value pair, as text. */
export interface KvpRecord {
  key: string;
  value: string;
}

/**
 * Which limits a record is checked against:
 * - `host`: what travels host→guest unmodified (UTF-16 key ≤ 255, value ≤ 1023 units) and
 *   what the daemon then writes (UTF-8 key ≤ 511, value ≤ 2047 bytes). Use it for anything
 *   sent with `AddKvpItems`.
 * - `daemon`: only the daemon's UTF-8 limits (511 / 2047 bytes plus a NUL).
 * - `field`: what fits the C struct at all (512 / 2048 bytes, possibly without a NUL, as
 *   libhvee writes a string that fills its field).
 */
export type LimitProfile = 'host' | 'daemon' | 'field';
export const LIMIT_PROFILES: readonly LimitProfile[] = ['host', 'daemon', 'field'];
