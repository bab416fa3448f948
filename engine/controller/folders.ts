import { mkdir, readdir, rename, rm, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { IoError } from '../errors.js';
import { exists } from '../fs/exists.js';
import type { InstanceLayout } from './layout.js';

/**
 * Creates the instances folder (and the folders above it) if it is missing: where a
 * controller opens (unless `createInstancesDir: false`) and where a launch makes its
 * instance's folder, so that a launch refused before that creates nothing.
 */
export async function createInstancesFolder(root: string): Promise<void> {
  try {
    await mkdir(root, { recursive: true, mode: 0o755 });
  } catch (e) {
    throw new IoError(`cannot create the instances folder: ${(e as Error).message}`, { file: root, cause: e });
  }
}

/**
 * Removes an instance folder and everything in it. `instance.xml` goes last, once
 * everything else is gone, so that a removal that fails half-way leaves the record
 * behind (what adopt and terminate go by); then the folder itself. A subfolder is removed
 * recursively; anything that stops the final rmdir (a file appearing meanwhile) falls back
 * to a recursive removal of the whole folder.
 */
export async function removeFolder(layout: InstanceLayout, id: string): Promise<void> {
  const dir = layout.dir(id);
  const record = layout.instanceXml(id);
  try {
    // undefined: nothing to remove; null: not a readable folder (rm below says why, or removes a file).
    const entries = await readdir(dir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : null));
    if (entries === undefined) return;
    if (entries) {
      await Promise.all(
        entries
          .filter((d) => join(dir, d.name) !== record)
          .map((d) => (d.isDirectory() ? rm(join(dir, d.name), { recursive: true, force: true, maxRetries: 3 }) : unlinkIfThere(join(dir, d.name)))),
      );
      await unlinkIfThere(record);
      if (await rmdir(dir).then(() => true, () => false)) return;
    }
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch (e) {
    throw new IoError(`cannot remove the instance folder: ${(e as Error).message}`, { file: dir, cause: e });
  }
}

async function unlinkIfThere(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/**
 * Moves an instance folder under the keep folder (`<keepDir>/<id>-<time>-<why>`); returns
 * where it went, or undefined when there was no folder to keep (a hook removed it), in
 * which case a keep folder made for it is removed again.
 */
export async function keepFolder(layout: InstanceLayout, id: string, why: string): Promise<string | undefined> {
  const from = layout.dir(id);
  const to = layout.keptDir(id, why);
  let made: string | undefined;
  try {
    made = await mkdir(layout.keepDir, { recursive: true, mode: 0o700 });
    await rename(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !(await exists(from))) {
      if (made) await rmdir(made).catch(() => undefined);
      return undefined;
    }
    throw new IoError(`cannot move the instance folder to ${to}: ${(e as Error).message}`, { file: from, cause: e });
  }
  return to;
}
