import { mkdir, open, readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { IoError } from '../../errors.js';

/** One activated transform version, as recorded in `<versions>/versions.jsonl`. */
export interface TransformVersion {
  /** The transform's hash (SHA-256 over the files it is made of): what a domain's metadata records. */
  hash: string;
  /** The snapshot folder name under `<versions>/snapshots/`, holding a copy of every file. */
  snapshot: string;
  /** The main transform file, relative to the transforms folder. */
  main: string;
  /** Files of the transforms folder at that time, relative to it. */
  files: string[];
  /** When it became active (ISO 8601). */
  activatedAt: string;
  /** How many samples it was proved on. */
  samples: number;
  /** Set when it was re-activated at start because the version on disk failed. */
  restored?: boolean;
}

export const VERSION_LOG = 'versions.jsonl';

/** Appends one activated version to the log (one JSON object per line). */
export async function recordVersion(dir: string, v: TransformVersion): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    const fh = await open(join(dir, VERSION_LOG), 'a+', 0o644);
    try {
      // A last line a crash cut short ends with no newline: the record starts a line of its
      // own, or it would be glued to the torn text and skipped with it when the log is read.
      const { size } = await fh.stat();
      const last = Buffer.alloc(1);
      const torn = size > 0 && (await fh.read(last, 0, 1, size - 1)).bytesRead === 1 && last[0] !== 0x0a;
      await fh.appendFile(`${torn ? '\n' : ''}${JSON.stringify(v)}\n`);
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new IoError(`cannot record the activated transform version: ${(e as Error).message}`, { file: join(dir, VERSION_LOG), cause: e });
  }
}

/** A line of the log that holds no version record (hand-edited or damaged): skipped. */
export interface DamagedVersionLine {
  file: string;
  /** 1-based. */
  line: number;
  /** `not JSON (…)`, `not a version record (hash is missing)`. */
  reason: string;
}

export interface ReadVersionsOptions {
  /** Told of each damaged line skipped. A torn last line (a crash during an append) is skipped without a word. */
  onDamaged?: (d: DamagedVersionLine) => void;
}

/**
 * Every recorded version, oldest first; a missing log is an empty history. A line that is
 * not JSON, or not a version record, is skipped (and told to `onDamaged`): restoring or
 * listing one would fail on its missing fields, and its snapshot and main file must name
 * places inside the store.
 */
export async function readTransformVersions(dir: string, options: ReadVersionsOptions = {}): Promise<TransformVersion[]> {
  const file = join(dir, VERSION_LOG);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new IoError(`cannot read the transform version log: ${(e as Error).message}`, { file, cause: e });
  }
  const out: TransformVersion[] = [];
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      // The last line, with no newline after it: an append a crash cut short.
      if (i === lines.length - 1) continue;
      options.onDamaged?.({ file, line: i + 1, reason: `not JSON (${(e as Error).message})` });
      continue;
    }
    const problem = versionProblem(v);
    if (problem) options.onDamaged?.({ file, line: i + 1, reason: `not a version record (${problem})` });
    else out.push(v as TransformVersion);
  }
  return out;
}

/** What keeps `v` from being a TransformVersion, or undefined. */
function versionProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${v === null ? 'null' : Array.isArray(v) ? 'a list' : `a ${typeof v}`}, not an object`;
  const o = v as Record<string, unknown>;
  for (const k of ['hash', 'snapshot', 'main', 'activatedAt'] as const) {
    if (o[k] === undefined) return `${k} is missing`;
    if (typeof o[k] !== 'string') return `${k} is not a string`;
  }
  if (!Array.isArray(o.files) || o.files.some((f) => typeof f !== 'string')) return o.files === undefined ? 'files is missing' : 'files is not a list of names';
  if (typeof o.samples !== 'number') return o.samples === undefined ? 'samples is missing' : 'samples is not a number';
  if (o.restored !== undefined && typeof o.restored !== 'boolean') return 'restored is not true or false';
  // Both are joined to the store's path when a version is restored.
  const snapshot = o.snapshot as string;
  if (snapshot === '' || snapshot === '.' || snapshot === '..' || /[/\\]/.test(snapshot)) return `snapshot ${JSON.stringify(snapshot)} is not a folder name`;
  const main = o.main as string;
  if (main === '' || leadsOut(main)) return `main ${JSON.stringify(main)} is not a file inside the snapshot`;
  return undefined;
}

/** Whether a relative name joined to a folder would lead out of it: absolute, or with a `..` part. */
export function leadsOut(name: string): boolean {
  return isAbsolute(name) || name.split(/[/\\]/).includes('..');
}

/** The version that was active at a given time (the last one activated at or before it). */
export function versionAt(versions: readonly TransformVersion[], when: Date): TransformVersion | undefined {
  let found: TransformVersion | undefined;
  for (const v of versions) if (Date.parse(v.activatedAt) <= when.getTime()) found = v;
  return found;
}
