/**
 * Where a path of a transform really is, also in a version snapshot, which leaves out every
 * symbolic link that points out of the transforms folder and lists it in `linksOut`
 * (watch/snapshot.ts). Both compilers look a file up through this, so an `xsl:include`,
 * `document()` or partial that is such a link is refused in the snapshot as it is in the
 * folder itself, rather than read as a missing file.
 */
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { NotRegularFileError, readRegularFileSync, type NotRegularKind } from '../fs/regular-file.js';
import { leavesFolder } from '../fs/inside-folder.js';
import { safeRealpath } from '../fs/real-path.js';
import { join, relative, resolve, sep } from 'node:path';

export { leavesFolder } from '../fs/inside-folder.js';
export { safeRealpath } from '../fs/real-path.js';

/**
 * Where a path really is: where `linksOut` says when the path goes through one of those
 * links (the link itself, or a folder it stands for), else its realpath (see safeRealpath).
 * The path is followed one name at a time from `root`, as the kernel follows it, so a link
 * that `root` holds (a snapshot keeps a cycle such as `self -> .` as a link) is followed
 * first and the rest looked up from where it leads: `self/b` meets the link out `b`. Past a
 * link out, the rest is resolved where it leads (a file there that is a link again is named
 * by where it ends, as the realpath in the folder itself names it).
 */
export function realpathThrough(root: string, linksOut: Readonly<Record<string, string>> | undefined): (path: string) => string {
  if (!linksOut || Object.keys(linksOut).length === 0) return safeRealpath;
  const base = resolve(root);
  const realBase = safeRealpath(base);
  return (path) => {
    const rel = relative(base, resolve(path));
    if (!rel || leavesFolder(rel)) return safeRealpath(path);
    const parts = rel.split(sep);
    // `at`: the part followed so far, relative to the root ('' for the root itself).
    let at = '';
    for (let i = 0; i < parts.length; i++) {
      at = join(at, parts[i]!);
      if (Object.hasOwn(linksOut, at)) return safeRealpath(join(linksOut[at]!, ...parts.slice(i + 1)));
      const here = join(realBase, at);
      let link: boolean;
      try {
        link = lstatSync(here).isSymbolicLink();
      } catch {
        return join(here, ...parts.slice(i + 1)); // missing: read as missing
      }
      if (!link) continue;
      const to = safeRealpath(here);
      const back = relative(realBase, to);
      if (leavesFolder(back)) return safeRealpath(join(to, ...parts.slice(i + 1)));
      at = back;
    }
    return join(realBase, at);
  };
}

/**
 * A symbolic link that cannot be followed, with what it holds (`to`, as readlink gives it):
 * one to nothing, one in a loop (ELOOP), or one that following failed otherwise (`error`:
 * the message of what following it threw, EACCES for one).
 */
export type BrokenLink = { kind: 'link to nothing' | 'link loop'; to: string } | { kind: 'link not followed'; to: string; error: string };

/**
 * Why a file of the transforms folder cannot be read, as a version snapshot records it for a
 * file it leaves out for what it is (the copy holds nothing there): a FIFO, socket or device;
 * a symbolic link that cannot be followed.
 */
export type Unreadable = { kind: 'not a regular file'; what?: NotRegularKind } | BrokenLink;

/** A broken link as the messages say it: `a symbolic link to nothing (it points to nowhere.xsl)`. */
export function describeBrokenLink(link: BrokenLink): string {
  switch (link.kind) {
    case 'link to nothing':
      return `a symbolic link to nothing (it points to ${link.to})`;
    case 'link loop':
      return `a symbolic link in a loop (it points to ${link.to}; following it never ends: ELOOP)`;
    default:
      return `a symbolic link that cannot be followed (it points to ${link.to}; ${link.error})`;
  }
}

/** Reading a path through a symbolic link that cannot be followed (`rel`, relative to the transforms folder): the message says which link, what it holds and why. */
export class BrokenLinkError extends Error {
  constructor(
    readonly rel: string,
    readonly link: BrokenLink,
  ) {
    super(`${rel} is ${describeBrokenLink(link)}`);
    this.name = 'BrokenLinkError';
  }
}

/**
 * What a symbolic link that cannot be followed is (`error`: what following it threw): one to
 * nothing when a name on its way does not exist (ENOENT, or ENOTDIR: a file where a folder
 * should be), one in a loop (ELOOP), else what following it threw (EACCES...), kept.
 */
export function brokenLink(error: unknown, to: string): BrokenLink {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') return { kind: 'link loop', to };
  if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'link to nothing', to };
  return { kind: 'link not followed', to, error: error instanceof Error ? error.message : String(error) };
}

/**
 * What makes a path of the transform unreadable: a symbolic link to nothing on its way, in
 * the folder itself; in a snapshot, which holds nothing there, what `unreadable` records
 * (what it left out, by path relative to `root`). The path is followed one name at a time
 * from `root` as realpathThrough follows it, so a file reached through a link the snapshot
 * keeps (`self -> .`) is found by its path in the folder.
 * `rel`: the path of what is unreadable, relative to `root`. Undefined for a path that is
 * readable, missing, or leads out of the folder (refused as that).
 */
export function unreadableThrough(root: string, unreadable: Readonly<Record<string, Unreadable>> | undefined): (path: string) => { rel: string; why: Unreadable } | undefined {
  const base = resolve(root);
  const realBase = safeRealpath(base);
  return (path) => {
    const rel = relative(base, resolve(path));
    if (!rel || leavesFolder(rel)) return undefined;
    let at = '';
    for (const part of rel.split(sep)) {
      at = join(at, part);
      if (unreadable && Object.hasOwn(unreadable, at)) return { rel: at, why: unreadable[at]! };
      const here = join(realBase, at);
      let link: boolean;
      try {
        link = lstatSync(here).isSymbolicLink();
      } catch {
        return undefined;
      }
      if (!link) continue;
      let real: string;
      try {
        real = realpathSync(here);
      } catch (e) {
        return { rel: at, why: brokenLink(e, readlinkSync(here)) };
      }
      const to = relative(realBase, real);
      if (leavesFolder(to)) return undefined;
      at = to;
    }
    return undefined;
  };
}

/**
 * Reads a file of the transform (a regular file only) as in the folder itself: in a
 * snapshot, a file it left out for what it is (see `unreadable`) fails as reading it in
 * place fails, not as a missing file; in either, a link in a loop is named with what it
 * holds (BrokenLinkError), not as a bare ELOOP. `real`: where the file really is, when known.
 */
export function readThrough(root: string, unreadable: Readonly<Record<string, Unreadable>> | undefined): (path: string, real?: string) => string {
  const why = unreadableThrough(root, unreadable);
  return (path, real = path) => {
    try {
      return readRegularFileSync(real);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ELOOP') throw e;
      const u = why(path);
      if (!u) throw e;
      if (u.why.kind === 'not a regular file') throw new NotRegularFileError(path, u.why.what);
      throw new BrokenLinkError(u.rel, u.why);
    }
  };
}
