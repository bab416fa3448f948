import { DomforgeError } from '../errors.js';
import type { Instance } from '../instance/model.js';
import { checkGrace, type DomainRef, type DomainSummary } from '../libvirt/connection.js';
import type { DomainStats } from '../libvirt/domstats.js';
import { readStateReasons } from '../libvirt/state-reasons.js';
import { LibvirtError } from '../libvirt/errors.js';
import { InstanceLog } from './instance-log.js';
import { checkInstanceId } from './layout.js';
import type { ControllerContext } from './options.js';
import { isStopRequested, readRecord, stateOf, withTimestamp, writeRecord } from './record.js';
import { Steps, asDomforgeError } from './steps.js';
import { findDomain, instanceDomain, isOtherInstance } from './summary.js';
import { StateConflictError } from './errors.js';
import { unfinishedChanges } from './unfinished.js';
import { checkExtant } from './power.js';

export interface InstanceSummary {
  id: string;
  dir: string;
  /** The record's `states/stateName`: `Extant`, `Staging` (launch under way or interrupted), `Teardown`... ('' when unreadable). */
  state: string;
  /** The record's `states/isStopRequested`: stopped by `stop` (its domain kept, shut off) until `start`. */
  stopped: boolean;
  /** libvirt's domain by that name, or null when it has none. */
  domain: DomainSummary | null;
  /**
   * That domain's uuid is not the record's: it is another instance's, not this one's (adopt
   * reports it as mismatched; stop, stats, terminate... refuse it). False with no domain or
   * no readable record.
   */
  mismatched: boolean;
  /** Launched or adopted by this controller. */
  tracked: boolean;
  /**
   * The volumes and interfaces whose attach or detach did not finish (`attaching`,
   * `detaching`), each with the commands that finish it (empty when the record is unreadable).
   */
  unfinished: string[];
  /** Why the record could not be read (the folder is then listed, never dropped). */
  error?: DomforgeError;
}

export interface InstanceDetails extends InstanceSummary {
  instance: Instance;
  /** The attached volumes, as recorded. */
  volumes: Instance['volumes'];
  /** The network interfaces (primary and attached ENIs), as recorded. */
  interfaces: Instance['nics'];
  /** The live domain XML, when asked for and the domain exists. */
  domainXml?: string;
}

export interface DescribeOptions {
  /** Include the live domain XML (default false). */
  xml?: boolean;
}

/** One instance: its record, its domain as libvirt reports it, and optionally the domain's XML. */
export async function describe(ctx: ControllerContext, id: string, o: DescribeOptions = {}): Promise<InstanceDetails> {
  checkInstanceId(id);
  const instance = await readRecord(ctx.layout, id);
  const found = (await findDomain(ctx.connection, id)) ?? null;
  const reason = found ? (await readStateReasons({ uri: ctx.uri, domains: [found.name] }))?.get(found.name) : undefined;
  const domain = found && reason !== undefined ? { ...found, reason } : found;
  const domainXml = o.xml && domain ? await ctx.connection.getXML(domain.uuid) : undefined;
  return {
    id,
    dir: ctx.layout.dir(id),
    state: stateOf(instance),
    stopped: isStopRequested(instance),
    domain,
    mismatched: domain !== null && isOtherInstance(domain, instance),
    tracked: ctx.tracked.has(id),
    instance,
    volumes: instance.volumes,
    interfaces: instance.nics,
    unfinished: unfinishedChanges(instance),
    domainXml,
  };
}

/** Every instance folder, sorted by id, with its domain. A folder whose record cannot be read is listed with `error`. */
export async function list(ctx: ControllerContext): Promise<InstanceSummary[]> {
  const [ids, domains] = await Promise.all([ctx.layout.ids(), ctx.connection.list()]);
  const byName = new Map(domains.map((d) => [d.name, d]));
  // Why each instance's domain is in its state (one virsh for all of them, where there is one).
  const reasons = await readStateReasons({ uri: ctx.uri, domains: ids.filter((id) => byName.has(id)) });
  return Promise.all(
    ids.map(async (id): Promise<InstanceSummary> => {
      const d = byName.get(id);
      const reason = reasons?.get(id);
      const base = { id, dir: ctx.layout.dir(id), domain: d ? (reason === undefined ? d : { ...d, reason }) : null, tracked: ctx.tracked.has(id) };
      try {
        const record = await readRecord(ctx.layout, id);
        return { ...base, state: stateOf(record), stopped: isStopRequested(record), mismatched: d !== undefined && isOtherInstance(d, record), unfinished: unfinishedChanges(record) };
      } catch (e) {
        const error = asDomforgeError(e);
        if (!error) throw e;
        return { ...base, state: '', stopped: false, mismatched: false, unfinished: [], error };
      }
    }),
  );
}

export interface RebootOptions {
  /** Ask the guest to shut down and wait this long (ms) before pulling the plug. Default 0. */
  graceMs?: number;
}

/**
 * Reboots an instance's domain as a Eucalyptus NC does: (graceful shutdown,) destroy,
 * then start from the persistent configuration, which holds the volumes attached since.
 * Records `bootTime`. Only an `Extant` instance that is not stopped (see power.ts).
 */
export async function reboot(ctx: ControllerContext, id: string, o: RebootOptions = {}): Promise<DomainSummary> {
  checkInstanceId(id);
  // Up front, as stop and terminate check theirs: a bad grace waits for no lock and logs no failed step.
  const graceMs = checkGrace(o.graceMs);
  return ctx.locks.run(id, `reboot of ${id}`, async () => {
    const log = new InstanceLog(ctx.layout.log(id), id, 'reboot', ctx.log);
    const steps = new Steps('reboot', id, log, ctx.onStep);
    const record = await steps.run('read-record', () => readRecord(ctx.layout, id));
    const domain = await steps.run('reboot', async () => {
      // A launch or terminate under way or interrupted: its domain is not a live instance's to boot again.
      checkExtant(ctx, id, record, 'reboot');
      if (isStopRequested(record)) {
        throw new StateConflictError(`${id} is stopped: start ${id} runs it again`, { instanceId: id, file: ctx.layout.instanceXml(id), path: '/instance/states/isStopRequested' });
      }
      const ref = await instanceDomain(ctx, id, record, 'reboot');
      await ctx.connection.reboot(ref.uuid, { graceMs });
      return (await findDomain(ctx.connection, ref.uuid))!;
    });
    await steps.run('record', () => writeRecord(ctx.layout, withTimestamp(record, 'bootTime')));
    await log.flush();
    return domain;
  });
}

/** An instance's counters: its id and uuid, and its domain's stats (see LibvirtConnection.stats). */
export interface InstanceStats extends DomainStats {
  id: string;
  uuid: string;
}

/**
 * The counters of an instance's domain now (Eucalyptus's sensors sample these; two samples
 * give the sensor values, see sensorValues). Takes no lock: it changes nothing. The domain
 * must be libvirt's by the instance's name and with the record's uuid.
 */
export async function stats(ctx: ControllerContext, id: string): Promise<InstanceStats> {
  checkInstanceId(id);
  const record = await readRecord(ctx.layout, id);
  const ref = await instanceDomain(ctx, id, record, 'read the counters of');
  return { id, uuid: ref.uuid, ...(await ctx.connection.stats(ref)) };
}

/** `statsAll`: the instances whose counters were read, in id order, and those that could not be, with why. */
export interface StatsReport {
  stats: InstanceStats[];
  /**
   * `reason` is the error's message with its place (`…/instance.xml:1:20: the document ends
   * inside <name> …`), as list and describe-resource give an unreadable record's; `error` is
   * the error itself (in JSON its code, message, file, line, column and path).
   */
  skipped: { id: string; reason: string; error: DomforgeError }[];
}

/**
 * Eucalyptus's DescribeSensors shape: the counters of several instances at once — the given
 * ids, or every instance folder — with one `virsh domstats` for all their devices on a daemon
 * URI. An instance whose record cannot be read, that libvirt has no domain for, or whose
 * domain has another uuid (or goes away while the counters are read) is in `skipped` with the
 * reason, not an error: a monitoring sweep goes on. Takes no lock; changes nothing.
 */
export async function statsAll(ctx: ControllerContext, ids?: readonly string[]): Promise<StatsReport> {
  for (const id of ids ?? []) checkInstanceId(id);
  const wanted = ids ? [...new Set(ids)].sort() : await ctx.layout.ids();
  const skipped: StatsReport['skipped'] = [];
  const found: { id: string; ref: DomainRef }[] = [];
  for (const id of wanted) {
    try {
      found.push({ id, ref: await instanceDomain(ctx, id, await readRecord(ctx.layout, id), 'read the counters of') });
    } catch (e) {
      const error = asDomforgeError(e);
      if (!error) throw e;
      skipped.push({ id, reason: error.message, error });
    }
  }
  const stats = await countersOf(ctx, found, skipped);
  return { stats, skipped: skipped.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) };
}

/**
 * The counters of the domains statsAll found, in their order. One of them going away after
 * it was looked up (a terminate running meanwhile) fails libvirt's read of them all
 * (virDomainGetInfo's VIR_ERR_NO_DOMAIN, or the one `virsh domstats` of them all, whose
 * `failed to get domain 'ID'` carries no code): on a LibvirtError each domain is looked up
 * again by its uuid, those gone are put in `skipped`, as one found missing is, and the others
 * are read again. With none gone, the error was another: it is the sweep's.
 */
async function countersOf(ctx: ControllerContext, found: { id: string; ref: DomainRef }[], skipped: StatsReport['skipped']): Promise<InstanceStats[]> {
  for (;;) {
    try {
      const stats = await ctx.connection.statsOf(found.map((f) => f.ref));
      return stats.map((s, i) => ({ id: found[i]!.id, uuid: found[i]!.ref.uuid, ...s }));
    } catch (e) {
      if (!(e instanceof LibvirtError)) throw e;
      const present = await Promise.all(found.map(async (f) => (await ctx.connection.find(f.ref.uuid)) !== undefined));
      if (present.every(Boolean)) throw e;
      for (const [i, f] of found.entries()) {
        if (present[i]) continue;
        const error = new StateConflictError(`libvirt's domain ${f.id} went away while the counters were read (terminated or undefined meanwhile)`, {
          instanceId: f.id,
          file: ctx.layout.instanceXml(f.id),
          cause: e,
        });
        skipped.push({ id: f.id, reason: error.message, error });
      }
      found = found.filter((_, i) => present[i]);
    }
  }
}
