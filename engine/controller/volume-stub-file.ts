/**
 * A `vol-XXX.xml` stub file as a VolumeAttachment (`domforge attach-volume --volume`). The
 * stub is the one `domforge render --instance` reads; an attachment takes the volume's own
 * fields from it (`<id>`, and the `<diskPath>`'s text, targetDeviceName, sourceType and
 * serial). attachVolume writes the rest of the `vol-XXX.xml` it renders from the instance's
 * record (volumeStubXml), so where the stub says otherwise, volumeStubDifferences says so
 * rather than dropping it in silence.
 */
import { isDeepStrictEqual } from 'node:util';
import { InstanceError, formatPlace, type ErrorPlace } from '../errors.js';
import { readInputText } from '../instance/input.js';
import type { Instance } from '../instance/model.js';
import { parseStub, type VolumeStub } from '../instance/stubs.js';
import { columnOf, firstChild, lineOf, parseXml, type Document, type Element } from '../xml/parse.js';
import { volumeProblem, volumeStubXml, type VolumeAttachment } from './volumes.js';

export interface VolumeStubFile {
  file: string;
  /** What attachVolume takes from the stub. */
  volume: VolumeAttachment;
  /** The stub as parsed. */
  stub: VolumeStub;
  /** The parsed document, for the places of its elements. */
  document: Document;
}

/** Where in a stub each field of the attachment comes from: the element, the attribute when it is one, and its name in messages. */
const STUB_FIELDS: Partial<Record<keyof VolumeAttachment, { element: 'id' | 'diskPath'; attribute?: string; name: string }>> = {
  id: { element: 'id', name: '<id>' },
  devName: { element: 'diskPath', attribute: 'targetDeviceName', name: 'targetDeviceName' },
  path: { element: 'diskPath', name: 'the path in <diskPath>' },
  sourceType: { element: 'diskPath', attribute: 'sourceType', name: 'sourceType' },
  serial: { element: 'diskPath', attribute: 'serial', name: 'serial' },
};

/**
 * Reads a `<volume>` stub (a regular file, or `-` for standard input) as an attachment. A
 * refused value is an INSTANCE_INVALID naming the file, the line of its element and its path
 * (`/volume/diskPath/@targetDeviceName`), with the rule the library applies (volumeProblem).
 */
export async function readVolumeStubFile(file: string): Promise<VolumeStubFile> {
  const text = await readInputText(file, 'the volume stub');
  const document = parseXml(text, { file });
  const root = document.documentElement!;
  const stub = parseStub(text, { file, document, expect: 'volume' }).data;
  const d = stub.diskPath;
  const volume: VolumeAttachment = { id: stub.id, devName: d.targetDeviceName, path: d.path, sourceType: d.sourceType, ...(d.serial === undefined ? {} : { serial: d.serial }) };
  const problem = volumeProblem(volume);
  const from = problem && STUB_FIELDS[problem.field];
  if (problem && from) {
    const el = firstChild(root, from.element); // parseStub requires <diskPath>: only <id> can be missing
    const path = `/volume/${from.element}${from.attribute ? `/@${from.attribute}` : ''}`;
    const message = el ? `${from.name} must be ${problem.expected}, got ${JSON.stringify(problem.value)}` : `missing required element ${from.name}: the volume's id, which names it and its files`;
    throw new InstanceError(message, { ...placeOf(el ?? root, file), path });
  }
  return { file, volume, stub, document };
}

/** The elements of a `<volume>` stub attachVolume writes from the instance's record. */
const FROM_RECORD = ['hypervisor', 'user', 'instancePath', 'os', 'backing'] as const;
/** The `<diskPath>` attributes attachVolume writes itself: a volume is a disk, on the bus the instance's OS gives. */
const DISK_FROM_RECORD = ['targetDeviceType', 'targetDeviceNameVirtio', 'targetDeviceBusVirtio', 'targetDeviceBus'] as const;

/**
 * What the stub says that the attachment to `record`'s instance will not: each difference
 * between the stub and the `vol-XXX.xml` attachVolume writes, as a warning with the stub's
 * file, line and path. None for a stub written from the same instance, as Eucalyptus writes it.
 */
export function volumeStubDifferences(s: VolumeStubFile, record: Instance): string[] {
  const written = parseStub(volumeStubXml(record, s.volume));
  if (written.kind !== 'volume') return [];
  const w = written.data;
  const root = s.document.documentElement!;
  const diskPath = firstChild(root, 'diskPath') ?? root;
  const out: { line: number; text: string }[] = [];
  const say = (el: Element, path: string, message: string) => out.push({ line: lineOf(el) ?? 0, text: `${formatPlace(placeOf(el, s.file))}${message} (at ${path})` });

  for (const k of FROM_RECORD) {
    if (isDeepStrictEqual(s.stub[k], w[k])) continue;
    say(firstChild(root, k) ?? root, `/volume/${k}`, `<${k}> is not used: attach-volume writes that of the record of ${record.name} (${howItDiffers(s.stub[k], w[k])})`);
  }
  for (const k of DISK_FROM_RECORD) {
    const [given, used] = [s.stub.diskPath[k], w.diskPath[k]];
    if (given === used) continue;
    say(diskPath, `/volume/diskPath/@${k}`, `${k} ${show(given)} is not used: attach-volume writes ${used === undefined ? 'none' : `${show(used)}, from the record of ${record.name}`}`);
  }
  const unknown = [
    ...(s.stub.unknown ?? []).map((u) => `<${u.name}>`),
    ...(s.stub.unknownAttributes ?? []).map((a) => `${a.name}="${a.value}"`),
    ...Object.entries(s.stub.unknownAttributesOf ?? {}).flatMap(([el, attrs]) => (attrs ?? []).map((a) => `${el}/@${a.name}`)),
  ];
  if (unknown.length) say(root, '/volume', `what domforge does not know in <volume> (${unknown.join(', ')}) is not carried into the attachment`);
  const unknownOnDisk = (s.stub.diskPath.unknownAttributes ?? []).map((a) => `${a.name}="${a.value}"`);
  if (unknownOnDisk.length) say(diskPath, '/volume/diskPath', `what domforge does not know in <diskPath> (${unknownOnDisk.join(', ')}) is not carried into the attachment`);
  return out.sort((x, y) => x.line - y.line).map((x) => x.text);
}

/** How the record's value differs from the stub's: `virtioDisk true, not false`; a field holding more than a value by its name. */
function howItDiffers(given: unknown, used: unknown): string {
  if (!isObject(given) || !isObject(used)) return `${show(used)}, not ${show(given)}`;
  const keys = [...new Set([...Object.keys(given), ...Object.keys(used)])].filter((k) => !isDeepStrictEqual(given[k], used[k]));
  return keys.map((k) => (isObject(given[k]) || isObject(used[k]) ? `${k} differ` : `${k} ${show(used[k])}, not ${show(given[k])}`)).join('; ');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const show = (v: unknown) => (v === undefined ? 'none' : JSON.stringify(v));
const placeOf = (el: Element, file: string): ErrorPlace => ({ file, line: lineOf(el), column: columnOf(el) });
