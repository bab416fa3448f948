import { readRegularFile } from '../fs/regular-file.js';
import type { KvpRecord, LimitProfile } from './constants.js';
import { planPayloadUpdate, type ChunkOptions } from './chunking.js';
import { RECORD_BYTES } from './constants.js';
import { decodePool, encodePool, type DecodedPool, type DecodePoolOptions } from './pool-file.js';
import { IoError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic-write.js';

/**
 * Pool files on disk. Writes go to a temporary file in the same folder (mode 0600) renamed over
 * the pool file, and everything is validated and encoded before the first byte is written, so
 * a failure leaves the old file untouched. hv_kvp_daemon locks pool files with fcntl, which Node
 * cannot take: do not write pool 0 of a guest whose daemon is running (the daemon rewrites it on
 * every host update anyway); these functions are for images, tests and Ignition-like set-up.
 */

/** Reads and decodes a pool file (see `decodePool` for the options). */
export async function readPoolFile(path: string, options: DecodePoolOptions = {}): Promise<DecodedPool> {
  let buf: Buffer;
  try {
    buf = await readRegularFile(path);
  } catch (e) {
    throw new IoError(`cannot read pool file: ${(e as Error).message}`, { file: path, cause: e });
  }
  return decodePool(buf, { ...options, file: options.file ?? path });
}

export interface WritePoolOptions {
  /** Limit profile every record is validated with (default `host`). */
  profile?: LimitProfile;
  /** File mode (default 0o600, as Ignition writes pool files; the daemon's are world-readable). */
  mode?: number;
}

/** Encodes `records` and replaces the pool file atomically. */
export async function writePoolFile(path: string, records: readonly KvpRecord[], options: WritePoolOptions = {}): Promise<void> {
  const bytes = encodePool(records, options.profile ?? 'host');
  await writeFileAtomic(path, bytes, { mode: options.mode ?? 0o600 });
}

/**
 * Replaces payload `base` in an existing pool file: removes `B`, every `B.N` and `B.encoding`,
 * appends the new chunks (validated with `profile`, default `daemon`), and rewrites the file
 * atomically. Every other record is copied byte for byte, whatever its bytes: a value that
 * is not valid UTF-8 stays as the writer left it rather than turning into U+FFFD. Empty slots
 * (an all-zero key) are dropped. A missing file counts as empty.
 * A file ending in a partial record is refused (KvpTruncatedPoolError) and left as it is,
 * since rewriting it would lose whatever the partial record was going to be.
 */
export async function updatePoolPayload(path: string, base: string, value: string, options: WritePoolOptions & ChunkOptions = {}): Promise<KvpRecord[]> {
  let buf: Buffer | undefined;
  try {
    buf = await readRegularFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new IoError(`cannot read pool file: ${(e as Error).message}`, { file: path, cause: e });
  }
  // One record per slot, in file order (empty keys included), so slot i is records[i].
  const slots = buf ? decodePool(buf, { partialRecord: 'error', skipEmptyKeys: false, file: path }).records : [];
  const plan = planPayloadUpdate(
    slots.filter((r) => r.key !== '').map((r) => r.key),
    base,
    value,
    options,
  );
  const gone = new Set(plan.remove);
  const kept = slots.flatMap((r, i) => (r.key === '' || gone.has(r.key) ? [] : [i]));
  const added = encodePool(plan.add, options.profile ?? 'daemon');
  const bytes = Buffer.concat([...kept.map((i) => buf!.subarray(i * RECORD_BYTES, (i + 1) * RECORD_BYTES)), added]);
  await writeFileAtomic(path, bytes, { mode: options.mode ?? 0o600 });
  return [...kept.map((i) => slots[i]), ...plan.add];
}
