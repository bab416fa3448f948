import { rm } from 'node:fs/promises';
import { readRegularText } from '../fs/regular-file.js';
import { IoError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { unifiedDiff } from '../hooks/line-diff.js';
import type { Instance } from '../instance/model.js';
import type { DeviceChangeResult } from '../libvirt/hotplug.js';
import { renderText } from '../render/render.js';
import { checkDeviceXml } from './domain-xml.js';
import { StateConflictError, type Operation } from './errors.js';
import { InstanceLog } from './instance-log.js';
import { checkInstanceId } from './layout.js';
import type { ControllerContext } from './options.js';
import { readRecord, writeRecord } from './record.js';
import { Steps, type StepTiming } from './steps.js';
import { ownDomainIfAny } from './summary.js';

/**
 * What differs between hot-plugging a volume (volumes.ts) and a network interface
 * (interfaces.ts); the pipeline is the same.
 */
export interface AttachSpec {
  operation: Extract<Operation, 'attach-volume' | 'attach-interface'>;
  /** File base name: `vol-XXX` → `vol-XXX.xml`, `vol-XXX-libvirt.xml`. */
  deviceId: string;
  /** `volume vol-XXX`, for messages. */
  label: string;
  /**
   * Why this device cannot be attached to this instance (already attached, MAC or device
   * index in use...), or undefined. Called with the instance folder, before libvirt is asked anything.
   */
  conflict(record: Instance, dir: string): string | undefined | Promise<string | undefined>;
  /** The stub (`<volume>` / `<nic>`) to write and render. */
  stub(record: Instance): string;
  /** The record once the device is attached (its libvirt XML given). */
  attached(record: Instance, deviceXml: string): Instance;
}

export interface AttachResult {
  id: string;
  deviceId: string;
  /** The `<disk>` / `<interface>` given to libvirt (after filters and pre-attach hooks). */
  deviceXml: string;
  /** How libvirt applied it (live, persistent config, method). */
  change: DeviceChangeResult;
  warnings: string[];
  steps: StepTiming[];
}

/**
 * stub → transform → validate (against the live domain's devices) → XML filters →
 * `<id>-libvirt.xml` → `euca-nc-pre-attach` (re-read, re-validate) → attach through libvirt
 * (live and persistent) → instance.xml updated. A failure undoes what was done: the device
 * is detached again if it was attached, the stub files are removed.
 */
export async function attachDevice(ctx: ControllerContext, id: string, spec: AttachSpec, o: AttachOptions = {}): Promise<AttachResult> {
  checkInstanceId(id);
  return ctx.locks.run(id, `${spec.operation} of ${id}`, async () => {
    const { layout, connection: conn } = ctx;
    const log = new InstanceLog(layout.log(id), id, spec.operation, ctx.log);
    const steps = new Steps(spec.operation, id, log, ctx.onStep, o.signal);
    const stubPath = layout.deviceStub(id, spec.deviceId);
    const xmlPath = layout.deviceXml(id, spec.deviceId);
    const warnings: string[] = [];

    const record = await steps.run('read-record', () => readRecord(layout, id));
    const domainXml = await steps.run('check', async () => {
      const why = await spec.conflict(record, layout.dir(id));
      if (why) throw new StateConflictError(`${spec.label} cannot be attached to ${id}: ${why}`, { instanceId: id, file: layout.instanceXml(id) });
      const ref = await ownDomainIfAny(ctx, id, record);
      if (!ref) throw new StateConflictError(`libvirt has no domain for ${id} (uuid ${record.uuid}) to attach ${spec.label} to`, { instanceId: id });
      return conn.getXML(ref.uuid);
    });

    const stub = spec.stub(record);
    await steps.run('write-stub', async () => {
      await writeFileAtomic(stubPath, stub, { mode: 0o600, existing: 'replace' });
      steps.onUndo('remove-stub', () => rm(stubPath, { force: true }));
    });

    const { xml: rendered, stub: parsedStub } = await steps.run('render', async () => {
      const r = await renderText(stub, { file: stubPath, transform: await ctx.transform(), params: ctx.params, schema: ctx.schema, checkPaths: ctx.checkPaths, domainXml });
      warnings.push(...r.warnings);
      return r;
    });
    // What a filter or a hook gives back is checked as the render's output was: valid, and still the stub's device.
    const check = (text: string, file: string) => checkDeviceXml(ctx, text, file, { stub: parsedStub!, from: spec.label, domainXml });

    let xml = rendered;
    const hookContext = { instanceId: id, instanceDir: layout.dir(id), libvirtXml: xmlPath, uri: ctx.uri, log: log.hookSink(), signal: o.signal };
    if (ctx.hooks) {
      const hooks = ctx.hooks;
      xml = await steps.run('filters', async () => {
        const report = await hooks.filter(rendered, {
          ...hookContext,
          event: 'euca-nc-pre-attach',
          validate: async (text, { filter }) => void (await check(text, `output of filters.d/${filter}`)),
        });
        warnings.push(...report.skipped.map((e) => e.shortMessage));
        return report.xml;
      });
    }

    await steps.run('write-device-xml', async () => {
      await writeFileAtomic(xmlPath, xml, { mode: 0o600, existing: 'replace' });
      steps.onUndo('remove-device-xml', () => rm(xmlPath, { force: true }));
    });

    if (ctx.hooks) {
      const hooks = ctx.hooks;
      xml = await steps.run('pre-attach', async () => {
        await hooks.run('euca-nc-pre-attach', { ...hookContext, param: xmlPath });
        const edited = await readBack(xmlPath);
        if (edited !== xml) {
          warnings.push(...(await check(edited, xmlPath)));
          log.info(`pre-attach hooks edited ${spec.deviceId}-libvirt.xml:\n${unifiedDiff(xml, edited, { fromFile: 'before pre-attach', toFile: 'after pre-attach' }).trimEnd()}`);
        }
        return edited;
      });
    }

    const change = await steps.run('attach', async () => {
      const c = await conn.attachDevice(record.uuid, xml, ctx.hotplug);
      steps.onUndo('detach-device', async () => void (await conn.detachDevice(record.uuid, xml, ctx.hotplug)));
      return c;
    });

    await steps.run('record', () => writeRecord(layout, spec.attached(record, xml)));
    steps.commit();
    await log.flush();
    return { id, deviceId: spec.deviceId, deviceXml: xml, change, warnings, steps: steps.timings };
  });
}

export interface AttachOptions {
  /**
   * Cancels the attachment as LaunchOptions.signal cancels a launch: at the next step (a
   * running filter or pre-attach hook killed at once), undoing what was done (the device
   * detached again if it was attached, the stub files removed); an OperationError `CANCELLED`.
   */
  signal?: AbortSignal;
}

/** A file of the instance folder read back (`optional`: undefined when it is missing). */
export async function readBack(file: string): Promise<string>;
export async function readBack(file: string, optional: true): Promise<string | undefined>;
export async function readBack(file: string, optional = false): Promise<string | undefined> {
  try {
    return await readRegularText(file);
  } catch (e) {
    if (optional && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new IoError(`cannot read ${file} back: ${(e as Error).message}`, { file, cause: e });
  }
}
