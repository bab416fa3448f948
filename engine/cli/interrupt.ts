import type { CliIo } from './io.js';

interface Interrupt {
  /** Aborted (with the signal's name) at the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** Puts the default handling of the signals back. */
  dispose(): void;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * While a command runs an operation that can be undone (a launch), the first Ctrl-C or
 * SIGTERM cancels it — the operation stops at its next step and undoes what it did, so no
 * half-made instance folder or domain is left — rather than ending the process where it
 * stands. A second one ends the process at once, as the signal would have.
 */
function cancelOnInterrupt(io: CliIo, what: string): Interrupt {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      io.stderr(`domforge: ${sig}: cancelling ${what}; what it did is undone (${sig} again to stop at once)\n`);
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
export async function interruptible<T>(io: CliIo, what: string, f: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const interrupt = cancelOnInterrupt(io, what);
  try {
    return await f(interrupt.signal);
  } finally {
    interrupt.dispose();
  }
}
