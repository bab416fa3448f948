import type { CliIo } from './io.js';

interface Interrupt {
  /** Aborted (with the signal's name) at the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** Puts the default handling of the signals back. */
  dispose(): void;
}

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
  const onSignal = (sig: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      io.stderr(`domforge: ${sig}: cancelling ${what}; ${OUTCOME[outcome]} (${sig} again to stop at once)\n`);
      controller.abort(sig);
      return;
    }
    dispose();
    process.kill(process.pid, sig);
  };
  const dispose = () => {
    for (const s of SIGNALS) process.off(s, onSignal);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  return { signal: controller.signal, dispose };
}

/** Runs `f` with a signal its first SIGINT or SIGTERM aborts (see cancelOnInterrupt), the default handling back afterwards. */
export async function interruptible<T>(io: CliIo, what: string, f: (signal: AbortSignal) => Promise<T>, outcome: CancelOutcome = 'undone'): Promise<T> {
  const interrupt = cancelOnInterrupt(io, what, outcome);
  try {
    return await f(interrupt.signal);
  } finally {
    interrupt.dispose();
  }
}
