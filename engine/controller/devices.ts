import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { readRegularText } from '../fs/regular-file.js';
import { IoError } from '../errors.js';
import { syncPaths, writeFileAtomic } from '../fs/atomic-write.js';
import { exists } from '../fs/exists.js';
import { unifiedDiff } from '../hooks/line-diff.js';
import { ATTACHING, type Instance } from '../instance/model.js';
import type { LibvirtConnection } from '../libvirt/connection.js';
import { describeDevice, DeviceXmlError, domainHasDevice, removeDeviceFromDomainXml, sameDevice } from '../libvirt/device-xml.js';
import type { DeviceChangeOptions, DeviceChangeResult } from '../libvirt/hotplug.js';
import { renderText } from '../render/render.js';
import { checkDeviceXml } from './domain-xml.js';
import { StateConflictError, type Operation } from './errors.js';
import { InstanceLog } from './instance-log.js';
import { checkInstanceId } from './layout.js';
import type { ControllerContext } from './options.js';
import { readRecord, writeRecord } from './record.js';
import { asDomforgeError, Steps, type StepTiming } from './steps.js';
import { ownDomainIfAny } from './summary.js';
import type { DetachSpec } from './detach.js';
import { attachWaysOut, detachOf, finishingCommand, stillAttaching } from './unfinished.js';

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
  /** The detach of the same device: its key (volume id, attachment id), where the record lists it, the record without it. */
  detach: DetachSpec;
  /** The `stateName` of the record's entry for this device (`attaching` when an earlier attach did not finish), or undefined when it has none. */
  state(record: Instance): string | undefined;
  /** How the record's entry for this device differs from what this attach records (`it is attaching as sdg`), or undefined when it is the same. */
  differs(record: Instance): string | undefined;
  /**
   * Why this device cannot be attached to this instance (already attached, MAC or device
   * index in use...), or undefined. Called with the instance folder, before libvirt is asked
   * anything; when the record has the device `attaching`, with the record without that entry.
   */
  conflict(record: Instance, dir: string): string | undefined | Promise<string | undefined>;
  /** The stub (`<volume>` / `<nic>`) to write and render. */
  stub(record: Instance): string;
  /**
   * The record listing the device in `stateName`, with `deviceXml` where the record keeps a
   * device's libvirt XML: the entry it has for the device is replaced in place, else one is added.
   */
  recorded(record: Instance, deviceXml: string, stateName: string): Instance;
}

/**
 * Where the domain holds the device once attached, and how libvirt was asked: a resumed attach
 * gives libvirt only what it lacks, and `method` is `none` when the domain held it already.
 */
export type AttachChange = Omit<DeviceChangeResult, 'method'> & { method: DeviceChangeResult['method'] | 'none' };

export interface AttachResult {
  id: string;
  deviceId: string;
  /** The `<disk>` / `<interface>` given to libvirt (after filters and pre-attach hooks). */
  deviceXml: string;
  /** How libvirt applied it (live, persistent config, method). */
  change: AttachChange;
  /** True when the record said `attaching`: this run finished an attach that an earlier one began. */
  resumed: boolean;
  warnings: string[];
  steps: StepTiming[];
}

/**
 * stub → transform → validate (against the live domain's devices) → XML filters →
 * `<id>-libvirt.xml` → `euca-nc-pre-attach` (re-read, re-validate) → `mark-attaching`: the
 * record lists the device `attaching`, durably → attach through libvirt (live and
 * persistent) → `record`: the device `attached`.
 *
 * A failure undoes what was done: the device is detached again if it was attached, the record
 * written back as it was, the stub files removed. When the rollback cannot detach the device
 * or write the record back, the device stays `attaching` with its files, and the
 * OperationError's `unfinished` says what is left. An attach of a device the record has
 * `attaching` (after that, or after a controller that died during an attach) finishes it:
 * the same steps, libvirt already holding the device is not an error, and a failure goes
 * back to `attaching`; a detach of it removes it instead.
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
    const stub = spec.stub(record);
    const { domainXml, resumed, pending, earlierFile } = await steps.run('check', async () => {
      const resumed = spec.state(record) === ATTACHING;
      // A device an earlier attach left `attaching` is this attach's to finish, not in its way.
      const why = await spec.conflict(resumed ? spec.detach.detached(record) : record, layout.dir(id));
      if (why) throw new StateConflictError(`${spec.label} cannot be attached to ${id}: ${why}`, { instanceId: id, file: layout.instanceXml(id) });
      const ref = await ownDomainIfAny(ctx, id, record);
      if (!ref) throw new StateConflictError(`libvirt has no domain for ${id} (uuid ${record.uuid}) to attach ${spec.label} to`, { instanceId: id });
      const domainXml = await conn.getXML(ref.uuid);
      if (!resumed) return { domainXml, resumed };
      // Only the same attach finishes it: the record's entry and the stub left in the folder must be this attach's.
      const earlier = await readBack(stubPath, true);
      // The earlier attach's files under another name (an interface attachment by another interface id) would be left behind.
      const found = await spec.detach.recorded(record, layout.dir(id));
      const elsewhere = found && found.deviceId !== spec.deviceId && (await exists(layout.deviceStub(id, found.deviceId)));
      const other =
        spec.differs(record) ??
        (elsewhere ? `the earlier attach's stub is ${found.deviceId}.xml` : undefined) ??
        (earlier !== undefined && earlier !== stub ? `${basename(stubPath)} says otherwise` : undefined);
      if (other) {
        throw new StateConflictError(`${spec.label} cannot be attached to ${id}: ${spec.detach.label} ${stillAttaching(spec.operation, id, spec.detach.key)}; this attach is not the same (${other})`, {
          instanceId: id,
          file: layout.instanceXml(id),
        });
      }
      // What the earlier attach gave libvirt: the domain holding it is not a conflict of this render.
      const earlierFile = await readBack(xmlPath, true);
      const pending = earlierFile ?? found?.xml;
      return { domainXml: pending ? withoutDevice(domainXml, pending) : domainXml, resumed, pending, earlierFile };
    });
    if (resumed) log.info(`${spec.label} is ${ATTACHING}: finishing the attach an earlier ${spec.operation} began`);

    // Whether the record lists the device `attaching` now: what a failure leaves unless its rollback writes the record back.
    let marked = resumed;
    let xml = pending ?? '';
    steps.onUnfinished(async () => {
      if (!marked) return undefined;
      // Told by the device XML the folder keeps (a resumed attach's rollback writes the earlier one back): what a detach gives libvirt.
      const kept = await readBack(xmlPath, true);
      return [
        await heldText(ctx, id, record.uuid, spec.label, kept ?? xml),
        `instance.xml lists it as "${ATTACHING}"`,
        await filesLeft([stubPath, xmlPath], layout.dir(id)),
        attachWaysOut(spec.operation, id, spec.detach.key),
      ].join('; ');
    });
    // The files of a device the record lists `attaching` stay while it does (a resumed attach's belong to the earlier one).
    const removeUnlessKept = (file: string, remove: string, keep: string) => {
      if (!resumed) steps.onUndo(remove, () => rm(file, { force: true }), { action: keep, run: async () => undefined });
    };

    await steps.run('write-stub', async () => {
      await writeFileAtomic(stubPath, stub, { mode: 0o600, existing: 'replace' });
      removeUnlessKept(stubPath, 'remove-stub', 'keep-stub');
    });

    const { xml: rendered, stub: parsedStub } = await steps.run('render', async () => {
      const r = await renderText(stub, { file: stubPath, transform: await ctx.transform(), params: ctx.params, schema: ctx.schema, checkPaths: ctx.checkPaths, domainXml });
      warnings.push(...r.warnings);
      return r;
    });
    // What a filter or a hook gives back is checked as the render's output was: valid, and still the stub's device.
    const check = (text: string, file: string) => checkDeviceXml(ctx, text, file, { stub: parsedStub!, from: spec.label, domainXml });

    xml = rendered;
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
      removeUnlessKept(xmlPath, 'remove-device-xml', 'keep-device-xml');
      // A resumed attach's rollback puts back the earlier attach's file, which says what libvirt holds (unless this one's attach cannot be undone).
      if (resumed && earlierFile !== undefined) {
        steps.onUndo('restore-device-xml', () => writeFileAtomic(xmlPath, earlierFile, { mode: 0o600, existing: 'replace' }), { action: 'keep-device-xml', run: async () => undefined });
      }
    });

    if (ctx.hooks) {
      const hooks = ctx.hooks;
      const given = xml;
      xml = await steps.run('pre-attach', async () => {
        await hooks.run('euca-nc-pre-attach', { ...hookContext, param: xmlPath });
        const edited = await readBack(xmlPath);
        if (edited !== given) {
          warnings.push(...(await check(edited, xmlPath)));
          log.info(`pre-attach hooks edited ${spec.deviceId}-libvirt.xml:\n${unifiedDiff(given, edited, { fromFile: 'before pre-attach', toFile: 'after pre-attach' }).trimEnd()}`);
        }
        return edited;
      });
    }

    // The record says what is under way before libvirt is asked: a controller that dies from
    // here on leaves the device `attaching`, which describe, list and adopt report.
    const attaching = spec.recorded(record, xml, ATTACHING);
    await steps.run('mark-attaching', async () => {
      const text = await readRegularText(layout.instanceXml(id)); // written back as it was on a failure
      await writeRecord(layout, attaching);
      marked = true;
      await syncPaths([layout.dir(id)]); // the rename too, before libvirt holds the device
      steps.onUndo(
        'restore-record',
        async () => {
          await writeRecord(layout, record, { text });
          marked = resumed;
        },
        // libvirt may still hold the device: the record keeps it `attaching`.
        { action: 'keep-attaching', run: async () => undefined },
      );
    });

    const change = await steps.run('attach', async (): Promise<AttachChange> => {
      // The earlier attach's device, held under another name than this one's (a transform, filter or
      // hook that now gives another target dev), would be left in the domain beside this one.
      if (resumed && pending && !sameDevice(pending, xml)) {
        const earlier = await heldBy(conn, record.uuid, pending);
        if (earlier.live || earlier.config) {
          throw new StateConflictError(
            `${spec.label} cannot be attached to ${id}: the domain holds the ${describeDevice(pending)} the earlier ${spec.operation} gave it, and this attach gives a ${describeDevice(xml) ?? 'another device'}; ${finishingCommand(detachOf(spec.operation), id, spec.detach.key)} removes the earlier one, then ${spec.operation} attaches it anew`,
            { instanceId: id, file: xmlPath },
          );
        }
      }
      // A resumed attach gives libvirt what it does not hold yet of the device.
      const held = resumed ? await heldBy(conn, record.uuid, xml) : undefined;
      const options = held ? missingParts(ctx.hotplug, held) : ctx.hotplug;
      if (!options) {
        log.info(`the domain of ${id} holds ${spec.label} already: the earlier ${spec.operation} got that far`);
        return { method: 'none', live: held!.live, config: held!.config, restarted: false };
      }
      const c = await conn.attachDevice(record.uuid, xml, options);
      steps.onUndo('detach-device', async () => void (await conn.detachDevice(record.uuid, xml, options)));
      return held ? { ...c, live: c.live || held.live, config: c.config || held.config } : c;
    });

    await steps.run('record', () => writeRecord(layout, spec.recorded(attaching, xml, 'attached')));
    steps.commit();
    await log.flush();
    return { id, deviceId: spec.deviceId, deviceXml: xml, change, resumed, warnings, steps: steps.timings };
  });
}

/** The domain XML without the device of `deviceXml` (as libvirt finds it), or as it is when it has none. */
function withoutDevice(domainXml: string, deviceXml: string): string {
  try {
    return removeDeviceFromDomainXml(domainXml, deviceXml);
  } catch (e) {
    if (e instanceof DeviceXmlError) return domainXml;
    throw e;
  }
}

/** Where a domain holds a device: in its running configuration (`live`, false when off) and its persistent one (`config`, false when transient). */
interface Held {
  active: boolean;
  persistent: boolean;
  live: boolean;
  config: boolean;
}

/** Where the domain holds the device of `deviceXml` (found as libvirt finds a device to detach). */
async function heldBy(conn: LibvirtConnection, uuid: string, deviceXml: string): Promise<Held> {
  const ref = await conn.lookup(uuid);
  const active = ref.id !== null;
  const persistent = await conn.isPersistent(ref);
  const live = active && domainHasDevice(await conn.getXML(ref), deviceXml);
  const config = persistent && domainHasDevice(await conn.getXML(ref, { inactive: true }), deviceXml);
  return { active, persistent, live, config };
}

/** The hot-plug options that give the domain what it lacks of the device, or undefined when it holds it wherever `hotplug` puts it. */
function missingParts(hotplug: DeviceChangeOptions, held: Held): DeviceChangeOptions | undefined {
  const live = (hotplug.live ?? held.active) && !held.live;
  const config = (hotplug.config ?? held.persistent) && !held.config;
  return live || config ? { ...hotplug, live, config } : undefined;
}

/** `volume vol-XXX is attached to the domain of ID (live and persistent configuration)`, as libvirt tells it now. */
async function heldText(ctx: ControllerContext, id: string, uuid: string, label: string, deviceXml: string): Promise<string> {
  if (!deviceXml) return `${label} may be attached to the domain of ${id} (its libvirt XML is not known)`;
  try {
    const held = await heldBy(ctx.connection, uuid, deviceXml);
    const where = [held.live && 'live', held.config && 'persistent configuration'].filter(Boolean).join(' and ');
    return where ? `${label} is attached to the domain of ${id} (${where})` : `${label} is not attached to the domain of ${id}`;
  } catch (e) {
    return `${label} may be attached to the domain of ${id} (libvirt could not tell: ${asDomforgeError(e)?.shortMessage ?? String((e as Error)?.message ?? e)})`;
  }
}

/** The base names of those files that exist. */
async function leftFiles(files: readonly string[]): Promise<string[]> {
  return (await Promise.all(files.map(async (f) => ((await exists(f)) ? basename(f) : undefined)))).filter((f) => f !== undefined);
}

/** What is left of a device's files, for an error's `unfinished`: `vol-1.xml and vol-1-libvirt.xml are left in DIR`, or `its files are removed`. */
export async function filesLeft(files: readonly string[], dir: string): Promise<string> {
  const left = await leftFiles(files);
  return left.length ? `${left.join(' and ')} ${left.length > 1 ? 'are' : 'is'} left in ${dir}` : 'its files are removed';
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
