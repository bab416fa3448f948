/**
 * Every failure domforge reports is a DomforgeError: a stable `code`, a place
 * (file, line, column and/or an XML path such as `/instance/cores`), a short
 * message for one line of a terminal, and `cause` when another error is behind it.
 *
 * `toString()` gives the `file:line:col: message` form the CLI prints.
 */
export type ErrorCode =
  | 'XML_SYNTAX'
  | 'XML_FORBIDDEN'
  | 'INSTANCE_INVALID'
  | 'TRANSFORM_SYNTAX'
  | 'TRANSFORM_MESSAGE'
  | 'TRANSFORM_RUNTIME'
  | 'TRANSFORM_UNSUPPORTED'
  | 'TRANSFORM_TIMEOUT'
  | 'TRANSFORM_OUT_OF_MEMORY'
  | 'DOMAIN_INVALID'
  | 'CONFIG_DRIVE_INVALID'
  | 'KVP_INVALID'
  | 'HOOK_FAILED'
  | 'HOOK_TIMEOUT'
  | 'LIBVIRT_ERROR'
  | 'LIBVIRT_UNAVAILABLE'
  | 'IO_ERROR'
  | 'USAGE'
  | 'STATE_CONFLICT'
  | 'NODE_STATE_INVALID'
  | 'HOST_CHECK_FAILED'
  | 'CANCELLED';

export interface ErrorPlace {
  /** File the problem is in, as given by the caller (not resolved). */
  file?: string;
  /** 1-based line, when known. */
  line?: number;
  /** 1-based column, when known. */
  column?: number;
  /** XML path of the offending node, e.g. `/instance/cores` or `/domain/devices/disk[2]/target/@dev`. */
  path?: string;
}

export interface DomforgeErrorOptions extends ErrorPlace {
  cause?: unknown;
  /** Extra lines shown under the message (e.g. a hook's last stderr lines). */
  details?: string[];
}

export class DomforgeError extends Error {
  readonly code: ErrorCode;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly path?: string;
  readonly details: string[];
  /** The message without the place prefix. */
  readonly shortMessage: string;

  constructor(code: ErrorCode, message: string, options: DomforgeErrorOptions = {}) {
    super(formatPlace(options) + message + (options.path && !message.includes(options.path) ? ` (at ${options.path})` : ''), {
      cause: options.cause,
    });
    this.name = new.target.name;
    this.code = code;
    this.file = options.file;
    this.line = options.line;
    this.column = options.column;
    this.path = options.path;
    this.details = options.details ?? [];
    this.shortMessage = message;
  }

  /** The message followed by its detail lines, as the CLI prints it. */
  get fullMessage(): string {
    return [this.message, ...this.details.map((d) => `  ${d}`)].join('\n');
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.shortMessage,
      file: this.file,
      line: this.line,
      column: this.column,
      path: this.path,
      details: this.details.length ? this.details : undefined,
    };
  }
}

/** `file:line:col: ` (only the parts that are known). */
export function formatPlace(p: ErrorPlace): string {
  if (!p.file && p.line === undefined) return '';
  let s = p.file ?? '<input>';
  if (p.line !== undefined && p.line > 0) {
    s += `:${p.line}`;
    if (p.column !== undefined && p.column > 0) s += `:${p.column}`;
  }
  return s + ': ';
}

export class XmlSyntaxError extends DomforgeError {
  constructor(message: string, o: DomforgeErrorOptions = {}) {
    super('XML_SYNTAX', message, o);
  }
}
export class XmlForbiddenError extends DomforgeError {
  constructor(message: string, o: DomforgeErrorOptions = {}) {
    super('XML_FORBIDDEN', message, o);
  }
}
export class InstanceError extends DomforgeError {
  constructor(message: string, o: DomforgeErrorOptions = {}) {
    super('INSTANCE_INVALID', message, o);
  }
}
export type TransformErrorCode = Extract<
  ErrorCode,
  'TRANSFORM_SYNTAX' | 'TRANSFORM_MESSAGE' | 'TRANSFORM_RUNTIME' | 'TRANSFORM_UNSUPPORTED' | 'TRANSFORM_TIMEOUT' | 'TRANSFORM_OUT_OF_MEMORY'
>;
export class TransformError extends DomforgeError {
  constructor(code: TransformErrorCode, message: string, o: DomforgeErrorOptions = {}) {
    super(code, message, o);
  }
}
export class DomainInvalidError extends DomforgeError {
  /** Every problem found (the message names the first). */
  readonly problems: DomforgeError[];
  constructor(message: string, o: DomforgeErrorOptions & { problems?: DomforgeError[] } = {}) {
    super('DOMAIN_INVALID', message, o);
    this.problems = o.problems ?? [];
  }
}
export class ConfigDriveError extends DomforgeError {
  constructor(message: string, o: DomforgeErrorOptions = {}) {
    super('CONFIG_DRIVE_INVALID', message, o);
  }
}
export class KvpError extends DomforgeError {
  constructor(message: string, o: DomforgeErrorOptions = {}) {
    super('KVP_INVALID', message, o);
  }
}
export class IoError extends DomforgeError {
  constructor(message: string, o: DomforgeErrorOptions = {}) {
    super('IO_ERROR', message, o);
  }
}
export class UsageError extends DomforgeError {
  constructor(message: string, o: DomforgeErrorOptions = {}) {
    super('USAGE', message, o);
  }
}

/** An operation cancelled through its AbortSignal (the CLI's on SIGINT or SIGTERM) before it finished; what it did was undone. */
export class CancelledError extends DomforgeError {
  /** What the signal was aborted with, in words (`SIGINT` from the CLI). */
  readonly reason: string;
  constructor(message: string, o: DomforgeErrorOptions & { reason: string }) {
    super('CANCELLED', message, o);
    this.reason = o.reason;
  }
}

/** What an AbortSignal was aborted with, in words (`SIGINT`, an Error's message). */
export function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (typeof r === 'string') return r;
  if (r instanceof Error && r.name !== 'AbortError') return r.message;
  return 'aborted';
}

export function isDomforgeError(e: unknown): e is DomforgeError {
  return e instanceof DomforgeError;
}
