import { VIR_ERR_NO_DOMAIN } from '../libvirt/error-codes.js';
import { LibvirtError } from '../libvirt/errors.js';
import { checkGrace } from '../libvirt/connection.js';
import type { HookFailedError, HookTimeoutError } from '../hooks/errors.js';
import type { Instance } from '../instance/model.js';
import { RecordMissingError, StateConflictError } from './errors.js';
import { keepFolder, removeFolder } from './folders.js';
import { InstanceLog } from './instance-log.js';
import { checkInstanceId } from './layout.js';
import type { ControllerContext } from './options.js';
import { readRecord, withState, withTimestamp, writeRecord } from './record.js';
import { Steps, type StepTiming } from './steps.js';
import { ownDomainIfAny } from './summary.js';

export interface TerminateOptions {
  /** Keep the instance's files: move its folder under the keep folder instead of removing it. Default false. */
  keep?: boolean;
  /** Ask the guest to shut down and wait this long (ms) before pulling the plug. Default 0: destroy at once. */
  graceMs?: number;
  /**
   * Stops the terminate: a running pre-clean hook's process group is killed, and no further
   * step runs. Nothing is undone (a terminate only goes forward): the OperationError
   * (code CANCELLED) says in `unfinished` what was done, and `terminate ID` again finishes it.
   */
  signal?: AbortSignal;
}

export interface TerminateResult {
  id: string;
  /** What happened to the domain: it was running and was destroyed then undefined; was stopped and undefined; or libvirt had none. */
  domain: 'destroyed' | 'undefined' | 'absent';
  /**
   * `removed`, or the folder the files were moved to (`--keep`, or a failed pre-clean hook),
   * or `gone` when there was no folder left to keep (a pre-clean hook removed it).
   */
  files: 'removed' | 'gone' | { kept: string };
  /**
   * `missing` when the folder held no instance.xml (a launch stopped before writing it, or
   * a removal stopped half-way): the folder was removed with no pre-clean hooks, libvirt
   * having no domain by its name.
   */
  record: 'found' | 'missing';
  /** The pre-clean hook failure that kept the files, when there was one. */
  preCleanFailure?: HookFailedError | HookTimeoutError;
  steps: StepTiming[];
}

/**
 * Terminates an instance: check → mark the record `Teardown` → `euca-nc-pre-clean` hooks → destroy →
 * undefine → remove the folder. As in Eucalyptus, a failing pre-clean hook does not stop
 * the termination: it keeps the instance's files (moved under the keep folder). A failure
 * at destroy or undefine leaves the record marked `Teardown` (terminate again to retry).
 * A domain whose uuid is not the record's is not this instance and is never touched: it is
 * refused at step `check`, before the record is marked or a hook runs.
 *
 * A folder with no instance.xml (a launch stopped before writing it, a removal stopped
 * half-way) is removed, or kept with `keep` or the controller's `keepFailed`, when libvirt
 * has no domain by its name (`record: 'missing'`); no hook runs, as there is no instance
 * to clean up. If libvirt has such a domain, nothing says it is this instance: refused.
 */
export async function terminate(ctx: ControllerContext, id: string, o: TerminateOptions = {}): Promise<TerminateResult> {
  checkInstanceId(id);
  const graceMs = checkGrace(o.graceMs);
  return ctx.locks.run(id, `terminate of ${id}`, async () => {
    const { layout, connection: conn } = ctx;
    const log = new InstanceLog(layout.log(id), id, 'terminate', ctx.log);
    const steps = new Steps('terminate', id, log, ctx.onStep, o.signal);

    const record = await steps.run('read-record', async (): Promise<Instance | undefined> => {
      try {
        return await readRecord(layout, id);
      } catch (e) {
        if (!(e instanceof RecordMissingError)) throw e;
        log.info(`${e.message}: no record, so no pre-clean hooks; the folder goes if libvirt has no domain ${id}`);
        return undefined;
      }
    });
    if (!record) return terminateWithoutRecord(ctx, id, steps, log, o.keep === true);
    // Another instance's domain by this name refuses the terminate before the record or a hook is touched.
    let found = await steps.run('check', () => ownDomainIfAny(ctx, id, record));
    await steps.run('mark-teardown', () => writeRecord(layout, withTimestamp(withState(record, 'Teardown'), 'terminationRequestedTime')));
    // From here a failure or a cancel leaves the instance part-way: say how far it got.
    const done = ['instance.xml is marked Teardown'];
    steps.forwardOnly(() => `${done.join(', ')}; \`terminate ${id}\` again finishes it`);

    let preCleanFailure: TerminateResult['preCleanFailure'];
    if (ctx.hooks) {
      const hooks = ctx.hooks;
      await steps.run('pre-clean', async () => {
        try {
          await hooks.run('euca-nc-pre-clean', { instanceId: id, instanceDir: layout.dir(id), libvirtXml: layout.libvirtXml(id), uri: ctx.uri, log: log.hookSink(), signal: o.signal });
        } catch (e) {
          // A hook killed by the cancel is no pre-clean failure: the terminate stops there.
          if (o.signal?.aborted) throw e;
          if ((e as { code?: string }).code !== 'HOOK_FAILED' && (e as { code?: string }).code !== 'HOOK_TIMEOUT') throw e;
          preCleanFailure = e as HookFailedError;
          log.error(preCleanFailure.shortMessage);
        }
      });
      done.push(preCleanFailure ? 'the pre-clean hooks ran (one failed: the files will be kept)' : 'the pre-clean hooks ran');
    }

    const domain = await steps.run('destroy', async () => {
      // Looked up again after pre-clean hooks, which may have changed libvirt's domains; else the check's ref is fresh.
      if (ctx.hooks) found = await ownDomainIfAny(ctx, id, record);
      const ref = found;
      if (!ref) return 'absent' as const;
      if (ref.id === null) return 'undefined' as const;
      await conn.powerOff(ref, { graceMs });
      return 'destroyed' as const;
    });
    done.push(domain === 'absent' ? 'libvirt has no domain' : domain === 'destroyed' ? 'the domain is destroyed' : 'the domain was not running');

    if (domain !== 'absent') {
      await steps.run('undefine', async () => {
        // No persistence check first (it lists every domain of the host): a transient
        // domain is gone once destroyed, which undefine reports as no such domain.
        try {
          // A terminate leaves nothing of the domain: a managed save image (libvirt-guests) or NVRAM goes with it.
          await conn.undefine(found ?? record.uuid, { everything: true });
        } catch (e) {
          if (!(e instanceof LibvirtError && e.libvirtCode === VIR_ERR_NO_DOMAIN)) throw e;
        }
      });
      done.push('the domain is undefined');
    }

    const keep = o.keep || preCleanFailure !== undefined;
    const files = await steps.run('remove-files', async () => {
      log.info(keep ? 'keeping the instance files' : 'removing the instance files');
      await log.close();
      if (keep) return keptOrGone(await keepFolder(layout, id, preCleanFailure ? 'pre-clean-failed' : 'terminated'), log);
      await removeFolder(layout, id);
      return 'removed' as const;
    });
    steps.commit();
    ctx.tracked.delete(id);
    return { id, domain, files, record: 'found', preCleanFailure, steps: steps.timings };
  });
}

/** What became of a folder to keep: where it went, or `gone` (logged) when nothing was left to keep. */
function keptOrGone(kept: string | undefined, log: InstanceLog): TerminateResult['files'] {
  if (kept) return { kept };
  log.info('the instance folder was already gone (removed by a hook): nothing to keep');
  return 'gone';
}

/** The folder of `id` has no instance.xml: remove (or keep) it, unless libvirt has a domain by that name. */
async function terminateWithoutRecord(ctx: ControllerContext, id: string, steps: Steps, log: InstanceLog, keepAsked: boolean): Promise<TerminateResult> {
  const { layout, connection: conn } = ctx;
  await steps.run('destroy', async () => {
    const ref = await conn.find(id);
    if (ref) {
      throw new StateConflictError(
        `the folder of ${id} has no instance.xml but libvirt has a domain ${id} (uuid ${ref.uuid}): without a record nothing says it is this instance; not touching it (restore instance.xml, or remove the domain with virsh, then terminate ${id} again)`,
        { instanceId: id, file: layout.instanceXml(id) },
      );
    }
  });
  const keep = keepAsked || ctx.keepFailed;
  const files = await steps.run('remove-files', async () => {
    log.info(keep ? 'keeping the instance files (no record)' : 'removing the instance files (no record)');
    await log.close();
    if (keep) return keptOrGone(await keepFolder(layout, id, 'no-record'), log);
    await removeFolder(layout, id);
    return 'removed' as const;
  });
  steps.commit();
  ctx.tracked.delete(id);
  return { id, domain: 'absent', files, record: 'missing', steps: steps.timings };
}
