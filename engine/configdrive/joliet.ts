import { ucs2Bytes } from './iso-fields.js';

/**
 * Joliet (Microsoft's supplementary volume descriptor, UCS-2 level 3): a second
 * directory hierarchy with the real names in UCS-2 big endian, for Windows
 * guests (cloudbase-init). Names reach here already checked as portable ASCII
 * of at most 64 characters, Joliet's limit, so they are written whole. Files
 * carry no `;1` version suffix: it would push a 64-character name past the
 * limit, and Linux, xorriso and Windows all read names without it.
 */

/** Escape sequence `%/E` in the SVD's escape-sequence field: UCS-2 level 3. */
export const JOLIET_ESCAPE = new Uint8Array([0x25, 0x2f, 0x45]);

/** Longest Joliet volume identifier: 32 bytes of UCS-2. */
export const JOLIET_MAX_LABEL = 16;

/** The identifier bytes of one name. */
export function jolietName(name: string): Uint8Array {
  return ucs2Bytes(name);
}

/** Joliet orders records by UCS-2 code units, which for ASCII is plain string order. */
export function compareJolietNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
