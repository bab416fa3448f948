import { dirname, join, resolve } from 'node:path';
import type { ConfigDriveLimits } from '../configdrive/build.js';
import { abortReason, UsageError } from '../errors.js';
import { StartCancelledError, type StartEvent } from './errors.js';
import { expectTimerMs } from '../option-checks.js';
import { checkTransformParams } from '../transform/params.js';
import { createHookRunner, type HookRunner } from '../hooks/hook-runner.js';
import type { BindingLoader } from '../libvirt/binding.js';
import type { LibvirtConnection } from '../libvirt/connection.js';
import type { DeviceChangeOptions } from '../libvirt/hotplug.js';
import { connect } from '../libvirt/pool.js';
import { resolveUri } from '../libvirt/uri.js';
import { defaultTransformPath } from '../transform/defaults.js';
import type { LoadTransformOptions } from '../transform/load.js';
import type { CompiledTransform, TransformParams } from '../transform/types.js';
import type { SchemaEngine } from '../validate/validate-domain.js';
import type { ControllerLogSink } from './instance-log.js';
import { CONTROLLER_LOG, InstanceLayout } from './layout.js';
import { createInstancesFolder } from './folders.js';
import { safeRealpath } from '../fs/real-path.js';
import { hostLock, hostLockName, tryHostLock, type LockHolder } from './host-lock.js';
import { KeyedLock, type HostLocking } from './lock.js';
import { FileTransformSource } from '../transform/file-source.js';
import { TransformSandbox } from '../transform/sandbox/pool.js';
import { RENDER_WORKER, type SandboxOptions } from '../transform/sandbox/options.js';
import type { StepObserver } from './steps.js';
import { holdYoungGeneration } from './young-generation.js';

/** Where the transform comes from: a file (re-read when it changes), a compiled transform, or a provider (e.g. a TransformWatcher's active version). */
export type TransformSource = string | CompiledTransform | (() => CompiledTransform | Promise<CompiledTransform>);

export interface NodeControllerOptions {
  /** The instances folder: one folder per instance (see layout.ts). Created if missing (see `createInstancesDir`). Required. */
  instancesDir: string;
  /**
   * Whether `open` creates the instances folder when it is missing. Default true. `false` for
   * a controller that only looks and changes what is there (the CLI's `list`, `terminate`,
   * …): a missing folder then holds no instances, and a mistyped path is not created; a
   * launch creates it at its `create-folder` step (so one refused before, at `check`,
   * creates nothing: the CLI's `launch` opens so).
   */
  createInstancesDir?: boolean;
  /** libvirt URI. Default: `LIBVIRT_DEFAULT_URI`, else `test:///default`. Ignored when `connection` is given. */
  uri?: string;
  /** An open connection to use instead of `connect({ uri })`. */
  connection?: LibvirtConnection;
  /** Loader of @unraid/libvirt (tests simulate a missing binding with it). */
  loader?: BindingLoader;
  /** The nc-hooks folder; XML filters in `<hooksDir>/filters.d`. Default: none (no hooks, no filters). */
  hooksDir?: string;
  /** The XML filters folder. Default: `<hooksDir>/filters.d`. */
  filtersDir?: string;
  /** Eucalyptus's HOME argument of every hook. Default: the instances folder's parent. */
  home?: string;
  /** Per-hook and per-filter time limit in ms (default 30000; 0 = none). */
  hookTimeoutMs?: number;
  /** Bytes of each hook's (and filter's) stdout and stderr kept in the instance log: the first and last halves (default 128 KiB). */
  hookLogBytes?: number;
  /** Lines of each of those streams kept in the instance log, half from each end (default 2000). */
  hookLogLines?: number;
  /** The transform. Default: `$DOMFORGE_TRANSFORM`, else the shipped `transforms/libvirt.xsl`. */
  transform?: TransformSource;
  /** Options for loading a transform given as a file. */
  transformOptions?: LoadTransformOptions;
  /**
   * Where a transform given as a file compiles and renders. By default in a sandbox of its
   * own, one worker process started at the first launch (`RENDER_WORKER`: one worker, 1 MB semi-spaces): a
   * stylesheet or template that loops, recurses without end or allocates without bound
   * fails that launch with TRANSFORM_TIMEOUT or TRANSFORM_OUT_OF_MEMORY, and the
   * controller goes on. SandboxOptions for another pool, a TransformSandbox to share one
   * (it is not closed with the controller), or `false` to compile and render in the
   * controller's own thread — for a transform as trusted as domforge's code, since nothing
   * then stops one that hangs. A compiled transform or a provider given as `transform` is
   * used as it is (a TransformWatcher's versions already render in its sandbox).
   */
  sandbox?: SandboxOptions | TransformSandbox | false;
  /** Transform parameters (`--param name=value`). Default: none. */
  params?: TransformParams;
  /** Schema engine validating every domain and device XML (default `'wasm'`, libvirt's domain.rng in-process). */
  schema?: SchemaEngine;
  /** Check that files the domain refers to exist on this host (default false). */
  checkPaths?: boolean;
  /**
   * Largest decoded user data a launch puts on a config drive, in bytes (default 65536, 64 KiB;
   * 0 refuses any). A launch with more is refused at step `config-drive`, naming the instance's
   * `<userData>` and this cap. The same as the builder's and `--max-user-data`'s.
   */
  maxUserDataBytes?: number;
  /**
   * Largest config drive image a launch writes, in bytes (default 67108864, 64 MiB). A launch
   * whose drive would be larger is refused at step `config-drive`, naming the field that holds
   * the most bytes and this cap. The same as the builder's and `--max-image`'s.
   */
  maxImageBytes?: number;
  /** Where kept instance folders go (`terminate --keep`, failed pre-clean, `keepFailed`). Default: `<instancesDir>/.kept`. */
  keepDir?: string;
  /** Keep (move to `keepDir`) the folder of a launch that failed, for troubleshooting. Default false: removed. */
  keepFailed?: boolean;
  /** How devices are hot-plugged (see engine/libvirt/hotplug.ts). Default: `{ method: 'auto' }`. */
  hotplug?: DeviceChangeOptions;
  /** Receives every instance-log line of every instance (e.g. for the controller's own log). */
  log?: ControllerLogSink;
  /** Called before every step of every operation; a throw fails the step (tracing, fault injection). */
  onStep?: StepObserver;
  /**
   * One operation at a time per instance across the host's processes (see host-lock.ts):
   * the admin's `domforge` commands and other controllers on the same instances folder wait
   * for this controller's operation on an instance (a launch of it is refused), and this
   * controller waits for theirs. Default true. `false` keeps the locks inside this
   * controller, for a folder that no other process changes.
   */
  hostLocks?: boolean;
  /**
   * Raise the controller's start events when it opens, with `hooksDir`: `euca-nc-pre-init`,
   * `euca-nc-pre-hyp-check` before the libvirt connection, `euca-nc-post-init` once ready;
   * a hook that fails stops `open` (HOOK_FAILED / HOOK_TIMEOUT). Their output goes to
   * `<instancesDir>/controller.log`. Default true: the process that opens a NodeController
   * is the node controller starting. The CLI's commands, each a short process, pass false
   * (but `adopt`, what a controller runs when it starts on a host).
   */
  initHooks?: boolean;
  /**
   * Cancels the start: a running start hook (`initHooks`) has its process group killed, no
   * further start event is raised, and `open` rejects with a CancelledError (`CANCELLED`)
   * naming the event it stopped at; the controller did not start (nothing connected when it
   * was `euca-nc-pre-init` or `euca-nc-pre-hyp-check`). Only the start: once open, the
   * controller's operations take their own signal, and `close({ cancel: true })` stops them.
   * The CLI's `adopt` passes its Ctrl-C / SIGTERM here. Default: none.
   */
  signal?: AbortSignal;
  /** Told when an operation waits for another process's operation on the same instance (who holds it, when it said). */
  onLockWait?: (e: LockWaitEvent) => void;
  /**
   * Hold V8's young generation at its starting size (two 1 MiB semi-spaces) for the rest of
   * the process, from the first `open`: by default V8 grows it to 2 × 16 MiB under a launch
   * loop's allocation rate and keeps it, about 30 MiB of a long-lived controller's resident
   * memory. Default true. It sets `--semi-space-growth-factor=1`, a process-wide V8 flag
   * that cannot be unset, unless the process's command line or `NODE_OPTIONS` sizes the
   * young generation itself (`--max-semi-space-size`…), which then wins. `false` leaves
   * Node's defaults. See young-generation.ts.
   */
  holdYoungGeneration?: boolean;
}

/** An operation waits for the instance's host lock. */
export interface LockWaitEvent {
  instanceId: string;
  /** The operation that waits (`terminate of i-1`). */
  what: string;
  /** The process that holds the lock and what it does (`launch of i-1`), when it said. */
  holder?: LockHolder;
}

/** Everything an operation needs, resolved once. */
export interface ControllerContext {
  readonly layout: InstanceLayout;
  readonly connection: LibvirtConnection;
  readonly uri: string;
  readonly hooks?: HookRunner;
  readonly transform: () => Promise<CompiledTransform>;
  readonly params: TransformParams;
  readonly schema?: SchemaEngine;
  readonly checkPaths: boolean;
  /** The config-drive caps of every launch (only those given: the builder's defaults otherwise). */
  readonly configDriveLimits: ConfigDriveLimits;
  readonly hotplug: DeviceChangeOptions;
  readonly keepFailed: boolean;
  readonly log?: ControllerLogSink;
  readonly onStep?: StepObserver;
  readonly locks: KeyedLock;
  /** Ids this controller launched or adopted. */
  readonly tracked: Set<string>;
  /** Releases what the context started (the transform sandbox it created, if any). */
  readonly release: () => Promise<void>;
}

export async function createContext(o: NodeControllerOptions): Promise<ControllerContext> {
  checkOptions(o);
  if (o.holdYoungGeneration !== false) holdYoungGeneration();
  const instancesDir = resolve(o.instancesDir);
  if (o.createInstancesDir !== false) await createInstancesFolder(instancesDir);
  const hooks = o.hooksDir
    ? createHookRunner({
        dir: resolve(o.hooksDir),
        filtersDir: o.filtersDir && resolve(o.filtersDir),
        home: o.home ?? dirname(instancesDir),
        uri: o.connection?.uri ?? resolveUri(o.uri),
        timeoutMs: o.hookTimeoutMs,
        maxLogBytes: o.hookLogBytes,
        maxLogLines: o.hookLogLines,
      })
    : undefined;
  // A node controller's start, as Eucalyptus's: pre-init, pre-hyp-check before the hypervisor
  // connection, post-init once the controller is ready. A hook that fails stops the start.
  const initHooks = o.initHooks !== false ? hooks : undefined;
  const initLog = join(instancesDir, CONTROLLER_LOG);
  // Each start event's hooks, cancelled by the signal as an operation's are (the running hook's process group killed).
  const start = async (event: StartEvent) => {
    if (!initHooks) return;
    try {
      await initHooks.run(event, { log: initLog, signal: o.signal });
    } catch (e) {
      if (o.signal?.aborted) throw new StartCancelledError(event, abortReason(o.signal), e);
      throw e;
    }
  };
  await start('euca-nc-pre-init');
  await start('euca-nc-pre-hyp-check');
  const connection = o.connection ?? (await connect({ uri: o.uri, loader: o.loader }));
  const provider = transformProvider(o.transform ?? defaultTransformPath(), o.transformOptions, o.sandbox);
  try {
    await start('euca-nc-post-init');
  } catch (e) {
    await provider.release();
    throw e;
  }
  // The hypervisor check comes again before every reconnection (libvirtd restarted): a failing hook refuses it.
  const unregister = initHooks ? connection.beforeReopen(async () => void (await initHooks.run('euca-nc-pre-hyp-check', { log: initLog }))) : () => undefined;
  return {
    layout: new InstanceLayout(instancesDir, o.keepDir && resolve(o.keepDir)),
    connection,
    uri: connection.uri,
    hooks,
    transform: provider.get,
    params: { ...(o.params ?? {}) },
    schema: o.schema,
    checkPaths: o.checkPaths ?? false,
    configDriveLimits: configDriveLimits(o),
    hotplug: { ...(o.hotplug ?? {}) },
    keepFailed: o.keepFailed ?? false,
    log: o.log,
    onStep: o.onStep,
    locks: new KeyedLock(o.hostLocks === false ? undefined : await hostLocking(instancesDir, o.onLockWait)),
    tracked: new Set(),
    release: async () => {
      unregister();
      await provider.release();
    },
  };
}

/**
 * Host locks scoped to the instances folder's real path, so that every process naming the
 * folder (through a symbolic link or not) takes the same lock for an instance.
 */
export async function hostLocking(instancesDir: string, onWait?: NodeControllerOptions['onLockWait']): Promise<HostLocking> {
  // A folder not made yet (createInstancesDir: false; the first launch makes it) has the scope it will have.
  const scope = safeRealpath(instancesDir);
  return {
    take: (key, what) => hostLock(hostLockName(scope, key), what, onWait && ((holder) => onWait({ instanceId: key, what, holder }))),
    tryTake: (key, what) => tryHostLock(hostLockName(scope, key), what),
  };
}

interface TransformProvider {
  get: () => Promise<CompiledTransform>;
  release: () => Promise<void>;
}

function transformProvider(source: TransformSource, options: LoadTransformOptions = {}, sandbox: NodeControllerOptions['sandbox'] = {}): TransformProvider {
  const none = async () => undefined;
  if (typeof source === 'function') return { get: async () => providedTransform(await source()), release: none };
  if (typeof source !== 'string') return { get: async () => source, release: none };
  if (sandbox === false) {
    // Its files checked on each launch: an edited stylesheet is recompiled, an unchanged one reused.
    const file = new FileTransformSource(source, options);
    return { get: () => file.get(), release: none };
  }
  // The sandbox starts with the first launch that needs the transform, not with the controller.
  const shared = sandbox instanceof TransformSandbox ? sandbox : undefined;
  let own: TransformSandbox | undefined;
  const pool = () => shared ?? (own ??= new TransformSandbox({ ...RENDER_WORKER, ...(sandbox as SandboxOptions) }));
  const file = new FileTransformSource(source, options, {
    load: (f, o) =>
      pool().load(f, {
        root: o.root,
        engine: o.engine === 'auto' ? undefined : o.engine,
        trusted: o.trusted,
        onDivergence: o.onDivergence,
        provingSet: o.provingSet?.map((p) => ({ xml: p.xml, file: p.file ?? 'proving input' })),
      }),
  });
  return {
    get: () => file.get(),
    release: async () => {
      const s = own;
      own = undefined;
      await s?.close();
    },
  };
}

/**
 * What a `transform` function returned, checked at each launch: a compiled transform, or a
 * UsageError saying what came back instead — above all the watcher's method itself, from
 * `() => watcher.transform` where `() => watcher.transform()` was meant.
 */
function providedTransform(t: unknown): CompiledTransform {
  if (typeof t === 'object' && t !== null && typeof (t as CompiledTransform).render === 'function') return t as CompiledTransform;
  const got =
    typeof t === 'function'
      ? `a function${t.name ? ` (${t.name})` : ''}: call it in the provider, as in \`() => watcher.transform()\``
      : t === null
        ? 'null'
        : typeof t === 'object'
          ? 'an object with no render()'
          : typeof t;
  throw new UsageError(`Expected the \`transform\` function to return a compiled transform, got ${got}`);
}

function configDriveLimits(o: NodeControllerOptions): ConfigDriveLimits {
  const limits: ConfigDriveLimits = {};
  if (o.maxUserDataBytes !== undefined) limits.maxUserDataBytes = o.maxUserDataBytes;
  if (o.maxImageBytes !== undefined) limits.maxImageBytes = o.maxImageBytes;
  return limits;
}

function checkOptions(o: NodeControllerOptions): void {
  if (typeof o !== 'object' || o === null) throw new UsageError('Expected NodeController options to be an object with `instancesDir`');
  const str = (k: keyof NodeControllerOptions, optional = true) => {
    const v = o[k];
    if ((v === undefined && optional) || (typeof v === 'string' && v !== '')) return;
    throw new UsageError(`Expected \`${k}\` to be a non-empty string, got \`${String(v)}\` (${typeof v})`);
  };
  str('instancesDir', false);
  for (const k of ['uri', 'hooksDir', 'filtersDir', 'home', 'keepDir'] as const) str(k);
  // An image cap of 0 would refuse every drive (an image has at least its descriptors); a user-data cap of 0 refuses any user data.
  expectTimerMs('hookTimeoutMs', o.hookTimeoutMs);
  for (const [k, min] of [['hookLogBytes', 1], ['hookLogLines', 1], ['maxUserDataBytes', 0], ['maxImageBytes', 1]] as const) {
    const v = o[k];
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= min)) {
      throw new UsageError(`Expected \`${k}\` to be ${min ? 'a positive' : 'a non-negative'} integer, got \`${String(v)}\` (${typeof v})`);
    }
  }
  for (const k of ['checkPaths', 'keepFailed', 'createInstancesDir', 'hostLocks', 'initHooks', 'holdYoungGeneration'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new UsageError(`Expected \`${k}\` to be a boolean, got \`${String(o[k])}\` (${typeof o[k]})`);
  }
  for (const k of ['log', 'onStep', 'onLockWait'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'function') throw new UsageError(`Expected \`${k}\` to be a function, got ${typeof o[k]}`);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new UsageError(`Expected \`signal\` to be an AbortSignal, got ${typeof o.signal}`);
  const sb = o.sandbox;
  if (sb !== undefined && sb !== false && (typeof sb !== 'object' || sb === null)) {
    throw new UsageError('Expected `sandbox` to be sandbox options, a TransformSandbox or false');
  }
  const t = o.transform;
  if (t !== undefined && typeof t !== 'string' && typeof t !== 'function' && (typeof t !== 'object' || t === null || typeof t.render !== 'function')) {
    throw new UsageError('Expected `transform` to be a file name, a compiled transform or a function returning one');
  }
  checkTransformParams(o.params);
}
