import { lstat } from 'node:fs/promises';

/**
 * Whether something is at `path`, the path itself rather than what a link there names (a
 * dangling symbolic link exists). Any error, not only ENOENT, counts as nothing there: this
 * is for saying what is left, not for deciding whether to write.
 */
export async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}
