import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { IoError } from '../errors.js';

/** Suffix an admin adds to a filter's file name to make its failures non-fatal (see filters.ts). */
export const FAIL_OPEN_SUFFIX = '.fail-open';

export interface DiscoveredExecutable {
  /** File name in the folder, e.g. `10-memballoon`. */
  name: string;
  /** Full path (the symlink's own path for a symlink: it is what runs). */
  path: string;
  /** The entry is a symlink (followed to an executable regular file). */
  symlink: boolean;
}

/**
 * Names never run even when executable: dotfiles, editor backups and swap files, and
 * package-manager leftovers. Matches run-parts(8)'s spirit without its strict
 * `[A-Za-z0-9_-]` rule, so Eucalyptus hook names like `nc-hook.sh` keep working.
 */
export function isIgnoredName(name: string): boolean {
  return (
    name.startsWith('.') ||
    name.endsWith('~') ||
    /^#.*#$/.test(name) ||
    /\.(sw[a-p]|bak|orig|rej|tmp|dpkg-(old|new|dist|tmp)|rpm(new|save|orig)|ucf-(old|new|dist))$/i.test(name)
  );
}

/**
 * The executables in `dir`, sorted by name in byte order (so `10-a` < `9-b` < `A` < `a`,
 * the same in every locale). Regular files and symlinks whose target is an executable
 * regular file; folders, broken symlinks, non-executables and ignored names are skipped.
 * A missing folder means no hooks; any other error reading it is an IoError naming it as
 * `what` (`hooks folder`, `filters folder`).
 */
export async function discoverExecutables(dir: string, what = 'hooks folder'): Promise<DiscoveredExecutable[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    throw new IoError(`cannot read ${what} ${dir}: ${code ?? (e as Error).message}`, { file: dir, cause: e });
  }
  const found: DiscoveredExecutable[] = [];
  for (const entry of entries) {
    if (isIgnoredName(entry.name)) continue;
    if (!entry.isFile() && !entry.isSymbolicLink()) continue;
    const path = join(dir, entry.name);
    try {
      const st = await stat(path); // follows symlinks
      if (!st.isFile()) continue;
      await access(path, constants.X_OK);
    } catch {
      continue; // broken symlink, not executable, or vanished
    }
    found.push({ name: entry.name, path, symlink: entry.isSymbolicLink() });
  }
  return found.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
}
