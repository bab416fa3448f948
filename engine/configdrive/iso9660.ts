import { createHash } from 'node:crypto';
import { ConfigDriveError } from '../errors.js';
import { SECTOR, ascii, asciiBytes, be16, be32, both16, both32, le16, le32, longDate, sectorsFor, shortDate, ucs2 } from './iso-fields.js';
import { assignIsoNames, compareIsoNames } from './iso-names.js';
import { JOLIET_ESCAPE, JOLIET_MAX_LABEL, compareJolietNames, jolietName } from './joliet.js';
import { DIR_MODE, FILE_MODE, ce, concat, er, nm, px, sp, tf } from './rock-ridge.js';
import { toDirectoryTree, type DirNode, type DriveFile, type FileNode, type TreeNode } from './tree.js';

/** Options of the ISO 9660 writer. */
export interface IsoOptions {
  /** Volume label: the primary volume identifier, and the Joliet one (first 16 characters). Default `config-2`. */
  label?: string;
  /** Seconds since the Unix epoch used for every date in the image. Required, for reproducible bytes. */
  timestamp: number;
  /** Refuse to build an image larger than this many bytes. Default 64 MiB, CloudStack's cap. */
  maxImageBytes?: number;
}

/** Default label: the one cloud-init, cloudbase-init and Ignition look for. */
export const DEFAULT_LABEL = 'config-2';
/** Default image cap: 64 MiB. */
export const DEFAULT_MAX_IMAGE_BYTES = 64 * 1024 * 1024;

/** A folder in one of the two hierarchies (primary + Rock Ridge, or Joliet). */
interface HDir {
  node: DirNode;
  parent: HDir | null;
  /** Identifier bytes in the parent's records and in the path table. */
  ident: Uint8Array;
  records: HRecord[];
  /** 1-based position in the path table. */
  number: number;
  extent: number;
  size: number;
}
interface HRecord {
  ident: Uint8Array;
  /** System use area (Rock Ridge entries), empty in Joliet. */
  su: Uint8Array;
  node: TreeNode | 'self' | 'parent';
  dir?: HDir;
}

/**
 * Builds a complete ISO 9660 image of `files` in memory: primary volume
 * descriptor with Rock Ridge, Joliet supplementary descriptor, L and M path
 * tables for both, then folders and file data. Pure and deterministic: the
 * same files, label and timestamp always give the same bytes. Identical file
 * contents share one extent (as hard links do with genisoimage -cache-inodes).
 *
 * Layout in sectors: 0-15 system area, 16 PVD, 17 Joliet SVD, 18 terminator,
 * then path tables, the root's Rock Ridge continuation area, primary folders,
 * Joliet folders and file data.
 */
export function buildIsoImage(files: readonly DriveFile[], options: IsoOptions): Uint8Array {
  const label = checkLabel(options.label ?? DEFAULT_LABEL);
  const time = options.timestamp;
  const maxBytes = options.maxImageBytes ?? DEFAULT_MAX_IMAGE_BYTES;
  const root = toDirectoryTree(files);

  const primary = hierarchy(root, 'primary', time);
  const joliet = hierarchy(root, 'joliet', time);
  const ptPrimary = pathTableSize(primary);
  const ptJoliet = pathTableSize(joliet);

  let next = 19;
  const take = (bytes: number) => {
    const at = next;
    next += Math.max(1, sectorsFor(bytes));
    return at;
  };
  const ptLPrimary = take(ptPrimary);
  const ptMPrimary = take(ptPrimary);
  const ptLJoliet = take(ptJoliet);
  const ptMJoliet = take(ptJoliet);
  const erEntry = er();
  const ceSector = take(erEntry.length);
  // The root's "." record gets SP first and a CE pointing at the ER entry.
  const rootSelf = primary[0].records[0];
  rootSelf.su = concat([sp(), rootSelf.su, ce(ceSector, 0, erEntry.length)]);

  for (const dir of [...primary, ...joliet]) {
    dir.size = directorySize(dir);
    dir.extent = take(dir.size);
  }
  const extents = new Map<FileNode, number>();
  const byContent = new Map<string, { data: Uint8Array; extent: number }>();
  for (const file of filesOf(root)) {
    if (file.data.length === 0) {
      extents.set(file, 0);
      continue;
    }
    const key = `${file.data.length}:${createHash('sha256').update(file.data).digest('hex')}`;
    const seen = byContent.get(key);
    if (seen && bytesEqual(seen.data, file.data)) {
      extents.set(file, seen.extent);
    } else {
      const extent = take(file.data.length);
      byContent.set(key, { data: file.data, extent });
      extents.set(file, extent);
    }
  }

  const total = next * SECTOR;
  if (total > maxBytes) {
    throw new ConfigDriveError(`config drive would be ${total} bytes, over the ${maxBytes}-byte cap; shrink the user data or files`);
  }
  const buf = new Uint8Array(total);
  writeDescriptor(buf, 16, 'primary', { label, time, sectors: next, root: primary[0], ptSize: ptPrimary, ptL: ptLPrimary, ptM: ptMPrimary });
  writeDescriptor(buf, 17, 'joliet', { label, time, sectors: next, root: joliet[0], ptSize: ptJoliet, ptL: ptLJoliet, ptM: ptMJoliet });
  buf[18 * SECTOR] = 255;
  buf.set(asciiBytes('CD001'), 18 * SECTOR + 1);
  buf[18 * SECTOR + 6] = 1;
  writePathTable(buf, ptLPrimary * SECTOR, primary, 'L');
  writePathTable(buf, ptMPrimary * SECTOR, primary, 'M');
  writePathTable(buf, ptLJoliet * SECTOR, joliet, 'L');
  writePathTable(buf, ptMJoliet * SECTOR, joliet, 'M');
  buf.set(erEntry, ceSector * SECTOR);
  for (const dir of [...primary, ...joliet]) writeDirectory(buf, dir, extents, time);
  for (const { data, extent } of byContent.values()) buf.set(data, extent * SECTOR);
  return buf;
}

/** Volume labels: 1 to 32 characters, ASCII letters, digits, `_`, `-` and `.`. */
function checkLabel(label: string): string {
  if (!/^[A-Za-z0-9_.-]{1,32}$/.test(label)) {
    throw new ConfigDriveError(`volume label ${JSON.stringify(label)} must be 1 to 32 of A-Z a-z 0-9 _ - . (config-2 for cloud-init)`);
  }
  return label;
}

/** Every folder of one hierarchy in path-table order (breadth first, siblings in the hierarchy's order). */
function hierarchy(root: DirNode, kind: 'primary' | 'joliet', time: number): HDir[] {
  const rr = kind === 'primary';
  const links = (d: DirNode) => 2 + d.children.filter((c) => c.kind === 'dir').length;
  const top: HDir = { node: root, parent: null, ident: new Uint8Array([0]), records: [], number: 1, extent: 0, size: 0 };
  const out: HDir[] = [top];
  for (let i = 0; i < out.length; i++) {
    const dir = out[i];
    const parentNode = dir.parent?.node ?? root;
    const selfSu = rr ? concat([px(DIR_MODE, links(dir.node)), tf(time)]) : new Uint8Array(0);
    const parentSu = rr ? concat([px(DIR_MODE, links(parentNode)), tf(time)]) : new Uint8Array(0);
    dir.records.push({ ident: new Uint8Array([0]), su: selfSu, node: 'self' }, { ident: new Uint8Array([1]), su: parentSu, node: 'parent' });
    const named: { name: string; node: TreeNode }[] = rr
      ? [...assignIsoNames(dir.node.children)].map(([node, name]) => ({ name, node })).sort((a, b) => compareIsoNames(a.name, b.name))
      : dir.node.children.map((node) => ({ name: node.name, node })).sort((a, b) => compareJolietNames(a.name, b.name));
    for (const { name, node } of named) {
      const ident = rr ? asciiBytes(name) : jolietName(name);
      const su = rr ? concat([px(node.kind === 'dir' ? DIR_MODE : FILE_MODE, node.kind === 'dir' ? links(node) : 1), tf(time), nm(node.name)]) : new Uint8Array(0);
      const record: HRecord = { ident, su, node };
      if (node.kind === 'dir') {
        record.dir = { node, parent: dir, ident, records: [], number: out.length + 1, extent: 0, size: 0 };
        out.push(record.dir);
      }
      dir.records.push(record);
    }
  }
  return out;
}

/** 9.1: 33 fixed bytes, the identifier, a pad byte to make it even, the system use area, padded even. */
function recordLength(r: HRecord): number {
  const n = 33 + r.ident.length + (r.ident.length % 2 === 0 ? 1 : 0) + r.su.length;
  return n + (n % 2);
}

/** Bytes a folder takes: records never straddle a sector boundary (6.8.1.1), whole sectors. */
function directorySize(dir: HDir): number {
  let at = 0;
  for (const r of dir.records) {
    const len = recordLength(r);
    if (len > 255) throw new ConfigDriveError(`directory record for ${JSON.stringify(String(r.node))} is too long`);
    if ((at % SECTOR) + len > SECTOR) at = Math.ceil(at / SECTOR) * SECTOR;
    at += len;
  }
  return sectorsFor(at) * SECTOR;
}

function writeDirectory(buf: Uint8Array, dir: HDir, extents: Map<FileNode, number>, time: number): void {
  const base = dir.extent * SECTOR;
  let at = 0;
  for (const r of dir.records) {
    const len = recordLength(r);
    if ((at % SECTOR) + len > SECTOR) at = Math.ceil(at / SECTOR) * SECTOR;
    const target = r.node === 'self' ? dir : r.node === 'parent' ? (dir.parent ?? dir) : r.dir;
    if (target) writeRecord(buf, base + at, r, len, target.extent, target.size, 2, time);
    else {
      const file = r.node as FileNode;
      writeRecord(buf, base + at, r, len, extents.get(file)!, file.data.length, 0, time);
    }
    at += len;
  }
}

function writeRecord(buf: Uint8Array, at: number, r: HRecord, len: number, extent: number, size: number, flags: number, time: number): void {
  buf[at] = len;
  buf[at + 1] = 0; // extended attribute record length
  both32(buf, at + 2, extent);
  both32(buf, at + 10, size);
  shortDate(buf, at + 18, time);
  buf[at + 25] = flags; // bit 1: directory
  both16(buf, at + 28, 1); // volume sequence number
  buf[at + 32] = r.ident.length;
  buf.set(r.ident, at + 33);
  buf.set(r.su, at + 33 + r.ident.length + (r.ident.length % 2 === 0 ? 1 : 0));
}

/** 9.4: 8 bytes + identifier, padded even, per folder. */
function pathTableSize(dirs: readonly HDir[]): number {
  return dirs.reduce((n, d) => n + 8 + d.ident.length + (d.ident.length % 2), 0);
}

function writePathTable(buf: Uint8Array, at: number, dirs: readonly HDir[], order: 'L' | 'M'): void {
  for (const d of dirs) {
    buf[at] = d.ident.length;
    buf[at + 1] = 0;
    if (order === 'L') {
      le32(buf, at + 2, d.extent);
      le16(buf, at + 6, d.parent?.number ?? 1);
    } else {
      be32(buf, at + 2, d.extent);
      be16(buf, at + 6, d.parent?.number ?? 1);
    }
    buf.set(d.ident, at + 8);
    at += 8 + d.ident.length + (d.ident.length % 2);
  }
}

interface DescriptorFields {
  label: string;
  time: number;
  sectors: number;
  root: HDir;
  ptSize: number;
  ptL: number;
  ptM: number;
}

/** 8.4 (primary) and 8.5 (supplementary, Joliet): the same layout, text as ASCII or UCS-2. */
function writeDescriptor(buf: Uint8Array, sector: number, kind: 'primary' | 'joliet', f: DescriptorFields): void {
  const at = sector * SECTOR;
  const text = kind === 'primary' ? ascii : ucs2;
  buf[at] = kind === 'primary' ? 1 : 2;
  buf.set(asciiBytes('CD001'), at + 1);
  buf[at + 6] = 1;
  text(buf, at + 8, 'LINUX', 32); // system identifier
  text(buf, at + 40, kind === 'primary' ? f.label : f.label.slice(0, JOLIET_MAX_LABEL), 32);
  both32(buf, at + 80, f.sectors);
  if (kind === 'joliet') buf.set(JOLIET_ESCAPE, at + 88);
  both16(buf, at + 120, 1); // volume set size
  both16(buf, at + 124, 1); // volume sequence number
  both16(buf, at + 128, SECTOR);
  both32(buf, at + 132, f.ptSize);
  le32(buf, at + 140, f.ptL);
  be32(buf, at + 148, f.ptM);
  const root: HRecord = { ident: new Uint8Array([0]), su: new Uint8Array(0), node: 'self' };
  writeRecord(buf, at + 156, root, 34, f.root.extent, f.root.size, 2, f.time);
  text(buf, at + 190, '', 128); // volume set
  text(buf, at + 318, '', 128); // publisher
  text(buf, at + 446, '', 128); // data preparer
  text(buf, at + 574, 'DOMFORGE CONFIG DRIVE', 128); // application
  text(buf, at + 702, '', 37); // copyright file
  text(buf, at + 739, '', 37); // abstract file
  text(buf, at + 776, '', 37); // bibliographic file
  longDate(buf, at + 813, f.time); // creation
  longDate(buf, at + 830, f.time); // modification
  longDate(buf, at + 847, undefined); // expiration
  longDate(buf, at + 864, undefined); // effective
  buf[at + 881] = 1; // file structure version
}

function* filesOf(dir: DirNode): Generator<FileNode> {
  for (const c of dir.children) {
    if (c.kind === 'file') yield c;
    else yield* filesOf(c);
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
