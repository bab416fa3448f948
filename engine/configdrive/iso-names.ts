import type { TreeNode } from './tree.js';

/**
 * Names of the primary (plain ISO 9660) hierarchy. Rock Ridge and Joliet carry
 * the real names; these are what a reader with neither extension sees, so they
 * only need to be valid and unique: d-characters (`A-Z 0-9 _`), at most 31
 * characters like genisoimage's `-l`, files as `NAME.EXT;1`, folders without
 * dot or version.
 */

/** Longest primary identifier, version excluded (genisoimage `-l`). */
const MAX_ISO_NAME = 30;

function dchars(s: string): string {
  return s.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

/** The preferred identifier for a name, before collisions are resolved: `[stem, extension]`; folders have no extension. */
function candidate(node: TreeNode): [string, string] {
  if (node.kind === 'dir') return [dchars(node.name).slice(0, MAX_ISO_NAME), ''];
  const dot = node.name.lastIndexOf('.');
  const stem = dot < 0 ? node.name : node.name.slice(0, dot);
  const ext = dot < 0 ? '' : node.name.slice(dot + 1);
  const e = dchars(ext).slice(0, 8);
  return [dchars(stem).slice(0, MAX_ISO_NAME - e.length), e];
}

/**
 * Gives every child of one folder a unique primary identifier. Siblings are
 * taken in their (sorted) order; a clash is resolved by replacing the stem's
 * tail with `_<n>`, so the result depends only on the names.
 */
export function assignIsoNames(children: readonly TreeNode[]): Map<TreeNode, string> {
  const used = new Set<string>();
  const out = new Map<TreeNode, string>();
  for (const node of children) {
    const [stem, ext] = candidate(node);
    const make = (s: string) => (node.kind === 'dir' ? s : `${s}.${ext};1`);
    let id = make(stem === '' && ext === '' ? '_' : stem);
    for (let n = 1; used.has(key(id)); n++) {
      const suffix = `_${n}`;
      id = make(stem.slice(0, Math.max(0, MAX_ISO_NAME - ext.length - suffix.length)) + suffix);
    }
    used.add(key(id));
    out.set(node, id);
  }
  return out;
}

/** Identity for clash detection: the version does not make two names different. */
function key(id: string): string {
  return id.replace(/;1$/, '');
}

/**
 * ECMA-119 9.3 order of directory records: by stem padded with spaces, then
 * by extension padded with spaces (versions are all 1).
 */
export function compareIsoNames(a: string, b: string): number {
  const [as, ae] = split(a);
  const [bs, be] = split(b);
  return comparePadded(as, bs) || comparePadded(ae, be);
}

function split(id: string): [string, string] {
  const plain = id.replace(/;1$/, '');
  const dot = plain.indexOf('.');
  return dot < 0 ? [plain, ''] : [plain.slice(0, dot), plain.slice(dot + 1)];
}

function comparePadded(a: string, b: string): number {
  const n = Math.max(a.length, b.length);
  const pa = a.padEnd(n, ' ');
  const pb = b.padEnd(n, ' ');
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}
