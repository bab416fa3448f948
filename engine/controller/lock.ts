/**
 * Per-instance mutual exclusion inside one controller process. `run` waits its turn;
 * `tryRun` refuses at once when the instance is busy (a second launch of an id being
 * launched is refused, not queued). Locks are in memory: one controller process owns
 * an instances folder (launch's exclusive mkdir still refuses a duplicate across processes).
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  /** Whether an operation holds or waits for `key`. */
  busy(key: string): boolean {
    return this.tails.has(key);
  }

  /** Runs `f` once every earlier operation on `key` has finished. */
  async run<T>(key: string, f: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await f();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Runs `f` if nothing holds `key`; otherwise returns `busy` without running it. */
  async tryRun<T>(key: string, f: () => Promise<T>): Promise<{ busy: true } | { busy: false; value: T }> {
    if (this.tails.has(key)) return { busy: true };
    return { busy: false, value: await this.run(key, f) };
  }

  /** Resolves when no operation holds any key. */
  async idle(): Promise<void> {
    while (this.tails.size) await Promise.allSettled([...this.tails.values()]);
  }
}
