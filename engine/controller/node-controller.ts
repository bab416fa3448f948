import { readInstanceJsonFile } from '../instance/from-json.js';
import { isJsonInstancePath } from '../instance/input.js';
import type { Instance } from '../instance/model.js';
import { readInstanceFile } from '../instance/parse.js';
import { UsageError } from '../errors.js';
import { expectOptions, expectStringList } from '../option-checks.js';
import { adopt, type AdoptOptions, type AdoptReport } from './adopt.js';
import { attachDevice, type AttachOptions, type AttachResult } from './devices.js';
import { detachDevice, type DetachOptions, type DetachResult } from './detach.js';
import { consoleOutput, type ConsoleOutput, type ConsoleOutputOptions } from './console-output.js';
import { describe, list, reboot, stats, statsAll, type DescribeOptions, type InstanceDetails, type InstanceStats, type InstanceSummary, type RebootOptions, type StatsReport } from './inspect.js';
import { launch, type LaunchOptions, type LaunchResult } from './launch.js';
import { describeResource, type DescribeResourceOptions, type ResourceReport } from './resources.js';
import { assignAddress, type AssignAddressResult } from './address.js';
import { readNodeState, writeNodeState, type NodeState } from './node-state.js';
import { packageVersion } from '../version.js';
import { start, stop, type StartResult, type StopOptions, type StopResult } from './power.js';
import { createContext, type ControllerContext, type NodeControllerOptions } from './options.js';
import { terminate, type TerminateOptions, type TerminateResult } from './terminate.js';
import { attachInterfaceSpec, detachInterfaceSpec, readInterfaceStubFile, type InterfaceAttachment } from './interfaces.js';
import { attachVolumeSpec, detachVolumeSpec, type VolumeAttachment } from './volumes.js';
import type { DomainSummary } from '../libvirt/connection.js';
import type { InstanceLayout } from './layout.js';

/**
 * The library facade a node-controller process uses: the whole life of an instance on
 * one host, through libvirt, with Eucalyptus's nc-hooks.
 *
 * ```ts
 * const nc = await NodeController.open({ instancesDir: '/var/lib/domforge/instances', uri: 'qemu:///system', hooksDir: '/etc/domforge/hooks' });
 * await nc.adopt();                                   // after a restart
 * const r = await nc.launch('instance.xml');          // or an Instance object
 * await nc.attachVolume(r.id, { id: 'vol-1a2b3c4d', devName: 'sdf', path: '/dev/mapper/vol-1a2b3c4d' });
 * await nc.attachInterface(r.id, 'eni-1a2b3c4d.xml');  // or an InterfaceAttachment
 * await nc.detachInterface(r.id, 'eni-attach-1a2b3c4d');
 * await nc.terminate(r.id);
 * ```
 *
 * Operations on one instance run one at a time (a second launch of an id in progress is
 * refused); operations on different instances run concurrently. The instances folder is
 * the state: every method reads the instance's record from its folder, so a new
 * controller over the same folder and connection sees what an earlier one did.
 */
export class NodeController {
  private closed = false;
  /** Aborted by `close({ cancel: true })`: every launch and attachment under way is cancelled. */
  private readonly closing = new AbortController();

  private constructor(private readonly ctx: ControllerContext) {}

  /** Checks the options, creates the instances folder if needed, and connects to libvirt (LIBVIRT_UNAVAILABLE when the binding is missing). */
  static async open(options: NodeControllerOptions): Promise<NodeController> {
    return new NodeController(await createContext(options));
  }

  /** The libvirt URI in use. */
  get uri(): string {
    return this.ctx.uri;
  }

  /** Where each instance's files are. */
  get layout(): InstanceLayout {
    return this.ctx.layout;
  }

  /** Ids this controller launched or adopted (and has not terminated). */
  get tracked(): ReadonlySet<string> {
    return this.ctx.tracked;
  }

  /**
   * Launches an instance given as an Instance or the path of an instance.xml (or a `.json`
   * description). See launch.ts for the steps; a failure is an OperationError naming the
   * step, after everything the launch did has been undone.
   */
  async launch(instance: Instance | string, options: LaunchOptions = {}): Promise<LaunchResult> {
    this.open_();
    expectOptions('launch', options);
    const parsed = typeof instance === 'string' ? await readInstance(instance) : instance;
    return this.cancellable(options.signal, (signal) => launch(this.ctx, parsed, { ...options, signal }));
  }

  /** pre-clean hooks → destroy → undefine → remove (or keep) the instance's files. */
  async terminate(id: string, options: TerminateOptions = {}): Promise<TerminateResult> {
    this.open_();
    expectOptions('terminate', options);
    return this.cancellable(options.signal, (signal) => terminate(this.ctx, id, { ...options, signal }));
  }

  /** Destroy and start again from the persistent configuration (after an optional graceful shutdown). */
  async reboot(id: string, options: RebootOptions = {}): Promise<DomainSummary> {
    this.open_();
    expectOptions('reboot', options);
    return reboot(this.ctx, id, options);
  }

  /**
   * ncStopInstance: records the stop (`states/isStopRequested`), asks the guest to shut down
   * and destroys it after `graceMs` (default 60 s; 0 at once). The folder, the record and the
   * persistent domain stay, shut off, for `start` or `terminate`. No hooks run. See power.ts.
   */
  async stop(id: string, options: StopOptions = {}): Promise<StopResult> {
    this.open_();
    expectOptions('stop', options);
    return stop(this.ctx, id, options);
  }

  /** ncStartInstance: starts a stopped instance's domain from its persistent configuration and clears the stop flag; records `bootTime`. */
  async start(id: string): Promise<StartResult> {
    this.open_();
    return start(this.ctx, id);
  }

  /**
   * The counters of the instance's domain now: CPU time, vCPUs, memory, and per disk and per
   * interface on a daemon URI (through `virsh domstats`). Two samples give Eucalyptus's sensor
   * values (CPUUtilization, NetworkIn…): see `sensorValues`. Changes nothing.
   */
  async stats(id: string): Promise<InstanceStats> {
    this.open_();
    return stats(this.ctx, id);
  }

  /**
   * The counters of several instances at once (the given ids, or every instance folder), with
   * one `virsh domstats` for all their devices: Eucalyptus's DescribeSensors sweep. Instances
   * that cannot be read are in `skipped` with the reason. Changes nothing.
   */
  async statsAll(ids?: readonly string[]): Promise<StatsReport> {
    this.open_();
    expectStringList('the ids of `statsAll`', ids, 'instance ids');
    return statsAll(this.ctx, ids);
  }

  /**
   * ncAssignAddress: records the instance's public address (`0.0.0.0`: none) on its primary
   * interface in instance.xml; nothing else changes (see address.ts).
   */
  async assignAddress(id: string, publicIp: string): Promise<AssignAddressResult> {
    this.open_();
    return assignAddress(this.ctx, id, publicIp);
  }

  /** Whether this node takes new instances (Eucalyptus's node status), from `INSTANCES/nc_state.xml`; see node-state.ts. */
  async nodeState(): Promise<NodeState> {
    this.open_();
    return readNodeState(this.ctx.layout);
  }

  /**
   * ncModifyNode: `disabled` refuses every launch and start from then on — this controller's
   * and any other's on the same instances folder — until `enabled`; what runs keeps running,
   * and terminate, stop, reboot, attach and detach still work. Recorded in `INSTANCES/nc_state.xml`.
   */
  async modifyNode(status: 'enabled' | 'disabled'): Promise<NodeState & { createdFolder: boolean }> {
    this.open_();
    if (status !== 'enabled' && status !== 'disabled') {
      throw new UsageError(`Expected the node status to be \`enabled\` or \`disabled\`, got \`${String(status)}\` (${typeof status})`);
    }
    return writeNodeState(this.ctx.layout, status === 'enabled', `domforge ${packageVersion()}`);
  }

  /** The instance's record and its domain as libvirt reports it. */
  async describe(id: string, options: DescribeOptions = {}): Promise<InstanceDetails> {
    this.open_();
    expectOptions('describe', options);
    return describe(this.ctx, id, options);
  }

  /**
   * ncGetConsoleOutput: the last `maxBytes` (64 KiB) of the instance's serial console log,
   * read from its record's consoleLogPath, which must lie in the instance folder. A console
   * that is not a file (a pty, a Hyper-V pipe) or a log not written yet is a
   * ConsoleUnavailableError saying so; see console-output.ts.
   */
  async consoleOutput(id: string, options: ConsoleOutputOptions = {}): Promise<ConsoleOutput> {
    this.open_();
    expectOptions('consoleOutput', options);
    return consoleOutput(this.ctx, id, options);
  }

  /** Every instance folder with its domain. */
  async list(): Promise<InstanceSummary[]> {
    this.open_();
    return list(this.ctx);
  }

  /**
   * Eucalyptus's ncDescribeResource: the host's memory, CPUs and disk as a maximum and as what
   * is available, with what every instance folder commits (see resources.ts for what counts).
   */
  async describeResource(options: DescribeResourceOptions = {}): Promise<ResourceReport> {
    this.open_();
    return describeResource(this.ctx, options);
  }

  /** Renders a `<volume>` stub to a `<disk>`, runs pre-attach hooks, hot-plugs it and records it. */
  async attachVolume(id: string, volume: VolumeAttachment, options: AttachOptions = {}): Promise<AttachResult> {
    this.open_();
    expectOptions('attachVolume', options);
    return this.cancellable(options.signal, (signal) => attachDevice(this.ctx, id, attachVolumeSpec(volume), { ...options, signal }));
  }

  /** Hot-unplugs a volume, records it, runs post-detach hooks. */
  async detachVolume(id: string, volumeId: string, options: DetachOptions = {}): Promise<DetachResult> {
    this.open_();
    expectOptions('detachVolume', options);
    return this.cancellable(options.signal, (signal) => detachDevice(this.ctx, id, detachVolumeSpec(volumeId), { signal }));
  }

  /**
   * Attaches a network interface (a Eucalyptus ENI): its `<nic>` stub is written as
   * `eni-XXX.xml`, rendered by the same transform (`/nic` entry point) into an `<interface>`,
   * validated against the schema and the running domain, passed through the XML filters and
   * the `euca-nc-pre-attach` hooks (as `eni-XXX-libvirt.xml`, read back and validated again),
   * attached live and to the persistent configuration, and recorded in instance.xml's `nics`.
   * A MAC, device index or attachment id already used by the instance is a STATE_CONFLICT
   * before libvirt is called. `nic` is an InterfaceAttachment or the path of an `eni-XXX.xml`
   * stub (the interface id is its base name).
   */
  async attachInterface(id: string, nic: InterfaceAttachment | string, options: AttachOptions = {}): Promise<AttachResult> {
    this.open_();
    expectOptions('attachInterface', options);
    const attachment = typeof nic === 'string' ? await readInterfaceStubFile(nic) : nic;
    return this.cancellable(options.signal, (signal) => attachDevice(this.ctx, id, attachInterfaceSpec(attachment), { ...options, signal }));
  }

  /** Hot-unplugs the interface of an attachment id, removes it from instance.xml, runs post-detach hooks with its XML's path. */
  async detachInterface(id: string, attachmentId: string, options: DetachOptions = {}): Promise<DetachResult> {
    this.open_();
    expectOptions('detachInterface', options);
    return this.cancellable(options.signal, (signal) => detachDevice(this.ctx, id, detachInterfaceSpec(attachmentId), { signal }));
  }

  /**
   * Rebuilds the state after a restart: matches instance folders with libvirt's domains, runs
   * pre-adopt hooks. With `resume`, starts again the shut-off domains of instances that were not
   * stopped (after a host reboot). See adopt.ts.
   */
  async adopt(options: AdoptOptions = {}): Promise<AdoptReport> {
    this.open_();
    expectOptions('adopt', options);
    return this.cancellable(options.signal, (signal) => adopt(this.ctx, { ...options, signal }));
  }

  /**
   * Refuses new operations and waits for the running ones. With `cancel`, the operations
   * under way that run hooks are cancelled first, as by their own signal: a launch or attach
   * stops at its next step and undoes what it did; a terminate, detach or adopt stops (its
   * running hook killed) and says what is left — a controller asked to stop does not wait
   * out slow hooks. The pooled libvirt connection stays open (other controllers in the process may
   * share it; `closeConnections()` closes it).
   */
  async close(options: { cancel?: boolean } = {}): Promise<void> {
    expectOptions('close', options);
    this.closed = true;
    if (options.cancel) this.closing.abort('the controller is closing');
    await this.ctx.locks.idle();
    await this.ctx.release();
  }

  /**
   * Runs `f` with a signal aborted by the caller's `signal`, if any, or by the controller's own
   * (`close({ cancel: true })`). The listeners go when `f` ends: a caller's long-lived signal
   * keeps nothing of the operations it was given to.
   */
  private async cancellable<T>(signal: AbortSignal | undefined, f: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const own = this.closing.signal;
    if (!signal) return f(own);
    const both = new AbortController();
    const follow = (from: AbortSignal) => () => both.abort(from.reason);
    const [fromCaller, fromClose] = [follow(signal), follow(own)];
    if (signal.aborted) fromCaller();
    else if (own.aborted) fromClose();
    signal.addEventListener('abort', fromCaller, { once: true });
    own.addEventListener('abort', fromClose, { once: true });
    try {
      return await f(both.signal);
    } finally {
      signal.removeEventListener('abort', fromCaller);
      own.removeEventListener('abort', fromClose);
    }
  }

  private open_(): void {
    if (this.closed) throw new UsageError('this NodeController is closed');
  }
}

/** The instance `launch` takes as a path: an instance.xml, or a `.json` description by its name. */
export async function readInstance(file: string): Promise<Instance> {
  if (typeof file !== 'string' || file === '') throw new UsageError('Expected an Instance or the path of an instance.xml');
  return isJsonInstancePath(file) ? readInstanceJsonFile(file) : readInstanceFile(file);
}
