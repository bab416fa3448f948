import type { CliIo } from './io.js';

interface Interrupt {
  /** Aborted (with the signal's name) at the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** The operation has ended: a first signal from now on is noted, not a cancel, until {@link releaseInterrupts}. */
  finish(): void;
  /** Puts the default handling of the signals back. */
  dispose(): void;
}

/** Handlers of operations that have ended, kept until their command (its io) has written its result. */
const finished = new Map<CliIo, Set<Interrupt>>();

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** What a cancel does to an operation, as the notice printed at the signal says it. */
export type CancelOutcome = 'undone' | 'stopped';

const OUTCOME: Record<CancelOutcome, string> = {
  undone: 'what it did is undone',
  stopped: 'its running hook is killed and no further step runs; what is left is said when it stops',
};

/**
 * While a command runs an operation that runs hooks, the first Ctrl-C or SIGTERM cancels it
 * rather than ending the process where it stands (which would leave a hook running, re-parented
 * to init, and say nothing): the running hook's process group is killed and the operation stops
 * at its next step. One that can be undone (a launch, an attach) undoes what it did, so no
 * half-made instance folder or domain is left; one that only goes forward (a terminate, a
 * detach, an adopt) says what it left and how to finish it. A second signal ends the process
 * at once, as the signal would have.
 */
function cancelOnInterrupt(io: CliIo, what: string, outcome: CancelOutcome): Interrupt {
  const controller = new AbortController();
  let ended = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      // Once the operation has ended, the signal cancels nothing: the process goes on to say
      // how it ended (and exits with that), rather than dying as if it had been stopped.
      io.stderr(ended ? `domforge: ${sig}: ${what} had already ended; writing its result (${sig} again to stop at once)\n` : `domforge: ${sig}: cancelling ${what}; ${OUTCOME[outcome]} (${sig} again to stop at once)\n`);
      controller.abort(sig);
      return;
    }
    interrupt.dispose();
    process.kill(process.pid, sig);
  };
  const interrupt: Interrupt = {
    signal: controller.signal,
    finish: () => {
      ended = true;
      const mine = finished.get(io) ?? new Set<Interrupt>();
      finished.set(io, mine.add(interrupt));
    },
    dispose: () => {
      const mine = finished.get(io);
      mine?.delete(interrupt);
      if (mine?.size === 0) finished.delete(io);
      for (const s of SIGNALS) process.off(s, onSignal);
    },
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  return interrupt;
}

/**
 * Runs `f` with a signal its first SIGINT or SIGTERM aborts (see cancelOnInterrupt). After
 * `f` has ended, its handler stays until {@link releaseInterrupts} for `io`: a signal that lands
 * while the command writes the result of a launch that has completed does not kill the
 * process (exit 130, as if the launch had been cancelled and undone) with its domain running.
 */
export async function interruptible<T>(io: CliIo, what: string, f: (signal: AbortSignal) => Promise<T>, outcome: CancelOutcome = 'undone'): Promise<T> {
  const interrupt = cancelOnInterrupt(io, what, outcome);
  try {
    return await f(interrupt.signal);
  } finally {
    interrupt.finish();
  }
}

/**
 * The command that writes to `io` has written its result: its handlers go, and with the last
 * one the default handling of the signals comes back. Another command running in the same
 * process (the CLI called as a library) keeps its own.
 */
export function releaseInterrupts(io: CliIo): void {
  for (const i of [...(finished.get(io) ?? [])]) i.dispose();
}
