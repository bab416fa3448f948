import { randomBytes } from 'node:crypto';
import { open, rename, unlink, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { IoError } from '../errors.js';

export interface AtomicWriteOptions {
  /** File mode of the new file (default 0o644). */
  mode?: number;
  /** fsync the data before the rename (default true). */
  fsync?: boolean;
}

/**
 * Writes `data` to `path` so that readers see either the old file or the whole new one:
 * a temporary file in the same folder, fsync, then rename over the target.
 * On any failure the temporary file is removed and nothing at `path` changes.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(path);
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw new IoError(`cannot write ${path}: ${dir} is not a folder`, { file: path });
  } catch (e) {
    if (e instanceof IoError) throw e;
    throw new IoError(`cannot write ${path}: folder ${dir} does not exist`, { file: path, cause: e });
  }
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fh;
  try {
    fh = await open(tmp, 'wx', options.mode ?? 0o644);
    await fh.writeFile(data);
    if (options.fsync !== false) await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, path);
  } catch (e) {
    if (fh) await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    const err = e as NodeJS.ErrnoException;
    throw new IoError(`cannot write ${path}: ${err.code ?? ''} ${err.message}`.replace(/\s+/g, ' ').trim(), { file: path, cause: e });
  }
}
