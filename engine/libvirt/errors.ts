import { DomforgeError } from '../errors.js';
import { libvirtCodeName, libvirtCodeOf } from './error-codes.js';

export interface LibvirtErrorOptions {
  /** What domforge asked libvirt to do: `define`, `start`, `lookup`, `attach-device`... */
  operation: string;
  /** The domain's name or UUID, when the operation concerns one. */
  domain?: string;
  uri?: string;
  /** libvirt's own message (the binding's, or virsh's `error:` line). */
  libvirtMessage: string;
  /** libvirt's `virErrorNumber`; recovered from the message when the binding does not give it. */
  libvirtCode?: number;
  cause?: unknown;
  details?: string[];
  /** The connection broke under the operation and was reopened, the request unsent or its outcome unknown (see LibvirtConnection.call). */
  connectionRestored?: 'unsent' | 'unknown';
}

/**
 * LIBVIRT_ERROR: libvirt refused an operation. Carries libvirt's own message
 * (`libvirtMessage`) and error number (`libvirtCode`, `libvirtCodeName` such as
 * `VIR_ERR_NO_DOMAIN`), the operation, the domain and the URI.
 */
export class LibvirtError extends DomforgeError {
  readonly operation: string;
  readonly domain?: string;
  readonly uri?: string;
  readonly libvirtMessage: string;
  readonly libvirtCode?: number;
  readonly libvirtCodeName?: string;
  /**
   * The connection broke under this operation and has been reopened: `unsent` (the request
   * never reached libvirt: it can be made again) or `unknown` (it may have taken effect).
   */
  readonly connectionRestored?: 'unsent' | 'unknown';

  constructor(o: LibvirtErrorOptions) {
    const target = o.domain !== undefined ? ` of domain '${o.domain}'` : '';
    const on = o.uri ? ` on ${o.uri}` : '';
    // libxml2's parse errors span lines (message, source line, caret): keep the first in the message.
    const [first, ...rest] = o.libvirtMessage.split('\n');
    super('LIBVIRT_ERROR', `libvirt ${o.operation}${target}${on} failed: ${first}`, {
      cause: o.cause,
      details: [...rest.filter((l) => l.trim() !== ''), ...(o.details ?? [])],
    });
    const inferred = o.libvirtCode === undefined ? libvirtCodeOf(o.libvirtMessage) : undefined;
    this.operation = o.operation;
    this.domain = o.domain;
    this.uri = o.uri;
    this.libvirtMessage = o.libvirtMessage;
    this.libvirtCode = o.libvirtCode ?? inferred?.code;
    this.libvirtCodeName = this.libvirtCode === undefined ? undefined : libvirtCodeName(this.libvirtCode);
    this.connectionRestored = o.connectionRestored;
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      operation: this.operation,
      domain: this.domain,
      uri: this.uri,
      libvirtMessage: this.libvirtMessage,
      libvirtCode: this.libvirtCode,
      libvirtCodeName: this.libvirtCodeName,
      ...(this.connectionRestored ? { connectionRestored: this.connectionRestored } : {}),
    };
  }
}

/** LIBVIRT_UNAVAILABLE: the optional native binding @unraid/libvirt (or libvirt itself) cannot be loaded. */
export class LibvirtUnavailableError extends DomforgeError {
  constructor(message: string, o: { cause?: unknown } = {}) {
    super('LIBVIRT_UNAVAILABLE', message, {
      cause: o.cause,
      details: o.cause instanceof Error ? [`cause: ${o.cause.message.split('\n')[0]}`] : [],
    });
  }
}

/** Turns whatever the binding threw into a LibvirtError naming the operation and domain. */
export function toLibvirtError(e: unknown, operation: string, context: { domain?: string; uri?: string }): LibvirtError {
  if (e instanceof LibvirtError) return e;
  const raw = e as { message?: unknown; code?: unknown } | string | undefined;
  const message = typeof raw === 'string' ? raw : typeof raw?.message === 'string' ? raw.message : String(e);
  // The binding sets code -1 when it does not know it (always, as of 2.2.1).
  const code = typeof raw === 'object' && typeof raw?.code === 'number' && raw.code > 0 ? raw.code : undefined;
  const details = operation === 'connect' ? connectHint(message) : [];
  return new LibvirtError({ operation, ...context, libvirtMessage: message, libvirtCode: code, cause: e, ...(details.length ? { details } : {}) });
}

/**
 * What to do about a connection refused at the daemon's socket, which libvirt's message
 * names but does not explain: the daemon is not running (no socket), is not accepting
 * (a socket left behind), or this user may not use it.
 */
export function connectHint(message: string): string[] {
  const m = /Failed to connect socket to '([^']*)': (No such file or directory|Connection refused|Permission denied)/.exec(message);
  if (!m) return [];
  const [, socket, why] = m;
  if (why === 'No such file or directory') {
    return [`hint: no libvirt daemon listens at ${socket}: start it (systemctl start libvirtd, or virtqemud where libvirt's modular daemons are used); a URI whose driver libvirt does not know, such as a misspelt scheme, is sent to the daemon too`];
  }
  if (why === 'Connection refused') return [`hint: ${socket} is there but no daemon accepts on it (a daemon that stopped without removing it): restart the daemon (systemctl restart libvirtd)`];
  return [`hint: this user may not use ${socket}: run as root, or as a member of the group the daemon's unix_sock_group names (libvirt on Debian)`];
}
