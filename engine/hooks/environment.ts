import type { HookEvent } from './events.js';

/** What a hook or filter is told about the instance, through its environment. */
export interface HookContext {
  /** The instance id (`i-12345678`), when the event concerns an instance. */
  instanceId?: string;
  /** The instance's folder. */
  instanceDir?: string;
  /** Path of the libvirt XML file the hook may read and edit (`libvirt.xml`, `vol-XXX-libvirt.xml`...). */
  libvirtXml?: string;
  /** The libvirt connection URI in use. */
  uri?: string;
}

/**
 * The child environment: domforge's own process environment, then `extra`, then the
 * `DOMFORGE_*` variables. All five are always set (empty when not applicable) so that
 * `set -u` scripts can test them:
 * `DOMFORGE_EVENT`, `DOMFORGE_INSTANCE_ID`, `DOMFORGE_INSTANCE_DIR`, `DOMFORGE_LIBVIRT_XML`, `DOMFORGE_URI`.
 */
export function hookEnvironment(event: HookEvent, ctx: HookContext, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...extra,
    DOMFORGE_EVENT: event,
    DOMFORGE_INSTANCE_ID: ctx.instanceId ?? '',
    DOMFORGE_INSTANCE_DIR: ctx.instanceDir ?? '',
    DOMFORGE_LIBVIRT_XML: ctx.libvirtXml ?? '',
    DOMFORGE_URI: ctx.uri ?? '',
  };
}
