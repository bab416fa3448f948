/**
 * Byte-level fields of ECMA-119 (ISO 9660): little/big/both-endian integers,
 * the two date forms and padded identifier strings. Pure helpers over a
 * Uint8Array; every offset is absolute in the buffer.
 */

/** Logical sector (and block) size. */
export const SECTOR = 2048;

/** 7.2.3: 16-bit both-byte orders (little then big). */
export function both16(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value & 0xff;
  buf[at + 1] = (value >>> 8) & 0xff;
  buf[at + 2] = (value >>> 8) & 0xff;
  buf[at + 3] = value & 0xff;
}

/** 7.3.1: 32-bit little endian. */
export function le32(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value & 0xff;
  buf[at + 1] = (value >>> 8) & 0xff;
  buf[at + 2] = (value >>> 16) & 0xff;
  buf[at + 3] = (value >>> 24) & 0xff;
}

/** 7.3.2: 32-bit big endian. */
export function be32(buf: Uint8Array, at: number, value: number): void {
  buf[at] = (value >>> 24) & 0xff;
  buf[at + 1] = (value >>> 16) & 0xff;
  buf[at + 2] = (value >>> 8) & 0xff;
  buf[at + 3] = value & 0xff;
}

/** 7.3.3: 32-bit both-byte orders. */
export function both32(buf: Uint8Array, at: number, value: number): void {
  le32(buf, at, value);
  be32(buf, at + 4, value);
}

/** 16-bit little / big endian (path table parent numbers). */
export function le16(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value & 0xff;
  buf[at + 1] = (value >>> 8) & 0xff;
}
export function be16(buf: Uint8Array, at: number, value: number): void {
  buf[at] = (value >>> 8) & 0xff;
  buf[at + 1] = value & 0xff;
}

/** 9.1.5: the 7-byte recording date of directory records (and Rock Ridge TF short form), in UTC. */
export function shortDate(buf: Uint8Array, at: number, seconds: number): void {
  const d = new Date(seconds * 1000);
  buf[at] = d.getUTCFullYear() - 1900;
  buf[at + 1] = d.getUTCMonth() + 1;
  buf[at + 2] = d.getUTCDate();
  buf[at + 3] = d.getUTCHours();
  buf[at + 4] = d.getUTCMinutes();
  buf[at + 5] = d.getUTCSeconds();
  buf[at + 6] = 0; // offset from GMT in 15-minute units
}

/** 8.4.26.1: the 17-byte volume descriptor date `YYYYMMDDHHMMSScc` + GMT offset; `undefined` writes "not specified". */
export function longDate(buf: Uint8Array, at: number, seconds: number | undefined): void {
  if (seconds === undefined) {
    buf.fill(0x30, at, at + 16);
    buf[at + 16] = 0;
    return;
  }
  const d = new Date(seconds * 1000);
  const p = (n: number, w: number) => String(n).padStart(w, '0');
  const text =
    p(d.getUTCFullYear(), 4) + p(d.getUTCMonth() + 1, 2) + p(d.getUTCDate(), 2) + p(d.getUTCHours(), 2) + p(d.getUTCMinutes(), 2) + p(d.getUTCSeconds(), 2) + '00';
  ascii(buf, at, text, 16);
  buf[at + 16] = 0;
}

/** An ASCII field padded with spaces to `width` bytes (a- and d-character fields). */
export function ascii(buf: Uint8Array, at: number, text: string, width: number): void {
  for (let i = 0; i < width; i++) buf[at + i] = i < text.length ? text.charCodeAt(i) & 0x7f : 0x20;
}

/** A UCS-2 big-endian field padded with UCS-2 spaces to `width` bytes (Joliet descriptor fields). */
export function ucs2(buf: Uint8Array, at: number, text: string, width: number): void {
  for (let i = 0; i + 1 < width; i += 2) {
    const c = i / 2 < text.length ? text.charCodeAt(i / 2) : 0x20;
    buf[at + i] = c >>> 8;
    buf[at + i + 1] = c & 0xff;
  }
}

/** UCS-2 big-endian bytes of a name (Joliet identifiers; names are checked to be ASCII before). */
export function ucs2Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    out[2 * i] = text.charCodeAt(i) >>> 8;
    out[2 * i + 1] = text.charCodeAt(i) & 0xff;
  }
  return out;
}

/** ASCII bytes of a name. */
export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0x7f;
  return out;
}

/** Sectors needed for `bytes` bytes. */
export function sectorsFor(bytes: number): number {
  return Math.ceil(bytes / SECTOR);
}
