import { UsageError } from '../errors.js';
import { defaultBindingLoader, loadBinding, type BindingLoader } from './binding.js';
import { LibvirtConnection } from './connection.js';
import { toLibvirtError } from './errors.js';
import { isTestDriverUri, resolveUri } from './uri.js';

export interface ConnectOptions {
  /** libvirt URI. Default: `LIBVIRT_DEFAULT_URI`, else `test:///default`. */
  uri?: string;
  /** Replaces the loader of @unraid/libvirt (tests use it to simulate a missing binding). */
  loader?: BindingLoader;
}

/** An open (or opening) connection; `connection` is set once open. */
interface PoolEntry {
  promise: Promise<LibvirtConnection>;
  connection?: LibvirtConnection;
}
type Pool = Map<string, PoolEntry>;

/** Per loader, per URI. */
const pools = new WeakMap<BindingLoader, Pool>();

/**
 * The connection for a URI: opened on first use, then shared by every caller in the
 * process until someone closes it (`connection.close()` or `closeConnections()`).
 * Concurrent first calls share one open. Throws LibvirtUnavailableError when the
 * binding cannot be loaded, LibvirtError when libvirt refuses the connection (a failed
 * open is not cached).
 *
 * On `test:///default` the state (domains defined, started...) lives in this process
 * and lasts while at least one connection to it is open: closing the last one resets it.
 */
export function connect(options: ConnectOptions = {}): Promise<LibvirtConnection> {
  if (typeof options !== 'object' || options === null) throw new UsageError('Expected `connect()` options to be an object');
  if (options.uri !== undefined && typeof options.uri !== 'string') {
    throw new UsageError(`Expected \`uri\` to be a string, got \`${String(options.uri)}\` (${typeof options.uri})`);
  }
  if (options.loader !== undefined && typeof options.loader !== 'function') throw new UsageError('Expected `loader` to be a function');
  const uri = resolveUri(options.uri);
  const loader = options.loader ?? defaultBindingLoader;
  let pool = pools.get(loader);
  if (!pool) pools.set(loader, (pool = new Map()));
  const existing = pool.get(uri);
  if (existing) return existing.promise;
  const entry: PoolEntry = { promise: undefined as unknown as Promise<LibvirtConnection> };
  const p: Pool = pool;
  entry.promise = open(uri, loader, () => {
    if (p.get(uri) === entry) p.delete(uri);
  }).then(
    (c) => (entry.connection = c),
    (e: unknown) => {
      if (p.get(uri) === entry) p.delete(uri);
      throw e;
    },
  );
  pool.set(uri, entry);
  return entry.promise;
}

async function open(uri: string, loader: BindingLoader, onClose: () => void): Promise<LibvirtConnection> {
  const binding = await loadBinding(loader);
  let hypervisor;
  try {
    hypervisor = new binding.Hypervisor({ uri });
    await hypervisor.connectOpen();
  } catch (e) {
    throw toLibvirtError(e, 'connect', { uri });
  }
  // The test driver's domains live in this process: its connection never breaks, and a new one
  // would not be the same host. Every other URI reconnects when its daemon restarts.
  const reopen = isTestDriverUri(uri)
    ? undefined
    : async () => {
        const fresh = new binding.Hypervisor({ uri });
        await fresh.connectOpen();
        return fresh;
      };
  return new LibvirtConnection(uri, hypervisor, onClose, reopen);
}

/** Closes every pooled connection (of the default loader, or of `loader`). */
export async function closeConnections(loader: BindingLoader = defaultBindingLoader): Promise<void> {
  const pool = pools.get(loader);
  if (!pool) return;
  const all = [...pool.values()];
  pool.clear();
  const results = await Promise.allSettled(
    all.map(async (entry) => {
      const c = await entry.promise.catch(() => undefined); // a failed open has nothing to close
      await c?.close();
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
