import { mkdir, rename, rm } from 'node:fs/promises';
import { IoError } from '../errors.js';
import type { InstanceLayout } from './layout.js';

/** Removes an instance folder and everything in it. */
export async function removeFolder(layout: InstanceLayout, id: string): Promise<void> {
  const dir = layout.dir(id);
  try {
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
