/**
 * instance.xml carries EC2 user data base64-encoded, pretty-printed or not. One reading
 * of that text for every consumer (the instance check, the config drive, the KVP items),
 * in linear time and constant stack whatever its size: user data runs to megabytes, and
 * a backtracking pattern over groups of four overflows the stack at about 3 MiB.
 */

const NOT_ALPHABET = /[^A-Za-z0-9+/]/;

/**
 * The base64 text with its whitespace removed, or undefined when it is not base64:
 * letters, digits, `+` and `/`, then at most two `=`; whitespace anywhere (XML
 * pretty-printing adds it). Padding is optional, but when present it must complete the
 * last group of four; a lone character in the last group is never valid.
 */
export function compactBase64(text: string): string | undefined {
  const s = text.replace(/\s+/g, '');
  let body = s.length;
  while (body > 0 && s.length - body < 2 && s.charCodeAt(body - 1) === 0x3d /* = */) body--;
  const padded = body < s.length;
  const core = padded ? s.slice(0, body) : s;
  if (NOT_ALPHABET.test(core)) return undefined;
  if (core.length % 4 === 1) return undefined;
  if (padded && s.length % 4 !== 0) return undefined;
  return s;
}

/** The bytes of base64 user data; undefined when the text is not base64 (see compactBase64). */
export function decodeBase64(text: string): Uint8Array | undefined {
  const s = compactBase64(text);
  return s === undefined ? undefined : new Uint8Array(Buffer.from(s, 'base64'));
}
