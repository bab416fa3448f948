import { ATTACHING, DETACHING, type Instance } from '../instance/model.js';
import type { Operation } from './errors.js';

type AttachOperation = Extract<Operation, 'attach-volume' | 'attach-interface'>;
type DetachOperation = Extract<Operation, 'detach-volume' | 'detach-interface'>;

/** The detach of what an attach operation attaches. */
export const detachOf = (attach: AttachOperation): DetachOperation => (attach === 'attach-volume' ? 'detach-volume' : 'detach-interface');

/** The command (`detach-volume ID vol-XXX`) that finishes a detach left `detaching`, or removes a device left `attaching`. */
export const finishingCommand = (operation: DetachOperation, id: string, key: string) => `${operation} ${id} ${key}`;

/**
 * What is said of a device recorded `detaching`: `is still detaching (a detach that did not
 * finish): detach-volume ID vol-XXX finishes it`, with the arguments of the library's method.
 */
export const stillDetaching = (operation: DetachOperation, id: string, key: string) =>
  `is still ${DETACHING} (a detach that did not finish): ${finishingCommand(operation, id, key)} finishes it`;

/**
 * The two ways out of an attach left `attaching`: `attach-volume ID with the same volume
 * finishes the attach, detach-volume ID vol-XXX removes it`.
 */
export const attachWaysOut = (attach: AttachOperation, id: string, key: string) =>
  `${attach} ${id} with the same ${attach === 'attach-volume' ? 'volume' : 'interface'} finishes the attach, ${finishingCommand(detachOf(attach), id, key)} removes it`;

/** What is said of a device recorded `attaching`: `is still attaching (an attach that did not finish): …` (attachWaysOut). */
export const stillAttaching = (attach: AttachOperation, id: string, key: string) => `is still ${ATTACHING} (an attach that did not finish): ${attachWaysOut(attach, id, key)}`;

/**
 * The devices `record` lists as `attaching` or `detaching` (an attach or detach that failed
 * past what its rollback could undo, or a controller that died during one), each with the
 * commands that finish it: what describe, list and adopt report as `unfinished`.
 */
export function unfinishedChanges(record: Instance): string[] {
  const id = record.name;
  const said = (stateName: string | undefined, attach: AttachOperation, key: string) =>
    stateName === DETACHING ? stillDetaching(detachOf(attach), id, key) : stateName === ATTACHING ? stillAttaching(attach, id, key) : undefined;
  const volumes = record.volumes.map((v) => [v.id, said(v.stateName, 'attach-volume', v.id)] as const);
  const nics = record.nics.map((n) => [n.attachmentId, n.attachmentId === undefined ? undefined : said(n.stateName, 'attach-interface', n.attachmentId)] as const);
  return [
    ...volumes.filter(([, s]) => s !== undefined).map(([key, s]) => `volume ${key} ${s}`),
    ...nics.filter(([, s]) => s !== undefined).map(([key, s]) => `interface attachment ${key} ${s}`),
  ];
}
