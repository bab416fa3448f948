import { asciiBytes, both32, shortDate } from './iso-fields.js';

/**
 * System Use Sharing Protocol (SUSP 1.12) and Rock Ridge (RRIP 1991A) entries
 * placed after the identifier of each primary directory record, so Linux and
 * xorriso see the real mixed-case names and POSIX modes. Each function returns
 * the bytes of one entry: two signature letters, length, version 1, payload.
 */

/** Modes on the drive: read-only for everyone, as genisoimage `-r` makes them. */
export const FILE_MODE = 0o100444;
export const DIR_MODE = 0o040555;

/** Extension id, descriptor and source of the ER entry (RRIP 1991A, section 5.5). */
const ER_ID = 'RRIP_1991A';
const ER_DESCRIPTOR = 'THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS';
const ER_SOURCE = 'PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.';

function entry(sig: string, payloadLength: number): Uint8Array {
  const e = new Uint8Array(4 + payloadLength);
  e[0] = sig.charCodeAt(0);
  e[1] = sig.charCodeAt(1);
  e[2] = e.length;
  e[3] = 1;
  return e;
}

/** SP (SUSP 5.3): first entry of the root's "." record; says SUSP is in use and no bytes are skipped. */
export function sp(): Uint8Array {
  const e = entry('SP', 3);
  e[4] = 0xbe;
  e[5] = 0xef;
  e[6] = 0;
  return e;
}

/** CE (SUSP 5.1): the rest of this record's entries are at `block`, `offset`, `length` bytes long. */
export function ce(block: number, offset: number, length: number): Uint8Array {
  const e = entry('CE', 24);
  both32(e, 4, block);
  both32(e, 12, offset);
  both32(e, 20, length);
  return e;
}

/** ER (SUSP 5.5): declares the Rock Ridge extension; lives in the root's continuation area. */
export function er(): Uint8Array {
  const e = entry('ER', 4 + ER_ID.length + ER_DESCRIPTOR.length + ER_SOURCE.length);
  e[4] = ER_ID.length;
  e[5] = ER_DESCRIPTOR.length;
  e[6] = ER_SOURCE.length;
  e[7] = 1; // extension version
  e.set(asciiBytes(ER_ID + ER_DESCRIPTOR + ER_SOURCE), 8);
  return e;
}

/** PX (RRIP 4.1.1, 1991A form without serial number): mode, links, uid 0, gid 0. */
export function px(mode: number, links: number): Uint8Array {
  const e = entry('PX', 32);
  both32(e, 4, mode);
  both32(e, 12, links);
  both32(e, 20, 0);
  both32(e, 28, 0);
  return e;
}

/** TF (RRIP 4.1.6): modify, access and attribute-change times, short form, all the drive's timestamp. */
export function tf(seconds: number): Uint8Array {
  const e = entry('TF', 1 + 3 * 7);
  e[4] = 0b0000_1110; // MODIFY | ACCESS | ATTRIBUTES, 7-byte dates
  for (let i = 0; i < 3; i++) shortDate(e, 5 + 7 * i, seconds);
  return e;
}

/** NM (RRIP 4.1.4): the real name, complete in one entry (names are at most 64 ASCII characters). */
export function nm(name: string): Uint8Array {
  const e = entry('NM', 1 + name.length);
  e[4] = 0;
  e.set(asciiBytes(name), 5);
  return e;
}
