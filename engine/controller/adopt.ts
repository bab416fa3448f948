import { abortReason, CancelledError, type DomforgeError } from '../errors.js';
import type { HookFailedError, HookTimeoutError } from '../hooks/errors.js';
import type { DomainSummary } from '../libvirt/connection.js';
import { InstanceLog } from './instance-log.js';
import type { ControllerContext } from './options.js';
import { isStopRequested, readRecord, stateOf, withTimestamp, writeRecord } from './record.js';
import { readStateReasons } from '../libvirt/state-reasons.js';
import { readNodeState } from './node-state.js';
import type { Instance } from '../instance/model.js';
import { asDomforgeError } from './steps.js';
import { RecordMissingError } from './errors.js';
import { unfinishedChanges } from './unfinished.js';
import { isOtherInstance } from './summary.js';

export interface AdoptedInstance {
  id: string;
  dir: string;
  /** The domain as found (before a resume). */
  domain: DomainSummary;
  /** With `resume`: the shut-off domain of an instance that was not stopped was started again (bootTime recorded). */
  resumed?: boolean;
  /** With `resume`: why a shut-off domain was left off — stopped by `stop`, the node is disabled — or why starting it failed. */
  notResumed?: string;
  /** With `resume`: the error of a start that failed (the instance stays adopted, its domain off). */
  resumeError?: DomforgeError;
  /** The volumes and interfaces whose attach or detach did not finish (`attaching`, `detaching`), each with the commands that finish it; left out when none. */
  unfinished?: string[];
}

export interface AdoptOptions {
  /**
   * Start again the shut-off domain of every adopted instance that was running before — its
   * record `Extant` and not stopped — as after a host reboot, where every guest went down with
   * the host (Nova's `resume_guests_state_on_host_boot`). A stopped instance stays off; a
   * disabled node starts nothing. Default false: adopt starts, stops and removes nothing.
   */
  resume?: boolean;
  /**
   * Stops the adopt: a running pre-adopt hook's process group is killed, and no further
   * instance is looked at. A CancelledError says which instance it stopped at and which
   * were adopted (and resumed) before; adopt again does the rest.
   */
  signal?: AbortSignal;
}

export interface AdoptReport {
  /** Record and domain match and the pre-adopt hooks agreed: tracked again. */
  adopted: AdoptedInstance[];
  /** A pre-adopt hook refused: the domain keeps running, untracked. */
  refused: { id: string; dir: string; domain: DomainSummary; error: HookFailedError | HookTimeoutError }[];
  /** A complete record (`Extant`) whose domain libvirt does not have. */
  missingDomain: { id: string; dir: string; state: string }[];
  /**
   * A launch or terminate that never finished (record `Staging` or `Teardown`, or a folder
   * with no instance.xml, state ''), with its domain if libvirt has one, and why in words.
   */
  incomplete: { id: string; dir: string; state: string; domain: DomainSummary | null; reason: string }[];
  /** A domain by the instance's name whose uuid is not the record's: not this instance. */
  mismatched: { id: string; dir: string; recordUuid: string; domain: DomainSummary }[];
  /** A folder whose instance.xml cannot be read or parsed (the error names the file and line). */
  unreadable: { id: string; dir: string; error: DomforgeError }[];
  /** Domains libvirt has that no instance folder records. */
  untracked: DomainSummary[];
}

/**
 * After a controller restart: reads every instance folder's instance.xml, matches it with
 * the domains libvirt reports, runs `euca-nc-pre-adopt` for each match, and tracks the
 * instances the hooks accept. Nothing is dropped silently: every folder and every domain
 * lands in exactly one list of the report. Nothing is stopped or removed, and nothing is
 * started unless `resume` asks for it (see AdoptOptions).
 */
export async function adopt(ctx: ControllerContext, o: AdoptOptions = {}): Promise<AdoptReport> {
  const { layout, connection: conn } = ctx;
  const [ids, domains] = await Promise.all([layout.ids(), conn.list()]);
  // Read once: a disabled node resumes nothing (its state file is read as a launch reads it).
  const nodeEnabled = o.resume ? (await readNodeState(layout)).enabled : false;
  const folders = new Set(ids);
  // Why each instance's domain is in its state (shut off after a host reboot, a crash…), where libvirt says.
  const reasons = await readStateReasons({ uri: ctx.uri, domains: [...new Set(domains.map((d) => d.name).filter((name) => folders.has(name)))] });
  const byName = new Map(domains.map((d) => [d.name, reasons?.has(d.name) ? { ...d, reason: reasons.get(d.name) } : d]));
  const report: AdoptReport = { adopted: [], refused: [], missingDomain: [], incomplete: [], mismatched: [], unreadable: [], untracked: [] };
  const cancelled = (at: string, cause?: unknown) => {
    const before = report.adopted.map((a) => a.id + (a.resumed ? ' (started again)' : ''));
    return new CancelledError(
      `adopt cancelled (${abortReason(o.signal!)}) ${at}; ${before.length ? `adopted before it: ${before.join(', ')}` : 'none adopted before it'}; run adopt again for the rest`,
      { cause, reason: abortReason(o.signal!) },
    );
  };
  for (const id of ids) {
    if (o.signal?.aborted) throw cancelled(`before ${id}`);
    await ctx.locks.run(id, `adopt of ${id}`, async () => {
      const dir = layout.dir(id);
      const domain = byName.get(id) ?? null;
      let state: string;
      let uuid: string;
      let record: Instance;
      try {
        record = await readRecord(layout, id);
        state = stateOf(record);
        uuid = record.uuid;
      } catch (e) {
        if (e instanceof RecordMissingError) {
          return void report.incomplete.push({ id, dir, state: '', domain, reason: 'no instance.xml: a launch stopped before writing it, or a removal stopped half-way' });
        }
        const error = asDomforgeError(e);
        if (!error) throw e;
        report.unreadable.push({ id, dir, error });
        return;
      }
      if (state === 'Staging') return void report.incomplete.push({ id, dir, state, domain, reason: 'a launch that never finished' });
      if (state === 'Teardown') return void report.incomplete.push({ id, dir, state, domain, reason: 'a terminate that never finished, or a launch whose rollback could not' });
      if (!domain) return void report.missingDomain.push({ id, dir, state });
      if (isOtherInstance(domain, { uuid })) return void report.mismatched.push({ id, dir, recordUuid: uuid, domain });
      if (ctx.hooks) {
        const log = new InstanceLog(layout.log(id), id, 'adopt', ctx.log);
        try {
          await ctx.hooks.run('euca-nc-pre-adopt', { instanceId: id, instanceDir: dir, libvirtXml: layout.libvirtXml(id), uri: ctx.uri, log: log.hookSink(), signal: o.signal });
        } catch (e) {
          if (o.signal?.aborted) {
            log.error(`pre-adopt hooks stopped: adopt cancelled (${abortReason(o.signal)})`);
            await log.flush();
            throw cancelled(`at the pre-adopt hooks of ${id} (stopped; ${id} not adopted)`, e);
          }
          const code = (e as { code?: string }).code;
          if (code !== 'HOOK_FAILED' && code !== 'HOOK_TIMEOUT') throw e;
          log.error((e as HookFailedError).shortMessage);
          await log.flush();
          ctx.tracked.delete(id);
          return void report.refused.push({ id, dir, domain, error: e as HookFailedError });
        }
        log.info(`adopted domain ${domain.name} (${domain.state})`);
        await log.flush();
      }
      ctx.tracked.add(id);
      const unfinished = unfinishedChanges(record);
      const adopted: AdoptedInstance = { id, dir, domain, ...(unfinished.length ? { unfinished } : {}) };
      if (o.resume && !domain.active) await resume(ctx, adopted, record, nodeEnabled);
      report.adopted.push(adopted);
    });
  }
  report.untracked = domains.filter((d) => !folders.has(d.name));
  return report;
}

/** Starts an adopted instance's shut-off domain again, unless it was stopped or the node is disabled; says what it did on `a`. */
async function resume(ctx: ControllerContext, a: AdoptedInstance, record: Instance, nodeEnabled: boolean): Promise<void> {
  if (isStopRequested(record)) return void (a.notResumed = 'stopped (start runs it)');
  if (!nodeEnabled) return void (a.notResumed = 'the node is disabled');
  const log = new InstanceLog(ctx.layout.log(a.id), a.id, 'adopt', ctx.log);
  try {
    await ctx.connection.start(a.domain);
    await writeRecord(ctx.layout, withTimestamp(record, 'bootTime'));
    a.resumed = true;
    log.info(`resumed: the domain was ${a.domain.state} and the instance not stopped; started again`);
  } catch (e) {
    const error = asDomforgeError(e);
    if (!error) throw e;
    a.resumeError = error;
    a.notResumed = `the start failed: ${error.shortMessage}`;
    log.error(`could not resume: ${error.message}`);
  }
  await log.flush();
}
