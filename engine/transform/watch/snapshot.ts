import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { IoError } from '../../errors.js';

/** An immutable copy of the transforms folder: what every worker compiles a version from. */
export interface Snapshot {
  /** SHA-256 over every file's path and content (the folder's state, not only the transform's files). */
  id: string;
  /** Folder holding the copy. */
  dir: string;
  /** Files copied, relative to the transforms folder, sorted. */
  files: string[];
}

export interface SnapshotLimits {
  /** Most files copied (default 512). */
  maxFiles?: number;
  /** Most bytes copied in all (default 8 MiB). */
  maxBytes?: number;
}

/** Editor leftovers and hidden files: never part of a version (vim's `4913` probe, `*.swp`, `*~`, emacs `#x#`). */
export function isEditorNoise(name: string): boolean {
  return name.startsWith('.') || name.endsWith('~') || /\.(sw[a-p]|tmp|bak|orig|rej)$/i.test(name) || /^#.*#$/.test(name) || /^\d+$/.test(name);
}

/**
 * Copies the transforms folder into `<store>/<id>` once per distinct content. Symbolic
 * links are followed only when they stay inside the folder: a link to `/etc/passwd` is left
 * out of the copy (so an include of it fails as a missing file) and never laundered into
 * a regular file. The copy is written to a temporary folder and renamed into place.
 */
export async function snapshotFolder(dir: string, store: string, limits: SnapshotLimits = {}): Promise<Snapshot> {
  const root = await realpath(resolve(dir)).catch((e: unknown) => {
    throw new IoError(`cannot read the transforms folder: ${(e as Error).message}`, { file: dir, cause: e });
  });
  const storeReal = resolve(store);
  const maxFiles = limits.maxFiles ?? 512;
  const maxBytes = limits.maxBytes ?? 8 * 1024 * 1024;
  const entries: { rel: string; data: Buffer }[] = [];
  let bytes = 0;
  const walk = async (folder: string): Promise<void> => {
    const names = (await readdir(folder)).sort();
    for (const name of names) {
      if (isEditorNoise(name)) continue;
      const path = join(folder, name);
      if (path === storeReal || path.startsWith(storeReal + sep)) continue;
      const st = await lstat(path).catch(() => undefined); // gone since readdir: an editor's rename dance
      if (!st) continue;
      let target = path;
      if (st.isSymbolicLink()) {
        const real = await realpath(path).catch(() => undefined);
        if (!real || !(real === root || real.startsWith(root + sep))) continue;
        target = real;
      }
      const tst = st.isSymbolicLink() ? await lstat(target) : st;
      if (tst.isDirectory()) {
        if (!st.isSymbolicLink()) await walk(path);
        continue;
      }
      if (!tst.isFile()) continue;
      const data = await readFile(target).catch(() => undefined);
      if (!data) continue;
      bytes += data.length;
      if (entries.length + 1 > maxFiles || bytes > maxBytes) {
        throw new IoError(`the transforms folder is too large to keep versions of (more than ${maxFiles} files or ${maxBytes} bytes)`, { file: dir });
      }
      entries.push({ rel: relative(root, path), data });
    }
  };
  await walk(root);
  const hash = createHash('sha256');
  for (const e of entries) hash.update(e.rel).update('\0').update(e.data).update('\0');
  const id = hash.digest('hex');
  const target = join(store, id.slice(0, 24));
  const files = entries.map((e) => e.rel);
  if (await lstat(target).catch(() => undefined)) return { id, dir: target, files };
  const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    for (const e of entries) {
      await mkdir(dirname(join(tmp, e.rel)), { recursive: true });
      await writeFile(join(tmp, e.rel), e.data, { mode: 0o444 });
    }
    await mkdir(tmp, { recursive: true });
    await rename(tmp, target).catch(async (err: NodeJS.ErrnoException) => {
      // Another save produced the same content first: keep that copy.
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      await rm(tmp, { recursive: true, force: true });
    });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw new IoError(`cannot keep a copy of the transforms folder in ${store}: ${(e as Error).message}`, { file: store, cause: e });
  }
  return { id, dir: target, files };
}

/** Removes a snapshot that never became a version. */
export async function dropSnapshot(s: Snapshot): Promise<void> {
  await rm(s.dir, { recursive: true, force: true }).catch(() => undefined);
}
