import { mkdir, readdir, rename, rm, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { IoError } from '../errors.js';
import type { InstanceLayout } from './layout.js';

/**
 * Removes an instance folder and everything in it. An instance folder holds plain files:
 * they are unlinked all at once, then the folder removed; anything else (a subfolder, a
 * file appearing meanwhile) falls back to a recursive removal.
 */
export async function removeFolder(layout: InstanceLayout, id: string): Promise<void> {
  const dir = layout.dir(id);
  try {
    // undefined: nothing to remove; null: not a readable folder (rm below says why, or removes a file).
    const entries = await readdir(dir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : null));
    if (entries === undefined) return;
    if (entries && entries.every((d) => !d.isDirectory())) {
      await Promise.all(
        entries.map((d) =>
          unlink(join(dir, d.name)).catch((e: NodeJS.ErrnoException) => {
            if (e.code !== 'ENOENT') throw e;
          }),
        ),
      );
      if (await rmdir(dir).then(() => true, () => false)) return;
    }
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch (e) {
    throw new IoError(`cannot remove the instance folder: ${(e as Error).message}`, { file: dir, cause: e });
  }
}

/** Moves an instance folder under the keep folder (`<keepDir>/<id>-<time>-<why>`); returns where it went. */
export async function keepFolder(layout: InstanceLayout, id: string, why: string): Promise<string> {
  const from = layout.dir(id);
  const to = layout.keptDir(id, why);
  try {
    await mkdir(layout.keepDir, { recursive: true, mode: 0o700 });
    await rename(from, to);
  } catch (e) {
    throw new IoError(`cannot move the instance folder to ${to}: ${(e as Error).message}`, { file: from, cause: e });
  }
  return to;
}
