import {
  DomforgeError,
  DomainInvalidError,
  InstanceError,
  IoError,
  TransformError,
  UsageError,
  XmlForbiddenError,
  XmlSyntaxError,
  type DomforgeErrorOptions,
  type ErrorCode,
  type TransformErrorCode,
} from '../../errors.js';

/**
 * TRANSFORM_RUNTIME raised by the sandbox itself, not by the transform: the sandbox was
 * closed, or a worker stopped (crashed) under a render. It says nothing about the version
 * being rendered: the transform watcher tries that version again on the next change.
 */
export class SandboxStoppedError extends TransformError {
  readonly sandboxStopped = true;
  constructor(message: string, o: DomforgeErrorOptions = {}) {
    super('TRANSFORM_RUNTIME', message, o);
  }
}

/** What the sandbox knows about a render it had to stop. */
export interface SandboxLimitOptions {
  /** The transform's main file (as the admin knows it, not the snapshot path). */
  file: string;
  /** The input being rendered, when known. */
  input?: string;
  /** Milliseconds the render ran before it was stopped. */
  durationMs: number;
  /** The limit that was reached: milliseconds for a timeout, megabytes for memory. */
  limit: number;
  cause?: unknown;
}

/**
 * TRANSFORM_TIMEOUT: a render ran past the sandbox's wall-clock limit (an infinitely
 * recursive template, a runaway `xsl:for-each`). Its worker was terminated and replaced.
 */
export class TransformTimeoutError extends TransformError {
  readonly durationMs: number;
  readonly timeoutMs: number;
  readonly timedOut = true;
  constructor(o: SandboxLimitOptions) {
    super('TRANSFORM_TIMEOUT', `the transform ran longer than ${o.limit} ms${o.input ? ` on ${o.input}` : ''} and was stopped (infinite recursion or a runaway loop?)`, {
      file: o.file,
      cause: o.cause,
    });
    this.durationMs = o.durationMs;
    this.timeoutMs = o.limit;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), timedOut: true, timeoutMs: this.timeoutMs, durationMs: Math.round(this.durationMs) };
  }
}

/**
 * TRANSFORM_OUT_OF_MEMORY: a render filled the worker's heap limit (a template that
 * allocates without end). Its worker died alone and was replaced; the process lives on.
 */
export class TransformOutOfMemoryError extends TransformError {
  readonly durationMs: number;
  readonly heapLimitMb: number;
  constructor(o: SandboxLimitOptions) {
    super('TRANSFORM_OUT_OF_MEMORY', `the transform used more than ${o.limit} MB of heap${o.input ? ` on ${o.input}` : ''} and was stopped`, {
      file: o.file,
      cause: o.cause,
    });
    this.durationMs = o.durationMs;
    this.heapLimitMb = o.limit;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), heapLimitMb: this.heapLimitMb, durationMs: Math.round(this.durationMs) };
  }
}

/** An error as it crosses the thread boundary: plain data, no prototype. */
export interface WireError {
  name: string;
  code?: ErrorCode;
  message: string;
  file?: string;
  line?: number;
  column?: number;
  path?: string;
  details?: string[];
  problems?: WireError[];
}

/** Flattens an error thrown in a worker so the main thread can rebuild it. */
export function toWire(e: unknown): WireError {
  if (e instanceof DomforgeError) {
    return {
      name: e.name,
      code: e.code,
      message: e.shortMessage,
      file: e.file,
      line: e.line,
      column: e.column,
      path: e.path,
      details: e.details.length ? e.details : undefined,
      problems: e instanceof DomainInvalidError && e.problems.length ? e.problems.map(toWire) : undefined,
    };
  }
  const err = e as Error;
  return { name: err?.name ?? 'Error', message: err?.message ?? String(e) };
}

/**
 * Rebuilds a worker's error as the same DomforgeError class, with `mapFile` applied to
 * every file name (the worker sees the version's snapshot, the admin the transforms folder).
 * An error that was not a DomforgeError becomes TRANSFORM_RUNTIME naming `fallbackFile`.
 */
export function fromWire(w: WireError, fallbackFile: string, mapFile: (s: string) => string = (s) => s): DomforgeError {
  const o: DomforgeErrorOptions = {
    file: w.file === undefined ? undefined : mapFile(w.file),
    line: w.line,
    column: w.column,
    path: w.path,
    details: w.details?.map(mapFile),
  };
  const message = mapFile(w.message);
  switch (w.name) {
    case 'XmlSyntaxError':
      return new XmlSyntaxError(message, o);
    case 'XmlForbiddenError':
      return new XmlForbiddenError(message, o);
    case 'InstanceError':
      return new InstanceError(message, o);
    case 'IoError':
      return new IoError(message, o);
    case 'DomainInvalidError':
      return new DomainInvalidError(message, { ...o, problems: (w.problems ?? []).map((p) => fromWire(p, fallbackFile, mapFile)) });
    case 'TransformError':
      return new TransformError(w.code as TransformErrorCode, message, o);
    case 'UsageError':
      return new UsageError(message, o);
  }
  if (w.code) return new DomforgeError(w.code, message, o);
  return new TransformError('TRANSFORM_RUNTIME', `${w.name}: ${message}`, { file: fallbackFile });
}
