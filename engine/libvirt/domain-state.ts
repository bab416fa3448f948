/** `virDomainState` (libvirt-domain.h), by name. */
export const DOMAIN_STATES = ['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended'] as const;

export type DomainStateName = (typeof DOMAIN_STATES)[number];

export function domainStateName(code: number): DomainStateName {
  return DOMAIN_STATES[code] ?? 'nostate';
}

/**
 * Why a domain is in its state: libvirt-domain.h's `virDomain<State>Reason` enums, by state
 * number then reason number, in virsh's words (`virsh domstate --reason`: `shut off
 * (crashed)`, `running (booted)`).
 */
const STATE_REASONS: Readonly<Record<number, readonly string[]>> = {
  0: ['unknown'],
  1: ['unknown', 'booted', 'migrated', 'restored', 'from snapshot', 'unpaused', 'migration canceled', 'save canceled', 'event wakeup', 'crashed', 'post-copy', 'post-copy failed'],
  2: ['unknown'],
  3: ['unknown', 'user', 'migrating', 'saving', 'dumping', 'I/O error', 'watchdog', 'from snapshot', 'shutting down', 'creating snapshot', 'crashed', 'starting up', 'post-copy', 'post-copy failed', 'api error'],
  4: ['unknown', 'user'],
  5: ['unknown', 'shutdown', 'destroyed', 'crashed', 'migrated', 'saved', 'failed', 'from snapshot', 'daemon'],
  6: ['unknown', 'panicked'],
  7: ['unknown'],
};

/** The reason's name for a state and reason number (`reason N` for one this table does not know). */
export function stateReasonName(state: number, reason: number): string {
  return STATE_REASONS[state]?.[reason] ?? `reason ${reason}`;
}
