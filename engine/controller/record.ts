import { stat } from 'node:fs/promises';
import { readRegularText } from '../fs/regular-file.js';
import { DomforgeError, InstanceError, IoError, XmlSyntaxError, type DomforgeErrorOptions } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { emitInstance } from '../instance/emit.js';
import type { Instance } from '../instance/model.js';
import { parseInstance } from '../instance/parse.js';
import { placeOf, type InstanceSource } from '../instance/source.js';
import { validateInstance } from '../instance/validate.js';
import { parseRenderInput, type ParsedInput } from '../render/render.js';
import type { InstanceLayout } from './layout.js';
import { InstanceNotFoundError, RecordMissingError } from './errors.js';

/**
 * `states/stateName` values domforge writes (Eucalyptus's instance state names):
 * `Staging` while a launch is under way, `Extant` once the domain runs, `Teardown`
 * while a terminate is under way or after a rollback that could not finish. A folder
 * whose record says `Staging` or `Teardown` is never mistaken for a live instance.
 */
export type RecordState = 'Staging' | 'Extant' | 'Teardown';

/** The record's `states/stateName` ('' when absent). */
export function stateOf(instance: Instance): string {
  return instance.states.find(([k]) => k === 'stateName')?.[1] ?? '';
}

/** Sets a `states/*` or `timestamps/*` entry, keeping document order (a new key goes last). */
export function setPair(pairs: [string, string][], key: string, value: string): [string, string][] {
  const out = pairs.map(([k, v]): [string, string] => [k, k === key ? value : v]);
  if (!out.some(([k]) => k === key)) out.push([key, value]);
  return out;
}

export function withState(instance: Instance, state: RecordState): Instance {
  return { ...instance, states: setPair(instance.states, 'stateName', state) };
}

/**
 * The record's `states/isStopRequested` (Eucalyptus's stop flag): true once `stop` has been
 * asked for, until `start` runs the instance again. Eucalyptus writes `true`/`false`.
 */
export function isStopRequested(instance: Instance): boolean {
  const v = instance.states.find(([k]) => k === 'isStopRequested')?.[1].trim().toLowerCase();
  return v === 'true' || v === '1';
}

/** Sets `states/isStopRequested`, as Eucalyptus writes it. */
export function withStopRequested(instance: Instance, requested: boolean): Instance {
  return { ...instance, states: setPair(instance.states, 'isStopRequested', String(requested)) };
}

/** `timestamps/<key>` = now, in epoch seconds as Eucalyptus writes them. */
export function withTimestamp(instance: Instance, key: string, now = Date.now()): Instance {
  return { ...instance, timestamps: setPair(instance.timestamps, key, String(Math.floor(now / 1000))) };
}

/**
 * The instance as the controller records it: the fields that name files of the instance
 * folder (instancePath, xmlFilePath, libvirtFilePath, consoleLogPath, configDrive/@path)
 * point into its folder, as a Eucalyptus NC sets them itself; `launchTime` is set when
 * absent. Disk backing paths are the caller's and are left alone.
 */
export function relocate(instance: Instance, layout: InstanceLayout): Instance {
  const id = instance.name;
  let out: Instance = {
    ...instance,
    instancePath: layout.dir(id),
    xmlFilePath: layout.instanceXml(id),
    libvirtFilePath: layout.libvirtXml(id),
    consoleLogPath: layout.consoleLog(id),
    configDrive: instance.configDrive ? { ...instance.configDrive, path: layout.configDrive(id) } : undefined,
  };
  const launch = out.timestamps.find(([k]) => k === 'launchTime')?.[1];
  if (!launch) out = withTimestamp(out, 'launchTime');
  return out;
}

/**
 * Writes the record atomically (mode 0600: it holds user data and may hold a password).
 * `fsync: false` only where the caller makes it durable itself (see launch's `define`).
 * `text` is the record's text when the caller has it already (checkRecord's).
 */
export async function writeRecord(layout: InstanceLayout, instance: Instance, options: { fsync?: boolean; text?: string } = {}): Promise<string> {
  const text = options.text ?? emitInstance(instance);
  await writeFileAtomic(layout.instanceXml(instance.name), text, { mode: 0o600, fsync: options.fsync, existing: 'replace' });
  return text;
}

/** A record as launch writes and renders it: its text, and that text as the render reads it. */
export interface CheckedRecord {
  text: string;
  parsed: ParsedInput;
}

/**
 * The record a launch writes for an instance, checked before anything is written: its values
 * (validateInstance, as a parser checks a file's), then its text read back as the render
 * reads it (`file` is where it will be written). A refusal names the caller's instance, not
 * the record, whose file a failed launch removes: the field's path alone for an Instance built
 * or copied in code, and for one read from a file (`source`, see sourceOf) that file and the
 * line of the field's element, as its parser does. A refusal of the text with no field (a
 * character XML 1.0 cannot carry) names the element that would hold it.
 */
export function checkRecord(record: Instance, file: string, source: InstanceSource | undefined): CheckedRecord {
  validateInstance(record, { file: source?.file, locate: source?.locate });
  const text = emitInstance(record);
  try {
    return { text, parsed: parseRenderInput(text, file) };
  } catch (e) {
    if (!(e instanceof DomforgeError) || e.file !== file) throw e;
    const element = e.path === undefined ? elementOnLine(text, e.line) : undefined;
    const o: DomforgeErrorOptions = { ...(e.path === undefined ? {} : placeOf(source, e.path)), cause: e, details: e.details };
    const message = element ? `${e.shortMessage} (in <${element}>)` : e.shortMessage;
    throw e.code === 'XML_SYNTAX' ? new XmlSyntaxError(message, o) : e.code === 'INSTANCE_INVALID' ? new InstanceError(message, o) : new DomforgeError(e.code, message, o);
  }
}

/** The element that starts on a 1-based line of emitted XML (emitInstance writes one a line). */
function elementOnLine(text: string, line: number | undefined): string | undefined {
  if (line === undefined) return undefined;
  return /^\s*<([^\s/>]+)/.exec(text.split('\n')[line - 1] ?? '')?.[1];
}

/**
 * Reads an instance's record. A missing folder is InstanceNotFoundError; a folder without
 * `instance.xml` is RecordMissingError; a record that does not parse is the parser's error
 * (file, line, path); a record whose `<name>` is not its folder's name is an InstanceError.
 */
export async function readRecord(layout: InstanceLayout, id: string): Promise<Instance> {
  const file = layout.instanceXml(id);
  let text: string;
  try {
    text = await readRegularText(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      if (await stat(layout.dir(id)).then((s) => s.isDirectory(), () => false)) {
        throw new RecordMissingError(
          `the folder of ${id} has no instance.xml: a launch stopped before writing it, or a removal stopped half-way (terminate ${id} removes the folder)`,
          { instanceId: id, file },
        );
      }
      throw new InstanceNotFoundError(`no instance ${id} under ${layout.root}`, { instanceId: id, file });
    }
    throw new IoError(`cannot read the instance record: ${(e as Error).message}`, { file, cause: e });
  }
  const instance = parseInstance(text, { file });
  if (instance.name !== id) {
    throw new InstanceError(`the record names instance ${JSON.stringify(instance.name)} but lies in the folder of ${id}`, { file, path: '/instance/name' });
  }
  return instance;
}
