import { abortReason, CancelledError, DomforgeError, IoError } from '../errors.js';
import { OperationError, type Operation, type RollbackAction } from './errors.js';
import type { InstanceLog } from './instance-log.js';

/** Told before each step of an operation runs. */
export interface StepEvent {
  operation: Operation;
  instanceId: string;
  step: string;
}

/**
 * Called before each step; a throw fails that step exactly as if the step itself had
 * failed (rollback included). For tracing, metrics, and fault injection in tests.
 */
export type StepObserver = (event: StepEvent) => void | Promise<void>;

export interface StepTiming {
  step: string;
  durationMs: number;
}

interface Undo {
  action: string;
  run: () => Promise<void>;
  /** Run instead of `run` when an undo before it failed (e.g. keep the folder rather than remove the record of a domain still defined). */
  ifDirty?: { action: string; run: () => Promise<void> };
}

/**
 * Runs an operation as named steps, remembering how to undo each one. When a step fails,
 * every recorded undo runs in reverse order and an OperationError naming the step is
 * thrown. An undo registered with `ifDirty` runs its alternative when an earlier undo
 * failed: the instance folder is only removed when nothing it records is left behind.
 */
export class Steps {
  private readonly undos: Undo[] = [];
  readonly timings: StepTiming[] = [];
  private current = '';
  private unfinished?: () => string | undefined | Promise<string | undefined>;

  constructor(
    readonly operation: Operation,
    readonly instanceId: string,
    private readonly log: InstanceLog,
    private readonly observer?: StepObserver,
    /** Aborting it cancels the operation at the next step: the steps done are undone. */
    private readonly signal?: AbortSignal,
  ) {}

  /** Runs one step; on failure rolls back and throws OperationError. */
  async run<T>(step: string, f: () => Promise<T>): Promise<T> {
    this.current = step;
    const started = performance.now();
    try {
      this.checkCancelled();
      await this.observer?.({ operation: this.operation, instanceId: this.instanceId, step });
      const value = await f();
      const durationMs = Math.round(performance.now() - started);
      this.timings.push({ step, durationMs });
      this.log.info(`step ${step}: ok in ${durationMs} ms`);
      return value;
    } catch (e) {
      // Whatever the step ran into once the operation was cancelled (a hook killed, a
      // worker gone), the cancellation is why it stopped.
      return this.fail(this.signal?.aborted && !(e instanceof CancelledError) ? this.cancelled(e) : e);
    }
  }

  private checkCancelled(): void {
    if (this.signal?.aborted) throw this.cancelled();
  }

  private cancelled(cause?: unknown): CancelledError {
    const reason = abortReason(this.signal!);
    return new CancelledError(`${this.operation} of ${this.instanceId} cancelled (${reason})`, { cause, reason });
  }

  /** Records how to undo what the last step did. */
  onUndo(action: string, run: () => Promise<void>, ifDirty?: Undo['ifDirty']): void {
    this.undos.push({ action, run, ifDirty });
  }

  /** Forgets the undo actions (the operation is complete; nothing will be rolled back). */
  commit(): void {
    this.undos.length = 0;
  }

  /**
   * From here on what was done stays done (a device detached is not attached again): the
   * undo actions are forgotten, and a later failure rolls nothing back but says, in the
   * error's `unfinished` (and its details), what `describe` returns at that moment: the state
   * the operation leaves and how to finish it.
   */
  forwardOnly(describe: () => string | Promise<string>): void {
    this.undos.length = 0;
    this.unfinished = describe;
  }

  /**
   * What a failure leaves when its rollback does not take the instance back to where the
   * operation found it (an undo that failed, or an earlier operation's unfinished state the
   * rollback keeps): `describe` is called once the undo actions have run, and returns that
   * state and how to finish it (the error's `unfinished`), or undefined when nothing is left.
   * Unlike forwardOnly, the undo actions stay and run.
   */
  onUnfinished(describe: () => string | undefined | Promise<string | undefined>): void {
    this.unfinished = describe;
  }

  private async fail(e: unknown): Promise<never> {
    const cause = asDomforgeError(e);
    this.log.error(`step ${this.current} failed: ${cause ? cause.fullMessage : String((e as Error)?.stack ?? e)}`);
    const rollback: RollbackAction[] = [];
    let dirty = false;
    for (const undo of this.undos.reverse()) {
      const chosen = dirty && undo.ifDirty ? undo.ifDirty : undo;
      try {
        await chosen.run();
        rollback.push({ action: chosen.action, ok: true });
        this.log.info(`rollback ${chosen.action}: ok`);
      } catch (err) {
        dirty = true;
        const error = asDomforgeError(err) ?? new IoError(String((err as Error)?.message ?? err), { cause: err });
        rollback.push({ action: chosen.action, ok: false, error });
        this.log.error(`rollback ${chosen.action} failed: ${error.message}`);
      }
    }
    this.undos.length = 0;
    const unfinished = await this.describeUnfinished();
    if (unfinished) this.log.error(`not rolled back: ${unfinished}`);
    await this.log.flush();
    // Not a DomforgeError nor a system error: a bug. Rolled back all the same; thrown as is.
    if (!cause) throw e;
    const failed = rollback.filter((a) => !a.ok);
    const details = failed.length
      ? [`rollback incomplete: ${failed.map((a) => `${a.action} failed (${a.error!.shortMessage})`).join('; ')}`]
      : rollback.length
        ? [`rolled back: ${rollback.map((a) => a.action).join(', ')}`]
        : [];
    if (unfinished) details.push(`not rolled back: ${unfinished}`);
    throw new OperationError({ operation: this.operation, instanceId: this.instanceId, step: this.current, cause, rollback, details, unfinished });
  }

  private async describeUnfinished(): Promise<string | undefined> {
    if (!this.unfinished) return undefined;
    try {
      return await this.unfinished();
    } catch (e) {
      return `(what is left could not be told: ${(e as Error)?.message ?? String(e)})`;
    }
  }
}

/** A DomforgeError as is; a Node system error (errno) as an IoError; anything else undefined. */
export function asDomforgeError(e: unknown): DomforgeError | undefined {
  if (e instanceof DomforgeError) return e;
  const err = e as NodeJS.ErrnoException | undefined;
  if (err && typeof err === 'object' && typeof err.code === 'string' && typeof err.syscall === 'string') {
    return new IoError(`${err.syscall} ${err.path ?? ''} failed: ${err.code} ${err.message}`.replace(/\s+/g, ' '), { file: err.path, cause: e });
  }
  return undefined;
}
