import { TextDecoder } from 'node:util';
import type { KvpRecord } from './constants.js';
import { chunkKeys, ENCODING_SUFFIX, type ChunkOptions } from './chunking.js';
import { KvpCharacterError, KvpLimitError } from './errors.js';
import { validateRecord } from './limits.js';
import { encodePool } from './pool-file.js';
import { KvpError } from '../errors.js';
import type { Instance } from '../instance/model.js';
import { duplicateMetadataKey, duplicateMetadataMessage, metadataKeyPath } from '../instance/metadata.js';
import { placeOf, sourceOf, type InstanceSource } from '../instance/source.js';
import { decodeBase64 } from '../instance/user-data.js';
import { XML_INVALID_CHARS } from '../xml/serialize.js';

/**
 * Instance → KVP: the items a Hyper-V node pushes for an instance (AddKvpItems, Source=0) and
 * the pool-0 file a guest then sees. Policy only; the bytes come from pool-file.ts and the
 * WMI text from cim-xml.ts.
 *
 * Base names (each a `B` / `B.0…B.N-1` payload, see chunking.ts):
 *   `<prefix>.user-data`   user data, text; binary data base64 with `<prefix>.user-data.encoding = base64`
 *   `<prefix>.meta-data`   JSON object: instance-id, uuid, hostname, then the instance's metadata
 *   `<prefix>.public-keys` SSH public keys, one a line (authorized_keys form)
 *   `<prefix>.password`    admin password (delete it with RemoveKvpItems once consumed)
 *   `ignition.config`      the user data again when it is an Ignition config (Ignition reads it)
 *   `cloudstack-vm-userdata` optional single key, CloudStack's boot-args style string
 */

/** What the mapping needs, independent of instance.xml. */
export interface KvpInput {
  /** Instance id (`i-…`), written to the metadata as `instance-id`. */
  instanceId?: string;
  /** Instance UUID, written to the metadata as `uuid`. */
  uuid?: string;
  /** Guest host name, written to the metadata as `hostname`. */
  hostname?: string;
  /** User data bytes as the user supplied them (already decoded from base64). */
  userData?: Uint8Array;
  /**
   * Free-form metadata, written as JSON after instance-id/uuid/hostname. An item of one of
   * those three names is refused: the guest must be able to trust them, and user metadata
   * replacing them would let a tag spoof the instance's identity (the CloudStack drive
   * layout refuses the same).
   */
  metadata?: Readonly<Record<string, unknown>>;
  /** SSH public keys, one key each. */
  publicKeys?: readonly string[];
  /** Admin password for the guest. */
  password?: string;
}

export interface KvpItemsOptions {
  /** Prefix of domforge's own base names (default `euca`). */
  prefix?: string;
  /**
   * Publish the user data also as `ignition.config`: `auto` (default) when it is a JSON object
   * with an `ignition` member, `always`, or `never`.
   */
  ignition?: 'auto' | 'always' | 'never';
  /**
   * The CloudStack-compatible single key `cloudstack-vm-userdata`: `false` (default) leaves it
   * out, `true` writes the user data text, a string writes that string. It is one key, never
   * chunked, so it must fit 1023 UTF-16 units / 2047 UTF-8 bytes.
   */
  cloudstack?: boolean | string;
  /** `chunked` (default, as `kvpctl add-ign`) or `auto` (single key when it fits 990 bytes). */
  form?: ChunkOptions['form'];
}

export const CLOUDSTACK_KEY = 'cloudstack-vm-userdata';
export const IGNITION_BASE = 'ignition.config';

/** The base names a set of items for `input` may use (to remove stale chunks before adding). */
export function kvpBaseNames(options: KvpItemsOptions = {}): string[] {
  const p = options.prefix ?? 'euca';
  return [`${p}.user-data`, IGNITION_BASE, `${p}.meta-data`, `${p}.public-keys`, `${p}.password`, CLOUDSTACK_KEY];
}

/** User data as KVP text when it is valid UTF-8 that KVP and XML can carry, else undefined. */
export function userDataText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
  return XML_INVALID_CHARS.test(text) ? undefined : text;
}

function isIgnitionConfig(text: string): boolean {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) && 'ignition' in v;
  } catch {
    return false;
  }
}

/**
 * The records for `input`, validated with the `host` profile, in a fixed order. A refusal of
 * one of the input's own values names it by its path in the input: `/userData`,
 * `/metadata/NAME`, `/publicKeys/N` (0-based).
 */
export function kvpItemsFromInput(input: KvpInput, options: KvpItemsOptions = {}): KvpRecord[] {
  const p = options.prefix ?? 'euca';
  const chunk: ChunkOptions = { form: options.form ?? 'chunked' };
  const out: KvpRecord[] = [];
  const bytes = input.userData ?? new Uint8Array(0);
  const text = userDataText(bytes);
  if (bytes.length > 0) {
    if (text !== undefined) out.push(...chunkKeys(`${p}.user-data`, text, chunk));
    else {
      out.push(...chunkKeys(`${p}.user-data`, Buffer.from(bytes).toString('base64'), chunk));
      out.push({ key: `${p}.user-data${ENCODING_SUFFIX}`, value: 'base64' });
    }
    const ignition = options.ignition ?? 'auto';
    if (ignition === 'always' && text === undefined) {
      throw new KvpError('the user data is not UTF-8 text, so it cannot be published as ignition.config', { path: '/userData' });
    }
    if (text !== undefined && (ignition === 'always' || (ignition === 'auto' && isIgnitionConfig(text)))) out.push(...chunkKeys(IGNITION_BASE, text, chunk));
  }
  // No prototype: a metadata key named `toString` or `__proto__` is a key like any other.
  const meta: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (input.instanceId) meta['instance-id'] = input.instanceId;
  if (input.uuid) meta['uuid'] = input.uuid;
  if (input.hostname) meta['hostname'] = input.hostname;
  for (const [k, v] of Object.entries(input.metadata ?? {})) {
    if (k === 'instance-id' || k === 'uuid' || k === 'hostname') {
      throw new KvpError(`metadata item ${JSON.stringify(k)} would replace the built-in ${k} of ${p}.meta-data; give it another name`, { path: `/metadata/${k}` });
    }
    meta[k] = v;
  }
  if (Object.keys(meta).length) out.push(...chunkKeys(`${p}.meta-data`, JSON.stringify(meta), chunk));
  const keys: string[] = [];
  (input.publicKeys ?? []).forEach((key, i) => {
    const k = key.trim();
    if (/[\r\n]/.test(k)) throw new KvpError(`public key ${i + 1} spans several lines; give one key per entry (they are written one a line)`, { path: `/publicKeys/${i}` });
    if (k !== '') keys.push(k);
  });
  if (keys.length) out.push(...chunkKeys(`${p}.public-keys`, keys.join('\n') + '\n', chunk));
  if (input.password !== undefined && input.password !== '') out.push(...chunkKeys(`${p}.password`, input.password, chunk));
  if (options.cloudstack !== undefined && options.cloudstack !== false) {
    const value = typeof options.cloudstack === 'string' ? options.cloudstack : text;
    if (value === undefined) throw new KvpError(`the user data is not UTF-8 text, so it cannot be published as ${CLOUDSTACK_KEY}`, { path: '/userData' });
    const r = { key: CLOUDSTACK_KEY, value };
    validateRecord(r, 'host');
    out.push(r);
  }
  return out;
}

/** The pool-0 file (`/var/lib/hyperv/.kvp_pool_0`) a guest sees once the items are delivered. */
export function kvpPoolFromInput(input: KvpInput, options: KvpItemsOptions = {}): Buffer {
  return encodePool(kvpItemsFromInput(input, options), 'host');
}

/** Decodes instance.xml's base64 user data (whitespace allowed, padding optional; see compactBase64). */
export function decodeUserData(base64: string): Uint8Array {
  const bytes = decodeBase64(base64);
  if (bytes === undefined) throw new KvpError('userData is not valid base64', { path: '/instance/userData' });
  return bytes;
}

/**
 * The records of an instance's items: {@link kvpInputFromInstance}, then
 * {@link kvpItemsFromInput}. A refusal that comes from one of the instance's fields names
 * that field where it is written: a KvpError with the file, the line and column of the
 * element (the metadata item, `<key>`, `<userData>`, `<password>`) and its instance path
 * (`/instance/metadata/item[2]/@key`), with the typed error as its `cause`. The place is
 * the instance.xml or JSON description it was read from (`source`, by default the
 * instance's own: see sourceOf); an Instance built or copied in code has none, and the
 * error names the path alone. Any other refusal (of an option) is thrown as it is.
 */
export function kvpItemsFromInstance(instance: Instance, options: KvpItemsOptions = {}, source: InstanceSource | undefined = sourceOf(instance)): KvpRecord[] {
  try {
    return kvpItemsFromInput(kvpInputFromInstance(instance), options);
  } catch (e) {
    const path = e instanceof KvpError ? instancePathOf(e, instance, options) : undefined;
    if (path === undefined) throw e;
    const err = e as KvpError;
    throw new KvpError(err.shortMessage, { ...placeOf(source, path), cause: err, details: err.details });
  }
}

/**
 * The instance field a refusal of kvpItemsFromInput is about: by the input path it names, or
 * for a payload's value by its key. (`/publicKeys/N` cannot come from an instance: its
 * sshKey is split into one key a line.)
 */
function instancePathOf(e: KvpError, instance: Instance, options: KvpItemsOptions): string | undefined {
  const path = e.path ?? '';
  if (path.startsWith('/instance/')) return path;
  if (path.startsWith('/metadata/')) {
    const k = instance.metadata.findIndex(([name]) => name === path.slice('/metadata/'.length));
    return k < 0 ? '/instance/metadata' : `/instance/metadata/item[${k + 1}]/@key`;
  }
  if (path === '/userData') return '/instance/userData';
  if (path !== '') return undefined;
  // A value KVP cannot carry (too long, a NUL): the field the payload was made from.
  const ofValue = (e instanceof KvpLimitError && e.limit.startsWith('value')) || (e instanceof KvpCharacterError && e.field === 'value');
  if (!ofValue) return undefined;
  const p = options.prefix ?? 'euca';
  const base = (e as KvpLimitError | KvpCharacterError).key.replace(/\.(\d+|encoding)$/, '');
  if (base === `${p}.user-data` || base === IGNITION_BASE || (base === CLOUDSTACK_KEY && typeof options.cloudstack !== 'string')) return '/instance/userData';
  if (base === `${p}.public-keys`) return '/instance/key/@sshKey';
  if (base === `${p}.password`) return '/instance/password';
  return undefined;
}

/**
 * The KVP input of a parsed instance.xml (user data, SSH key, password, metadata, ids). A
 * metadata key given twice is refused (the parsers refuse it; an Instance built in code may
 * have it): euca.meta-data holds one value a key, and the other would be lost.
 */
export function kvpInputFromInstance(instance: Instance): KvpInput {
  const dup = duplicateMetadataKey(instance.metadata ?? []);
  if (dup) throw new KvpError(duplicateMetadataMessage(dup), { path: metadataKeyPath(dup.second) });
  const input: KvpInput = { instanceId: instance.name, uuid: instance.uuid };
  const hostname = instance.privateDnsName || instance.dnsName;
  if (hostname) input.hostname = hostname;
  if (instance.userData) input.userData = decodeUserData(instance.userData);
  // The attribute may hold several keys, one a line (authorized_keys form), as the config drive passes them on.
  if (instance.key?.sshKey) input.publicKeys = instance.key.sshKey.split(/\r\n|\r|\n/).map((k) => k.trim()).filter((k) => k !== '');
  if (instance.password) input.password = instance.password;
  if (instance.metadata?.length) input.metadata = Object.fromEntries(instance.metadata);
  return input;
}
