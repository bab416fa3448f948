import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
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

/** Every recorded version, oldest first; a missing log is an empty history. A torn last line is skipped. */
export async function readTransformVersions(dir: string): Promise<TransformVersion[]> {
  let text: string;
  try {
    text = await readFile(join(dir, VERSION_LOG), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new IoError(`cannot read the transform version log: ${(e as Error).message}`, { file: join(dir, VERSION_LOG), cause: e });
  }
  const out: TransformVersion[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as TransformVersion);
    } catch {
      // A line cut short by a crash during append.
    }
  }
  return out;
}

/** The version that was active at a given time (the last one activated at or before it). */
export function versionAt(versions: readonly TransformVersion[], when: Date): TransformVersion | undefined {
  let found: TransformVersion | undefined;
  for (const v of versions) if (Date.parse(v.activatedAt) <= when.getTime()) found = v;
  return found;
}
