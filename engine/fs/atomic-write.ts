import { randomBytes } from 'node:crypto';
import { lstat, open, readlink, realpath, rename, unlink, stat } from 'node:fs/promises';
import { notRegularKind, notRegularText } from './regular-file.js';
import { basename, dirname, join } from 'node:path';
import { IoError } from '../errors.js';
import { holdTempFile } from './temp-files.js';

export interface AtomicWriteOptions {
  /** File mode of the new file (default 0o644). */
  mode?: number;
  /**
   * fsync the data before the rename (default true). Without it the rename still shows
   * readers either the old file or the whole new one while the machine runs, but after a
   * power loss the file may be empty: pass `false` only for a file that replaces nothing
   * and is made durable later with {@link syncPaths}, before anything depends on it.
   */
  fsync?: boolean;
  /**
   * What is at `path` already (default `'resolve'`): a symbolic link is followed and its
   * target replaced (the link stays), and anything but a regular file — `/dev/null`, a FIFO,
   * a folder — is refused, since renaming a new file over it would replace the device itself
   * (as root, `/dev/null` would become a plain file). `'replace'`: rename over whatever is
   * there, for the controller's own files in an instance folder (no look first).
   */
  existing?: 'resolve' | 'replace';
  /**
   * Added to the refusal of a device or pipe at `path` (with `existing: 'resolve'`), saying
   * how the caller's user gets the output elsewhere: the CLI's `render` prints to standard
   * output without `--out`. Default: nothing added.
   */
  notRegularHint?: string;
}

/**
 * Writes `data` to `path` so that readers see either the old file or the whole new one:
 * a temporary file in the same folder, fsync, then rename over the target.
 * On any failure the temporary file is removed and nothing at `path` changes; so it is when
 * SIGINT or SIGTERM ends the process meanwhile (see holdTempFile).
 *
 * The rename itself is made durable by an fsync of the folder, which this function does
 * not do (one folder fsync after several writes costs one, not one per file): see
 * {@link syncPaths}.
 */
export async function writeFileAtomic(given: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const path = options.existing === 'replace' ? given : await writableTarget(given, options.notRegularHint);
  const dir = dirname(path);
  const tmp = join(dir, tempName(basename(path)));
  // Held from before it exists until it is renamed or removed: a signal meanwhile removes it.
  const release = holdTempFile(tmp);
  try {
    await writeThrough(tmp, path, dir, data, options);
  } finally {
    release();
  }
}

/** Writes `tmp` whole and renames it to `path`; on any failure removes `tmp` and throws an IoError naming `path`. */
async function writeThrough(tmp: string, path: string, dir: string, data: string | Uint8Array, options: AtomicWriteOptions): Promise<void> {
  let fh;
  try {
    fh = await open(tmp, 'wx', options.mode ?? 0o644);
  } catch (e) {
    throw await openFailure(path, dir, e);
  }
  try {
    await fh.writeFile(data);
    if (options.fsync !== false) await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, path);
  } catch (e) {
    if (fh) await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    // A folder in the file's place: say so, not the rename of a temporary file it refused.
    if ((e as NodeJS.ErrnoException).code === 'EISDIR') throw new IoError(`cannot write ${path}: it is a folder`, { file: path, cause: e });
    throw ioError(path, e);
  }
}

/** The longest file name Linux file systems take (NAME_MAX), in bytes. */
const NAME_MAX = 255;

/**
 * The temporary file's name beside `name`: `.NAME.PID.RANDOM.tmp`, with NAME cut short (at a
 * character boundary) when the whole would be longer than NAME_MAX bytes, so that any name
 * the folder takes can be written (a 240-byte name would otherwise fail with ENAMETOOLONG).
 */
function tempName(name: string): string {
  const suffix = `.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  let room = NAME_MAX - 1 - suffix.length;
  let kept = '';
  for (const ch of name) {
    room -= Buffer.byteLength(ch, 'utf8');
    if (room < 0) break;
    kept += ch;
  }
  return `.${kept}${suffix}`;
}

/**
 * fsyncs files and folders, all at once: after writes made with `fsync: false` (their
 * data) and after renames, creations and removals in a folder (the folder's entries).
 * Resolves once every one is on disk; the first failure is an IoError naming its path.
 */
export async function syncPaths(paths: readonly string[]): Promise<void> {
  const results = await Promise.allSettled(
    paths.map(async (p) => {
      const fh = await open(p, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }),
  );
  const i = results.findIndex((r) => r.status === 'rejected');
  if (i >= 0) {
    const e = (results[i] as PromiseRejectedResult).reason as NodeJS.ErrnoException;
    throw new IoError(`cannot fsync ${paths[i]}: ${errnoText(e)}`, { file: paths[i], cause: e });
  }
}

/**
 * Where a write to `path` lands: `path` itself when nothing is there or a regular file is, the
 * file a symbolic link leads to (links followed); anything else is refused, naming what it is.
 */
async function writableTarget(path: string, notRegularHint?: string): Promise<string> {
  if (path.endsWith('/')) {
    // Not a file's name: without this, the new file was written beside the folder-to-be and the rename failed, naming it.
    const bare = path.replace(/\/+$/, '') || '/';
    const st = await stat(bare).catch(() => undefined);
    if (!st?.isDirectory()) {
      const what = st ? `${bare} is ${st.isFile() ? 'a file' : notRegularText(notRegularKind(st))}` : 'there is none';
      throw new IoError(`cannot write ${path}: a path ending in / names a folder, and ${what}; give the file's path`, { file: path });
    }
  }
  let real: string;
  try {
    real = await realpath(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return path; // the write reports it
    const link = await lstat(path).then((s) => s.isSymbolicLink(), () => false);
    if (link) throw new IoError(`cannot write ${path}: it is a link to nothing (${await readlink(path)}); make it point at a file, or remove it`, { file: path });
    return path;
  }
  const st = await stat(real);
  if (st.isFile()) return real;
  const hint = st.isDirectory() ? '' : `; domforge writes a file whole, by renaming a new one over it, which would replace the device or pipe itself${notRegularHint ? ` (${notRegularHint})` : ''}`;
  throw new IoError(`cannot write ${path}: it is ${notRegularText(notRegularKind(st))}${hint}`, { file: path });
}

/** Why the temporary file could not be created, in the words of the folder when it is the folder's fault. */
async function openFailure(path: string, dir: string, e: unknown): Promise<IoError> {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    // Looked at only on failure: a write into an existing folder costs no stat.
    const st = await stat(dir).catch((err: unknown) => err as Error);
    if (st instanceof Error) return new IoError(`cannot write ${path}: folder ${dir} does not exist`, { file: path, cause: st });
    if (!st.isDirectory()) return new IoError(`cannot write ${path}: ${dir} is not a folder`, { file: path });
  }
  return ioError(path, e);
}

function ioError(path: string, e: unknown): IoError {
  return new IoError(`cannot write ${path}: ${errnoText(e as NodeJS.ErrnoException)}`, { file: path, cause: e });
}

/** A system error's code and message, the code once (Node's messages begin with it: `EACCES: permission denied, open …`). */
function errnoText(err: NodeJS.ErrnoException): string {
  const text = err.code && !err.message.startsWith(err.code) ? `${err.code} ${err.message}` : err.message;
  return text.replace(/\s+/g, ' ').trim();
}
