/**
 * Host-wide locks: one holder at a time across every process of the host (the controller,
 * the admin's `domforge` commands, a second controller opened on the same folder).
 *
 * A lock is a listening socket in Linux's abstract namespace, named from the lock's scope
 * (the instances folder's real path) and key (the instance id). Binding the name takes the
 * lock, EADDRINUSE says another holds it, and the kernel frees the name when its holder
 * closes it or dies, however it dies: a controller killed with SIGKILL leaves no stale lock
 * to break and nothing to clean up. The socket is close-on-exec, so hooks and other child
 * processes never hold it.
 *
 * A process that waits connects to the holder's socket: the holder tells it who holds the
 * lock (`PID WHAT`) and drops the connection when it releases the lock; the kernel drops it
 * when the holder dies. The waiter then tries to bind the name again.
 *
 * The abstract namespace belongs to the network namespace: processes in different network
 * namespaces (containers without the host's network) sharing one instances folder do not
 * see each other's locks.
 */
import { createHash } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { IoError } from '../errors.js';

/** Who holds a lock, as its holder says it to a process that waits. */
export interface LockHolder {
  pid: number;
  /** What the holder is doing (`launch of i-1234`). */
  what: string;
}

export interface HeldLock {
  /** Frees the lock (and tells every waiting process). Safe to call more than once. */
  release(): Promise<void>;
}

/** The socket name of the lock `key` in `scope` (a hash: abstract names are at most 107 bytes). */
export function hostLockName(scope: string, key: string): string {
  return `\0domforge-lock-${createHash('sha256').update(scope).update('\0').update(key).digest('hex').slice(0, 40)}`;
}

/** Takes the lock if no one holds it; undefined when another process (or controller) does. */
export async function tryHostLock(name: string, what: string): Promise<HeldLock | undefined> {
  const server = createServer();
  const waiting = new Set<Socket>();
  let released = false;
  server.on('connection', (s) => {
    s.on('error', () => undefined); // a waiter that went away
    if (released) return void s.destroy();
    waiting.add(s);
    s.once('close', () => waiting.delete(s));
    // Kept open until the lock is released: its end is the waiter's signal.
    s.write(`${process.pid} ${what.replace(/\s+/g, ' ')}\n`);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(name, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') return undefined;
    throw new IoError(
      `cannot take the host lock for ${what}: ${(e as Error).message} (domforge's locks are sockets in Linux's abstract namespace; \`hostLocks: false\` keeps them inside this process)`,
      { cause: e },
    );
  }
  server.on('error', () => undefined);
  // The lock never keeps a process alive by itself: the operation that holds it does.
  server.unref();
  return {
    release() {
      if (!released) {
        released = true;
        // Closing the listening socket frees the name at once (the close callback is the
        // handle's bookkeeping, not awaited): the next holder can bind straight away.
        server.close();
        for (const s of waiting) s.destroy();
        waiting.clear();
      }
      return Promise.resolve();
    },
  };
}

/**
 * Takes the lock, waiting while another holds it. `onWait` is told once, when the wait
 * begins, who holds it (undefined when the holder could not say).
 */
export async function hostLock(name: string, what: string, onWait?: (holder: LockHolder | undefined) => void): Promise<HeldLock> {
  let told = false;
  for (;;) {
    const held = await tryHostLock(name, what);
    if (held) return held;
    const holder = await untilReleased(name, (h) => {
      if (told) return;
      told = true;
      onWait?.(h);
    });
    if (!holder.connected) await sleep(10); // released before we connected, or a full backlog: try again shortly
  }
}

/**
 * Connects to the holder and waits for the connection to end (the lock released, or its
 * holder gone). `holder` is called with what the holder said, or undefined if it said nothing.
 */
function untilReleased(name: string, holder: (h: LockHolder | undefined) => void): Promise<{ connected: boolean }> {
  return new Promise((resolve) => {
    const s = connect(name);
    let connected = false;
    let said = '';
    let told = false;
    const tell = (h: LockHolder | undefined) => {
      if (told) return;
      told = true;
      holder(h);
    };
    s.setEncoding('utf8');
    s.on('connect', () => (connected = true));
    s.on('data', (d: string) => {
      said += d;
      if (said.includes('\n') || said.length > 4096) tell(parseHolder(said));
    });
    s.on('error', () => undefined);
    s.once('close', () => {
      if (connected) tell(parseHolder(said));
      resolve({ connected });
    });
  });
}

function parseHolder(text: string): LockHolder | undefined {
  const m = /^(\d+) ([^\n]*)\n/.exec(text);
  return m ? { pid: Number(m[1]), what: m[2]! } : undefined;
}
