import { CancelledError, DomforgeError, type DomforgeErrorOptions, type ErrorCode } from '../errors.js';

/** The lifecycle operations of a NodeController. */
export type Operation = 'launch' | 'terminate' | 'reboot' | 'stop' | 'start' | 'assign-address' | 'attach-volume' | 'detach-volume' | 'attach-interface' | 'detach-interface' | 'adopt';

/** One undo action run while rolling back a failed operation, and how it went. */
export interface RollbackAction {
  /** What was undone: `destroy`, `undefine`, `remove-folder`, `keep-folder`, `detach-device`, `remove-file`... */
  action: string;
  ok: boolean;
  /** Why the undo failed, when it did. */
  error?: DomforgeError;
}

/**
 * STATE_CONFLICT: the operation does not fit the instance's current state — a second
 * launch of an id that is running or being launched, an instance folder that already
 * exists, a libvirt domain by that name that domforge did not create, a volume id or
 * device already attached.
 */
export class StateConflictError extends DomforgeError {
  readonly instanceId?: string;
  constructor(message: string, o: DomforgeErrorOptions & { instanceId?: string } = {}) {
    super('STATE_CONFLICT', message, o);
    this.instanceId = o.instanceId;
  }
}

/** STATE_CONFLICT: there is no instance by that id under the instances folder (or no such volume on it). */
export class InstanceNotFoundError extends StateConflictError {}

/**
 * STATE_CONFLICT: the instance folder exists but holds no `instance.xml` — a launch
 * stopped between creating the folder and writing the record, or a removal stopped
 * half-way. `terminate` removes such a folder when libvirt has no domain by its name;
 * `adopt` reports it as incomplete.
 */
export class RecordMissingError extends InstanceNotFoundError {}

/**
 * A lifecycle operation failed at a named step and what it had done was rolled back.
 * The code, place (file, line, path) and details are those of the error behind it
 * (`cause`): HOOK_FAILED for a pre-boot hook, DOMAIN_INVALID for a hook that broke the
 * XML, LIBVIRT_ERROR for define or start, IO_ERROR for a failed write... The message
 * says which operation, which instance and which step:
 *
 *     launch of i-12345678 failed at step 'pre-boot': euca-nc-pre-boot hook 10-deny exited with code 3; ...
 *
 * `rollback` lists every undo action; when one failed, `details` says what was left
 * behind (the instance folder is then kept and marked so `adopt()` reports it).
 *
 * An operation that fails past the point where it can be undone (a detach, once libvirt has
 * removed the device) rolls nothing back: `unfinished` says what state it left and how to
 * finish it, and `rolledBack` is false.
 */
export class OperationError extends DomforgeError {
  readonly operation: Operation;
  readonly instanceId: string;
  readonly step: string;
  readonly rollback: RollbackAction[];
  /** True when every undo action succeeded: nothing this operation did is left. */
  readonly rolledBack: boolean;
  /** When the failure came past the point of no return: the state left, and how to finish (also the last line of `details`). */
  readonly unfinished?: string;

  constructor(o: { operation: Operation; instanceId: string; step: string; cause: DomforgeError; rollback: RollbackAction[]; details?: string[]; unfinished?: string }) {
    const c = o.cause;
    super(c.code as ErrorCode, `${o.operation} of ${o.instanceId} failed at step '${o.step}': ${c.shortMessage}`, {
      file: c.file,
      line: c.line,
      column: c.column,
      path: c.path,
      cause: c,
      details: [...c.details, ...(o.details ?? [])],
    });
    this.operation = o.operation;
    this.instanceId = o.instanceId;
    this.step = o.step;
    this.rollback = o.rollback;
    this.rolledBack = o.rollback.every((a) => a.ok) && o.unfinished === undefined;
    this.unfinished = o.unfinished;
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      operation: this.operation,
      instanceId: this.instanceId,
      step: this.step,
      rolledBack: this.rolledBack,
      rollback: this.rollback.map((a) => ({ action: a.action, ok: a.ok, error: a.error?.shortMessage })),
      unfinished: this.unfinished,
      cause: (this.cause as DomforgeError).toJSON(),
    };
  }
}

/** The start events `NodeController.open` raises (see `initHooks`). */
export type StartEvent = 'euca-nc-pre-init' | 'euca-nc-pre-hyp-check' | 'euca-nc-post-init';

/**
 * CANCELLED: `open` was cancelled (its `signal`) while its start hooks ran: the running hook's
 * process group was killed and the controller did not start. `event` is the start event it
 * stopped at (no libvirt connection was made before `euca-nc-post-init`).
 */
export class StartCancelledError extends CancelledError {
  readonly event: StartEvent;
  constructor(event: StartEvent, reason: string, cause: unknown) {
    const left = event === 'euca-nc-post-init' ? 'the controller did not start' : 'the controller did not start, no libvirt connection was made';
    super(`open cancelled (${reason}) at the ${event} hooks (stopped); ${left}`, { cause, reason });
    this.event = event;
  }
}
