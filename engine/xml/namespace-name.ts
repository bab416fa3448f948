/**
 * Whether a namespace name is a URI reference as libxml2 reads one.
 *
 * Namespaces in XML 1.0 §2 makes a namespace name a URI reference (RFC 3986 §4.1); libxml2
 * parses every declared one with xmlParseURI and reports a namespace error ("xmlns:p: 'a b'
 * is not a valid URI") when it fails. This is that parse (libxml2 2.9's uri.c, RFC 3986's
 * grammar read greedily, left to right, as libxml2 reads it): a URI with its scheme, else a
 * relative reference. Like libxml2 it takes anything between `[` and `]` for an IP literal,
 * and `[` `]` in a fragment. Linear in the length of the name.
 */
export function isUriReference(name: string): boolean {
  // libxml2 keeps an '&' of an attribute value (written &amp; or &#38;) as '&#38;' in the
  // value it checks: 'urn&:p' is read as 'urn&' and the fragment '38;:p'.
  const s = name.includes('&') ? name.replace(/&/g, '&#38;') : name;
  return absoluteUriEnd(s) === s.length || relativeRefEnd(s) === s.length;
}

/** Where `scheme ":" hier-part [ "?" query ] [ "#" fragment ]` from the start of `s` ends, or -1. */
function absoluteUriEnd(s: string): number {
  if (!isAlpha(s.charCodeAt(0))) return -1;
  let p = 1;
  while (isAlpha(s.charCodeAt(p)) || isDigit(s.charCodeAt(p)) || s[p] === '+' || s[p] === '-' || s[p] === '.') p++;
  if (s[p] !== ':') return -1;
  p++;
  if (s.startsWith('//', p)) {
    p = authorityEnd(s, p + 2);
    if (p < 0) return -1;
    p = pathAbemptyEnd(s, p);
  } else if (s[p] === '/') p = pathAbsoluteEnd(s, p);
  else if (pcharLength(s, p)) p = pathAbemptyEnd(s, segmentEnd(s, p, ''));
  return queryAndFragmentEnd(s, p);
}

/** Where `relative-part [ "?" query ] [ "#" fragment ]` from the start of `s` ends, or -1. */
function relativeRefEnd(s: string): number {
  let p = 0;
  if (s.startsWith('//')) {
    p = authorityEnd(s, 2);
    if (p < 0) return -1;
    p = pathAbemptyEnd(s, p);
  } else if (s[0] === '/') p = pathAbsoluteEnd(s, 0);
  // path-noscheme: its first segment has no ':'.
  else if (pcharLength(s, 0)) p = pathAbemptyEnd(s, segmentEnd(s, 0, ':'));
  return queryAndFragmentEnd(s, p);
}

function queryAndFragmentEnd(s: string, p: number): number {
  if (s[p] === '?') {
    p++;
    for (let n = pcharLength(s, p); n || s[p] === '/' || s[p] === '?'; n = pcharLength(s, p)) p += n || 1;
  }
  if (s[p] === '#') {
    p++;
    for (let n = pcharLength(s, p); n || s[p] === '/' || s[p] === '?' || s[p] === '[' || s[p] === ']'; n = pcharLength(s, p)) p += n || 1;
  }
  return p;
}

/** `[ userinfo "@" ] host [ ":" port ]` from `p`: where it ends, or -1. */
function authorityEnd(s: string, p: number): number {
  let q = p;
  for (let n = charLength(s, q, USERINFO); n; n = charLength(s, q, USERINFO)) q += n;
  if (s[q] === '@') p = q + 1;
  if (s[p] === '[') {
    const close = s.indexOf(']', p + 1);
    if (close < 0) return -1;
    p = close + 1;
  } else for (let n = charLength(s, p, REG_NAME); n; n = charLength(s, p, REG_NAME)) p += n;
  if (s[p] !== ':') return p;
  const start = ++p;
  while (isDigit(s.charCodeAt(p))) p++;
  return p > start && Number(s.slice(start, p)) <= 0x7fffffff ? p : -1;
}

/** `*( "/" segment )` from `p`. */
function pathAbemptyEnd(s: string, p: number): number {
  while (s[p] === '/') p = segmentEnd(s, p + 1, '');
  return p;
}

function pathAbsoluteEnd(s: string, p: number): number {
  p++;
  return pcharLength(s, p) ? pathAbemptyEnd(s, segmentEnd(s, p, '')) : p;
}

/** `*pchar` from `p`, stopping at `forbid` too. */
function segmentEnd(s: string, p: number, forbid: string): number {
  for (let n = pcharLength(s, p); n && s[p] !== forbid; n = pcharLength(s, p)) p += n;
  return p;
}

const UNRESERVED_SUB_DELIMS = "-._~!$&'()*+,;=";
const USERINFO = UNRESERVED_SUB_DELIMS + ':';
const REG_NAME = UNRESERVED_SUB_DELIMS;
const PCHAR = UNRESERVED_SUB_DELIMS + ':@';

/** The length of the pchar at `p` (1, 3 for a %XX escape), or 0. */
function pcharLength(s: string, p: number): number {
  return charLength(s, p, PCHAR);
}

/** The length at `p` of a letter, a digit, one of `also`, or a %XX escape (3); 0 for anything else. */
function charLength(s: string, p: number, also: string): number {
  const c = s.charCodeAt(p);
  if (isAlpha(c) || isDigit(c)) return 1;
  if (c === 0x25 /* % */) return isHex(s.charCodeAt(p + 1)) && isHex(s.charCodeAt(p + 2)) ? 3 : 0;
  return c < 0x80 && also.includes(s[p]!) ? 1 : 0;
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
