import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, realpath, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { fileStamp } from '../../fs/file-stamp.js';
import { notRegularKind } from '../../fs/regular-file.js';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { IoError } from '../../errors.js';
import { brokenLink, describeBrokenLink, safeRealpath, type Unreadable } from '../links-out.js';

/** An immutable copy of the transforms folder: what every worker compiles a version from. */
export interface Snapshot {
  /** SHA-256 over every file's path and content (the folder's state, not only the transform's files). */
  id: string;
  /** Folder holding the copy. */
  dir: string;
  /** Files copied, relative to the transforms folder, sorted. */
  files: string[];
  /**
   * Folders copied, relative to the transforms folder, sorted: every one, an empty one (or
   * one holding only what is left out) too, so a path of the copy is a folder, or under
   * one, where it is in the folder itself (an `xsl:include` of an empty folder is refused as
   * a folder, not as missing). Part of `id`.
   */
  folders: string[];
  /** Entries of the folder left out of the copy, and why (a link out of the folder, a FIFO...). */
  left: { rel: string; why: string }[];
  /**
   * The symbolic links among them that point out of the folder, by path relative to it, each
   * with the real path it points to: what the compile needs to refuse an include,
   * `document()` or partial that is one as it does in the folder itself (the copy holds
   * nothing there). Part of `id`.
   */
  linksOut: Record<string, string>;
  /**
   * The symbolic links to a folder that holds them (a link cycle, such as `self -> .`), by
   * path relative to the folder, each with the path of that folder in the copy. Such a link
   * cannot be copied as a folder (it holds itself); the copy has it as a relative link to the
   * copy of that folder, which stays inside the copy, so a path through it reads what it
   * reads in the folder itself. Part of `id`.
   */
  cycles: Record<string, string>;
  /**
   * The entries left out for what they are (a FIFO, socket or device; a symbolic link to
   * nothing, with what it holds), by path relative to the folder: what the compile needs to
   * refuse an include or partial that is one, or is under one, as it does in the folder
   * itself (the copy holds nothing there), not as missing. Part of `id`.
   */
  unreadable: Record<string, Unreadable>;
}

export interface SnapshotLimits {
  /**
   * Most files copied (default 512); also the most folders copied, and the most folders
   * entered through symbolic links, so that empty folders, or links that multiply them,
   * cannot keep the copy walking.
   */
  maxFiles?: number;
  /** Most bytes copied in all (default 8 MiB). */
  maxBytes?: number;
}

export interface SnapshotOptions extends SnapshotLimits {
  /**
   * The versions store that holds the copies' folder (the watcher's `<versions>`, with its
   * `versions.jsonl`): left out of the copy wholly, as the copies' folder always is, when it
   * sits inside the transforms folder. Default: the copies' folder alone.
   */
  versionsDir?: string;
}

/** Editor leftovers and hidden files: never part of a version (vim's `4913` probe, `*.swp`, `*~`, emacs `#x#`). */
export function isEditorNoise(name: string): boolean {
  return name.startsWith('.') || name.endsWith('~') || /\.(sw[a-p]|tmp|bak|orig|rej)$/i.test(name) || /^#.*#$/.test(name) || /^\d+$/.test(name);
}

/** Whether `path` is one of the folders `stores` (real paths) or inside one. */
export function inStore(path: string, stores: readonly string[]): boolean {
  return stores.some((store) => path === store || path.startsWith(store + sep));
}

/** Entries no version holds: editor noise, and the versions store when it sits inside the folder. */
function leftAside(name: string, path: string, stores: readonly string[]): boolean {
  return isEditorNoise(name) || inStore(path, stores);
}

/**
 * Copies the transforms folder into `<store>/<id>` once per distinct content. Symbolic
 * links are followed only when they stay inside the folder: a link to `/etc/passwd` is left
 * out of the copy and never laundered into a regular file; where it points is recorded in
 * `linksOut`, so an include, `document()` or partial that is one is refused by the compile,
 * as in the folder itself. A link to a file inside is copied as that file; a link to a folder inside
 * as that folder's content under the link's path (so `d/x.xml` reads in the copy what it
 * reads in the folder), and its files count toward the limits as often as they are copied;
 * a link to a folder that holds it is kept as a link inside the copy (see `cycles`). The
 * copies' folder `store` and the versions store holding it (`versionsDir`) are never part
 * of a copy. The copy is written to a temporary folder and renamed into place.
 */
export async function snapshotFolder(dir: string, store: string, options: SnapshotOptions = {}): Promise<Snapshot> {
  const root = await realpath(resolve(dir)).catch((e: unknown) => {
    throw new IoError(`cannot read the transforms folder: ${(e as Error).message}`, { file: dir, cause: e });
  });
  // Where the store really is (it may not exist yet): the folder is walked by its real path,
  // so a store given through a symbolic link (`/tmp/x/link-to-transforms/versions`) is
  // recognised, as is a link inside the folder that leads into it.
  const stores = [safeRealpath(resolve(store))];
  if (options.versionsDir !== undefined) stores.push(safeRealpath(resolve(options.versionsDir)));
  const maxFiles = options.maxFiles ?? 512;
  const maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
  type Entry = { rel: string; data: Buffer };
  let files = 0;
  let bytes = 0;
  const left: { rel: string; why: string }[] = [];
  const linksOut: Record<string, string> = {};
  const cycles: Record<string, string> = {};
  const unreadable: Record<string, Unreadable> = {};
  const folders: string[] = [];
  let linkedFolders = 0;
  let plainFolders = 0;
  const tooLarge = (what = `${maxFiles} files or ${maxBytes} bytes`) => new IoError(`the transforms folder is too large to keep versions of (more than ${what})`, { file: dir });
  /** A folder being copied: where it really is, and where its copy goes (relative to the copy). */
  type Walked = { real: string; rel: string };
  // Each folder's entries are read in parallel and kept in name order. `chain` is the folder
  // being walked and the folders it is inside, as walked: a link to one of them is a cycle.
  const entry = async (folder: string, name: string, chain: readonly Walked[]): Promise<Entry[]> => {
    const path = join(folder, name);
    if (leftAside(name, path, stores)) return [];
    const st = await lstat(path).catch(() => undefined); // gone since readdir: an editor's rename dance
    if (!st) return [];
    const rel = relative(root, path);
    let target = path;
    const leave = (why: string): Entry[] => {
      left.push({ rel, why });
      return [];
    };
    if (st.isSymbolicLink()) {
      let failed: unknown;
      const real = await realpath(path).catch((e: unknown) => void (failed = e));
      if (!real) {
        const to = await readlink(path).catch(() => undefined);
        if (to === undefined) return []; // gone since lstat
        const why = brokenLink(failed, to);
        unreadable[rel] = why;
        return leave(describeBrokenLink(why));
      }
      if (!(real === root || real.startsWith(root + sep))) {
        linksOut[rel] = real;
        return leave(`a symbolic link to ${real}, outside the transforms folder (never followed)`);
      }
      target = real;
    }
    const tst = st.isSymbolicLink() ? await lstat(target) : st;
    if (tst.isDirectory()) {
      if (!st.isSymbolicLink()) {
        // Each is made again in every copy: an empty folder costs as a file does.
        if (++plainFolders > maxFiles) throw tooLarge(`${maxFiles} folders`);
        return walk(path, [...chain, { real: join(chain[chain.length - 1]!.real, name), rel }]);
      }
      if (inStore(target, stores)) return leave('a symbolic link to the versions store (never part of a version)');
      let holder: Walked | undefined;
      for (const w of chain) if (w.real === target) holder = w;
      if (holder) {
        cycles[rel] = holder.rel;
        return [];
      }
      if (++linkedFolders > maxFiles) throw tooLarge(`${maxFiles} folders reached through symbolic links`);
      return walk(path, [...chain, { real: target, rel }]);
    }
    if (!tst.isFile()) {
      const what = notRegularKind(tst);
      unreadable[rel] = { kind: 'not a regular file', what };
      return leave(`${what}, not a regular file`);
    }
    // Counted before reading, so an oversized folder is refused without being read.
    files++;
    bytes += tst.size;
    if (files > maxFiles || bytes > maxBytes) throw tooLarge();
    const data = await readFile(target).catch(() => undefined);
    if (!data) return [];
    bytes += data.length - tst.size;
    if (bytes > maxBytes) throw tooLarge();
    return [{ rel, data }];
  };
  const walk = async (folder: string, chain: readonly Walked[]): Promise<Entry[]> => {
    const rel = chain[chain.length - 1]!.rel;
    if (rel) folders.push(rel);
    const names = (await readdir(folder)).sort();
    return (await Promise.all(names.map((name) => entry(folder, name, chain)))).flat();
  };
  const entries = await walk(root, [{ real: root, rel: '' }]);
  const hash = createHash('sha256');
  for (const e of entries) hash.update(e.rel).update('\0').update(e.data).update('\0');
  // The folders too: an empty folder where a file of the transform is expected is refused
  // as a folder, which a missing file is not.
  folders.sort();
  for (const rel of folders) hash.update('\0folder\0').update(rel).update('\0');
  // Where each link out points is part of the id: a link moved from one place outside the
  // folder to another is checked again, and refused naming where it points now.
  for (const rel of Object.keys(linksOut).sort()) hash.update('\0link\0').update(rel).update('\0').update(linksOut[rel]!).update('\0');
  for (const rel of Object.keys(cycles).sort()) hash.update('\0cycle\0').update(rel).update('\0').update(cycles[rel]!).update('\0');
  // So is what each entry left out for what it is was: the compile names it.
  for (const rel of Object.keys(unreadable).sort()) hash.update('\0unreadable\0').update(rel).update('\0').update(JSON.stringify(unreadable[rel])).update('\0');
  const id = hash.digest('hex');
  const target = join(store, id.slice(0, 24));
  const rels = entries.map((e) => e.rel);
  left.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  if (await lstat(target).catch(() => undefined)) return { id, dir: target, files: rels, folders, left, linksOut, cycles, unreadable };
  const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(tmp, { recursive: true });
    for (const d of folders) await mkdir(join(tmp, d), { recursive: true });
    await Promise.all(entries.map((e) => writeFile(join(tmp, e.rel), e.data, { mode: 0o444 })));
    // A cycle's link, relative, to the copy of the folder holding it: it never leaves the copy.
    for (const [rel, holder] of Object.entries(cycles)) {
      await mkdir(dirname(join(tmp, rel)), { recursive: true });
      await symlink(relative(dirname(join(tmp, rel)), join(tmp, holder)) || '.', join(tmp, rel));
    }
    await rename(tmp, target).catch(async (err: NodeJS.ErrnoException) => {
      // Another save produced the same content first: keep that copy.
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      await rm(tmp, { recursive: true, force: true });
    });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw new IoError(`cannot keep a copy of the transforms folder in ${store}: ${(e as Error).message}`, { file: store, cause: e });
  }
  return { id, dir: target, files: rels, folders, left, linksOut, cycles, unreadable };
}

/** Removes a snapshot that never became a version. */
export async function dropSnapshot(s: Snapshot): Promise<void> {
  await rm(s.dir, { recursive: true, force: true }).catch(() => undefined);
}

/**
 * What the folder holds, cheaply: every entry's path, type and stamp (lstat: device, inode,
 * size, times), and for a symbolic link the stamp of what it leads to; editor noise and the
 * versions store left out as the snapshot leaves them. Any save, rename, new link or folder
 * changes it, and so does a save of a file read only through a link (a hidden one, which
 * the watch leaves aside); it reads no file (the watcher's `rescanMs` safety net under lost
 * file-system events). The folder and the store are looked at where they really are, so
 * the store is recognised when either is given through a symbolic link
 * (`/tmp/x/link-to-transforms/versions`); entries are named by their real paths.
 */
export async function lookAtFolder(dir: string, store: string): Promise<string> {
  const root = await realpath(resolve(dir));
  const stores = [safeRealpath(resolve(store))];
  const parts: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const name of (await readdir(folder)).sort()) {
      const path = join(folder, name);
      if (leftAside(name, path, stores)) continue;
      const st = await lstat(path, { bigint: true }).catch(() => undefined);
      if (!st) continue;
      const to = st.isSymbolicLink() ? await stat(path, { bigint: true }).catch(() => undefined) : undefined;
      parts.push(`${path}\0${st.mode}\0${fileStamp(st)}${to ? `\0${to.mode}\0${fileStamp(to)}` : ''}`);
      if (st.isDirectory()) await walk(path);
    }
  };
  await walk(root);
  return parts.join('\n');
}
