import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { IoError } from '../errors.js';
import { syncPaths, writeFileAtomic } from '../fs/atomic-write.js';
import { readRegularText } from '../fs/regular-file.js';
import type { HookFailedError, HookTimeoutError } from '../hooks/errors.js';
import { DETACHING, type Instance } from '../instance/model.js';
import { VIR_ERR_DEVICE_MISSING } from '../libvirt/error-codes.js';
import { LibvirtError } from '../libvirt/errors.js';
import { filesLeft, readBack } from './devices.js';
import { InstanceNotFoundError, type Operation } from './errors.js';
import { InstanceLog } from './instance-log.js';
import { checkInstanceId } from './layout.js';
import type { ControllerContext } from './options.js';
import { readRecord, writeRecord } from './record.js';
import { Steps, type StepTiming } from './steps.js';
import { ownDomainIfAny } from './summary.js';
import { finishingCommand, stillDetaching } from './unfinished.js';

/** A device the record lists (attached, or `detaching` when an earlier detach did not finish). */
export interface RecordedDevice {
  /** File base name of its stub files (`vol-XXX`, `eni-XXX`). */
  deviceId: string;
  /** Its libvirt XML as the record keeps it (the fallback when `<deviceId>-libvirt.xml` is gone). */
  xml?: string;
  /** Its `stateName` in the record. */
  stateName: string;
}

/** What differs between detaching a volume (volumes.ts) and a network interface (interfaces.ts). */
export interface DetachSpec {
  operation: Extract<Operation, 'detach-volume' | 'detach-interface'>;
  /** `volume vol-XXX`, for messages. */
  label: string;
  /** The device as recorded (found in the record, its files in the instance folder `dir`), or undefined when the record does not list it. */
  recorded(record: Instance, dir: string): RecordedDevice | undefined | Promise<RecordedDevice | undefined>;
  /** The record with the device's `stateName` set to `stateName`. */
  marked(record: Instance, stateName: string): Instance;
  /** The record once the device is gone. */
  detached(record: Instance): Instance;
  /** What the operation names the device by: the volume id, the attachment id. */
  key: string;
}

export interface DetachOptions {
  /**
   * Stops the detach: a running post-detach hook's process group is killed, and no further
   * step runs. Before libvirt removed the device the record is written back as it was; after,
   * the OperationError (code CANCELLED) says in `unfinished` what is left, and the same detach
   * again finishes it.
   */
  signal?: AbortSignal;
}

export interface DetachResult {
  id: string;
  deviceId: string;
  /**
   * The device XML given to libvirt; undefined when a resumed detach found neither
   * `<deviceId>-libvirt.xml` nor a copy in the record (libvirt had let go of it already).
   */
  deviceXml?: string;
  /** False when the domain no longer had the device (the record is cleaned all the same). */
  detachedFromDomain: boolean;
  /** True when the record said `detaching`: this run finished a detach that an earlier one began. */
  resumed: boolean;
  /** Failures of post-detach hooks (they cannot cancel anything). */
  postDetachFailures: (HookFailedError | HookTimeoutError)[];
  steps: StepTiming[];
}

/**
 * `mark-detaching`: the record's entry becomes `detaching` → `detach` through libvirt (a
 * device the domain no longer has is not an error) → `post-detach`: `euca-nc-post-detach`
 * with the device XML's path (failures returned, never thrown) → `remove-files` (the stub
 * files) → `record`: the entry removed.
 *
 * A failure before libvirt has removed the device writes the record back as it was. Once it
 * has, nothing is attached again (the guest has let go of the device, and the cloud asked
 * for it to go): a later failure leaves the entry `detaching`, and the OperationError's
 * `unfinished` says what is left (which files) and that a detach of the device again
 * finishes it, as it does after a controller that died half-way. Such a detach resumed after
 * `remove-files` finds the device XML gone when the record holds no copy of it: libvirt (and
 * the post-detach hooks) had let go of the device before the files went, so those steps do
 * nothing and the cleanup finishes.
 */
export async function detachDevice(ctx: ControllerContext, id: string, spec: DetachSpec, o: DetachOptions = {}): Promise<DetachResult> {
  checkInstanceId(id);
  return ctx.locks.run(id, `${spec.operation} of ${id}`, async () => {
    const { layout, connection: conn } = ctx;
    const log = new InstanceLog(layout.log(id), id, spec.operation, ctx.log);
    const steps = new Steps(spec.operation, id, log, ctx.onStep, o.signal);

    const record = await steps.run('read-record', () => readRecord(layout, id));
    const { deviceId, stubPath, xmlPath, xml, resumed } = await steps.run('check', async () => {
      await ownDomainIfAny(ctx, id, record); // another instance's domain by this name: the record is not touched
      const found = await spec.recorded(record, layout.dir(id));
      if (!found) throw new InstanceNotFoundError(`${id} has no ${spec.label} attached`, { instanceId: id, file: layout.instanceXml(id) });
      const stubPath = layout.deviceStub(id, found.deviceId);
      const xmlPath = layout.deviceXml(id, found.deviceId);
      // The file the pre-attach hooks approved is what libvirt has; the record's copy is the fallback.
      const xml = (await readBack(xmlPath, true)) ?? found.xml;
      const resumed = found.stateName === DETACHING;
      // `mark-detaching` runs before libvirt's detach and `remove-files` after it: a detaching
      // device whose XML file is gone (and not in the record) is one libvirt has let go of.
      if (!xml && !resumed) throw new IoError(`neither ${xmlPath} nor the record holds the libvirt XML of ${spec.label}`, { file: xmlPath });
      return { deviceId: found.deviceId, stubPath, xmlPath, xml, resumed };
    });
    if (resumed) log.info(`${spec.label} is ${DETACHING}: finishing the detach an earlier ${spec.operation} began`);
    if (!xml) log.info(`${basename(xmlPath)} is gone and the record holds no copy: libvirt and the post-detach hooks were done with ${spec.label} before its files were removed; skipping them and finishing the cleanup`);

    // A resumed detach that fails before it gets past libvirt leaves the device as it found it: still `detaching`.
    if (resumed) {
      steps.onUnfinished(async () => `${spec.label} ${stillDetaching(spec.operation, id, spec.key)}; ${await filesLeft([stubPath, xmlPath], layout.dir(id))}`);
    }
    const detaching = spec.marked(record, DETACHING);
    await steps.run('mark-detaching', async () => {
      if (resumed) return;
      const text = await readRegularText(layout.instanceXml(id)); // written back as it was on a failure
      await writeRecord(layout, detaching);
      steps.onUndo('restore-record', async () => void (await writeRecord(layout, record, { text })));
      await syncPaths([layout.dir(id)]); // the rename too, before libvirt lets go of the device
    });

    const change = await steps.run('detach', async () => {
      if (!xml) return undefined;
      try {
        return await conn.detachDevice(record.uuid, xml, ctx.hotplug);
      } catch (e) {
        if (e instanceof LibvirtError && e.libvirtCode === VIR_ERR_DEVICE_MISSING) {
          log.info(`the domain no longer has ${spec.label}: ${e.libvirtMessage}`);
          return undefined;
        }
        throw e;
      }
    });
    const detachedFromDomain = change !== undefined;
    steps.forwardOnly(async () => {
      const where = change && [change.live && 'live', change.config && 'persistent configuration'].filter(Boolean).join(' and ');
      return [
        change ? `${spec.label} is detached from the domain of ${id}${where ? ` (${where})` : ''}` : `the domain of ${id} no longer had ${spec.label}`,
        `instance.xml lists it as "${DETACHING}"`,
        await filesLeft([stubPath, xmlPath], layout.dir(id)),
        `${finishingCommand(spec.operation, id, spec.key)} again finishes the detach`,
      ].join('; ');
    });

    let postDetachFailures: DetachResult['postDetachFailures'] = [];
    if (ctx.hooks) {
      const hooks = ctx.hooks;
      postDetachFailures = await steps.run('post-detach', async () => {
        if (!xml) return [];
        await writeFileAtomic(xmlPath, xml, { mode: 0o600, existing: 'replace' }); // the hook's PARAM: make sure it exists
        const report = await hooks.run('euca-nc-post-detach', { instanceId: id, instanceDir: layout.dir(id), libvirtXml: xmlPath, uri: ctx.uri, param: xmlPath, log: log.hookSink(), signal: o.signal });
        return report.failures;
      });
    }
    await steps.run('remove-files', async () => {
      await Promise.all([rm(stubPath, { force: true }), rm(xmlPath, { force: true })]);
    });
    await steps.run('record', () => writeRecord(layout, spec.detached(detaching)));
    steps.commit();
    await log.flush();
    return { id, deviceId, deviceXml: xml, detachedFromDomain, resumed, postDetachFailures, steps: steps.timings };
  });
}
