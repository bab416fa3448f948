import { writeFileAtomic } from '../fs/atomic-write.js';
import type { Instance } from '../instance/model.js';
import { kvpItemsDocument } from '../kvp/cim-xml.js';
import { kvpInputFromInstance, kvpItemsFromInput } from '../kvp/from-instance.js';
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
 * Builds the instance's items (user data, metadata, SSH key, password: kvpItemsFromInput) and
 * writes `kvp-items.xml` and `kvp_pool_0` atomically, mode 0600 (they may hold a password).
 * Everything is built and validated before the first byte is written.
 */
export async function writeKvpArtefacts(layout: InstanceLayout, instance: Instance): Promise<KvpArtefacts> {
  const id = instance.name;
  const records = kvpItemsFromInput(kvpInputFromInstance(instance));
  const document = kvpItemsDocument(id, records);
  const pool = encodePool(records, 'host');
  const artefacts = { items: layout.kvpItems(id), pool: layout.kvpPool(id), keys: records.map((r) => r.key), poolBytes: pool.length };
  await writeFileAtomic(artefacts.items, document, { mode: 0o600 });
  await writeFileAtomic(artefacts.pool, pool, { mode: 0o600 });
  return artefacts;
}
