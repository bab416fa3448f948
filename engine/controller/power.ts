/**
 * Stop and start, as a Eucalyptus NC's ncStopInstance / ncStartInstance (EC2's StopInstances
 * and StartInstances of an EBS-backed instance): the guest is shut down and kept — its
 * folder, its record and its libvirt definition, with the volumes and interfaces attached
 * since launch — until it is started again or terminated.
 *
 * Eucalyptus records the request in the instance's `states/isStopRequested` before it shuts
 * the domain down, and only starts an instance whose flag is set; domforge does the same. Its
 * domains are persistent, so what is started again is libvirt's persistent configuration
 * (Eucalyptus's are transient, so it saves the live XML to libvirt.xml first and creates the
 * domain from it). No hooks run, as in Eucalyptus: a stop is not a terminate (no pre-clean)
 * and a start is not a launch (no pre-boot, no re-render).
 *
 * A disabled node (see node-state.ts) refuses `start`, as it refuses `launch`; `stop` is allowed.
 *
 * Crash safety: the flag is written (and fsynced) before the guest is asked to stop, so a
 * controller that dies in between leaves a stop-requested record over a running domain,
 * which `stop` finishes when asked again. `start` clears the flag only once the domain runs,
 * so a failed or interrupted start can be run again.
 */
import { checkGrace, type DomainSummary, type PowerOffOutcome } from '../libvirt/connection.js';
import type { Instance } from '../instance/model.js';
import { InstanceLog } from './instance-log.js';
import { checkInstanceId } from './layout.js';
import type { ControllerContext } from './options.js';
import { isStopRequested, readRecord, stateOf, withStopRequested, withTimestamp, writeRecord } from './record.js';
import { Steps, type StepTiming } from './steps.js';
import { domainSummary, instanceDomain } from './summary.js';
import { readStateReasons } from '../libvirt/state-reasons.js';
import { checkNodeEnabled } from './node-state.js';
import { StateConflictError } from './errors.js';

/** A guest's default time to shut down before `stop` pulls the plug: Nova's `shutdown_timeout` default. */
export const DEFAULT_STOP_GRACE_MS = 60_000;

export interface StopOptions {
  /**
   * Ask the guest to shut down (ACPI) and wait up to this many ms before destroying it.
   * Default 60,000; 0 destroys at once (a forced stop).
   */
  graceMs?: number;
}

export interface StopResult {
  id: string;
  /** The domain, shut off. */
  domain: DomainSummary;
  /**
   * How the domain stopped: `shut-down` (the guest within the grace), `destroyed` (the plug
   * pulled), `was-off` (it was not running: the guest had powered off, or the instance was
   * already stopped — see `alreadyStopped`).
   */
  outcome: PowerOffOutcome;
  /** The record said stopped and the domain was off: nothing was done. */
  alreadyStopped: boolean;
  steps: StepTiming[];
}

export interface StartResult {
  id: string;
  /** The domain, running. */
  domain: DomainSummary;
  /** The domain was running already (a start interrupted after libvirt started it): only the record was updated. */
  wasRunning: boolean;
  steps: StepTiming[];
}

/**
 * Only a launched instance (record `Extant`) stops, starts and reboots; a launch or terminate
 * under way or interrupted does not (its folder is never taken for a live instance).
 */
export function checkExtant(ctx: ControllerContext, id: string, record: Instance, doing: string): void {
  const state = stateOf(record);
  if (state === 'Extant') return;
  throw new StateConflictError(
    `cannot ${doing} ${id}: its record says ${state ? `'${state}'` : 'no state'}, not 'Extant' (a launch or terminate under way or interrupted: see adopt)`,
    { instanceId: id, file: ctx.layout.instanceXml(id), path: '/instance/states/stateName' },
  );
}

export async function stop(ctx: ControllerContext, id: string, o: StopOptions = {}): Promise<StopResult> {
  checkInstanceId(id);
  const graceMs = checkGrace(o.graceMs, DEFAULT_STOP_GRACE_MS);
  return ctx.locks.run(id, `stop of ${id}`, async () => {
    const conn = ctx.connection;
    const log = new InstanceLog(ctx.layout.log(id), id, 'stop', ctx.log);
    const steps = new Steps('stop', id, log, ctx.onStep);
    const record = await steps.run('read-record', () => readRecord(ctx.layout, id));
    const ref = await steps.run('check', async () => {
      checkExtant(ctx, id, record, 'stop');
      const ref = await instanceDomain(ctx, id, record, 'stop');
      // A transient domain would be gone once stopped: nothing would be left to start.
      if (ref.id !== null && !(await conn.isPersistent(ref))) {
        throw new StateConflictError(`libvirt's domain ${id} is transient: stopping it would remove it, so it could not be started again (terminate ${id} instead)`, {
          instanceId: id,
        });
      }
      return ref;
    });
    const already = isStopRequested(record);
    if (already && ref.id === null) {
      log.info('already stopped: nothing to do');
      await log.flush();
      return { id, domain: await domainSummary(conn, ref, true), outcome: 'was-off', alreadyStopped: true, steps: steps.timings };
    }
    if (!already) await steps.run('mark-stop', () => writeRecord(ctx.layout, withStopRequested(record, true)));
    const outcome = await steps.run('power-off', () => conn.powerOff(ref, { graceMs }));
    log.info(
      outcome === 'shut-down'
        ? 'the guest shut down'
        : outcome === 'destroyed'
          ? graceMs > 0
            ? `the guest did not shut down within ${graceMs} ms: destroyed`
            : 'destroyed (no grace asked for)'
          : 'the domain was not running',
    );
    const domain = await domainSummary(conn, await conn.lookup(ref.uuid), true);
    await log.flush();
    return { id, domain, outcome, alreadyStopped: false, steps: steps.timings };
  });
}

/** Why a domain not stopped by domforge is shut off, as libvirt tells it where it can (daemon URIs, with virsh). */
async function whyShutOff(ctx: ControllerContext, name: string): Promise<string> {
  const reason = (await readStateReasons({ uri: ctx.uri, domains: [name] }))?.get(name);
  switch (reason) {
    case 'crashed':
      return ' (crashed: its hypervisor process ended unexpectedly — killed, or out of memory; its log in /var/log/libvirt says more)';
    case 'shutdown':
      return ' (shutdown: the guest powered itself off)';
    case 'destroyed':
      return ' (destroyed: pulled off outside domforge, e.g. virsh destroy)';
    case undefined:
      return ' — the guest powered itself off, or its hypervisor process ended?';
    default:
      return ` (${reason})`;
  }
}

export async function start(ctx: ControllerContext, id: string): Promise<StartResult> {
  checkInstanceId(id);
  return ctx.locks.run(id, `start of ${id}`, async () => {
    const conn = ctx.connection;
    const log = new InstanceLog(ctx.layout.log(id), id, 'start', ctx.log);
    const steps = new Steps('start', id, log, ctx.onStep);
    const record = await steps.run('read-record', () => readRecord(ctx.layout, id));
    const ref = await steps.run('check', async () => {
      checkExtant(ctx, id, record, 'start');
      const ref = await instanceDomain(ctx, id, record, 'start');
      if (!isStopRequested(record)) {
        throw new StateConflictError(
          ref.id === null
            ? `${id} was not stopped by domforge (its record's isStopRequested is not true) but its domain is shut off${await whyShutOff(ctx, ref.name)}; reboot ${id} starts it again`
            : `${id} is running and was not stopped: nothing to start`,
          { instanceId: id, file: ctx.layout.instanceXml(id), path: '/instance/states/isStopRequested' },
        );
      }
      // A disabled node runs nothing new; a start that died after libvirt started the domain only has its record to finish.
      if (ref.id === null) await checkNodeEnabled(ctx.layout, 'start');
      return ref;
    });
    const wasRunning = ref.id !== null;
    if (!wasRunning) await steps.run('start', () => conn.start(ref));
    else log.info('the domain runs already (a start interrupted after libvirt started it): updating the record only');
    await steps.run('record', () => writeRecord(ctx.layout, withTimestamp(withStopRequested(record, false), 'bootTime')));
    const domain = await domainSummary(conn, await conn.lookup(ref.uuid), true);
    log.info(`started: domain ${domain.name} is ${domain.state}`);
    await log.flush();
    return { id, domain, wasRunning, steps: steps.timings };
  });
}
