import { writeFileAtomic } from '../fs/atomic-write.js';
import type { Instance } from '../instance/model.js';
import type { InstanceSource } from '../instance/source.js';
import { kvpItemsDocument } from '../kvp/cim-xml.js';
import { kvpItemsFromInstance } from '../kvp/from-instance.js';
import { encodePool } from '../kvp/pool-file.js';
import type { InstanceLayout } from './layout.js';

/**
 * What a Hyper-V instance gets instead of a config drive (the README's Hyper-V KVP section): the KVP items a
 * Hyper-V node pushes with AddKvpItems, written into the instance folder.
 */
export interface KvpArtefacts {
  /** `kvp-items.xml`: the `DataItems` parameter of AddKvpItems (one Msvm_KvpExchangeDataItem instance per `<VALUE>`). */
  items: string;
  /** `kvp_pool_0`: the pool-0 file the guest's hv_kvp_daemon writes once the items are delivered. */
  pool: string;
  /** The item keys, in the order they are pushed. */
  keys: string[];
  /** Size of the pool file (2560 bytes a record). */
  poolBytes: number;
}

/**
 * Builds the instance's items (user data, metadata, SSH key, password: kvpItemsFromInstance) and
 * writes `kvp-items.xml` and `kvp_pool_0` atomically, mode 0600 (they may hold a password).
 * Everything is built and validated before the first byte is written. A refusal names the
 * offending element's line in `source`, the file the instance was read from (by default the
 * instance's own source).
 */
export async function writeKvpArtefacts(layout: InstanceLayout, instance: Instance, source?: InstanceSource): Promise<KvpArtefacts> {
  const id = instance.name;
  const records = kvpItemsFromInstance(instance, {}, source);
  const document = kvpItemsDocument(id, records);
  const pool = encodePool(records, 'host');
  const artefacts = { items: layout.kvpItems(id), pool: layout.kvpPool(id), keys: records.map((r) => r.key), poolBytes: pool.length };
  await writeFileAtomic(artefacts.items, document, { mode: 0o600, existing: 'replace' });
  await writeFileAtomic(artefacts.pool, pool, { mode: 0o600, existing: 'replace' });
  return artefacts;
}
