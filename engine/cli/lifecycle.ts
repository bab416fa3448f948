import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { millisecondsFlag } from './number-flags.js';
import { NodeController, readInstance } from '../controller/node-controller.js';
import type { NodeControllerOptions } from '../controller/options.js';
import type { AdoptReport } from '../controller/adopt.js';
import type { DetachResult } from '../controller/detach.js';
import { readInterfaceStubFile } from '../controller/interfaces.js';
import { checkDeviceId, checkInstanceId } from '../controller/layout.js';
import { volumeStubDifferences } from '../controller/volume-stub-file.js';
import { CancelledError, UsageError } from '../errors.js';
import { StartCancelledError } from '../controller/errors.js';
import { DEFAULT_STOP_GRACE_MS } from '../controller/power.js';
import { checkPublicIp, NO_ADDRESS } from '../controller/address.js';
import type { AttachChange, AttachResult } from '../controller/devices.js';
import type { DomainSummary } from '../libvirt/connection.js';
import { firstChild, parseXml } from '../xml/parse.js';
import { isTestDriverUri } from '../libvirt/uri.js';
import { collectParam, printTable, type CliIo } from './io.js';
import { interruptible } from './interrupt.js';
import { configDriveLimits, maxImageOption, maxUserDataOption, type ConfigDriveLimitFlags } from './config-drive-limits.js';
import type { RegisterCommand } from './commands.js';
import { volumeOf, volumeOptions, type VolumeFlags } from './volume-flags.js';

/** Default instances folder when neither `--instances` nor `$DOMFORGE_INSTANCES` is given. */
export const DEFAULT_INSTANCES_DIR = '/var/lib/domforge/instances';

export interface CommonOptions {
  uri?: string;
  instances?: string;
  hooks?: string;
  transform?: string;
  param?: Record<string, string>;
  hookTimeout?: string;
  json?: boolean;
  sandbox?: boolean;
}

/** The options every lifecycle command shares. */
export function common(c: Command): Command {
  return c
    .option('--uri <uri>', 'libvirt URI (default: $LIBVIRT_DEFAULT_URI, else test:///default)')
    .option('--instances <dir>', `instances folder (default: $DOMFORGE_INSTANCES, else ${DEFAULT_INSTANCES_DIR})`)
    .option('--hooks <dir>', 'nc-hooks folder, with XML filters in <dir>/filters.d (default: $DOMFORGE_HOOKS, else none)')
    .option('--transform <file>', 'transform (default: $DOMFORGE_TRANSFORM, else the shipped transforms/libvirt.xsl)')
    .option('--param <name=value>', 'transform parameter (repeatable)', collectParam)
    .option('--hook-timeout <ms>', 'time limit of each hook and filter in ms (default 30000; 0 = none)')
    .option('--no-sandbox', 'compile and render the transform in this process, with no time or memory limit (a transform you trust)')
    .option('--json', 'print the result as JSON');
}

/** How list, describe and describe-resource mark a domain by an instance's name with another uuid, as adopt calls it. */
export const MISMATCHED = ', mismatched';

/** `shutoff (crashed)`: the state, and why when libvirt said. */
function stateWithReason(d: DomainSummary): string {
  return d.reason === undefined ? d.state : `${d.state} (${d.reason})`;
}

export function controllerOptions(o: CommonOptions, io?: CliIo): NodeControllerOptions {
  const hookTimeoutMs = o.hookTimeout === undefined ? undefined : millisecondsFlag('--hook-timeout', o.hookTimeout, 0);
  return {
    // Another process's operation on the same instance (the controller's, another command's) runs first: say what the command waits for.
    onLockWait: io
      ? (e) => io.stderr(`domforge: ${e.what} is waiting for ${e.holder ? `process ${e.holder.pid} (${e.holder.what})` : 'another process'} to finish with ${e.instanceId}\n`)
      : undefined,
    instancesDir: o.instances ?? (process.env.DOMFORGE_INSTANCES || DEFAULT_INSTANCES_DIR),
    uri: o.uri,
    hooksDir: o.hooks ?? (process.env.DOMFORGE_HOOKS || undefined),
    // Each command is a short process, not a controller starting: no start events (adopt asks for them).
    initHooks: false,
    transform: o.transform,
    params: o.param,
    hookTimeoutMs,
    sandbox: o.sandbox === false ? false : undefined,
  };
}

/**
 * A controller for every command but launch: it does not create the instances folder, so a
 * mistyped `--instances` is not made into an empty folder (a missing one holds no instances).
 * launch opens so too; its folder step makes the folder.
 */
export async function withController<T>(io: CliIo, o: CommonOptions, f: (nc: NodeController) => Promise<T>, runsHooks = false, extra: Partial<NodeControllerOptions> = {}): Promise<T> {
  const options = controllerOptions(o, io);
  if (runsHooks) noteMissingHooks(io, options);
  const nc = await NodeController.open({ ...options, createInstancesDir: false, ...extra });
  try {
    return await f(nc);
  } finally {
    await nc.close();
  }
}

/**
 * A hooks folder that does not exist means no hooks, as in Eucalyptus (one made later is
 * used from the next event on). Named on the command line or in $DOMFORGE_HOOKS, it is more
 * likely a typo, and a launch without its hooks may come up without what they set up: say so.
 */
function noteMissingHooks(io: CliIo, o: NodeControllerOptions): void {
  if (o.hooksDir === undefined) return;
  const dir = resolve(o.hooksDir);
  if (existsSync(dir)) return;
  io.stderr(`domforge: note: the hooks folder ${dir} does not exist: no hooks or filters run\n`);
}

function parseGrace(value: string | undefined): number | undefined {
  return value === undefined ? undefined : millisecondsFlag('--grace', value, 0);
}

/**
 * Prints a result as one JSON line: the errors in it as their toJSON() gives them; a bigint
 * (an exact figure past 2^53 − 1, see Exact) as a string of its decimal digits, which a JSON
 * parser keeps exact where a number that large would be rounded.
 */
export const json = (io: CliIo, value: unknown) =>
  io.stdout(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Error && 'toJSON' in v ? (v as { toJSON(): unknown }).toJSON() : v)) + '\n');

/**
 * The instance lifecycle on this host:
 *   domforge launch --instance instance.xml   prepare, hooks, define and start; prints the domain and its XML
 *   domforge terminate ID [--keep]            pre-clean hooks, destroy, undefine, remove (or keep) the files
 *   domforge reboot ID [--grace MS]           destroy and start again from the persistent configuration
 *   domforge stop ID [--grace MS | --force]   shut the guest down and keep it (folder, record, definition)
 *   domforge start ID                         run a stopped instance again
 *   domforge assign-address ID IP             record the instance's public address (0.0.0.0: none)
 *   domforge list                             every instance folder with its domain
 *   domforge describe ID [--xml]              one instance's record and domain
 *   domforge adopt                            match folders with libvirt's domains after a restart
 *   domforge attach-interface ID --nic FILE   hot-plug an ENI from its <nic> stub (eni-XXX.xml)
 *   domforge detach-interface ID ATTACHMENT   hot-unplug it again
 *   domforge attach-volume ID --volume FILE   hot-plug a volume from its <volume> stub (vol-XXX.xml), or from
 *            [--volume-id V --dev D --path P] its fields given as flags
 *   domforge detach-volume ID VOLUME_ID       hot-unplug it again
 */
export const registerLifecycle: RegisterCommand = (program, io) => {
  common(
    program
      .command('launch')
      .description('Launch an instance: folder, instance.xml, render and validate, filters, config drive, pre-boot hooks, define, start. Rolls back on any failure.')
      .requiredOption('--instance <file>', 'instance.xml (or a .json instance description)')
      .option('--keep-failed', 'keep the folder of a failed launch under <instances>/.kept for troubleshooting')
      .addOption(maxUserDataOption())
      .addOption(maxImageOption()),
  ).action(async (o: CommonOptions & ConfigDriveLimitFlags & { instance: string; keepFailed?: boolean }) => {
    // Read first: an instance file that cannot be read or is not valid opens nothing and creates no folder.
    const instance = await readInstance(o.instance);
    const options = controllerOptions(o, io);
    noteMissingHooks(io, options);
    // The instances folder is made by the launch's folder step: a launch refused before it (at its check) leaves nothing on disk.
    const nc = await NodeController.open({ ...options, ...configDriveLimits(o), keepFailed: o.keepFailed, createInstancesDir: false });
    try {
      const r = await interruptible(io, `the launch of ${instance.name}`, (signal) => nc.launch(instance, { signal }));
      if (o.json) {
        const { instance: _omit, ...rest } = r;
        return json(io, rest);
      }
      io.stdout(`launched ${r.id}: domain ${r.domain.name} uuid ${r.domain.uuid} state ${r.domain.state}\n`);
      io.stdout(`instance folder: ${r.dir}\n`);
      if (r.configDrive) io.stdout(`config drive: ${r.configDrive.path} (${r.configDrive.bytes} bytes)\n`);
      if (r.kvp) io.stdout(`kvp items: ${r.kvp.items} (${r.kvp.keys.length} items for AddKvpItems)\nkvp pool: ${r.kvp.pool} (${r.kvp.poolBytes} bytes)\n`);
      for (const w of r.warnings) io.stderr(`domforge: warning: ${w}\n`);
      io.stdout(r.domainXml.endsWith('\n') ? r.domainXml : r.domainXml + '\n');
      if (isTestDriverUri(nc.uri)) {
        io.stderr(
          `domforge: note: ${nc.uri} keeps domains inside this process only: the domain is gone when this command exits; its folder remains (\`domforge terminate ${r.id}\` removes it). Use --uri qemu:///system on a real host.\n`,
        );
      }
    } finally {
      await nc.close();
    }
  });

  common(
    program
      .command('terminate')
      .description('Terminate an instance: pre-clean hooks, destroy, undefine, remove its files (or keep them with --keep).')
      .argument('<id>', 'instance id')
      .option('--keep', 'move the instance folder under <instances>/.kept instead of removing it')
      .option('--grace <ms>', 'ask the guest to shut down and wait this long before pulling the plug (default 0)'),
  ).action(async (id: string, o: CommonOptions & { keep?: boolean; grace?: string }) => {
    const graceMs = parseGrace(o.grace); // before the controller opens, which creates the instances folder
    const r = await withController(io, o, (nc) => interruptible(io, `the terminate of ${id}`, (signal) => nc.terminate(id, { keep: o.keep, graceMs, signal }), 'stopped'), true);
    if (o.json) return json(io, r);
    const files = r.files === 'removed' ? 'files removed' : r.files === 'gone' ? 'files already gone' : `files kept in ${r.files.kept}`;
    io.stdout(`terminated ${r.id}: ${r.record === 'missing' ? 'no record (the folder had no instance.xml), ' : ''}domain ${r.domain}, ${files}\n`);
    if (r.preCleanFailure) io.stderr(`domforge: warning: ${r.preCleanFailure.fullMessage}\n`);
  });

  common(
    program
      .command('reboot')
      .description("Reboot an instance's domain: (graceful shutdown,) destroy, start again from the persistent configuration, which holds the volumes and interfaces attached since launch.")
      .argument('<id>', 'instance id')
      .option('--grace <ms>', 'ask the guest to shut down and wait this long before pulling the plug (default 0)'),
  ).action(async (id: string, o: CommonOptions & { grace?: string }) => {
    checkInstanceId(id);
    const graceMs = parseGrace(o.grace);
    const d = await withController(io, o, (nc) => nc.reboot(id, { graceMs }));
    if (o.json) return json(io, d);
    io.stdout(`rebooted ${id}: domain ${d.name} uuid ${d.uuid} state ${d.state}\n`);
  });

  common(
    program
      .command('stop')
      .description(
        `Stop an instance (Eucalyptus's StopInstance): record the stop, ask the guest to shut down, destroy it after the grace; its folder, record and libvirt definition (with the volumes and interfaces attached since launch) stay for start or terminate. No hooks run.`,
      )
      .argument('<id>', 'instance id')
      .option('--grace <ms>', `how long the guest has to shut down before the plug is pulled (default ${DEFAULT_STOP_GRACE_MS})`)
      .option('--force', 'pull the plug at once (--grace 0)'),
  ).action(async (id: string, o: CommonOptions & { grace?: string; force?: boolean }) => {
    checkInstanceId(id);
    if (o.force && o.grace !== undefined) throw new UsageError('--force and --grace are exclusive: --force is --grace 0');
    const graceMs = o.force ? 0 : parseGrace(o.grace);
    const r = await withController(io, o, (nc) => nc.stop(id, { graceMs }));
    if (o.json) return json(io, r);
    const how = r.alreadyStopped ? 'already stopped' : r.outcome === 'shut-down' ? 'the guest shut down' : r.outcome === 'destroyed' ? 'destroyed' : 'the domain was not running';
    io.stdout(`stopped ${id}: ${how}; domain ${r.domain.name} state ${r.domain.state}\n`);
  });

  common(
    program
      .command('start')
      .description("Start a stopped instance again (Eucalyptus's StartInstance) from its domain's persistent configuration; clears the stop and records bootTime. No hooks run.")
      .argument('<id>', 'instance id'),
  ).action(async (id: string, o: CommonOptions) => {
    checkInstanceId(id);
    const r = await withController(io, o, (nc) => nc.start(id));
    if (o.json) return json(io, r);
    io.stdout(`started ${id}: domain ${r.domain.name} uuid ${r.domain.uuid} state ${r.domain.state}${r.wasRunning ? ' (it was running already; record updated)' : ''}\n`);
  });

  common(
    program
      .command('assign-address')
      .description("Record an instance's public address (Eucalyptus's AssignAddress; 0.0.0.0 for none) on its primary interface in instance.xml. Nothing else changes: the cloud's network layer sets the address up.")
      .argument('<id>', 'instance id')
      .argument('<ip>', 'IPv4 address, or 0.0.0.0 for none'),
  ).action(async (id: string, ip: string, o: CommonOptions) => {
    checkInstanceId(id);
    checkPublicIp(ip);
    const r = await withController(io, o, (nc) => nc.assignAddress(id, ip));
    if (o.json) return json(io, r);
    const was = r.previous && r.previous !== NO_ADDRESS ? r.previous : 'none';
    io.stdout(r.publicIp === NO_ADDRESS ? `cleared the public address of ${id} (was ${was})\n` : `assigned ${r.publicIp} to ${id} (interface ${r.mac}; was ${was})\n`);
  });

  common(program.command('list').description('List every instance folder with its domain as libvirt reports it.')).action(async (o: CommonOptions) => {
    const all = await withController(io, o, (nc) => nc.list());
    if (o.json) return json(io, all);
    printTable(io, [['ID', 'RECORD', 'DOMAIN', 'UUID'], ...all.map((x) => [x.id, x.error ? 'unreadable' : `${x.state || '-'}${x.stopped ? ', stopped' : ''}${x.unfinished.length ? `, ${x.unfinished.length} unfinished` : ''}`, x.domain ? `${stateWithReason(x.domain)}${x.mismatched ? MISMATCHED : ''}` : '-', x.domain?.uuid ?? '-'])]);
    for (const x of all) if (x.error) io.stderr(`domforge: ${x.id}: ${x.error.message}\n`);
  });

  common(
    program
      .command('describe')
      .description("Show an instance's record and its domain.")
      .argument('<id>', 'instance id')
      .option('--xml', 'also print the live domain XML'),
  ).action(async (id: string, o: CommonOptions & { xml?: boolean }) => {
    const d = await withController(io, o, (nc) => nc.describe(id, { xml: o.xml }));
    if (o.json) return json(io, d);
    io.stdout(`${d.id}\n  folder: ${d.dir}\n  record state: ${d.state || '-'}${d.stopped ? ' (stopped: start runs it again)' : ''}\n`);
    io.stdout(d.domain ? `  domain: ${d.domain.name} uuid ${d.domain.uuid} state ${stateWithReason(d.domain)}${d.domain.persistent ? '' : ' (transient)'}${d.mismatched ? `${MISMATCHED}: not this instance (record uuid ${d.instance.uuid})` : ''}\n` : '  domain: none\n');
    io.stdout(`  type: ${d.instance.VmType || '-'}, ${d.instance.cores} vCPU, ${d.instance.memoryKB} KiB\n`);
    for (const v of d.volumes) io.stdout(`  volume: ${v.id} as ${v.devName} (${v.stateName})\n`);
    for (const n of d.interfaces) {
      const attachment = n.attachmentId ? ` attachment ${n.attachmentId}` : '';
      // Eucalyptus writes 0.0.0.0 for "no address".
      const ip = (label: string, v: string) => (v && v !== '0.0.0.0' ? ` ${label} ${v}` : '');
      io.stdout(`  interface: device ${n.device ?? 0} mac ${n.mac} on ${n.bridgeDeviceName || '-'}${ip('private', n.privateIp)}${ip('public', n.publicIp)}${attachment} (${n.stateName || 'attached'})\n`);
    }
    for (const u of d.unfinished) io.stdout(`  unfinished: ${u}\n`);
    if (d.domainXml) io.stdout(d.domainXml.endsWith('\n') ? d.domainXml : d.domainXml + '\n');
  });

  common(
    program
      .command('adopt')
      .description("After a restart: the controller's start hooks (pre-init, pre-hyp-check, post-init), then match instance folders with libvirt's domains, run pre-adopt hooks, report the rest.")
      .option('--resume', 'after a host reboot: start again the shut-off domains of adopted instances that were not stopped'),
  ).action(
    async (o: CommonOptions & { resume?: boolean }) => {
      // adopt is what a node controller runs when it starts on a host: the start events come
      // first, and the first Ctrl-C or SIGTERM stops their hooks as it stops the pre-adopt ones.
      const report = await interruptible(
        io,
        'the adopt',
        (signal) =>
          withController(io, o, (nc) => nc.adopt({ resume: o.resume === true, signal }), true, { initHooks: true, signal }).catch((e: unknown) => {
            if (!(e instanceof StartCancelledError)) throw e;
            throw new CancelledError(`adopt cancelled (${e.reason}) at the ${e.event} hooks of the controller's start (stopped); none adopted; run adopt again`, { cause: e, reason: e.reason });
          }),
        'stopped',
      );
      if (o.json) return json(io, report);
      printAdoptReport(io, report);
    },
  );

  common(
    program
      .command('attach-interface')
      .description(
        'Hot-plug a network interface (Eucalyptus ENI): its <nic> stub rendered by the transform, validated, pre-attach hooks, attached live and to the persistent configuration, recorded in instance.xml. Rolls back on any failure.',
      )
      .argument('<id>', 'instance id')
      .requiredOption('--nic <file>', 'the <nic> stub (eni-XXX.xml); it needs mac, device and attachmentId')
      .option('--interface-id <eni>', "interface id naming the files eni-XXX.xml and eni-XXX-libvirt.xml (default: the stub file's name without .xml)"),
  ).action(async (id: string, o: CommonOptions & { nic: string; interfaceId?: string }) => {
    const nic = await readInterfaceStubFile(o.nic);
    const attachment = o.interfaceId === undefined ? nic : { ...nic, interfaceId: o.interfaceId };
    const r = await withController(io, o, (nc) => interruptible(io, `the attachment of ${attachment.interfaceId} to ${id}`, (signal) => nc.attachInterface(id, attachment, { signal })), true);
    if (o.json) return json(io, r);
    const mac = firstChild(parseXml(r.deviceXml).documentElement!, 'mac')?.getAttribute('address');
    io.stdout(`attached ${r.deviceId} to ${r.id}${mac ? ` (mac ${mac})` : ''}: ${changeText(r)}\n`);
    for (const w of r.warnings) io.stderr(`domforge: warning: ${w}\n`);
    io.stdout(r.deviceXml.endsWith('\n') ? r.deviceXml : r.deviceXml + '\n');
  });

  common(
    program
      .command('detach-interface')
      .description('Hot-unplug a network interface by its attachment id, remove it from instance.xml, run post-detach hooks.')
      .argument('<id>', 'instance id')
      .argument('<attachment-id>', 'the attachment id (eni-attach-XXX) given at attach'),
  ).action(async (id: string, attachmentId: string, o: CommonOptions) => {
    const r = await withController(io, o, (nc) => interruptible(io, `the detach of ${attachmentId} from ${id}`, (signal) => nc.detachInterface(id, attachmentId, { signal }), 'stopped'), true);
    if (o.json) return json(io, r);
    io.stdout(`detached ${r.deviceId} (${attachmentId}) from ${r.id}${detachNote(r)}\n`);
    for (const f of r.postDetachFailures) io.stderr(`domforge: warning: ${f.fullMessage}\n`);
  });

  registerVolumes(program, io);
};

/**
 * attach-volume and detach-volume. Their input (the instance id, the stub or the flags, the
 * volume id) is checked before the controller opens, which creates the instances folder: a
 * refused input writes nothing.
 */
function registerVolumes(program: Command, io: CliIo): void {
  const attach = program
    .command('attach-volume')
    .description(
      'Hot-plug a volume (Eucalyptus EBS), from its <volume> stub or from flags: rendered by the transform into a <disk>, validated, pre-attach hooks, attached live and to the persistent configuration, recorded in instance.xml. Rolls back on any failure.',
    )
    .argument('<id>', 'instance id');
  for (const option of volumeOptions()) attach.addOption(option);
  common(attach).action(async (id: string, o: CommonOptions & VolumeFlags) => {
    checkInstanceId(id);
    const { volume, stub } = await volumeOf(o);
    const { r, unused } = await withController(io, o, async (nc) => {
      // What the stub says that the attachment will not use. A record that cannot be read is the attach's to report.
      const record = stub && (await nc.describe(id).then((d) => d.instance, () => undefined));
      const unused = stub && record ? volumeStubDifferences(stub, record) : [];
      return { r: await interruptible(io, `the attachment of ${volume.id} to ${id}`, (signal) => nc.attachVolume(id, volume, { signal })), unused };
    }, true);
    const warnings = [...unused, ...r.warnings];
    if (o.json) return json(io, { ...r, warnings });
    const target = firstChild(parseXml(r.deviceXml).documentElement!, 'target')?.getAttribute('dev');
    io.stdout(`attached ${r.deviceId} to ${r.id} as ${volume.devName}${target ? ` (target ${target})` : ''}: ${changeText(r)}\n`);
    for (const w of warnings) io.stderr(`domforge: warning: ${w}\n`);
    io.stdout(r.deviceXml.endsWith('\n') ? r.deviceXml : r.deviceXml + '\n');
  });

  common(
    program
      .command('detach-volume')
      .description('Hot-unplug a volume, remove it from instance.xml, run post-detach hooks.')
      .argument('<id>', 'instance id')
      .argument('<volume-id>', 'the volume id (vol-XXX) given at attach'),
  ).action(async (id: string, volumeId: string, o: CommonOptions) => {
    checkInstanceId(id);
    checkDeviceId(volumeId, 'volume id');
    const r = await withController(io, o, (nc) => interruptible(io, `the detach of ${volumeId} from ${id}`, (signal) => nc.detachVolume(id, volumeId, { signal }), 'stopped'), true);
    if (o.json) return json(io, r);
    io.stdout(`detached ${r.deviceId} from ${r.id}${detachNote(r)}\n`);
    for (const f of r.postDetachFailures) io.stderr(`domforge: warning: ${f.fullMessage}\n`);
  });
}

/** What a detach's line adds: that it finished an earlier detach, that the domain no longer had the device. */
function detachNote(r: DetachResult): string {
  const notes = [r.resumed && 'finished the detach an earlier one began', !r.detachedFromDomain && 'the domain no longer had it; record cleaned'].filter(Boolean);
  return notes.length ? `: ${notes.join('; ')}` : '';
}

/** `live and persistent (METHOD)`, and what a resumed attach adds: that it finished an earlier one, and that the domain held the device already. */
function changeText(r: AttachResult): string {
  const c: AttachChange = r.change;
  const where = [c.live && 'live', c.config && 'persistent'].filter(Boolean).join(' and ') || 'nowhere';
  const how = c.method === 'none' ? 'the domain held it already' : `${c.method}${c.restarted ? ', domain restarted' : ''}`;
  return `${where} (${how})${r.resumed ? '; finished the attach an earlier one began' : ''}`;
}

function printAdoptReport(io: CliIo, r: AdoptReport): void {
  for (const a of r.adopted) {
    const resume = a.resumed ? ', started again' : a.notResumed ? `, left off: ${a.notResumed}` : '';
    io.stdout(`adopted ${a.id}: domain ${stateWithReason(a.domain)}${resume}\n`);
    for (const u of a.unfinished ?? []) io.stdout(`  unfinished: ${u}\n`);
  }
  for (const x of r.refused) io.stdout(`refused ${x.id}: ${x.error.shortMessage}\n`);
  for (const x of r.missingDomain) io.stdout(`no domain ${x.id}: the record says ${x.state || 'nothing'} but libvirt has no such domain\n`);
  for (const x of r.incomplete) io.stdout(`incomplete ${x.id}: ${x.state ? `record state ${x.state}` : x.reason}${x.domain ? `, domain ${stateWithReason(x.domain)}` : ', no domain'}\n`);
  for (const x of r.mismatched) io.stdout(`mismatched ${x.id}: domain uuid ${x.domain.uuid}, record uuid ${x.recordUuid}\n`);
  for (const x of r.unreadable) io.stdout(`unreadable ${x.id}: ${x.error.message}\n`);
  for (const d of r.untracked) io.stdout(`untracked domain ${d.name}: ${d.state}, no instance folder\n`);
  const n = (k: keyof AdoptReport) => r[k].length;
  io.stdout(
    `${n('adopted')} adopted, ${n('refused')} refused, ${n('missingDomain')} without domain, ${n('incomplete')} incomplete, ${n('mismatched')} mismatched, ${n('unreadable')} unreadable, ${n('untracked')} untracked domains\n`,
  );
}
