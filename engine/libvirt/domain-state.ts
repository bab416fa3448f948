/** `virDomainState` (libvirt-domain.h), by name. */
export const DOMAIN_STATES = ['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended'] as const;

export type DomainStateName = (typeof DOMAIN_STATES)[number];

export function domainStateName(code: number): DomainStateName {
  return DOMAIN_STATES[code] ?? 'nostate';
}

