import type { DomainRef, DomainSummary, LibvirtConnection } from '../libvirt/connection.js';
import type { Instance } from '../instance/model.js';
import type { ControllerContext } from './options.js';
import { StateConflictError } from './errors.js';

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

/** A domain by the instance's name is another instance's when its uuid is not the record's (adopt's, list's `mismatched`). */
export const isOtherInstance = (domain: { uuid: string }, record: { uuid: string }): boolean => domain.uuid.toLowerCase() !== record.uuid.toLowerCase();

/**
 * Refuses `ref`, libvirt's domain by the instance's name, when its uuid is not the record's:
 * it is another instance's, never touched (STATE_CONFLICT at `/instance/uuid`).
 */
function checkSameInstance(ctx: ControllerContext, id: string, record: Instance, ref: DomainRef): void {
  if (!isOtherInstance(ref, record)) return;
  throw new StateConflictError(`libvirt's domain ${id} is not this instance (uuid ${ref.uuid}, record ${record.uuid}); not touching it`, {
    instanceId: id,
    file: ctx.layout.instanceXml(id),
    path: '/instance/uuid',
  });
}

/** libvirt's domain by the instance's name, or undefined when it has none; another instance's is refused (see checkSameInstance). */
export async function ownDomainIfAny(ctx: ControllerContext, id: string, record: Instance): Promise<DomainRef | undefined> {
  const ref = await ctx.connection.find(id);
  if (ref) checkSameInstance(ctx, id, record, ref);
  return ref;
}

/**
 * The instance's domain: libvirt's domain by the instance's name, which must have the record's
 * uuid. None, or another uuid (not this instance: never touched), is a STATE_CONFLICT saying
 * what could not be done (`doing`: "reboot", "stop", "read the counters of").
 */
export async function instanceDomain(ctx: ControllerContext, id: string, record: Instance, doing: string): Promise<DomainRef> {
  const ref = await ownDomainIfAny(ctx, id, record);
  if (!ref) throw new StateConflictError(`libvirt has no domain ${id} to ${doing} (terminate ${id} removes its folder)`, { instanceId: id, file: ctx.layout.instanceXml(id) });
  return ref;
}
