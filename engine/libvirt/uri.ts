/** libvirt's embedded test driver: in-process, no daemon, state lives as long as a connection to it is open. */
export const TEST_URI = 'test:///default';

/**
 * The connection URI: the option, else `LIBVIRT_DEFAULT_URI` (as virsh does), else
 * `test:///default`. Empty strings count as unset.
 */
export function resolveUri(uri?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (uri) return uri;
  if (env.LIBVIRT_DEFAULT_URI) return env.LIBVIRT_DEFAULT_URI;
  return TEST_URI;
}

/**
 * True for a local test driver (`test:///default`, `test:///path/config.xml`): its state
 * is private to this process, so no other process (virsh included) can see our domains.
 * `test+tcp://...` is a test driver inside a daemon and does not count.
 */
export function isTestDriverUri(uri: string): boolean {
  return uri.startsWith('test://');
}
