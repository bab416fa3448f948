import { UsageError } from '../errors.js';
import { expectTimerMs } from '../option-checks.js';
import type { BindingDomain, BindingHypervisor } from './binding.js';
import { domainStateName, type DomainStateName } from './domain-state.js';
import { VIR_ERR_NO_DOMAIN, VIR_ERR_OPERATION_INVALID } from './error-codes.js';
import { LibvirtError, toLibvirtError } from './errors.js';
import { readDevicesOfDomains, type DomainStats } from './domstats.js';
import { attachDevice, detachDevice, type DeviceChangeOptions, type DeviceChangeResult } from './hotplug.js';
import { readStateReasons } from './state-reasons.js';
import { isTestDriverUri } from './uri.js';
import { runVirsh } from './virsh.js';

/** libvirt's refusals of a plain undefine for what it keeps beside the definition (qemu driver's messages). */
const KEPT_BESIDE_DEFINITION = /managed save image|with \d+ snapshots?|with \d+ checkpoints?|with nvram/i;

/** A domain is named by its name or its UUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`). */
export type DomainId = string;

/**
 * A domain named by name or UUID, or by a DomainRef this connection returned (from
 * define, lookup, find or list). A ref reuses the domain object libvirt gave with it, so
 * the call makes no lookup first (one round trip less to the daemon); libvirt still
 * finds the domain by its UUID, so a ref whose domain has gone fails as a name would.
 * A copy of a ref (`{ ...ref }`) is looked up by its UUID.
 */
export type DomainTarget = DomainId | DomainRef;

/** Who a domain is: what `define`, `lookup` and `list` return. */
export interface DomainRef {
  name: string;
  uuid: string;
  /** Hypervisor id while running, else null. */
  id: number | null;
}

export interface DomainSummary extends DomainRef {
  state: DomainStateName;
  /** Running (or paused...): has a live configuration. */
  active: boolean;
  /** Has a persistent (inactive) configuration; false for a transient domain. */
  persistent: boolean;
  /**
   * Why it is in its state, in virsh's words (`crashed`, `destroyed`, `shutdown`, `booted`…),
   * where it is known: read through virsh on daemon URIs by `describe` and `list` (see state-reasons.ts).
   */
  reason?: string;
}

export interface DomainInfo {
  state: DomainStateName;
  /** `virDomainState` number. */
  stateCode: number;
  maxMemoryKiB: number;
  memoryKiB: number;
  vcpus: number;
  cpuTimeNs: number;
}

/**
 * The host as libvirt reports it (virNodeGetInfo; `virsh nodeinfo` prints the same figures).
 * libvirt's names, with what its struct's documentation says made explicit in the name: its
 * `sockets` counts the sockets of one NUMA node, `cores` the cores of one socket, `threads`
 * the threads of one core (on a topology libvirt cannot describe so, `nodes` and `sockets` are
 * 1 and `cores` is every CPU: the capabilities XML has the real one).
 */
export interface NodeInfo {
  /** The CPU model libvirt reports (`x86_64`; the test driver says `i686`). */
  model: string;
  /** The host's memory, KiB. */
  memoryKiB: number;
  /** Active CPUs. */
  cpus: number;
  /** Expected CPU frequency, MHz (0 when libvirt cannot tell). */
  mhz: number;
  /** NUMA nodes (cells). */
  nodes: number;
  socketsPerNode: number;
  coresPerSocket: number;
  threadsPerCore: number;
}

export interface GetXmlOptions {
  /** The persistent configuration instead of the live one (VIR_DOMAIN_XML_INACTIVE). Default false. */
  inactive?: boolean;
  /** Include security-sensitive data such as VNC passwords (VIR_DOMAIN_XML_SECURE). Default false. */
  secure?: boolean;
}

/** How {@link LibvirtConnection.powerOff} stopped a domain. */
export type PowerOffOutcome = 'was-off' | 'shut-down' | 'destroyed';

/** A grace period in ms as the lifecycle calls take it: a non-negative integer a timer can hold (`fallback` when not given), else a usage error. */
export function checkGrace(graceMs: unknown, fallback = 0): number {
  expectTimerMs('graceMs', graceMs);
  return (graceMs as number | undefined) ?? fallback;
}

export interface RebootOptions {
  /**
   * Ask the guest to shut down (ACPI) and wait up to this many ms before pulling the
   * plug; 0 (the default) destroys at once. Either way the domain is then started again
   * from its persistent configuration, as a Eucalyptus NC reboot does.
   */
  graceMs?: number;
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
// virConnectListAllDomainsFlags (libvirt-domain.h)
const LIST_ACTIVE = 1;
const LIST_INACTIVE = 2;
const LIST_PERSISTENT = 4;
// virDomainXMLFlags
const XML_SECURE = 1;
const XML_INACTIVE = 2;

/**
 * One open libvirt connection (get it from `connect()`, which keeps one per URI).
 * Every method names its domain by name or UUID and turns libvirt's failures into
 * LibvirtError carrying the operation, the domain, the URI and libvirt's message and code.
 */
export class LibvirtConnection {
  private closedFlag = false;
  /**
   * The binding's domain object behind each ref this connection returned (see DomainTarget),
   * with the generation of the connection it came from: one from before a reconnect is dead.
   */
  private readonly handles = new WeakMap<DomainRef, { d: BindingDomain; generation: number }>();
  /** Counts reconnects: a call that failed on an older generation does not reconnect again. */
  private generation = 0;
  private reconnecting?: Promise<void>;
  private readonly reopenChecks = new Set<() => Promise<void>>();
  private reconnectCount = 0;

  /**
   * `reopen` opens a fresh binding connection to the same URI: given, a call that finds the
   * connection broken (libvirtd restarted or was stopped) reconnects through it (see `call`).
   * The pool gives one for every URI but the test driver's, whose domains live in this process
   * and never lose their connection.
   */
  constructor(
    readonly uri: string,
    private hypervisor: BindingHypervisor,
    private readonly onClose: () => void = () => undefined,
    private readonly reopen?: () => Promise<BindingHypervisor>,
  ) {}

  /** How many times this connection reopened itself after libvirt's end of it broke. */
  get reconnects(): number {
    return this.reconnectCount;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Defines (or redefines) a persistent domain from XML; does not start it. */
  async define(xml: string): Promise<DomainRef> {
    // Defining the same XML again only redefines it: safe to repeat after a reconnect.
    return this.retrying(async () => this.refOf(await this.call('define', undefined, () => this.hypervisor.domainDefineXML(xml)), 'define'), true);
  }

  /** Creates and starts a transient domain (gone once destroyed). */
  async createTransient(xml: string): Promise<DomainRef> {
    return this.retrying(async () => this.refOf(await this.call('create', undefined, () => this.hypervisor.domainCreateXML(xml)), 'create'), false);
  }

  /** Starts a defined domain (virDomainCreate). */
  async start(domain: DomainTarget): Promise<void> {
    await this.onDomain('start', domain, (d) => d.create(), false);
  }

  /** Stops a running domain at once (virDomainDestroy: pulls the plug). */
  async destroy(domain: DomainTarget): Promise<void> {
    await this.onDomain('destroy', domain, (d) => d.destroy(), false);
  }

  /** Asks the guest to shut down (ACPI); returns without waiting. */
  async shutdown(domain: DomainTarget): Promise<void> {
    await this.onDomain('shutdown', domain, (d) => d.shutdown(), false);
  }

  /**
   * Removes the persistent configuration (a running domain becomes transient). With
   * `everything`, what libvirt keeps beside a definition and for which it refuses a plain
   * undefine goes too: a managed save image (`virsh managedsave`, or libvirt-guests'
   * `ON_SHUTDOWN=suspend` at a host's shutdown), snapshot and checkpoint metadata, a UEFI
   * guest's NVRAM. The binding takes no undefine flags: on that refusal (daemon URIs), the
   * domain is undefined with `virsh undefine --managed-save --snapshots-metadata
   * --checkpoints-metadata --nvram`.
   */
  async undefine(domain: DomainTarget, o: { everything?: boolean } = {}): Promise<void> {
    try {
      await this.onDomain('undefine', domain, (d) => d.undefine(), false);
    } catch (e) {
      if (!o.everything || !(e instanceof LibvirtError) || e.libvirtCode !== VIR_ERR_OPERATION_INVALID || !KEPT_BESIDE_DEFINITION.test(e.message) || isTestDriverUri(this.uri)) throw e;
      const id = typeof domain === 'string' ? domain : domain.uuid;
      await runVirsh(['undefine', '--managed-save', '--snapshots-metadata', '--checkpoints-metadata', '--nvram', '--', id], {
        uri: this.uri,
        operation: 'undefine (with its managed save image, snapshot metadata and NVRAM)',
        domain: typeof domain === 'string' ? domain : domain.name,
        timeoutMs: 60_000,
      });
    }
  }

  /** The domain, or a LibvirtError (VIR_ERR_NO_DOMAIN when there is none). */
  async lookup(domain: DomainId): Promise<DomainRef> {
    return this.retrying(async () => this.refOf(await this.lookupRaw(domain), 'lookup', domain), true);
  }

  /** The domain, or undefined when libvirt has none by that name/UUID. Other failures throw. */
  async find(domain: DomainId): Promise<DomainRef | undefined> {
    try {
      return await this.lookup(domain);
    } catch (e) {
      if (e instanceof LibvirtError && e.libvirtCode === VIR_ERR_NO_DOMAIN) return undefined;
      throw e;
    }
  }

  /** Every domain, active and inactive, with its state. */
  async list(): Promise<DomainSummary[]> {
    return this.retrying(() => this.listOnce(), true);
  }

  private async listOnce(): Promise<DomainSummary[]> {
    const [all, persistent] = await this.call('list', undefined, () =>
      Promise.all([
        this.hypervisor.connectListAllDomains(LIST_ACTIVE | LIST_INACTIVE),
        this.hypervisor.connectListAllDomains(LIST_PERSISTENT),
      ]),
    );
    const persistentUuids = new Set(await Promise.all(persistent.map((d) => this.call('list', undefined, () => d.getUUIDString()))));
    const out: DomainSummary[] = [];
    for (const d of all) {
      try {
        const [ref, info] = await Promise.all([this.refOf(d, 'list'), this.call('list', undefined, () => d.getInfo())]);
        const state = domainStateName(info.state);
        const summary: DomainSummary = { ...ref, state, active: ref.id !== null, persistent: persistentUuids.has(ref.uuid) };
        this.handles.set(summary, { d, generation: this.generation });
        out.push(summary);
      } catch (e) {
        // A transient domain destroyed between the listing and the query is simply gone.
        if (e instanceof LibvirtError && e.libvirtCode === VIR_ERR_NO_DOMAIN) continue;
        throw e;
      }
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The domain's XML as libvirt holds it: live by default, `inactive: true` for the persistent configuration. */
  async getXML(domain: DomainTarget, options: GetXmlOptions = {}): Promise<string> {
    const flags = (options.inactive ? XML_INACTIVE : 0) | (options.secure ? XML_SECURE : 0);
    return this.onDomain('get-xml', domain, (d) => d.getXMLDesc(flags), true);
  }

  async getInfo(domain: DomainTarget): Promise<DomainInfo> {
    const i = await this.onDomain('get-info', domain, (d) => d.getInfo(), true);
    return {
      state: domainStateName(i.state),
      stateCode: i.state,
      maxMemoryKiB: i.maxMem,
      memoryKiB: i.memory,
      vcpus: i.nrVirtCpu,
      cpuTimeNs: i.cpuTime,
    };
  }

  /**
   * The domain's counters now: CPU time, vCPUs and memory (virDomainGetInfo), and per disk and
   * per interface through `virsh domstats` on a daemon URI (none on a test:// URI: see
   * domstats.ts). `takenAtMs` is when the CPU time was read, to the fraction of a ms.
   */
  async stats(domain: DomainTarget, options: { virsh?: string } = {}): Promise<DomainStats> {
    const ref = typeof domain === 'string' ? await this.lookup(domain) : domain;
    return (await this.statsOf([ref], options))[0]!;
  }

  /** `stats` of several domains, in their order, with one `virsh domstats` for all their devices. */
  async statsOf(refs: readonly DomainRef[], options: { virsh?: string } = {}): Promise<DomainStats[]> {
    const devices = readDevicesOfDomains({ uri: this.uri, domains: refs.map((r) => r.name), virsh: options.virsh });
    // Keep a failed virsh from being an unhandled rejection while getInfo runs; it is awaited below.
    devices.catch(() => undefined);
    const infos = await Promise.all(
      refs.map(async (ref) => {
        const takenAtMs = performance.timeOrigin + performance.now();
        return { takenAtMs, info: await this.getInfo(ref) };
      }),
    );
    const d = await devices;
    return infos.map(({ takenAtMs, info }, i) => ({
      takenAtMs,
      state: info.state,
      cpuTimeNs: info.cpuTimeNs,
      vcpus: info.vcpus,
      memoryKiB: info.memoryKiB,
      maxMemoryKiB: info.maxMemoryKiB,
      ...(d instanceof Map ? (d.get(refs[i]!.name) ?? { disks: [], interfaces: [] }) : { unavailable: d.unavailable }),
    }));
  }

  async getState(domain: DomainTarget): Promise<DomainStateName> {
    return (await this.getInfo(domain)).state;
  }

  /** The host's CPUs and memory (virNodeGetInfo). */
  async nodeInfo(): Promise<NodeInfo> {
    const i = await this.retrying(() => this.call('node-info', undefined, () => this.hypervisor.nodeGetInfo()), true);
    return {
      model: i.model,
      memoryKiB: i.memory,
      cpus: i.cpus,
      mhz: i.mhz,
      nodes: i.nodes,
      socketsPerNode: i.sockets,
      coresPerSocket: i.cores,
      threadsPerCore: i.threads,
    };
  }

  /** Whether the domain has a persistent configuration. */
  async isPersistent(domain: DomainTarget): Promise<boolean> {
    const ref = typeof domain === 'string' ? await this.lookup(domain) : domain;
    return this.retrying(async () => {
      const persistent = await this.call('list', undefined, () => this.hypervisor.connectListAllDomains(LIST_PERSISTENT));
      const uuids = await this.call('list', undefined, () => Promise.all(persistent.map((d) => d.getUUIDString())));
      return uuids.includes(ref.uuid);
    }, true);
  }

  /**
   * Restarts a persistent domain: optional graceful shutdown (`graceMs`), then destroy,
   * then start from the persistent configuration. The binding has no virDomainReboot;
   * this is also what a Eucalyptus NC does, so attached devices come back from the config.
   */
  async reboot(domain: DomainId, options: RebootOptions = {}): Promise<void> {
    const graceMs = checkGrace(options.graceMs);
    if (!(await this.isPersistent(domain))) {
      throw new LibvirtError({
        operation: 'reboot',
        domain,
        uri: this.uri,
        libvirtMessage: 'Requested operation is not valid: cannot reboot a transient domain by destroy and start',
      });
    }
    const outcome = await this.powerOff(domain, { graceMs });
    // A domain shut off by a managed save (virsh managedsave, libvirt-guests) would be restored,
    // not rebooted, by a start: its save image goes first (the binding's start takes no FORCE_BOOT).
    // (virsh reports the domain by its name, whichever of name or uuid it was asked for.)
    if (outcome === 'was-off' && !isTestDriverUri(this.uri) && (await readStateReasons({ uri: this.uri, domains: [domain] }))?.values().next().value === 'saved') {
      await runVirsh(['managedsave-remove', '--', domain], { uri: this.uri, operation: 'discard the managed save image before a reboot', domain, timeoutMs: 60_000 });
    }
    await this.start(domain);
  }

  /**
   * Stops a running domain: with `graceMs` > 0, asks the guest to shut down (ACPI) and
   * polls every 100 ms for up to that long; then, if it still runs, destroys it. A guest
   * that refuses the request (no ACPI, libvirt says the operation is not supported) is
   * destroyed just the same. Resolves to how it went: `was-off` (not running to begin
   * with), `shut-down` (the guest stopped within the grace), `destroyed`. Given a
   * {@link DomainRef}, its `id` tells whether the domain runs (no second lookup): pass one
   * just looked up.
   */
  async powerOff(domain: DomainTarget, options: RebootOptions = {}): Promise<PowerOffOutcome> {
    const graceMs = checkGrace(options.graceMs);
    const key = typeof domain === 'string' ? domain : domain.uuid;
    const running = async () => (await this.lookup(key)).id !== null;
    // A ref says whether the domain ran when it was looked up (just now, by the caller).
    if (typeof domain === 'string' ? !(await running()) : domain.id === null) return 'was-off';
    if (graceMs > 0) {
      // A refused request is not the caller's failure: the destroy below stops the guest.
      const asked = await this.shutdown(key).then(
        () => true,
        () => false,
      );
      const deadline = Date.now() + graceMs;
      while (asked && Date.now() < deadline && (await running())) await new Promise((r) => setTimeout(r, 100));
      if (!(await running())) return 'shut-down';
    }
    try {
      await this.destroy(domain);
    } catch (e) {
      // The guest stopped on its own between the last look and the destroy.
      if (!(await running())) return 'shut-down';
      throw e;
    }
    return 'destroyed';
  }

  /**
   * Adds a device (`<disk>`, `<interface>`...) to the domain: live and/or persistent, by
   * the method that works on this connection (see hotplug.ts).
   */
  attachDevice(domain: DomainId, deviceXml: string, options: DeviceChangeOptions = {}): Promise<DeviceChangeResult> {
    return attachDevice(this, domain, deviceXml, options);
  }

  /** Removes a device, matched as libvirt does: a disk by target dev, an interface by MAC. */
  detachDevice(domain: DomainId, deviceXml: string, options: DeviceChangeOptions = {}): Promise<DeviceChangeResult> {
    return detachDevice(this, domain, deviceXml, options);
  }

  /** Closes the connection and removes it from the pool. Closing twice is harmless. */
  async close(): Promise<void> {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.onClose();
    try {
      await this.call('close', undefined, () => this.hypervisor.connectClose());
    } catch (e) {
      // Its other end is gone already (libvirtd restarted since the last call): closed all the same.
      if (!(e instanceof LibvirtError && brokenConnection(e))) throw e;
    }
  }

  private async lookupRaw(domain: DomainId): Promise<BindingDomain> {
    if (typeof domain !== 'string' || domain === '') {
      throw new UsageError(`Expected a domain name or UUID, got \`${String(domain)}\` (${typeof domain})`);
    }
    // A lookup is a read: after a reconnect it is simply made again, whatever the operation it serves.
    return this.retrying(
      () => this.call('lookup', domain, () => (UUID.test(domain) ? this.hypervisor.domainLookupByUUIDString(domain) : this.hypervisor.domainLookupByName(domain))),
      true,
    );
  }

  /** One operation on a domain: its handle (looked up, or the ref's while its connection lives), then `f`; see `retrying` for `repeatable`. */
  private async onDomain<T>(operation: string, domain: DomainTarget, f: (d: BindingDomain) => Promise<T>, repeatable: boolean): Promise<T> {
    if (typeof domain !== 'string' && (typeof domain !== 'object' || domain === null || typeof domain.uuid !== 'string')) {
      throw new UsageError(`Expected a domain name, UUID or DomainRef, got \`${String(domain)}\` (${typeof domain})`);
    }
    return this.retrying(async () => {
      if (typeof domain === 'string') {
        const d = await this.lookupRaw(domain);
        return this.call(operation, domain, () => f(d));
      }
      const known = this.handles.get(domain);
      const d = known && known.generation === this.generation ? known.d : await this.lookupRaw(domain.uuid);
      return this.call(operation, domain.name, () => f(d));
    }, repeatable);
  }

  private async refOf(d: BindingDomain, operation: string, domain?: string): Promise<DomainRef> {
    const [name, uuid, id] = await this.call(operation, domain, () => Promise.all([d.getName(), d.getUUIDString(), d.getID()]));
    const ref: DomainRef = { name, uuid, id: typeof id === 'number' && id >= 0 ? id : null };
    this.handles.set(ref, { d, generation: this.generation });
    return ref;
  }

  /**
   * Runs one binding call, mapping its failure to LibvirtError. When the failure says the
   * connection itself is broken (libvirtd was restarted or stopped: "client socket is closed",
   * "Broken pipe"...) and this connection can reopen, it reconnects — once for every call that
   * failed on the same broken connection — and throws a LibvirtError with `connectionRestored`,
   * which `retrying` turns into one more run on the new connection where that is safe. A
   * reconnect that fails is a LibvirtError saying so; the next call tries again.
   */
  async call<T>(operation: string, domain: string | undefined, f: () => Promise<T>): Promise<T> {
    if (this.closedFlag && operation !== 'close') {
      throw new LibvirtError({ operation, domain, uri: this.uri, libvirtMessage: 'the connection was closed', libvirtCode: 6 });
    }
    const generation = this.generation;
    try {
      return await f();
    } catch (e) {
      const error = toLibvirtError(e, operation, { domain, uri: this.uri });
      const broken = this.reopen && operation !== 'close' && !this.closedFlag ? brokenConnection(error) : undefined;
      if (!broken) throw error;
      await this.reconnectAfter(generation, error);
      const unsent = broken === 'unsent';
      throw new LibvirtError({
        operation,
        domain,
        uri: this.uri,
        libvirtMessage: `${error.libvirtMessage} (the connection to libvirt broke — libvirtd restarted? — and was reopened; ${unsent ? 'the request had not been sent' : `whether this ${operation} took effect is unknown`})`,
        libvirtCode: error.libvirtCode,
        cause: error,
        connectionRestored: unsent ? 'unsent' : 'unknown',
      });
    }
  }

  /**
   * Runs a method; if the connection broke under it and was reopened, runs it once more on the
   * new connection when that is safe: always for a `repeatable` one (a read, a define of the
   * same XML), and for a change (start, destroy...) only when its request had not been sent
   * (the client found the socket closed) — one that may have reached libvirt is left to the
   * caller, whose error says its outcome is unknown.
   */
  private async retrying<T>(f: () => Promise<T>, repeatable: boolean): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (e instanceof LibvirtError && (e.connectionRestored === 'unsent' || (repeatable && e.connectionRestored === 'unknown'))) return f();
      throw e;
    }
  }

  /**
   * Registers a check run before every reopen (a controller's `euca-nc-pre-hyp-check` hooks):
   * one that throws refuses that reconnection, and the call that needed it fails saying why.
   * Returns its unregistration.
   */
  beforeReopen(check: () => Promise<void>): () => void {
    this.reopenChecks.add(check);
    return () => void this.reopenChecks.delete(check);
  }

  /** Reopens the connection, unless a reconnect since `generation` already did (concurrent failures share one). */
  private async reconnectAfter(generation: number, error: LibvirtError): Promise<void> {
    if (this.generation === generation) {
      this.reconnecting ??= (async () => {
        try {
          for (const check of this.reopenChecks) await check();
          const fresh = await this.reopen!();
          const old = this.hypervisor;
          this.hypervisor = fresh;
          this.generation++;
          this.reconnectCount++;
          await old.connectClose().catch(() => undefined);
        } finally {
          this.reconnecting = undefined;
        }
      })();
    }
    try {
      await this.reconnecting;
    } catch (e) {
      throw new LibvirtError({
        operation: error.operation,
        domain: error.domain,
        uri: this.uri,
        libvirtMessage: `${error.libvirtMessage} (the connection to libvirt broke and could not be reopened: ${toLibvirtError(e, 'connect', { uri: this.uri }).libvirtMessage})`,
        libvirtCode: error.libvirtCode,
        cause: e,
      });
    }
  }
}

/**
 * libvirt's RPC client's messages for a connection whose other end has gone (the daemon
 * restarted or stopped). `unsent`: the client knew before sending ("client socket is closed"
 * once it has seen the close; a write that failed), so the request never reached libvirt.
 * `unknown`: the reply was lost (end of file or a reset while reading), so it may have.
 */
export function brokenConnection(e: LibvirtError): 'unsent' | 'unknown' | undefined {
  const m = e.libvirtMessage;
  if (/client socket is closed|Cannot write data|invalid connection pointer/i.test(m)) return 'unsent';
  if (/Cannot recv data|Connection reset by peer|End of file while reading data/i.test(m)) return 'unknown';
  return undefined;
}
