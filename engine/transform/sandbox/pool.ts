import { performance } from 'node:perf_hooks';
import { DomforgeError, TransformError } from '../../errors.js';
import { fromWire, SandboxStoppedError, TransformOutOfMemoryError, TransformTimeoutError } from './errors.js';
import { resolveSandboxOptions, type ResolvedSandboxOptions, type SandboxOptions } from './options.js';
import { expectPositiveTimerMs } from '../../option-checks.js';
import { loadSandboxedTransform, type SandboxedTransform, type SandboxLoadOptions } from './sandboxed-transform.js';
import type { SandboxTask, TaskReply, WorkerConfig, WorkerReply } from './protocol.js';
import { startRunner, type Runner, type RunnerEnd } from './runners.js';

/** How a task's errors are named: the file the admin edits, and the input being rendered. */
export interface TaskLabel {
  /** The transform's main file as the admin knows it. */
  file: string;
  /** The input file, when the task renders one. */
  input?: string;
  /** Turns a path seen by the worker (a version snapshot) into the admin's path. */
  mapFile?: (s: string) => string;
  /** This task's wall-clock limit, when not the sandbox's. */
  timeoutMs?: number;
}

interface Job {
  id: number;
  task: SandboxTask;
  label: TaskLabel;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  /** The caller's signal: while queued, the task is dropped when it aborts. */
  signal?: AbortSignal;
}

interface Slot {
  worker: Runner;
  ready: boolean;
  /** Set once the pool has given up on this worker (timed out, failed, closing). */
  dead: boolean;
  job?: Job;
  started: number;
  timer?: NodeJS.Timeout;
  /** Hashes this worker has compiled (it may have dropped some since; only a hint for scheduling). */
  warm: Set<string>;
  /** Id of the warm-up render a replacement runs before it takes work. */
  warming?: number;
  /** Whether the worker holds the process open now (see refresh). */
  held?: boolean;
}

export interface SandboxStats {
  workers: number;
  busy: number;
  queued: number;
  /** Workers replaced after a timeout, a heap overflow or a crash. */
  replaced: number;
  timeouts: number;
  outOfMemory: number;
  completed: number;
}

/**
 * A pool of workers (child processes by default, or worker threads; see runners.ts) that
 * runs admin transforms under a wall-clock limit and a heap limit. One task runs on a worker
 * at a time; a worker that runs past the limit is killed, one that fills its heap dies
 * alone, and either is replaced at once, so the controller's own thread never runs admin
 * code and never stops serving.
 */
export class TransformSandbox {
  readonly options: ResolvedSandboxOptions;
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  private readonly counters = { replaced: 0, timeouts: 0, outOfMemory: 0, completed: 0 };
  /** The last render that succeeded: what a replacement worker warms up with. */
  private recent?: Extract<SandboxTask, { kind: 'render' }>;
  /** Workers given up on and not yet ended (close waits for them). */
  private readonly ending = new Set<Promise<void>>();
  /** Queued tasks by the signal that cancels them (see listen). */
  private readonly cancellable = new Map<AbortSignal, Set<Job>>();

  constructor(options: SandboxOptions = {}) {
    this.options = resolveSandboxOptions(options);
    for (let i = 0; i < this.options.size; i++) this.spawn();
  }

  /** Compiles a transform in a worker and returns a handle that renders in this sandbox. */
  load(file: string, options: SandboxLoadOptions = {}): Promise<SandboxedTransform> {
    return loadSandboxedTransform(this, file, options);
  }

  /** Runs one task on the first free worker (preferring one that has its transform warm). */
  run<T extends SandboxTask>(task: T, label: TaskLabel, signal?: AbortSignal): Promise<TaskReply<T>> {
    if (this.closed) return Promise.reject(new SandboxStoppedError('the transform sandbox is closed', { file: label.file }));
    return new Promise((resolve, reject) => {
      expectPositiveTimerMs('timeoutMs', label.timeoutMs);
      const job: Job = { id: this.nextId++, task, label, resolve: resolve as (v: unknown) => void, reject, signal };
      this.queue.push(job);
      if (signal) {
        // A task not yet started is dropped when the caller no longer needs it; a running one finishes.
        if (signal.aborted) return this.drop(signal);
        this.listen(signal, job);
      }
      this.dispatch();
    });
  }

  /**
   * One abort listener per signal, however many queued tasks it cancels (a proof queues every
   * sample under one signal), removed once none of them is waiting: a listener per task
   * would pile up on the signal (Node warns past 10) and outlive the tasks.
   */
  private listen(signal: AbortSignal, job: Job): void {
    let jobs = this.cancellable.get(signal);
    if (!jobs) {
      jobs = new Set();
      this.cancellable.set(signal, jobs);
      signal.addEventListener('abort', this.dropper, { once: true });
    }
    jobs.add(job);
  }

  /** A queued task is no longer cancellable: started, dropped or failed. */
  private unlisten(job: Job): void {
    const signal = job.signal;
    const jobs = signal && this.cancellable.get(signal);
    if (!jobs) return;
    jobs.delete(job);
    if (jobs.size) return;
    this.cancellable.delete(signal);
    signal.removeEventListener('abort', this.dropper);
  }

  private readonly dropper = (e: Event): void => this.drop(e.target as AbortSignal);

  /** Drops every queued task of an aborted signal. */
  private drop(signal: AbortSignal): void {
    const dropped = this.queue.filter((j) => j.signal === signal);
    if (!dropped.length) return;
    for (const job of dropped) {
      this.queue.splice(this.queue.indexOf(job), 1);
      this.unlisten(job);
      job.reject(new TransformError('TRANSFORM_RUNTIME', 'the render was cancelled before it started', { file: job.label.file, cause: signal.reason }));
    }
    this.refresh();
  }

  /** Workers ready and without a task now. */
  idleWorkers(): number {
    let n = 0;
    for (const s of this.slots) if (s.ready && !s.dead && !s.job) n++;
    return this.queue.length ? 0 : n;
  }

  stats(): SandboxStats {
    let busy = 0;
    for (const s of this.slots) if (s.job) busy++;
    return { workers: this.slots.size, busy, queued: this.queue.length, ...this.counters };
  }

  /** Resolves once every worker has started (useful before measuring). */
  async ready(): Promise<void> {
    while ([...this.slots].some((s) => !s.ready)) await new Promise((r) => setTimeout(r, 5));
  }

  /** Stops every worker; queued and running tasks fail with TRANSFORM_RUNTIME. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.queue.splice(0)) {
      this.unlisten(job);
      job.reject(new SandboxStoppedError('the transform sandbox was closed before this render ran', { file: job.label.file }));
    }
    await Promise.all(
      [...this.slots].map(async (s) => {
        s.dead = true;
        clearTimeout(s.timer);
        s.job?.reject(new SandboxStoppedError('the transform sandbox was closed during this render', { file: s.job.label.file }));
        s.job = undefined;
        s.worker.terminate();
        // Its xsltproc processes killed and its scratch folder removed before close resolves.
        await s.worker.ended;
      }),
    );
    this.slots.clear();
    await Promise.all(this.ending);
  }

  private spawn(): void {
    const config: WorkerConfig = { warmTransforms: this.options.warmTransforms, prewarm: this.options.prewarm, schema: this.options.schema };
    const slot = { ready: false, dead: false, started: 0, warm: new Set<string>() } as Slot;
    slot.worker = startRunner(this.options.isolation, config, { maxHeapMb: this.options.maxHeapMb, semiSpaceMb: this.options.semiSpaceMb }, {
      message: (m) => this.onMessage(slot, m),
      end: (e) => this.onEnd(slot, e),
    });
    this.slots.add(slot);
    this.refresh();
  }

  private dispatch(): void {
    while (this.queue.length) {
      const idle = [...this.slots].filter((s) => s.ready && !s.dead && !s.job);
      if (!idle.length) break;
      const job = this.queue.shift()!;
      this.unlisten(job);
      const hash = 'hash' in job.task ? job.task.hash : undefined;
      const slot = idle.find((s) => hash !== undefined && s.warm.has(hash)) ?? idle[0]!;
      slot.job = job;
      slot.started = performance.now();
      slot.timer = setTimeout(() => this.onTimeout(slot), job.label.timeoutMs ?? this.options.timeoutMs);
      slot.worker.post({ id: job.id, task: job.task });
    }
    this.refresh();
  }

  private onMessage(slot: Slot, m: WorkerReply): void {
    if (slot.dead) return;
    if ('ready' in m) {
      // A replacement first renders the last good input once, untimed, so that its first
      // real task does not pay for compiling and JIT warm-up (which, on a busy host, can
      // take longer than the time limit and would be blamed on the transform).
      if (this.recent && this.counters.replaced > 0) {
        slot.warming = -this.nextId++;
        slot.worker.post({ id: slot.warming, task: this.recent });
      } else slot.ready = true;
      this.dispatch();
      return;
    }
    if (slot.warming !== undefined && m.id === slot.warming) {
      slot.warming = undefined;
      slot.ready = true;
      if (m.ok && this.recent) slot.warm.add(this.recent.hash);
      this.dispatch();
      return;
    }
    const job = slot.job;
    if (!job || job.id !== m.id) return;
    clearTimeout(slot.timer);
    slot.job = undefined;
    this.counters.completed++;
    const map = job.label.mapFile ?? identity;
    if (m.ok) {
      const value = m.value as Record<string, unknown>;
      if (typeof value.hash === 'string') slot.warm.add(value.hash);
      if ('hash' in job.task) slot.warm.add(job.task.hash);
      if (job.task.kind === 'render') this.recent = job.task;
      else if (job.task.kind === 'prove') this.recent = { kind: 'render', source: job.task.source, hash: job.task.hash, xml: job.task.sample.xml, file: job.task.sample.file, params: job.task.params };
      job.resolve(map === identity ? value : mapValue(value, map));
    } else {
      job.reject(fromWire(m.error, job.label.file, map));
    }
    this.dispatch();
  }

  private onTimeout(slot: Slot): void {
    const job = slot.job;
    if (!job || slot.dead) return;
    this.counters.timeouts++;
    this.retire(slot, new TransformTimeoutError({ file: job.label.file, input: job.label.input, durationMs: performance.now() - slot.started, limit: job.label.timeoutMs ?? this.options.timeoutMs }));
    slot.worker.terminate();
  }

  private onEnd(slot: Slot, e: RunnerEnd): void {
    if (slot.dead) return;
    const job = slot.job;
    if (e.outOfMemory) this.counters.outOfMemory++;
    if (!job) return this.retire(slot);
    const durationMs = performance.now() - slot.started;
    this.retire(
      slot,
      e.outOfMemory
        ? new TransformOutOfMemoryError({ file: job.label.file, input: job.label.input, durationMs, limit: this.options.maxHeapMb })
        : new SandboxStoppedError(`the sandbox worker stopped during the render (${e.reason})`, { file: job.label.file }),
    );
  }

  /** Gives up on a worker: fails its task with `error`, and starts a replacement. */
  private retire(slot: Slot, error?: DomforgeError): void {
    slot.dead = true;
    const ended = slot.worker.ended.then(() => void this.ending.delete(ended));
    this.ending.add(ended);
    clearTimeout(slot.timer);
    const job = slot.job;
    slot.job = undefined;
    this.slots.delete(slot);
    if (job) job.reject(error ?? new SandboxStoppedError('the sandbox worker stopped', { file: job.label.file }));
    if (!this.closed) {
      this.counters.replaced++;
      this.spawn();
    }
    this.dispatch();
  }

  /** Keeps the process alive only while there is work: idle workers do not hold it open. */
  private refresh(): void {
    const waiting = this.queue.length > 0;
    for (const s of this.slots) {
      // Only on a change: ref/unref reach into libuv handles, and this runs at every render.
      const hold = waiting || s.job !== undefined;
      if (s.held === hold) continue;
      s.held = hold;
      if (hold) s.worker.ref();
      else s.worker.unref();
    }
  }
}

const identity = (s: string) => s;

/** Applies the path mapping to the strings a worker sent back (file names, messages). */
function mapValue(v: unknown, map: (s: string) => string): unknown {
  if (typeof v === 'string') return map(v);
  if (Array.isArray(v)) return v.map((x) => mapValue(x, map));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = k === 'output' || k === 'hash' ? x : mapValue(x, map);
    return out;
  }
  return v;
}
