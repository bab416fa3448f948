import type { DomainSummary, LibvirtConnection } from '../libvirt/connection.js';

/** One domain's summary (state, active, persistent), as `list()` reports it. */
export async function domainSummary(conn: LibvirtConnection, domain: string, knownPersistent?: boolean): Promise<DomainSummary> {
  const [ref, state, persistent] = await Promise.all([
    conn.lookup(domain),
    conn.getState(domain),
    knownPersistent ?? conn.isPersistent(domain),
  ]);
  return { ...ref, state, active: ref.id !== null, persistent };
}

/** Like domainSummary, or undefined when libvirt has no such domain. */
export async function findDomain(conn: LibvirtConnection, domain: string): Promise<DomainSummary | undefined> {
  const ref = await conn.find(domain);
  if (!ref) return undefined;
  return domainSummary(conn, ref.uuid);
}
