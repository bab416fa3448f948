/**
 * The Eucalyptus node-controller hook events (nc-hooks), in the order a node controller
 * meets them. Names and parameters are Eucalyptus's own, so hook scripts written for a
 * Eucalyptus NC keep working:
 *
 * | event                   | PARAM                                   | non-zero exit           |
 * |-------------------------|-----------------------------------------|-------------------------|
 * | `euca-nc-pre-init`      | home                                    | controller does not start |
 * | `euca-nc-post-init`     | home                                    | controller does not start |
 * | `euca-nc-pre-hyp-check` | home                                    | connection refused      |
 * | `euca-nc-pre-boot`      | instance folder                         | launch cancelled        |
 * | `euca-nc-pre-adopt`     | instance folder                         | domain not adopted      |
 * | `euca-nc-pre-clean`     | instance folder                         | files kept              |
 * | `euca-nc-pre-attach`    | path of `vol-/eni-XXX-libvirt.xml`      | attachment fails        |
 * | `euca-nc-post-detach`   | path of the detached device's XML       | ignored (logged)        |
 */
export const HOOK_EVENTS = [
  'euca-nc-pre-init',
  'euca-nc-post-init',
  'euca-nc-pre-hyp-check',
  'euca-nc-pre-boot',
  'euca-nc-pre-adopt',
  'euca-nc-pre-clean',
  'euca-nc-pre-attach',
  'euca-nc-post-detach',
] as const;

export type HookEvent = (typeof HOOK_EVENTS)[number];

/** Events whose hooks cannot cancel anything: a failure is logged and reported, never thrown. */
export const NON_CANCELLING_EVENTS: ReadonlySet<HookEvent> = new Set<HookEvent>(['euca-nc-post-detach']);

export function isHookEvent(value: unknown): value is HookEvent {
  return typeof value === 'string' && (HOOK_EVENTS as readonly string[]).includes(value);
}

/** True when a failing hook on this event stops the chain and cancels the operation. */
export function isCancellingEvent(event: HookEvent): boolean {
  return !NON_CANCELLING_EVENTS.has(event);
}
