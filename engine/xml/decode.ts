import { XmlSyntaxError } from '../errors.js';
import { lineColOf } from './parse.js';

/**
 * The text of an XML file's bytes, decoded as the byte order mark and XML declaration say:
 * UTF-8 (a leading byte order mark is dropped), or UTF-16 LE/BE with a byte order mark. A
 * byte order mark decides, as in libxml2: a UTF-16 file whose declaration says `UTF-16` or
 * `UTF-8` (what Windows PowerShell 5's `Out-File` writes) is read as UTF-16, and its
 * declaration then reads `UTF-8`, which is what the text is from here on. Bytes that are not
 * UTF-8, UTF-16 without a byte order mark, a declared encoding other than UTF-8, UTF-16 or
 * US-ASCII, and one a byte order mark contradicts are an XmlSyntaxError naming file, line and
 * column: never a silent mis-decoding.
 */
export function decodeXmlBytes(bytes: Uint8Array, file?: string): string {
  // The declaration first: a file that says ISO-8859-1 is told so, not that its é is not UTF-8.
  if (bytes[0] === 0x3c) checkDeclaredEncoding(Buffer.from(bytes.subarray(0, 200)).toString('latin1'), {}, file);
  const { text, bom } = decodeUnicode(bytes, file, 'XML');
  return checkDeclaredEncoding(text, { bom }, file);
}

/** The text of a JSON file's bytes: UTF-8 (a byte order mark is dropped) or UTF-16 with a byte order mark. */
export function decodeJsonBytes(bytes: Uint8Array, file?: string): string {
  return decodeUnicode(bytes, file, 'JSON').text;
}

/** The encoding a byte order mark names. */
export type ByteOrderMark = 'UTF-8' | 'UTF-16LE' | 'UTF-16BE';

function decodeUnicode(b: Uint8Array, file: string | undefined, what: string): { text: string; bom?: ByteOrderMark } {
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return { text: utf8(b.subarray(3), file), bom: 'UTF-8' };
  if (b[0] === 0xff && b[1] === 0xfe) return { text: utf16(b.subarray(2), 'utf-16le', file), bom: 'UTF-16LE' };
  if (b[0] === 0xfe && b[1] === 0xff) return { text: utf16(b.subarray(2), 'utf-16be', file), bom: 'UTF-16BE' };
  // UTF-16 without a byte order mark: `<` or `{` (or a space) with a zero byte beside it.
  if (b.length >= 2 && (b[0] === 0) !== (b[1] === 0)) {
    throw new XmlSyntaxError(`this ${what} file looks like UTF-16 without a byte order mark: save it as UTF-8 (or UTF-16 with a byte order mark)`, { file, line: 1, column: 1 });
  }
  return { text: utf8(b, file) };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function utf8(b: Uint8Array, file?: string): string {
  try {
    return UTF8.decode(b);
  } catch {
    const at = firstBadUtf8(b);
    const before = new TextDecoder('utf-8').decode(b.subarray(0, at));
    const { line, column } = lineColOf(before, before.length);
    throw new XmlSyntaxError(`byte 0x${b[at]!.toString(16).padStart(2, '0')} at offset ${at} is not UTF-8: save the file as UTF-8`, { file, line, column });
  }
}

function utf16(b: Uint8Array, encoding: 'utf-16le' | 'utf-16be', file?: string): string {
  if (b.length % 2) throw new XmlSyntaxError(`a UTF-16 file has an odd number of bytes (${b.length + 2})`, { file });
  try {
    return new TextDecoder(encoding, { fatal: true, ignoreBOM: true }).decode(b);
  } catch {
    throw new XmlSyntaxError(`the file is not valid ${encoding.toUpperCase()} (an unpaired surrogate)`, { file });
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence (b.length when all are valid). */
export function firstBadUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let n = 0;
    let min = 0;
    if (c < 0x80) n = 0;
    else if (c >= 0xc2 && c <= 0xdf) (n = 1), (min = 0x80);
    else if (c >= 0xe0 && c <= 0xef) (n = 2), (min = 0x800);
    else if (c >= 0xf0 && c <= 0xf4) (n = 3), (min = 0x10000);
    else return i;
    if (n > 0 && i + n >= b.length) return i;
    let cp = n === 0 ? c : c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const d = b[i + k]!;
      if ((d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return i;
}

const DECLARATION = /^<\?xml\s[^>]*?\bencoding\s*=\s*(["'])([^"']*)\1/;
const UTF8_NAMES = new Set(['utf-8', 'utf8']);
const ASCII_NAMES = new Set(['us-ascii', 'ascii']);
const UTF16_NAMES = new Set(['utf-16', 'utf16', 'utf-16le', 'utf-16be']);

/**
 * The encoding an XML declaration names must be the one the text was decoded from (`decoded`:
 * from a file with that byte order mark, or from UTF-8 without one; a UTF-16 byte order mark
 * also takes `UTF-8`, as libxml2 does). For text already decoded (a string given to the
 * library), pass `decoded` undefined: UTF-8, UTF-16 and US-ASCII are accepted, anything else
 * refused.
 */
export function checkDeclaredEncoding(text: string, decoded: { bom?: ByteOrderMark } | undefined, file?: string): string {
  if (!text.startsWith('<?xml')) return text;
  const m = DECLARATION.exec(text.slice(0, 200));
  if (!m) return text;
  const name = m[2]!;
  const lower = name.toLowerCase();
  const column = m.index + m[0].length - name.length;
  const unicode = UTF8_NAMES.has(lower) || UTF16_NAMES.has(lower);
  if (decoded === undefined && (unicode || ASCII_NAMES.has(lower))) return text;
  const bom = decoded?.bom;
  if (bom === 'UTF-16LE' || bom === 'UTF-16BE') {
    // Decoded: the text is no longer UTF-16, and whoever reads it next must not think so.
    if (UTF16_NAMES.has(lower)) return text.slice(0, column - 1) + 'UTF-8' + text.slice(column - 1 + name.length);
    if (UTF8_NAMES.has(lower)) return text;
  } else if (decoded !== undefined && (UTF8_NAMES.has(lower) || ASCII_NAMES.has(lower))) {
    return text;
  }
  if (bom) {
    const declare = bom === 'UTF-8' ? 'UTF-8' : 'UTF-16';
    throw new XmlSyntaxError(`the byte order mark says the file is ${bom} but the declaration says encoding "${name}": if the file reads right as ${bom}, declare encoding="${declare}"`, { file, line: 1, column });
  }
  if (UTF16_NAMES.has(lower)) {
    throw new XmlSyntaxError(`the declaration says encoding "${name}" but the file has no UTF-16 byte order mark: save it as UTF-8 and say encoding="UTF-8"`, { file, line: 1, column });
  }
  throw new XmlSyntaxError(
    `encoding "${name}" is not supported: domforge reads XML as UTF-8 (or UTF-16 with a byte order mark); convert the file (iconv -f ${name} -t UTF-8) and declare encoding="UTF-8"`,
    { file, line: 1, column },
  );
}
