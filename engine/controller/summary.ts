import type { DomainRef, DomainSummary, LibvirtConnection } from '../libvirt/connection.js';

/**
 * One domain's summary (state, active, persistent), as `list()` reports it. Given a ref,
 * it must be fresh (from a lookup after the last change of state): its `id` is used as is.
 */
export async function domainSummary(conn: LibvirtConnection, domain: string | DomainRef, knownPersistent?: boolean): Promise<DomainSummary> {
  const ref = typeof domain === 'string' ? await conn.lookup(domain) : domain;
  const [state, persistent] = await Promise.all([conn.getState(ref), knownPersistent ?? conn.isPersistent(ref)]);
  return { name: ref.name, uuid: ref.uuid, id: ref.id, state, active: ref.id !== null, persistent };
}

/** Like domainSummary, or undefined when libvirt has no such domain. */
export async function findDomain(conn: LibvirtConnection, domain: string): Promise<DomainSummary | undefined> {
  const ref = await conn.find(domain);
  if (!ref) return undefined;
  return domainSummary(conn, ref);
}
