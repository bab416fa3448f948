import { unlinkSync } from 'node:fs';

/**
 * Temporary files of writes under way (writeFileAtomic's `.NAME.PID.RANDOM.tmp`), removed when
 * a signal ends the process before they are renamed into place. Without this, Ctrl-C or
 * SIGTERM during a slow write or fsync (a 64 MiB config drive on a busy disk) ended Node where
 * it stood and left the temporary file beside the target: a whole or partial image, holding
 * the admin password, that nothing would ever remove.
 */
const pending = new Set<string>();

/** The signals that end a process by default, as a terminal or a service manager sends them (those interrupt.ts handles). */
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Holds `path` until the returned release is called: while any file is held, SIGINT and SIGTERM
 * remove the held files, then end the process by the signal as before (exit status 128 + n). A
 * signal that another listener handles (a launch's cancel, the embedding program's own) is left
 * to it: the process goes on, and the write ends and removes its file as any failure does
 * (signal-exit's listeners, which themselves leave a signal to any other, do not count). A
 * `process.exit()` during the write removes them too.
 */
export function holdTempFile(path: string): () => void {
  if (pending.size === 0) {
    // First in line: when it runs, a `once` listener of another (`watch`'s stop) has not yet
    // been removed, so it still counts as one that handles the signal.
    for (const s of SIGNALS) process.prependListener(s, onSignal);
    process.on('exit', removeAll);
  }
  pending.add(path);
  return () => {
    if (!pending.delete(path) || pending.size > 0) return;
    stopListening();
  };
}

function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) - 1 - signalExitListeners() > 0) return;
  removeAll();
  stopListening();
  // No listener is left: the signal now does what it would have done without us.
  process.kill(process.pid, signal);
}

/**
 * How many of the signal's listeners are signal-exit's (loaded by execa, write-file-atomic and
 * many more), which decide as onSignal does: each acts only when every listener of the signal
 * is one of its own, and leaves the signal to the others otherwise. Taken for listeners that
 * handle the signal, they and onSignal would each leave it to the other and it would be lost
 * (the process going on as if no Ctrl-C came). signal-exit counts its listeners on a shared
 * object for that reason (v3 and v4 count each other's): v4's under
 * `Symbol.for('signal-exit emitter')`, v3's at `process.__signal_exit_emitter__`. Then we act,
 * and signal-exit, finding only its own listeners left, runs its exit handlers and ends the process too.
 */
function signalExitListeners(): number {
  const emitters = [(globalThis as Record<symbol, unknown>)[Symbol.for('signal-exit emitter')], (process as unknown as Record<string, unknown>).__signal_exit_emitter__];
  let n = 0;
  for (const e of emitters) {
    const count = typeof e === 'object' && e !== null ? (e as { count?: unknown }).count : undefined;
    if (typeof count === 'number' && count > 0) n += count;
  }
  return n;
}

function removeAll(): void {
  for (const path of pending) {
    try {
      unlinkSync(path);
    } catch {
      // Not created yet, or already renamed into place or removed.
    }
  }
  pending.clear();
}

function stopListening(): void {
  for (const s of SIGNALS) process.off(s, onSignal);
  process.off('exit', removeAll);
}
