import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { DomainId, LibvirtConnection } from './connection.js';
import { addDeviceToDomainXml, DeviceXmlError, parseDevice, removeDeviceFromDomainXml } from './device-xml.js';
import { VIR_ERR_DEVICE_MISSING, VIR_ERR_NO_SUPPORT, VIR_ERR_OPERATION_INVALID } from './error-codes.js';
import { LibvirtError } from './errors.js';
import { isTestDriverUri } from './uri.js';
import { runVirsh } from './virsh.js';

/**
 * How a device is attached or detached. @unraid/libvirt 2.2.1 does not expose
 * virDomainAttachDeviceFlags / virDomainDetachDeviceFlags, so:
 *
 * - `virsh`: runs `virsh -c URI attach-device|detach-device DOMAIN FILE [--live] [--config]`
 *   as a child process. The real hot-plug, for daemon URIs (`qemu:///system`...). It cannot
 *   reach a `test://` URI's domains, which exist only inside this process.
 * - `redefine`: changes the persistent configuration only, by re-defining the domain with
 *   the device added to (removed from) its inactive XML. A running domain keeps its live
 *   configuration until it is next started.
 * - `redefine-restart`: `redefine`, then destroy and start the domain if it is running, so
 *   the live configuration has the change too. Test-driver emulation of hot-plug (the test
 *   driver answers attach with "not supported by the connection driver"); it power-cycles
 *   the guest, so `auto` never picks it for a real hypervisor.
 * - `auto` (default): `virsh` for daemon URIs; on `test://` URIs `redefine-restart` when a
 *   live change is asked of a running domain, else `redefine`.
 */
export type HotplugMethod = 'auto' | 'virsh' | 'redefine' | 'redefine-restart';

export interface DeviceChangeOptions {
  /** Default `auto`. */
  method?: HotplugMethod;
  /** Change the running domain (VIR_DOMAIN_AFFECT_LIVE). Default: when the domain is running. */
  live?: boolean;
  /** Change the persistent configuration (VIR_DOMAIN_AFFECT_CONFIG). Default: when the domain is persistent. */
  config?: boolean;
  /** virsh program for the `virsh` method (default `virsh`). */
  virsh?: string;
  /** Time limit of the virsh process (default 60000 ms). */
  timeoutMs?: number;
}

export interface DeviceChangeResult {
  /** The method actually used. */
  method: Exclude<HotplugMethod, 'auto'>;
  /** The running domain has the change. */
  live: boolean;
  /** The persistent configuration has the change. */
  config: boolean;
  /** The domain was destroyed and started again (`redefine-restart`). */
  restarted: boolean;
}

const METHODS: readonly HotplugMethod[] = ['auto', 'virsh', 'redefine', 'redefine-restart'];

export function attachDevice(c: LibvirtConnection, domain: DomainId, deviceXml: string, o: DeviceChangeOptions = {}): Promise<DeviceChangeResult> {
  return changeDevice(c, domain, deviceXml, o, 'attach-device');
}

export function detachDevice(c: LibvirtConnection, domain: DomainId, deviceXml: string, o: DeviceChangeOptions = {}): Promise<DeviceChangeResult> {
  return changeDevice(c, domain, deviceXml, o, 'detach-device');
}

async function changeDevice(
  c: LibvirtConnection,
  domain: DomainId,
  deviceXml: string,
  o: DeviceChangeOptions,
  operation: 'attach-device' | 'detach-device',
): Promise<DeviceChangeResult> {
  validate(deviceXml, o);
  parseDevice(deviceXml); // malformed device XML never reaches libvirt
  const ref = await c.lookup(domain);
  const active = ref.id !== null;
  const persistent = await c.isPersistent(domain);
  const live = o.live ?? active;
  const config = o.config ?? persistent;
  const fail = (libvirtMessage: string, libvirtCode?: number) => new LibvirtError({ operation, domain, uri: c.uri, libvirtMessage, libvirtCode });
  if (!live && !config) throw fail('Requested operation is not valid: neither `live` nor `config` asked for', VIR_ERR_OPERATION_INVALID);
  if (live && !active) throw fail('Requested operation is not valid: domain is not running', VIR_ERR_OPERATION_INVALID);
  if (config && !persistent) throw fail('Requested operation is not valid: cannot modify the persistent configuration of a transient domain', VIR_ERR_OPERATION_INVALID);

  const test = isTestDriverUri(c.uri);
  const method = o.method === undefined || o.method === 'auto' ? (test ? (live ? 'redefine-restart' : 'redefine') : 'virsh') : o.method;

  if (method === 'virsh') {
    if (test) {
      throw new UsageError(`method 'virsh' cannot reach the domains of ${c.uri}: the test driver keeps them inside this process; use 'redefine' or 'redefine-restart'`);
    }
    await withTempFile(deviceXml, (file) =>
      runVirsh([operation, ref.name, file, ...(live ? ['--live'] : []), ...(config ? ['--config'] : [])], {
        uri: c.uri,
        virsh: o.virsh,
        timeoutMs: o.timeoutMs,
        operation,
        domain,
      }),
    );
    return { method, live, config, restarted: false };
  }

  // redefine / redefine-restart: always through the persistent configuration.
  if (!persistent) throw fail(`Requested operation is not valid: method '${method}' needs a persistent domain`, VIR_ERR_OPERATION_INVALID);
  if (method === 'redefine' && live) {
    throw fail(
      "this function is not supported by the connection driver: live device change needs virDomainAttachDeviceFlags, which @unraid/libvirt does not expose; use method 'virsh' (daemon URIs) or 'redefine-restart'",
      VIR_ERR_NO_SUPPORT,
    );
  }
  const inactive = await c.getXML(ref.uuid, { inactive: true });
  let changed: string;
  try {
    changed = operation === 'attach-device' ? addDeviceToDomainXml(inactive, deviceXml) : removeDeviceFromDomainXml(inactive, deviceXml);
  } catch (e) {
    if (!(e instanceof DeviceXmlError)) throw e;
    const code = e.reason === 'missing' ? VIR_ERR_DEVICE_MISSING : VIR_ERR_OPERATION_INVALID;
    const prefix = e.reason === 'missing' ? 'device not found' : 'Requested operation is not valid';
    throw fail(`${prefix}: ${e.message}`, code);
  }
  await c.define(changed);
  let restarted = false;
  if (method === 'redefine-restart' && active) {
    await c.destroy(ref.uuid);
    await c.start(ref.uuid);
    restarted = true;
  }
  return { method, live: restarted, config: true, restarted };
}

function validate(deviceXml: unknown, o: DeviceChangeOptions): void {
  if (typeof deviceXml !== 'string' || deviceXml.trim() === '') {
    throw new UsageError(`Expected the device XML to be a non-empty string, got \`${String(deviceXml)}\` (${typeof deviceXml})`);
  }
  if (o.method !== undefined && !METHODS.includes(o.method)) {
    throw new UsageError(`Expected \`method\` to be one of ${METHODS.map((m) => `\`${m}\``).join(', ')}, got \`${String(o.method)}\``);
  }
  for (const k of ['live', 'config'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new UsageError(`Expected \`${k}\` to be a boolean, got \`${String(o[k])}\` (${typeof o[k]})`);
  }
}

async function withTempFile<T>(content: string, f: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'domforge-device-'));
  const file = join(dir, 'device.xml');
  try {
    await writeFile(file, content, { mode: 0o600 });
    return await f(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
