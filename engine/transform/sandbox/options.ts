import { availableParallelism } from 'node:os';
import { UsageError } from '../../errors.js';
import { expectPositiveTimerMs } from '../../option-checks.js';
import type { SchemaEngine } from '../../validate/index.js';
import type { SandboxIsolation } from './runners.js';

export interface SandboxOptions {
  /**
   * What hosts each worker: `process` (a child Node process, default) or `thread` (a
   * worker_threads Worker: cheaper to start, but see runners.ts for why a memory bomb can
   * abort the whole process there).
   */
  isolation?: SandboxIsolation;
  /** Worker threads in the pool. Default: the number of CPUs, at least 2 and at most 4. */
  size?: number;
  /** Wall-clock limit of one task (a render, a compile, a proof of one sample), in milliseconds. Default 2000. */
  timeoutMs?: number;
  /** Old-generation heap limit of each worker (`resourceLimits.maxOldGenerationSizeMb`), in MB. Default 256. */
  maxHeapMb?: number;
  /**
   * Semi-space of each worker's young generation, in MB (`--max-semi-space-size`). V8 sizes
   * the young generation from the old generation's limit, which gives a 256 MB worker a
   * 1–2 MB nursery: parsing and validating a few instances then spends more time in
   * scavenges than in the work (measured: a third of a proof). Default 16, V8's own default
   * for a large heap: it adds up to 48 MB (three semi-spaces) per worker once a long run of
   * work has grown it. A worker that only renders one instance at a time (a controller's)
   * needs far less: see NodeController's `sandbox` option.
   */
  semiSpaceMb?: number;
  /** Compiled transforms each worker keeps warm, by hash (least recently used dropped first). Default 8. */
  warmTransforms?: number;
  /**
   * Each worker, before it takes work, renders domforge's own libvirt.xsl on a bundled
   * sample and validates the result once, so the first timed task does not pay for loading
   * libvirt's schema and warming the engine (on a busy host that can exceed the time
   * limit and would be blamed on the transform). Default false.
   */
  prewarm?: boolean;
  /** Schema engine used when a task validates (proofs). Default: libvirt's domain.rng in-process. */
  schema?: SchemaEngine;
}

export interface ResolvedSandboxOptions {
  isolation: SandboxIsolation;
  size: number;
  timeoutMs: number;
  maxHeapMb: number;
  semiSpaceMb: number;
  warmTransforms: number;
  prewarm: boolean;
  schema?: SchemaEngine;
}

export const SANDBOX_DEFAULTS = { timeoutMs: 2000, maxHeapMb: 256, semiSpaceMb: 16, warmTransforms: 8 } as const;

/**
 * A sandbox that renders one input at a time for one caller (a node controller, the CLI's
 * `render`): one worker, and a 1 MB nursery, which serves it as fast as 16 MB (0.65–0.67 ms
 * a sandboxed render with 2 or 16 MB, 20,000 renders each; 0.115–0.119 ms median with 1 or
 * 2 MB, p95 0.15 with 1 MB against 0.2–0.5 with 2, on a later machine) and keeps the worker
 * small: about 25 MB of its own with 2 MB rather than 50 with 16, and about 2 MB less with 1
 * (see the worker's malloc settings in runners.ts for the rest).
 */
export const RENDER_WORKER: Readonly<SandboxOptions> = { size: 1, semiSpaceMb: 1 };

function positiveInteger(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new UsageError(`Expected \`${name}\` to be an integer >= ${min}, got \`${String(value)}\` (${typeof value})`);
  }
  return value;
}

/** Checks the options up front and fills in the defaults. */
export function resolveSandboxOptions(o: SandboxOptions = {}): ResolvedSandboxOptions {
  if (o.isolation !== undefined && o.isolation !== 'process' && o.isolation !== 'thread') {
    throw new UsageError(`Expected \`isolation\` to be \`process\` or \`thread\`, got \`${String(o.isolation)}\``);
  }
  expectPositiveTimerMs('timeoutMs', o.timeoutMs);
  return {
    isolation: o.isolation ?? 'process',
    size: o.size === undefined ? Math.min(4, Math.max(2, availableParallelism())) : positiveInteger('size', o.size, 1),
    timeoutMs: o.timeoutMs ?? SANDBOX_DEFAULTS.timeoutMs,
    maxHeapMb: o.maxHeapMb === undefined ? SANDBOX_DEFAULTS.maxHeapMb : positiveInteger('maxHeapMb', o.maxHeapMb, 16),
    semiSpaceMb: o.semiSpaceMb === undefined ? SANDBOX_DEFAULTS.semiSpaceMb : positiveInteger('semiSpaceMb', o.semiSpaceMb, 1),
    warmTransforms: o.warmTransforms === undefined ? SANDBOX_DEFAULTS.warmTransforms : positiveInteger('warmTransforms', o.warmTransforms, 1),
    prewarm: o.prewarm ?? false,
    schema: o.schema,
  };
}
