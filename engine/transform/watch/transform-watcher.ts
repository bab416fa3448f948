import { mkdir, mkdtemp, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { FSWatcher } from 'chokidar';
import { DomforgeError, IoError, TransformError, UsageError } from '../../errors.js';
import { TransformSandbox } from '../sandbox/pool.js';
import type { SandboxOptions } from '../sandbox/options.js';
import { speculationHolds, type SandboxedTransform, type SandboxLoadOptions } from '../sandbox/sandboxed-transform.js';
import type { ProvingSample, TransformSource } from '../sandbox/protocol.js';
import type { TransformParams } from '../types.js';
import { WatchEventHub, type WatchEvent, type WatchEvents, type WatchListener } from './events.js';
import { proveTransform, type ProofReport, type SampleOutcome } from './prove.js';
import { ProvingSetReader } from './proving-set.js';
import { dropSnapshot, inStore, isEditorNoise, lookAtFolder, snapshotFolder, type Snapshot } from './snapshot.js';
import { safeRealpath } from '../links-out.js';
import { shippedSamplesDir } from '../defaults.js';
import { expectTimerMs } from '../../option-checks.js';
import { checkTransformParams } from '../params.js';
import { leadsOut, readTransformVersions, recordVersion, type DamagedVersionLine, type TransformVersion } from './version-log.js';

/** domforge's own samples (`samples/` of the package): the proving set when none is given. */
export const DEFAULT_PROVING_SET = shippedSamplesDir();

export interface TransformWatcherOptions {
  /** The transforms folder. Everything in it is watched: the main file, includes, partials. */
  dir: string;
  /** The main transform, relative to `dir`. Default `libvirt.xsl`. */
  main?: string;
  /**
   * The instances a new version must render: a folder (see loadProvingSet) or samples.
   * Default: domforge's `samples/`.
   */
  provingSet?: string | readonly ProvingSample[];
  /**
   * Compare each output with the sample's expected XML where one is given. Default: true
   * for a proving set you give, false for domforge's own samples (whose expected files
   * are the stock transform's output, which an admin's edit is meant to change).
   */
  compareExpected?: boolean;
  /** The instances running on the node now (supplied by the controller): proved too. */
  runningInstances?: () => readonly ProvingSample[] | Promise<readonly ProvingSample[]>;
  /**
   * Where versions are kept: `versions.jsonl` (one line per activated version) and a copy
   * of the folder per version under `snapshots/`. Default: a temporary folder removed by
   * `close()`, so give one to keep the history across restarts.
   */
  versionsDir?: string;
  /** Quiet time after the last file-system event before a check starts, in ms. Default 50. */
  debounceMs?: number;
  /**
   * Every this many ms the folder's entries are stat'ed and, when any differs from the last
   * look, a check runs as for an event. A safety net under the file-system events, which
   * can be lost: a file replaced by a folder moments after it was replaced by a symbolic
   * link gives chokidar no event at all. The proving-set folder, which is not watched for
   * events, is looked at too: when it changes, a rejected version is proved again.
   * Default 2000; 0 turns it off.
   */
  rescanMs?: number;
  /** A sandbox to share, or options for the watcher's own (closed with the watcher). */
  sandbox?: TransformSandbox | SandboxOptions;
  /** Parameters passed to the transform when proving. */
  params?: TransformParams;
  /**
   * XSLT engine. Default `auto`: the in-process engine, unless the differential guard, run
   * once per version over the proving set while the workers compile, finds a difference
   * with libxslt; the version is then proved and rendered with libxslt.
   */
  engine?: TransformSource['engine'];
  /** XSLT under `auto`: on a difference `pin` the version to libxslt (default) or `refuse` it. */
  onDivergence?: TransformSource['onDivergence'];
  /** Handlebars: the admin marked the template trusted. */
  trusted?: boolean;
}

/** The version renders use now: always one consistent set of files. */
export interface ActiveTransform {
  transform: SandboxedTransform;
  version: TransformVersion;
}

/**
 * Watches an admin's transforms folder and keeps the last good version live. On a change,
 * once writes have settled: copy the folder to an immutable snapshot → compile it in the
 * sandbox (strict parse, static checks) → render, validate and compare every sample of the
 * proving set in the sandbox → only if all pass, swap the active version in one assignment.
 * Otherwise the previous version stays active and a `rejected` event names the file, line
 * and sample at fault.
 */
/**
 * The main transform's name, which must name a file inside the transforms folder: a version
 * is a copy of the folder, so a main transform outside it (`/etc/…`, `../x.xsl`) would not be
 * part of the version proved. `name` as the option or flag calls it in the message.
 */
export function checkMainName(main: string, name = '`main`'): string {
  if (leadsOut(main)) throw new UsageError(`Expected ${name} to be a file name inside the transforms folder, got \`${main}\``);
  return main;
}

export class TransformWatcher {
  private readonly hub = new WatchEventHub();
  private readonly dir: string;
  private readonly main: string;
  private readonly debounceMs: number;
  private readonly ownSandbox: boolean;
  readonly sandbox: TransformSandbox;
  private versionsDir = '';
  private tempVersions = false;
  private fsWatcher?: FSWatcher;
  private current?: ActiveTransform;
  private currentSnapshot?: string;
  private lastRejected?: string;
  private readonly recorded = new Set<string>();
  private timer?: NodeJS.Timeout;
  private rescanTimer?: NodeJS.Timeout;
  private lastLook?: Look;
  private looking = false;
  private loop?: Promise<void>;
  private pending = false;
  private lastEventAt?: number;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  /** Reads the proving-set folder at each check, reading again only the files that changed. */
  private readonly provingSet = new ProvingSetReader();

  constructor(private readonly options: TransformWatcherOptions) {
    if (!options?.dir) throw new UsageError('Expected `dir` to be the transforms folder, got `undefined`');
    this.dir = resolve(options.dir);
    this.main = checkMainName(options.main ?? 'libvirt.xsl');
    expectTimerMs('debounceMs', options.debounceMs);
    expectTimerMs('rescanMs', options.rescanMs);
    checkTransformParams(options.params);
    this.debounceMs = options.debounceMs ?? 50;
    this.ownSandbox = !(options.sandbox instanceof TransformSandbox);
    this.sandbox = options.sandbox instanceof TransformSandbox ? options.sandbox : new TransformSandbox({ prewarm: true, ...options.sandbox });
  }

  on<K extends keyof WatchEvents>(name: K, fn: WatchListener<K>): () => void {
    return this.hub.on(name, fn);
  }

  onAny(fn: (e: WatchEvent) => void): () => void {
    return this.hub.onAny(fn);
  }

  /**
   * Proves the version on disk and starts watching. When it fails and the version log holds
   * an earlier good version, that one is proved again and restored. Resolves once watching.
   */
  async start(): Promise<this> {
    const st = await stat(this.dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new UsageError(`the transforms folder ${this.dir} does not exist or is not a folder`);
    if (this.options.versionsDir) this.versionsDir = resolve(this.options.versionsDir);
    else {
      this.versionsDir = await mkdtemp(join(tmpdir(), 'domforge-transform-versions-'));
      this.tempVersions = true;
    }
    await mkdir(join(this.versionsDir, 'snapshots'), { recursive: true });
    // A damaged line is told once, here; the watcher goes on without it.
    const onDamaged = (d: DamagedVersionLine) => this.emitError(new IoError(`${d.reason}; skipped`, { file: d.file, line: d.line }));
    for (const v of await readTransformVersions(this.versionsDir, { onDamaged })) this.recorded.add(v.snapshot);
    const store = this.versionsDir;
    // The folder is watched where it really is: chokidar, not following links, watches
    // nothing inside a folder given through one (`/tmp/x/link-to-transforms`), only the
    // link, which is watched too (a link retargeted is a change). The paths it reports are
    // then real, and the store is left aside by its real path, however either is given.
    const root = await realpath(this.dir);
    const storeAt = safeRealpath(resolve(store));
    // Loaded here, not with domforge: a controller that watches no folder does not carry it.
    const { watch } = await import('chokidar');
    this.fsWatcher = watch(root === this.dir ? root : [root, this.dir], {
      ignoreInitial: true,
      // Links are not followed: chokidar follows a link to a folder that holds it (`self -> .`)
      // until ELOOP, and two such links make it walk an exponential number of paths until the
      // heap runs out. What a link inside the folder leads to is watched where it is; a file
      // read only through a link (a hidden one) is seen by the rescan's look, which stamps
      // what each link leads to.
      followSymlinks: false,
      ignored: (path: string) => path !== root && path !== this.dir && (isEditorNoise(basename(path)) || inStore(path, [storeAt])),
    });
    this.fsWatcher.on('all', () => this.changed());
    this.fsWatcher.on('error', (e: unknown) => this.emitError(e));
    await new Promise<void>((r) => this.fsWatcher!.once('ready', () => r()));
    const rescanMs = this.options.rescanMs ?? 2000;
    if (rescanMs > 0) {
      this.lastLook = await this.look(store);
      this.rescanTimer = setInterval(() => void this.rescan(store), rescanMs);
      this.rescanTimer.unref();
    }
    this.kick();
    await this.settled();
    if (!this.current) await this.restore();
    return this;
  }

  /** The active version, or undefined while none has passed. Read it once per launch. */
  active(): ActiveTransform | undefined {
    return this.current;
  }

  /** The active transform; TRANSFORM_RUNTIME when no version has passed its proof yet. */
  transform(): SandboxedTransform {
    if (!this.current) throw new TransformError('TRANSFORM_RUNTIME', 'no version of the transform has passed its proof yet', { file: join(this.dir, this.main) });
    return this.current.transform;
  }

  /** Every version activated so far, as recorded in the version log (oldest first). */
  versions(): Promise<TransformVersion[]> {
    return readTransformVersions(this.versionsDir);
  }

  /** Resolves when no change is waiting for its debounce and no check is running. */
  settled(): Promise<void> {
    if (!this.timer && !this.loop) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.rescanTimer);
    this.timer = undefined;
    await this.fsWatcher?.close();
    await this.loop;
    if (this.ownSandbox) await this.sandbox.close();
    if (this.tempVersions) await rm(this.versionsDir, { recursive: true, force: true });
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** The safety net of `rescanMs`: a check when the folder's entries differ from the last look. */
  private async rescan(store: string): Promise<void> {
    if (this.looking || this.closed) return;
    this.looking = true;
    try {
      const look = await this.look(store);
      if ((look.transforms !== this.lastLook?.transforms || look.proving !== this.lastLook?.proving) && !this.closed) {
        // The proving set changed (its expected outputs, its samples): a version rejected
        // on it is proved again, whatever the reason it was rejected for.
        if (look.proving !== this.lastLook?.proving) this.lastRejected = undefined;
        this.lastLook = look;
        this.changed();
      }
    } catch {
      // The folder being replaced: the next look, or an event, sees the result.
    } finally {
      this.looking = false;
    }
  }

  /** The transforms folder and, when it is a folder, the proving set, as lookAtFolder sees them. */
  private async look(store: string): Promise<Look> {
    const given = this.options.provingSet ?? DEFAULT_PROVING_SET;
    const proving = typeof given === 'string' ? await lookAtFolder(resolve(given), store).catch(() => 'unreadable') : '';
    return { transforms: await lookAtFolder(this.dir, store), proving };
  }

  private changed(): void {
    if (this.closed) return;
    this.lastEventAt = performance.now();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, this.debounceMs);
  }

  /** Runs checks one after another until no change is pending. */
  private kick(): void {
    if (this.loop) {
      this.pending = true;
      return;
    }
    this.loop = (async () => {
      do {
        this.pending = false;
        await this.check().catch((e: unknown) => this.emitError(e));
      } while (this.pending && !this.closed);
    })().finally(() => {
      this.loop = undefined;
      if (!this.timer) for (const w of this.idleWaiters.splice(0)) w();
    });
  }

  private async check(): Promise<void> {
    const t0 = performance.now();
    const since = this.lastEventAt;
    // The proving-set folder is read while the transforms folder is copied (and then while
    // the sandbox compiles); the running instances are asked for only when a version is new.
    const folder = this.readProvingFolder();
    folder.catch(() => undefined);
    const snap = await snapshotFolder(this.dir, join(this.versionsDir, 'snapshots'), { versionsDir: this.versionsDir });
    if (snap.id === this.currentSnapshot) {
      // Back to the active version: a rejected one saved again later is news, said again.
      this.lastRejected = undefined;
      return;
    }
    if (snap.id === this.lastRejected) return;
    const reading = this.samples(folder);
    reading.catch(() => undefined);
    const outcome = await this.evaluate(snap, reading);
    if (this.closed) return;
    if ('error' in outcome && (outcome.error.code === 'TRANSFORM_SYNTAX' || outcome.error.code === 'XML_SYNTAX') && since !== undefined) {
      // A file that does not parse may be a save caught half-way (an editor truncates, then
      // writes; a busy host can put the debounce between the two). The verdict waits until
      // the folder has been quiet for HALF_WRITTEN_MS: a write meanwhile goes to the next
      // check, and this one says nothing.
      const wait = since + HALF_WRITTEN_MS - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (this.closed || this.lastEventAt !== since) return;
    }
    if ('error' in outcome) {
      // A rejection about the files is remembered, so the same files are not proved again
      // until they change; one the host caused (the proving set unreadable, a render that ran
      // out of time under load, a worker that crashed) is tried again on the next event.
      this.lastRejected = aboutTheFiles(outcome.error) ? snap.id : undefined;
      if (!this.recorded.has(basename(snap.dir)) && snap.dir !== this.current?.transform.source.root) await dropSnapshot(snap);
      this.emitRejected(outcome.error, outcome.hash, outcome.sample, t0, since, this.leftOutNotes(snap, outcome.error));
      return;
    }
    const { transform, samples, speculative } = outcome;
    if (transform.hash === this.current?.transform.hash) {
      // Only files the transform does not use changed: the active version stays as it is.
      this.currentSnapshot = snap.id;
      if (snap.dir !== this.current.transform.source.root) await dropSnapshot(snap);
      return;
    }
    const version: TransformVersion = { hash: transform.hash, snapshot: basename(snap.dir), main: this.main, files: snap.files, activatedAt: new Date().toISOString(), samples };
    await recordVersion(this.versionsDir, version).catch((e: unknown) => this.emitError(e));
    this.recorded.add(version.snapshot);
    this.activate({ transform, version }, snap.id, t0, since, false, speculative);
  }

  /** Compiles a snapshot in the sandbox and proves it on every sample. */
  private async evaluate(snap: Snapshot, reading: Promise<ProvingSample[]>): Promise<{ transform: SandboxedTransform; samples: number; speculative: boolean } | { error: DomforgeError; hash?: string; sample?: SampleOutcome }> {
    if (!snap.files.includes(this.main)) {
      const left = snap.left.find((l) => l.rel === this.main);
      const what = left ? `is ${left.why}` : snap.folders.includes(this.main) ? 'is a folder, not a file' : 'is missing from the transforms folder';
      return { error: new TransformError('TRANSFORM_SYNTAX', `the main transform ${this.main} ${what}`, { file: join(this.dir, this.main) }) };
    }
    let proved: { transform: SandboxedTransform; outcome?: ProofOutcome };
    try {
      proved = await this.loadAndProve(join(snap.dir, this.main), snap.dir, reading, (t) => t.hash === this.current?.transform.hash, snap);
    } catch (e) {
      return { error: asDomforgeError(e, join(this.dir, this.main)) };
    }
    const { transform, outcome } = proved;
    if (!outcome) return { transform, samples: 0, speculative: false };
    if ('error' in outcome) return { error: outcome.error, hash: transform.hash };
    if (outcome.proof.failure) return { error: outcome.proof.failure.error!, hash: transform.hash, sample: outcome.proof.failure };
    return { transform, samples: outcome.samples, speculative: outcome.speculative };
  }

  /**
   * Loads a version in the sandbox and proves it on the proving set. Under XSLT `auto` the
   * proof starts speculatively — on the compiled engine, on the workers not running the
   * guard, as soon as one has compiled the version — and is kept when the guard's verdict
   * is that engine; when the guard pins the version elsewhere it is dropped and the proof
   * runs again under the verdict. `skip` tells, once loaded, a version that needs no proof
   * (the one already active); `left`, what the snapshot left out that the compile names as
   * in the folder itself (`linksOut`, `unreadable`: see Snapshot). Rejects only when the
   * version does not load.
   */
  private async loadAndProve(
    file: string,
    root: string,
    reading: Promise<ProvingSample[]>,
    skip: (t: SandboxedTransform) => boolean = () => false,
    left?: Pick<Snapshot, 'linksOut' | 'unreadable'>,
  ): Promise<{ transform: SandboxedTransform; outcome?: ProofOutcome }> {
    const params = this.options.params;
    const stop = new AbortController();
    let speculation: { transform: SandboxedTransform; proof: Promise<ProofReport> } | undefined;
    const onSpeculative = (t: SandboxedTransform) => {
      if (stop.signal.aborted) return;
      const proof = reading.then((samples) => proveTransform(t, samples, params, stop.signal));
      proof.catch(() => undefined);
      speculation = { transform: t, proof };
    };
    let transform: SandboxedTransform;
    try {
      transform = await this.sandbox.load(file, { ...this.loadOptions(root, reading), linksOut: left?.linksOut, unreadable: left?.unreadable, onSpeculative });
    } catch (e) {
      stop.abort();
      throw e;
    }
    if (skip(transform)) {
      stop.abort();
      return { transform };
    }
    let samples: ProvingSample[];
    try {
      samples = await reading;
    } catch (e) {
      stop.abort();
      return { transform, outcome: { error: asDomforgeError(e, join(this.dir, this.main)) } };
    }
    const spec = speculation;
    if (spec && speculationHolds(spec.transform, transform)) {
      const proof = await spec.proof;
      return { transform, outcome: { proof, samples: samples.length, speculative: true } };
    }
    stop.abort();
    const proof = await proveTransform(transform, samples, params);
    return { transform, outcome: { proof, samples: samples.length, speculative: false } };
  }

  /**
   * How a version is loaded in the sandbox. Under XSLT `auto` the proving set goes with it:
   * the guard runs once for the version over those samples, on one worker while the others
   * compile, and the proof and every later render use the engine it chose.
   */
  private loadOptions(root: string, samples: Promise<ProvingSample[]>): SandboxLoadOptions {
    return { root, displayRoot: this.dir, engine: this.options.engine, trusted: this.options.trusted, onDivergence: this.options.onDivergence, provingSet: samples, params: this.options.params };
  }

  /** The proving set's own samples: the folder read now (see ProvingSetReader), or the samples given. */
  private async readProvingFolder(): Promise<ProvingSample[]> {
    const given = this.options.provingSet ?? DEFAULT_PROVING_SET;
    return typeof given === 'string' ? this.provingSet.read(given) : [...given];
  }

  /** Every sample a version is proved on: the proving set's (read now, unless `folder` is that read) and the running instances. */
  private async samples(folder: Promise<ProvingSample[]> = this.readProvingFolder()): Promise<ProvingSample[]> {
    const compare = this.options.compareExpected ?? this.options.provingSet !== undefined;
    const fromSet = await folder;
    const running = this.options.runningInstances ? await this.options.runningInstances() : [];
    const all = [...fromSet, ...running];
    return compare ? all : all.map(({ expected: _e, expectedFile: _f, ...s }) => s);
  }

  /** At start, when the files on disk fail: the last recorded version, if it still passes. */
  private async restore(): Promise<void> {
    const last = (await readTransformVersions(this.versionsDir)).at(-1);
    if (!last || this.closed) return;
    const dir = join(this.versionsDir, 'snapshots', last.snapshot);
    if (!(await stat(dir).catch(() => undefined))) return;
    const t0 = performance.now();
    try {
      const reading = this.samples();
      reading.catch(() => undefined);
      const { transform, outcome } = await this.loadAndProve(join(dir, last.main), dir, reading);
      if (!outcome || 'error' in outcome || outcome.proof.failure || transform.hash !== last.hash) return;
      this.activate({ transform, version: { ...last, restored: true } }, undefined, t0, undefined, true, outcome.speculative);
    } catch (e) {
      this.emitError(e);
    }
  }

  /** The swap: one assignment, so a reader sees the old version or the new one, never a mix. */
  private activate(next: ActiveTransform, snapshotId: string | undefined, t0: number, since: number | undefined, restored = false, speculative = false): void {
    const previous = this.current;
    this.current = next;
    this.currentSnapshot = snapshotId;
    this.lastRejected = undefined;
    const now = performance.now();
    this.hub.emit({
      type: 'activated',
      hash: next.transform.hash,
      previousHash: previous?.transform.hash,
      file: next.transform.file,
      files: [...next.transform.files],
      samples: next.version.samples,
      durationMs: round(now - t0),
      sinceChangeMs: since === undefined ? undefined : round(now - since),
      restored: restored || undefined,
      speculativeProof: speculative || undefined,
      version: next.version,
      at: new Date().toISOString(),
    });
  }

  /**
   * Why a file an error names is not in the version: a link to the versions store is left
   * out of the snapshot, where it then looks missing. A link out of the folder, a link to
   * nothing or a FIFO gets no note: the compile has it (`linksOut`, `unreadable`) and
   * refuses an include, `document()` or partial that is one, or names a file missing under
   * one, as in the folder itself.
   */
  private leftOutNotes(snap: Snapshot, error: DomforgeError): string {
    const text = error.fullMessage;
    return snap.left
      .filter((l) => l.rel !== this.main && !Object.hasOwn(snap.linksOut, l.rel) && !Object.hasOwn(snap.unreadable, l.rel) && namesPath(text, join(this.dir, l.rel)))
      .map((l) => ` (${l.rel} is ${l.why}: it is not part of the version)`)
      .join('');
  }

  private emitRejected(error: DomforgeError, hash: string | undefined, sample: SampleOutcome | undefined, t0: number, since: number | undefined, notes = ''): void {
    const now = performance.now();
    this.hub.emit({
      type: 'rejected',
      hash,
      activeHash: this.current?.transform.hash,
      code: error.code,
      file: error.file,
      line: error.line,
      column: error.column,
      path: error.path,
      sample: sample?.sample,
      sampleFile: sample?.file,
      message: error.fullMessage + notes,
      durationMs: round(now - t0),
      sinceChangeMs: since === undefined ? undefined : round(now - since),
      at: new Date().toISOString(),
    });
  }

  private emitError(e: unknown): void {
    const err = asDomforgeError(e, this.dir);
    this.hub.emit({ type: 'error', code: err.code, message: err.fullMessage, file: err.file, at: new Date().toISOString() });
  }
}

/** Creates a watcher and starts it (see TransformWatcher.start). */
export async function watchTransforms(options: TransformWatcherOptions, listen?: (e: WatchEvent) => void): Promise<TransformWatcher> {
  const w = new TransformWatcher(options);
  if (listen) w.onAny(listen);
  try {
    return await w.start();
  } catch (e) {
    await w.close();
    throw e;
  }
}

/** A version's proof: its report, or why it could not run (the proving set could not be read). */
type ProofOutcome = { proof: ProofReport; samples: number; speculative: boolean } | { error: DomforgeError };

function asDomforgeError(e: unknown, file: string): DomforgeError {
  return e instanceof DomforgeError ? e : new TransformError('TRANSFORM_RUNTIME', String((e as Error)?.message ?? e), { file, cause: e });
}

/**
 * How long after the last change a file that does not parse is reported: a write that comes
 * within this time (the rest of a save caught half-way) is checked instead, with no
 * rejection for the half.
 */
export const HALF_WRITTEN_MS = 250;

/** Whether a rejection is about the version's files (syntax, runtime, a failed proof) rather than the host. */
function aboutTheFiles(e: DomforgeError): boolean {
  return e.code !== 'IO_ERROR' && e.code !== 'TRANSFORM_TIMEOUT' && !(e as { sandboxStopped?: boolean }).sandboxStopped;
}

/**
 * Whether `text` names the file `path` or a file under it: `path` whole, not the start of a
 * longer name (a link `p` is not named by `partials/x.hbs`, nor `console` by `console.hbs`)
 * nor the end of one. A path ends at a space, a quote, a bracket, `:`, `,`, `;` or the end.
 */
export function namesPath(text: string, path: string): boolean {
  const delimiter = /[\s'"()[\]{}<>:,;]/;
  for (let i = text.indexOf(path); i >= 0; i = text.indexOf(path, i + 1)) {
    const before = text[i - 1];
    const after = text[i + path.length];
    if ((before === undefined || delimiter.test(before)) && (after === undefined || after === sep || delimiter.test(after))) return true;
  }
  return false;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** What the rescan compares: the transforms folder, and the proving-set folder ('' when samples are given in memory). */
interface Look {
  transforms: string;
  proving: string;
}
