import { XML_INVALID_CHARS } from '../../../xml/serialize.js';
import { XNode, ELEMENT, TEXT, COMMENT, PI } from './tree.js';
import { unsupportedInput } from './refuse.js';

export interface OutputSettings {
  method: 'xml' | 'text';
  indent: boolean;
  omitDeclaration: boolean;
  /** Written in the declaration only when the stylesheet names one (as libxslt does). */
  encoding?: string;
  standalone?: string;
}

const TEXT_ESC = /[&<>\r]/g;
const ATTR_ESC = /[&<>"\t\n\r]/g;
const REFS: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };
const ref = (c: string) => REFS[c]!;
const NON_ASCII = /[^\x00-\x7f]/gu;

function checkChars(s: string): string {
  if (XML_INVALID_CHARS.test(s)) throw unsupportedInput('a character XML 1.0 cannot carry (in the result)');
  return s;
}

/** Text content: `& < >` as entities, carriage return as a reference (so it survives parsing). */
export function escapeText(s: string): string {
  return TEXT_ESC.test(s) ? (TEXT_ESC.lastIndex = 0, checkChars(s).replace(TEXT_ESC, ref)) : checkChars(s);
}

/** Attribute values: also `"`, and tab, line feed and carriage return as references (attribute-value normalisation would turn them into spaces). */
export function escapeAttr(s: string): string {
  return ATTR_ESC.test(s) ? (ATTR_ESC.lastIndex = 0, checkChars(s).replace(ATTR_ESC, ref)) : checkChars(s);
}

/** Writes a result tree the way xsltproc does (indentation as libxml2's formatter: none inside mixed content). */
export function serialize(root: XNode, o: OutputSettings): string {
  if (o.method === 'text') {
    let s = '';
    const walk = (n: XNode) => {
      for (const k of n.children) {
        if (k.kind === TEXT) s += k.value;
        else if (k.kind === ELEMENT) walk(k);
      }
    };
    walk(root);
    return s;
  }
  // Without an encoding in xsl:output, libxml2 writes non-ASCII characters in attribute values as references.
  const attr = o.encoding ? escapeAttr : (v: string) => escapeAttr(v).replace(NON_ASCII, (c) => `&#x${c.codePointAt(0)!.toString(16).toUpperCase()};`);
  let out = '';
  if (!o.omitDeclaration) out += `<?xml version="1.0"${o.encoding ? ` encoding="${o.encoding}"` : ''}${o.standalone ? ` standalone="${o.standalone}"` : ''}?>\n`;
  const node = (n: XNode, level: number, format: boolean) => {
    switch (n.kind) {
      case TEXT:
        out += escapeText(n.value);
        return;
      case COMMENT:
        out += `<!--${checkChars(n.value)}-->`;
        return;
      case PI:
        out += n.value ? `<?${n.name} ${checkChars(n.value)}?>` : `<?${n.name}?>`;
        return;
    }
    out += '<' + n.name;
    for (const a of n.attrs) out += ` ${a.name}="${attr(a.value)}"`;
    const c = n.children;
    if (!c.length) {
      out += '/>';
      return;
    }
    out += '>';
    let fmt = format;
    if (fmt) for (const k of c) if (k.kind === TEXT) fmt = false;
    const pad = fmt ? '\n' + '  '.repeat(level + 1) : '';
    for (const k of c) {
      out += pad;
      node(k, level + 1, fmt);
    }
    if (fmt) out += '\n' + '  '.repeat(level);
    out += `</${n.name}>`;
  };
  let first = true;
  for (const k of root.children) {
    if (k.kind === TEXT) {
      out += escapeText(k.value);
      continue;
    }
    if (!first && o.indent) out += '\n';
    node(k, 0, o.indent);
    first = false;
  }
  return out + '\n';
}
