/**
 * Why domains are in their states (`shutoff` because it `crashed`, was `destroyed`, or the
 * guest shut itself down): virDomainGetState's reason, which @unraid/libvirt 2.2.1 does not
 * expose. It comes from one `virsh domstats --raw --state` for any number of domains (about
 * 27 ms), on daemon URIs; a `test://` URI's domains live in this process, out of virsh's reach.
 */
import { LibvirtUnavailableError } from './errors.js';
import { stateReasonName } from './domain-state.js';
import { parseDomstatsByDomain } from './domstats.js';
import { isTestDriverUri } from './uri.js';
import { runVirsh } from './virsh.js';

/** Each domain's state reason by name, from `virsh domstats --raw --state` output (a domain without both fields has none). */
export function stateReasonsOfDomstats(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, fields] of parseDomstatsByDomain(text)) {
    const state = Number(fields.get('state.state'));
    const reason = Number(fields.get('state.reason'));
    if (fields.has('state.state') && fields.has('state.reason') && Number.isInteger(state) && Number.isInteger(reason)) out.set(name, stateReasonName(state, reason));
  }
  return out;
}

/**
 * The state reasons of the named domains, or undefined when they cannot be had: a test://
 * URI, no virsh, or virsh failing (a domain gone since it was listed). Best-effort: a reason
 * explains a state, it never decides anything.
 */
export async function readStateReasons(o: { uri: string; domains: string[]; virsh?: string; timeoutMs?: number }): Promise<Map<string, string> | undefined> {
  if (isTestDriverUri(o.uri) || o.domains.length === 0) return undefined;
  try {
    const r = await runVirsh(['domstats', '--raw', '--state', '--', ...o.domains], {
      uri: o.uri,
      virsh: o.virsh,
      timeoutMs: o.timeoutMs ?? 10_000,
      operation: 'read domain state reasons',
      domain: o.domains.length === 1 ? o.domains[0] : undefined,
    });
    return stateReasonsOfDomstats(r.stdout);
  } catch (e) {
    if (e instanceof LibvirtUnavailableError || (e as { code?: string }).code === 'LIBVIRT_ERROR') return undefined;
    throw e;
  }
}
