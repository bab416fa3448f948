import { readdir, readFile, stat } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { join } from 'node:path';
import { IoError } from '../../errors.js';
import { fileStamp, settled, RACY_MS } from '../../fs/file-stamp.js';
import { notRegularKind, notRegularText } from '../../fs/regular-file.js';
import type { ProvingSample } from '../sandbox/protocol.js';

/** Names of the expected output next to an input, in the order they are looked for. */
const EXPECTED_SUFFIXES = ['.libvirt.xml', '.expected.xml'];
/** Input file names inside a sample folder, in the order they are looked for. */
const FOLDER_INPUTS = ['instance.xml', 'nic.xml', 'volume.xml'];
/** The expected output inside a sample folder. */
const FOLDER_EXPECTED = 'libvirt.xml';

/**
 * Reads a proving set: every instance a new transform version must render before it goes
 * live. Two layouts, mixable in one folder:
 *
 * - a folder per sample, as in `samples/`: `NAME/instance.xml` (or `nic.xml`, `volume.xml`)
 *   with an optional `NAME/libvirt.xml`, the reviewed expected output;
 * - flat files: `NAME.xml` with an optional `NAME.libvirt.xml` (or `NAME.expected.xml`).
 *
 * Samples come back sorted by name. Names starting with a dot are left out.
 */
export function loadProvingSet(dir: string): Promise<ProvingSample[]> {
  return new ProvingSetReader().read(dir);
}

/** What a ProvingSetReader did on its reads so far. */
export interface ProvingSetReaderStats {
  /** Files read from disk. */
  read: number;
  /** Files whose text was kept from an earlier read: same inode, size, modification and change times. */
  reused: number;
}

interface Kept {
  /** Device, inode, size, mtime and ctime (ns): any write changes one of them. */
  key: string;
  text: string;
}

export interface ProvingSetReaderOptions {
  /**
   * A file changed less than this many milliseconds before it is read is not kept for the
   * next read (default 1000). File times are coarse (a clock tick of a few ms; whole seconds
   * on ext4 with small inodes, two on FAT), so a file rewritten with as many bytes within
   * one tick of the write before it keeps every time; only a file whose times are older
   * than that can be trusted to show the next write.
   */
  racyMs?: number;
}

/**
 * Reads a proving set again and again, as the transform watcher does at every change: the
 * folders are listed at each read, every file is checked with one `stat`, and a file whose
 * device, inode, size, modification and change times are those of the last read is not
 * read again — git's test, with git's rule for "racy" files: one changed just before it was
 * read is read again next time whatever its times say. Which files exist is read from the
 * listings, never by trying to open names that may be missing.
 */
export class ProvingSetReader {
  private kept = new Map<string, Kept>();
  private counters: ProvingSetReaderStats = { read: 0, reused: 0 };
  private readonly racyMs: number;

  constructor(options: ProvingSetReaderOptions = {}) {
    this.racyMs = options.racyMs ?? RACY_MS;
  }

  stats(): ProvingSetReaderStats {
    return { ...this.counters };
  }

  async read(dir: string): Promise<ProvingSample[]> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      throw new IoError(`cannot read the proving set: ${(e as Error).message}`, { file: dir, cause: e });
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const seen = new Map<string, Kept>();
    const names = new Set(entries.map((e) => e.name));
    // In parallel: one sample after another would cost a check a file-system round trip per file.
    const read = await Promise.all(entries.map((e) => (e.name.startsWith('.') ? undefined : this.sample(dir, e, names, seen))));
    // Only what this read met is kept: a removed sample's text goes with it.
    this.kept = seen;
    return read.filter((s): s is ProvingSample => s !== undefined);
  }

  /** One entry of the proving-set folder as a sample, or undefined when it is not one. */
  private async sample(dir: string, entry: Dirent, names: ReadonlySet<string>, seen: Map<string, Kept>): Promise<ProvingSample | undefined> {
    const path = join(dir, entry.name);
    const kind = await kindOf(entry, path);
    if (kind === 'folder') {
      let inside: Dirent[];
      try {
        inside = await readdir(path, { withFileTypes: true });
      } catch (e) {
        // Gone since the listing: no longer a sample.
        if (isMissing(e)) return undefined;
        throw new IoError(`cannot read the proving-set sample ${entry.name}: ${(e as Error).message}`, { file: path, cause: e });
      }
      const files = new Map(inside.map((d) => [d.name, d]));
      for (const input of FOLDER_INPUTS) {
        const d = files.get(input);
        if (!d || (await kindOf(d, join(path, input))) !== 'file') continue;
        const [xml, expected] = await Promise.all([this.text(join(path, input), seen), files.has(FOLDER_EXPECTED) ? this.text(join(path, FOLDER_EXPECTED), seen, true) : undefined]);
        if (xml === undefined) return undefined;
        const sample: ProvingSample = { name: entry.name, file: join(path, input), xml };
        return expected === undefined ? sample : { ...sample, expected, expectedFile: join(path, FOLDER_EXPECTED) };
      }
      return undefined;
    }
    if (kind !== 'file' || !entry.name.endsWith('.xml') || EXPECTED_SUFFIXES.some((s) => entry.name.endsWith(s))) return undefined;
    const base = entry.name.slice(0, -'.xml'.length);
    const suffix = EXPECTED_SUFFIXES.find((s) => names.has(base + s));
    const expectedFile = suffix === undefined ? undefined : join(dir, base + suffix);
    const [xml, expected] = await Promise.all([this.text(path, seen), expectedFile === undefined ? undefined : this.text(expectedFile, seen, true)]);
    if (xml === undefined) return undefined;
    return expected === undefined ? { name: base, file: path, xml } : { name: base, file: path, xml, expected, expectedFile };
  }

  /**
   * A file's text: kept from the last read when unchanged. Undefined when the file went
   * away since the listing; any other failure is an IoError naming the file.
   */
  private async text(file: string, seen: Map<string, Kept>, expected = false): Promise<string | undefined> {
    try {
      const st = await stat(file, { bigint: true });
      // A FIFO or a device would block the read, or never end it.
      if (!st.isFile()) throw new IoError(`cannot read ${expected ? 'the expected output ' : ''}${file}: ${notRegularText(notRegularKind(st))}`, { file });
      const key = fileStamp(st);
      const last = this.kept.get(file);
      if (last && last.key === key) {
        this.counters.reused++;
        seen.set(file, last);
        return last.text;
      }
      const now = Date.now();
      const text = await readFile(file, 'utf8');
      this.counters.read++;
      // Kept under the stat taken before reading: a later write changes the file's times,
      // unless it falls in the same clock tick as the last one, hence the racy rule.
      if (settled(st, this.racyMs, now)) seen.set(file, { key, text });
      return text;
    } catch (e) {
      if (isMissing(e)) return undefined;
      if (e instanceof IoError) throw e;
      throw new IoError(`cannot read ${expected ? 'the expected output ' : ''}${file}: ${(e as Error).message}`, { file, cause: e });
    }
  }
}

/**
 * A listed entry as a folder or a regular file, following symbolic links. Anything else is
 * asked with `stat`: a link, and an entry whose type the file system did not report
 * (DT_UNKNOWN, as on XFS without ftype and some network file systems).
 */
async function kindOf(entry: Dirent, path: string): Promise<'folder' | 'file' | undefined> {
  if (entry.isDirectory()) return 'folder';
  if (entry.isFile()) return 'file';
  const st = await stat(path).catch(() => undefined);
  return st?.isDirectory() ? 'folder' : st?.isFile() ? 'file' : undefined;
}

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
