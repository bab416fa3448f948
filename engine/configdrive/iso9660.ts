import { ConfigDriveError } from '../errors.js';
import { SECTOR, ascii, asciiBytes, be16, be32, both16, both32, le16, le32, longDate, sectorsFor, shortDate, ucs2 } from './iso-fields.js';
import { assignIsoNames, compareIsoNames } from './iso-names.js';
import { JOLIET_ESCAPE, JOLIET_MAX_LABEL, compareJolietNames, jolietName } from './joliet.js';
import { DEFAULT_LABEL, volumeLabelProblem } from './label.js';
import { DIR_MODE, FILE_MODE, ce, er, nm, px, sp, tf } from './rock-ridge.js';
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

export { DEFAULT_LABEL };
/** Default image cap: 64 MiB. */
export const DEFAULT_MAX_IMAGE_BYTES = 64 * 1024 * 1024;

/**
 * CONFIG_DRIVE_INVALID at `maxImageBytes`: the image would be over its cap. Carries both
 * sizes, so that a drive built from an instance can name the field to shrink instead.
 */
export class ImageCapError extends ConfigDriveError {
  constructor(
    readonly imageBytes: number,
    readonly maxImageBytes: number,
  ) {
    super(`config drive would be ${imageBytes} bytes, over the ${maxImageBytes}-byte image cap (maxImageBytes, or --max-image on the CLI); shrink the user data or files`, { path: 'maxImageBytes' });
  }
}

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
  /** System use area: Rock Ridge entries, written one after the other (none in Joliet); parts are shared between records. */
  su: readonly Uint8Array[];
  suLength: number;
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
 * then path tables, primary folders, Joliet folders, the root's Rock Ridge
 * continuation area and file data: everything a folder points at lies after it.
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
  // The root's "." record gets SP first and a CE pointing at the ER entry (its sector is known
  // once the folders have theirs; the entry's length, which sizes the root, is known now).
  const rootSelf = primary[0].records[0];
  const ceEntry = ce(0, 0, erEntry.length);
  rootSelf.su = [sp(), ...rootSelf.su, ceEntry];
  rootSelf.suLength = lengthOf(rootSelf.su);

  for (const dir of [...primary, ...joliet]) {
    dir.size = directorySize(dir);
    dir.extent = take(dir.size);
  }
  // After the folders, as genisoimage places it: libarchive (bsdtar) reads an image front to
  // back and refuses a continuation area that lies before the folder pointing at it
  // ("Invalid parameter in SUSP "CE" extension"), which was the whole image.
  const ceSector = take(erEntry.length);
  both32(ceEntry, 4, ceSector);
  const extents = new Map<FileNode, number>();
  const stored: { data: Uint8Array; extent: number }[] = [];
  const byLength = new Map<number, { data: Uint8Array; extent: number }[]>();
  for (const file of filesOf(root)) {
    if (file.data.length === 0) {
      extents.set(file, 0);
      continue;
    }
    const same = byLength.get(file.data.length) ?? [];
    const seen = same.find((s) => bytesEqual(s.data, file.data));
    if (seen) {
      extents.set(file, seen.extent);
    } else {
      const entry = { data: file.data, extent: take(file.data.length) };
      same.push(entry);
      byLength.set(file.data.length, same);
      stored.push(entry);
      extents.set(file, entry.extent);
    }
  }

  const total = next * SECTOR;
  if (total > maxBytes) {
    throw new ImageCapError(total, maxBytes);
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
  const date = new Uint8Array(7);
  shortDate(date, 0, time);
  for (const dir of [...primary, ...joliet]) writeDirectory(buf, dir, extents, date);
  for (const { data, extent } of stored) buf.set(data, extent * SECTOR);
  return buf;
}

/** Identifiers of the "." and ".." records (9.1.11), and the root's in the path table. */
const SELF_ID = new Uint8Array([0]);
const PARENT_ID = new Uint8Array([1]);
const NO_SU: readonly Uint8Array[] = [];

function lengthOf(parts: readonly Uint8Array[]): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}

/** A volume label (see label.ts for the rule), or a ConfigDriveError at the path `label`. */
export function checkLabel(label: string): string {
  const problem = volumeLabelProblem(label);
  if (problem) throw new ConfigDriveError(problem, { path: 'label' });
  return label;
}

/** Every folder of one hierarchy in path-table order (breadth first, siblings in the hierarchy's order). */
function hierarchy(root: DirNode, kind: 'primary' | 'joliet', time: number): HDir[] {
  const rr = kind === 'primary';
  const links = (d: DirNode) => 2 + d.children.filter((c) => c.kind === 'dir').length;
  // Every record of a hierarchy shares one TF entry and few distinct PX entries: build them once.
  const times = tf(time);
  const fileSu = px(FILE_MODE, 1);
  const dirPx = new Map<number, Uint8Array>();
  const pxDir = (d: DirNode) => {
    const n = links(d);
    let e = dirPx.get(n);
    if (!e) dirPx.set(n, (e = px(DIR_MODE, n)));
    return e;
  };
  const top: HDir = { node: root, parent: null, ident: SELF_ID, records: [], number: 1, extent: 0, size: 0 };
  const out: HDir[] = [top];
  for (let i = 0; i < out.length; i++) {
    const dir = out[i];
    const parentNode = dir.parent?.node ?? root;
    const selfSu = rr ? [pxDir(dir.node), times] : NO_SU;
    const parentSu = rr ? [pxDir(parentNode), times] : NO_SU;
    dir.records.push(
      { ident: SELF_ID, su: selfSu, suLength: lengthOf(selfSu), node: 'self' },
      { ident: PARENT_ID, su: parentSu, suLength: lengthOf(parentSu), node: 'parent' },
    );
    const named: { name: string; node: TreeNode }[] = rr
      ? [...assignIsoNames(dir.node.children)].map(([node, name]) => ({ name, node })).sort((a, b) => compareIsoNames(a.name, b.name))
      : dir.node.children.map((node) => ({ name: node.name, node })).sort((a, b) => compareJolietNames(a.name, b.name));
    for (const { name, node } of named) {
      const ident = rr ? asciiBytes(name) : jolietName(name);
      const su = rr ? [node.kind === 'dir' ? pxDir(node) : fileSu, times, nm(node.name)] : NO_SU;
      const record: HRecord = { ident, su, suLength: lengthOf(su), node };
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
  const n = 33 + r.ident.length + (r.ident.length % 2 === 0 ? 1 : 0) + r.suLength;
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

function writeDirectory(buf: Uint8Array, dir: HDir, extents: Map<FileNode, number>, date: Uint8Array): void {
  const base = dir.extent * SECTOR;
  let at = 0;
  for (const r of dir.records) {
    const len = recordLength(r);
    if ((at % SECTOR) + len > SECTOR) at = Math.ceil(at / SECTOR) * SECTOR;
    const target = r.node === 'self' ? dir : r.node === 'parent' ? (dir.parent ?? dir) : r.dir;
    if (target) writeRecord(buf, base + at, r, len, target.extent, target.size, 2, date);
    else {
      const file = r.node as FileNode;
      writeRecord(buf, base + at, r, len, extents.get(file)!, file.data.length, 0, date);
    }
    at += len;
  }
}

function writeRecord(buf: Uint8Array, at: number, r: HRecord, len: number, extent: number, size: number, flags: number, date: Uint8Array): void {
  buf[at] = len;
  buf[at + 1] = 0; // extended attribute record length
  both32(buf, at + 2, extent);
  both32(buf, at + 10, size);
  buf.set(date, at + 18);
  buf[at + 25] = flags; // bit 1: directory
  both16(buf, at + 28, 1); // volume sequence number
  buf[at + 32] = r.ident.length;
  buf.set(r.ident, at + 33);
  let su = at + 33 + r.ident.length + (r.ident.length % 2 === 0 ? 1 : 0);
  for (const part of r.su) {
    buf.set(part, su);
    su += part.length;
  }
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
  const root: HRecord = { ident: SELF_ID, su: NO_SU, suLength: 0, node: 'self' };
  const date = new Uint8Array(7);
  shortDate(date, 0, f.time);
  writeRecord(buf, at + 156, root, 34, f.root.extent, f.root.size, 2, date);
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

/** Same bytes? The same array (user data reused across versions) is the common, free case. */
function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a === b || Buffer.compare(a, b) === 0;
}
