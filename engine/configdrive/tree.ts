import { ConfigDriveError } from '../errors.js';

/** One file of a drive: a `/`-separated relative path (`openstack/latest/meta_data.json`) and its bytes. */
export interface DriveFile {
  path: string;
  data: Uint8Array;
}

/** A folder of the drive, children sorted by name (code-unit order), built by `toDirectoryTree`. */
export interface DirNode {
  kind: 'dir';
  name: string;
  children: TreeNode[];
}
export interface FileNode {
  kind: 'file';
  name: string;
  data: Uint8Array;
}
export type TreeNode = DirNode | FileNode;

/** Longest file or folder name: what Joliet carries (64 UCS-2 characters). */
export const MAX_NAME_LENGTH = 64;
/** ISO 9660 allows 8 levels of folders, root included. */
export const MAX_DEPTH = 8;
/** ISO 9660 caps a full path at 255 bytes. */
export const MAX_PATH_LENGTH = 255;

const PORTABLE = /^[A-Za-z0-9._-]+$/;

/**
 * Checks one file or folder name: POSIX's portable file name characters
 * (`A-Z a-z 0-9 . _ -`), 1 to 64 of them, not ending in `.` (so not `.` or `..`
 * either). Anything else would be read differently by Rock Ridge, Joliet and
 * Windows guests: Windows and 7-Zip (cloudbase-init's extractor) drop a
 * trailing dot, so `a.` would be read as `a`, and would replace a file `a`.
 */
export function checkPortableName(name: string, path: string): void {
  if (name === '' || name.endsWith('.') || name.length > MAX_NAME_LENGTH || !PORTABLE.test(name)) {
    throw new ConfigDriveError(
      `file name ${JSON.stringify(name)} in ${JSON.stringify(path)} is not portable: use 1 to ${MAX_NAME_LENGTH} of A-Z a-z 0-9 . _ -, not ending in . (Windows drops a trailing dot)`,
      { path },
    );
  }
}

/**
 * Turns a flat file list into a folder tree, checking every name, depth and
 * path length, and refusing duplicates, a file used as a folder, and two names
 * in one folder that differ only in case (Windows would see one file).
 * Pure; the result is sorted, so the input order does not matter.
 */
export function toDirectoryTree(files: readonly DriveFile[]): DirNode {
  const root: DirNode = { kind: 'dir', name: '', children: [] };
  const index = new Map<DirNode, Map<string, TreeNode>>([[root, new Map()]]);
  for (const file of files) {
    if (typeof file.path !== 'string' || !(file.data instanceof Uint8Array)) {
      throw new ConfigDriveError(`drive file ${JSON.stringify(file.path)} needs a string path and Uint8Array data`, { path: String(file.path) });
    }
    if (file.path.length > MAX_PATH_LENGTH) {
      throw new ConfigDriveError(`path ${JSON.stringify(file.path)} is longer than ${MAX_PATH_LENGTH} characters`, { path: file.path });
    }
    const parts = file.path.split('/');
    if (parts.length > MAX_DEPTH) {
      throw new ConfigDriveError(`path ${JSON.stringify(file.path)} is nested deeper than ISO 9660's ${MAX_DEPTH} levels`, { path: file.path });
    }
    let dir = root;
    for (const [i, name] of parts.entries()) {
      checkPortableName(name, file.path);
      const siblings = index.get(dir)!;
      const key = name.toLowerCase();
      const existing = siblings.get(key);
      const last = i === parts.length - 1;
      if (existing && existing.name !== name) {
        throw new ConfigDriveError(
          `${JSON.stringify(file.path)} differs only in case from ${JSON.stringify(existing.name)} in the same folder; Windows guests cannot tell them apart`,
          { path: file.path },
        );
      }
      if (last) {
        if (existing) {
          const why = existing.kind === 'dir' ? 'is also a folder' : 'appears twice';
          throw new ConfigDriveError(`${JSON.stringify(file.path)} ${why} in the drive`, { path: file.path });
        }
        const node: FileNode = { kind: 'file', name, data: file.data };
        siblings.set(key, node);
        dir.children.push(node);
      } else if (existing) {
        if (existing.kind !== 'dir') {
          throw new ConfigDriveError(`${JSON.stringify(file.path)} uses the file ${JSON.stringify(name)} as a folder`, { path: file.path });
        }
        dir = existing;
      } else {
        const node: DirNode = { kind: 'dir', name, children: [] };
        siblings.set(key, node);
        index.set(node, new Map());
        dir.children.push(node);
        dir = node;
      }
    }
  }
  sortTree(root);
  return root;
}

function sortTree(dir: DirNode): void {
  dir.children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const c of dir.children) if (c.kind === 'dir') sortTree(c);
}

const encoder = new TextEncoder();
/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}
