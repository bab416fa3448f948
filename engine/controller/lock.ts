import type { HeldLock } from './host-lock.js';

/** A lock shared with other processes (see host-lock.ts): taken after this process's turn comes. */
export interface HostLocking {
  /** Takes the lock of `key`, waiting while another process (or controller) holds it. */
  take(key: string, what: string): Promise<HeldLock>;
  /** Takes the lock of `key` if it is free; undefined when another holds it. */
  tryTake(key: string, what: string): Promise<HeldLock | undefined>;
}

/**
 * Per-instance mutual exclusion. Inside one controller, `run` waits its turn and `tryRun`
 * refuses at once when the instance is busy (a second launch of an id being launched is
 * refused, not queued). With `host` locking, the same holds across processes: once its
 * turn comes here, an operation also takes the instance's host lock, so the admin's
 * `domforge` commands and other controllers on the same instances folder wait for it (or
 * a launch is refused) rather than overwriting each other's instance.xml.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  constructor(private readonly host?: HostLocking) {}

  /** Whether an operation of this process holds or waits for `key`. */
  busy(key: string): boolean {
    return this.tails.has(key);
  }

  /** Runs `f` once every earlier operation on `key` has finished. `what` names it to waiting processes (`launch of i-1`). */
  async run<T>(key: string, what: string, f: () => Promise<T>): Promise<T> {
    const r = await this.locked(key, what, true, f);
    return (r as { value: T }).value;
  }

  /** Runs `f` if nothing holds `key`, here or in another process; otherwise returns `busy` without running it. */
  async tryRun<T>(key: string, what: string, f: () => Promise<T>): Promise<{ busy: true } | { busy: false; value: T }> {
    if (this.tails.has(key)) return { busy: true };
    return this.locked(key, what, false, f);
  }

  /** Resolves when no operation holds any key. */
  async idle(): Promise<void> {
    while (this.tails.size) await Promise.allSettled([...this.tails.values()]);
  }

  private async locked<T>(key: string, what: string, wait: boolean, f: () => Promise<T>): Promise<{ busy: true } | { busy: false; value: T }> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      const held = this.host ? await (wait ? this.host.take(key, what) : this.host.tryTake(key, what)) : undefined;
      if (this.host && !held) return { busy: true };
      try {
        return { busy: false, value: await f() };
      } finally {
        await held?.release();
      }
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
