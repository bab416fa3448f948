import type { DomforgeError } from '../errors.js';
import type { HookFailedError, HookTimeoutError } from '../hooks/errors.js';
import type { DomainSummary } from '../libvirt/connection.js';
import { InstanceLog } from './instance-log.js';
import type { ControllerContext } from './options.js';
import { readRecord, stateOf } from './record.js';
import { asDomforgeError } from './steps.js';
import { RecordMissingError } from './errors.js';

export interface AdoptedInstance {
  id: string;
  dir: string;
  domain: DomainSummary;
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
 * lands in exactly one list of the report. Nothing is started, stopped or removed.
 */
export async function adopt(ctx: ControllerContext): Promise<AdoptReport> {
  const { layout, connection: conn } = ctx;
  const [ids, domains] = await Promise.all([layout.ids(), conn.list()]);
  const byName = new Map(domains.map((d) => [d.name, d]));
  const report: AdoptReport = { adopted: [], refused: [], missingDomain: [], incomplete: [], mismatched: [], unreadable: [], untracked: [] };
  const folders = new Set(ids);
  for (const id of ids) {
    await ctx.locks.run(id, async () => {
      const dir = layout.dir(id);
      const domain = byName.get(id) ?? null;
      let state: string;
      let uuid: string;
      try {
        const record = await readRecord(layout, id);
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
      if (domain.uuid.toLowerCase() !== uuid.toLowerCase()) return void report.mismatched.push({ id, dir, recordUuid: uuid, domain });
      if (ctx.hooks) {
        const log = new InstanceLog(layout.log(id), id, 'adopt', ctx.log);
        try {
          await ctx.hooks.run('euca-nc-pre-adopt', { instanceId: id, instanceDir: dir, libvirtXml: layout.libvirtXml(id), uri: ctx.uri, log: log.hookSink() });
        } catch (e) {
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
      report.adopted.push({ id, dir, domain });
    });
  }
  report.untracked = domains.filter((d) => !folders.has(d.name));
  return report;
}
