import { lstat, readlink, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * Where a path names, checked against a folder it must stay in, symbolic links followed:
 *
 * - `inside`: it exists, and its real path (`real`, links resolved) is in the folder's;
 * - `missing`: nothing is there yet, and what would be there is in the folder;
 * - `outside`: it is, or leads to, a place outside the folder, or it is not absolute;
 *   `how` says so when the path alone does not show it, as a phrase before "the folder":
 *   `leads to /etc/shadow, outside`, `is a link to /x, outside`, `is a relative path, not one in`.
 *
 * A controller reading a file an editable record names (an instance's consoleLogPath) must
 * not read a file elsewhere on the host for whoever can edit the record: `/etc/shadow`,
 * `../../etc/shadow`, or a link in the folder to either. Opening `real` afterwards with
 * `O_NOFOLLOW` keeps a link put in its place later from being followed.
 */
export type PlaceInFolder = { kind: 'inside'; real: string } | { kind: 'missing' } | { kind: 'outside'; how?: string };

export async function placeInFolder(folder: string, path: string): Promise<PlaceInFolder> {
  if (!isAbsolute(path)) return { kind: 'outside', how: 'is a relative path, not one in' };
  const realFolder = await realpath(folder);
  let real: string;
  try {
    real = await realpath(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    return placeOfMissing(folder, realFolder, resolve(path));
  }
  if (isWithin(realFolder, real)) return { kind: 'inside', real };
  return real === path ? { kind: 'outside' } : { kind: 'outside', how: `leads to ${real}, outside` };
}

/**
 * Nothing at `path` (or a link to nothing): in the folder when its parent folder really is
 * (or, itself missing, would be) and, for a dangling link, when the link's target is too.
 */
async function placeOfMissing(folder: string, realFolder: string, path: string): Promise<PlaceInFolder> {
  const parent = await realpath(dirname(path)).catch(() => undefined);
  const within = parent === undefined ? isWithin(folder, path) || isWithin(realFolder, path) : isWithin(realFolder, parent) || parent === realFolder;
  if (!within) return parent && parent !== dirname(path) ? { kind: 'outside', how: `lies in ${parent}, outside` } : { kind: 'outside' };
  const link = await lstat(path).then((s) => s.isSymbolicLink(), () => false);
  if (!link) return { kind: 'missing' };
  const target = resolve(parent ?? dirname(path), await readlink(path));
  return isWithin(realFolder, target) ? { kind: 'missing' } : { kind: 'outside', how: `is a link to ${target}, outside` };
}

/** Whether a path relative to a folder leads out of it. */
export const leavesFolder = (rel: string): boolean => rel === '..' || rel.startsWith('..' + sep) || isAbsolute(rel);

/** True when `path` is strictly below `folder` (both absolute and normalized). */
export function isWithin(folder: string, path: string): boolean {
  const r = relative(folder, path);
  return r !== '' && !leavesFolder(r);
}
