import { mkdir, stat } from 'node:fs/promises';
import { readRegularText } from '../fs/regular-file.js';
import { IoError, InstanceError } from '../errors.js';
import { writeConfigDriveFromInstance } from '../configdrive/write.js';
import { syncPaths, writeFileAtomic } from '../fs/atomic-write.js';
import { unifiedDiff } from '../hooks/line-diff.js';
import type { Instance } from '../instance/model.js';
import { placeOf, sourceOf } from '../instance/source.js';
import { checkInstanceStructure } from '../instance/validate.js';
import type { DomainSummary } from '../libvirt/connection.js';
import { renderText } from '../render/render.js';
import { checkDomainXml, domainUsesFile } from './domain-xml.js';
import { checkNodeEnabled } from './node-state.js';
import { StateConflictError } from './errors.js';
import { createInstancesFolder, keepFolder, removeFolder } from './folders.js';
import { writeKvpArtefacts, type KvpArtefacts } from './kvp-artefacts.js';
import { InstanceLog } from './instance-log.js';
import { instanceIdProblem } from './layout.js';
import type { ControllerContext } from './options.js';
import { checkRecord, relocate, withState, withTimestamp, writeRecord, type CheckedRecord } from './record.js';
import { Steps, type StepTiming } from './steps.js';
import { domainSummary } from './summary.js';

/**
 * The steps of a launch, in order. Each one's failure rolls back the ones before it and
 * is reported as `launch of ID failed at step 'STEP'`.
 */
export const LAUNCH_STEPS = [
  'check',
  'create-folder',
  'write-instance',
  'render',
  'filters',
  'write-libvirt',
  'config-drive',
  'kvp',
  'pre-boot',
  'define',
  'start',
  'record',
] as const;
export type LaunchStep = (typeof LAUNCH_STEPS)[number];

export interface LaunchResult {
  id: string;
  /** The instance folder. */
  dir: string;
  /** The instance as recorded in `instance.xml` (paths pointing into its folder, state `Extant`). */
  instance: Instance;
  /** The domain as libvirt reports it after the start. */
  domain: DomainSummary;
  /** The live domain XML as libvirt holds it. */
  domainXml: string;
  /** The XML given to libvirt (`libvirt.xml`). */
  libvirtXml: string;
  /** Unified diff from the rendered XML to the XML given to libvirt ('' when filters and hooks changed nothing). */
  diff: string;
  /** The config drive written, when the domain uses one. */
  configDrive?: { path: string; bytes: number };
  /** Hyper-V instances: the KVP items and pool file written instead of a config drive. */
  kvp?: KvpArtefacts;
  /** Things to look at that did not stop the launch (validator warnings, skipped fail-open filters, an unused config drive). */
  warnings: string[];
  /** Each step's duration. */
  steps: StepTiming[];
}

export interface LaunchOptions {
  /**
   * Cancels the launch: at the next step boundary (a running hook or filter is killed at
   * once), everything done so far is undone as for a failure, and the launch rejects with an
   * OperationError whose code is `CANCELLED`. A step under way (a render, a libvirt call)
   * finishes first; the rollback itself is never cancelled.
   */
  signal?: AbortSignal;
}

/**
 * Launches an instance: check it (its values, and its instance.xml as the render reads it:
 * an invalid one is refused before anything is written) → create its folder → write
 * instance.xml → render libvirt XML with the active transform and validate it → XML
 * filters → write libvirt.xml → config drive
 * (KVM, Xen) or KVP items and pool file (Hyper-V) → pre-boot hooks (then re-read and
 * re-validate libvirt.xml) → define → start → record.
 * Every file is written atomically. Any failure undoes what this launch did, in reverse:
 * no domain is left defined and the folder is removed (or kept under `.kept` with
 * `keepFailed`), and an OperationError names the failed step.
 */
export async function launch(ctx: ControllerContext, input: Instance, o: LaunchOptions = {}): Promise<LaunchResult> {
  const id = input?.name;
  const problem = instanceIdProblem(id);
  if (problem) throw new InstanceError(`the instance name ${JSON.stringify(id)} cannot name an instance folder: ${problem}`, placeOf(input && sourceOf(input), '/instance/name'));
  const outcome = await ctx.locks.tryRun(id, `launch of ${id}`, () => launchLocked(ctx, input, id, o.signal));
  if (outcome.busy) throw new StateConflictError(`launch of ${id} refused: another operation on ${id} is in progress`, { instanceId: id });
  return outcome.value;
}

async function launchLocked(ctx: ControllerContext, input: Instance, id: string, signal: AbortSignal | undefined): Promise<LaunchResult> {
  const { layout, connection: conn } = ctx;
  const dir = layout.dir(id);
  const libvirtXmlPath = layout.libvirtXml(id);
  const log = new InstanceLog(layout.log(id), id, 'launch', ctx.log);
  const steps = new Steps('launch', id, log, ctx.onStep, signal);
  const warnings: string[] = [];
  const hookContext = { instanceId: id, instanceDir: dir, libvirtXml: libvirtXmlPath, uri: ctx.uri, log: log.hookSink(), signal };

  let record!: Instance;
  let checked!: CheckedRecord;
  await steps.run('check', async () => {
    await checkNodeEnabled(layout, 'launch');
    // Its shape first: relocate and the checks below read its fields.
    checkInstanceStructure(input, sourceOf(input));
    record = withState(relocate(input, layout), 'Staging');
    // The instance is checked before its folder exists: a refusal then points at the caller's
    // instance (its file and line, or the field alone), never at a record rolled back.
    checked = checkRecord(record, layout.instanceXml(id), sourceOf(input));
    const found = await Promise.all([...new Set([id, input.uuid])].map((key) => conn.find(key)));
    for (const [i, existing] of found.entries()) {
      const key = i === 0 ? id : input.uuid;
      if (existing) {
        throw new StateConflictError(
          `libvirt already has a domain ${existing.name} (uuid ${existing.uuid})${key === id ? '' : ` with this instance's uuid`}; terminate it, or adopt it if it is a domforge instance`,
          { instanceId: id },
        );
      }
    }
  });

  await steps.run('create-folder', async () => {
    // The instances folder too, when the controller did not make it at its open (the CLI's
    // launch): made here, a launch refused before this step leaves nothing on disk.
    await createInstancesFolder(layout.root);
    try {
      await mkdir(dir, { mode: 0o755 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new StateConflictError(`the instance folder already exists (${id} was launched before, or a crash left it): terminate or adopt ${id} first`, {
          instanceId: id,
          file: dir,
        });
      }
      throw new IoError(`cannot create the instance folder: ${(e as Error).message}`, { file: dir, cause: e });
    }
    steps.onUndo(
      ctx.keepFailed ? 'keep-folder' : 'remove-folder',
      async () => {
        await log.close();
        if (ctx.keepFailed) await keepFolder(layout, id, 'failed');
        else await removeFolder(layout, id);
      },
      // A domain could not be undone: keep the folder as its record, marked Teardown for adopt() to report.
      { action: 'mark-teardown', run: async () => void (await writeRecord(layout, withState(record, 'Teardown'))) },
    );
  });

  // instance.xml and libvirt.xml are new files in a new folder: they replace nothing, so
  // they are written without an fsync each and made durable together before `define`.
  const recordText = await steps.run('write-instance', () => writeRecord(layout, record, { fsync: false, text: checked.text }));

  const rendered = await steps.run('render', async () => {
    const transform = await ctx.transform();
    // Validated once, by checkDomainXml (libvirt's schema, domforge's checks, then name and uuid).
    // Errors in the output name what the caller gave (its file, else the instance), never the
    // record, which a failed launch removes: `render --instance` on that file shows the output.
    const outputFor = sourceOf(input)?.file ?? `instance ${id}`;
    const r = await renderText(recordText, { file: layout.instanceXml(id), transform, params: ctx.params, validate: false, parsed: checked.parsed, outputFor });
    warnings.push(...r.warnings);
    warnings.push(...(await checkDomainXml(ctx, r.xml, `${transform.file} (output for ${outputFor})`, id, record, r.document, sourceOf(input))));
    log.info(`rendered with ${transform.file} (${transform.kind}, ${transform.hash.slice(0, 12)})`);
    return r;
  });

  let xml = rendered.xml;
  if (ctx.hooks) {
    const hooks = ctx.hooks;
    xml = await steps.run('filters', async () => {
      const report = await hooks.filter(rendered.xml, {
        ...hookContext,
        event: 'euca-nc-pre-boot',
        validate: async (text, { filter }) => void (await checkDomainXml(ctx, text, `output of filters.d/${filter}`, id, record, undefined, sourceOf(input))),
      });
      warnings.push(...report.skipped.map((e) => e.shortMessage));
      return report.xml;
    });
  }

  await steps.run('write-libvirt', () => writeFileAtomic(libvirtXmlPath, xml, { mode: 0o600, fsync: false, existing: 'replace' }));

  const hyperv = record.hypervisor.type === 'hyperv';
  let configDrive: LaunchResult['configDrive'];
  if (hyperv && record.configDrive) {
    warnings.push('a Hyper-V guest gets its data through KVP items, not a config drive: <configDrive> ignored');
  } else if (record.configDrive) {
    const drive = record.configDrive;
    configDrive = await steps.run('config-drive', async () => {
      // The rendered document, parsed once, unless a filter changed the XML.
      if (!domainUsesFile(xml, drive.path, xml === rendered.xml ? rendered.document : undefined)) {
        warnings.push(`the instance asks for a config drive but no <disk> of the domain uses ${drive.path}; not built`);
        return undefined;
      }
      // A refusal names the line in the file the caller's instance was read from (the record is a
      // copy with the folder's paths and, when the caller had none, a launchTime; the rest is the caller's).
      const built = await writeConfigDriveFromInstance(drive.path, record, ctx.configDriveLimits, sourceOf(input));
      return { path: drive.path, bytes: built.image.length };
    });
  }

  let kvp: KvpArtefacts | undefined;
  if (hyperv) {
    kvp = await steps.run('kvp', async () => {
      // A refusal names the line in the file the caller's instance was read from (the record is a
      // copy with the folder's paths; the fields KVP reads are the caller's, unchanged).
      const k = await writeKvpArtefacts(layout, record, sourceOf(input));
      log.info(`KVP: ${k.keys.length} items for AddKvpItems in kvp-items.xml; the guest's pool 0 in kvp_pool_0 (${k.poolBytes} bytes)`);
      return k;
    });
  }

  if (ctx.hooks) {
    const hooks = ctx.hooks;
    xml = await steps.run('pre-boot', async () => {
      await hooks.run('euca-nc-pre-boot', hookContext);
      await checkRecordKept(layout.instanceXml(id), dir);
      // A pre-boot hook may edit libvirt.xml: read it back and validate it again before libvirt sees it.
      let edited: string;
      try {
        edited = await readRegularText(libvirtXmlPath);
      } catch (e) {
        throw new IoError(`cannot read libvirt.xml back after the pre-boot hooks: ${(e as Error).message}`, { file: libvirtXmlPath, cause: e });
      }
      if (edited !== xml) {
        warnings.push(...(await checkDomainXml(ctx, edited, libvirtXmlPath, id, record, undefined, sourceOf(input))));
        log.info(`pre-boot hooks edited libvirt.xml:\n${unifiedDiff(xml, edited, { fromFile: 'before pre-boot', toFile: 'after pre-boot' }).trimEnd()}`);
      }
      return edited;
    });
  }

  const ref = await steps.run('define', async () => {
    // Crash safety: once libvirt has the domain (persistently, on a real host), a crash must
    // leave its record behind for adopt(). So before the define, everything the launch wrote
    // is made durable at once: the data of instance.xml and libvirt.xml (written without
    // fsync above; the config drive and KVP files were fsynced when written) and the folders' entries
    // (the renames in the instance folder, the instance folder in the instances folder).
    // Four fsyncs in parallel cost about one; one per file and per rename's folder, in
    // turn, cost a launch several. A crash before this point leaves at most a `Staging`
    // folder (or, before write-instance, a folder with no instance.xml) with no domain,
    // which adopt() reports as incomplete and terminate removes.
    await syncPaths([layout.instanceXml(id), libvirtXmlPath, dir, layout.root]);
    const r = await conn.define(xml);
    steps.onUndo('undefine', async () => {
      // Undefining a running domain would leave it running as a transient one: stop it first.
      if ((await conn.lookup(r.uuid)).id !== null) await conn.destroy(r);
      await conn.undefine(r);
    });
    return r;
  });

  await steps.run('start', async () => {
    await conn.start(ref);
    steps.onUndo('destroy', () => conn.destroy(ref));
  });

  record = withTimestamp(withState(record, 'Extant'), 'bootTime');
  await steps.run('record', () => writeRecord(layout, record));
  steps.commit();
  ctx.tracked.add(id);

  const diff = unifiedDiff(rendered.xml, xml, { fromFile: 'rendered', toFile: 'libvirt.xml' });
  // One fresh lookup for the domain's id now it runs; the state and the XML reuse it.
  const current = await conn.lookup(ref.uuid);
  const [domain, domainXml] = await Promise.all([domainSummary(conn, current, true), conn.getXML(current)]);
  log.info(`launched: domain ${domain.name} (${domain.uuid}) is ${domain.state}`);
  await log.flush();
  return { id, dir, instance: record, domain, domainXml, libvirtXml: xml, diff, configDrive, kvp, warnings, steps: steps.timings };
}

/** After the pre-boot hooks: a domain is never defined without its record (instance.xml) on disk. */
async function checkRecordKept(file: string, dir: string): Promise<void> {
  const err = await stat(file).then(
    () => undefined,
    (e: NodeJS.ErrnoException) => e,
  );
  if (!err) return;
  if (err.code !== 'ENOENT') throw new IoError(`cannot check instance.xml after the pre-boot hooks: ${err.message}`, { file, cause: err });
  const folderGone = await stat(dir).then(
    () => false,
    () => true,
  );
  throw new IoError(
    folderGone
      ? 'the pre-boot hooks removed the instance folder; the launch cannot go on without the instance\'s record'
      : 'the pre-boot hooks removed instance.xml, the instance\'s record; the launch cannot go on without it',
    { file: folderGone ? dir : file },
  );
}
