import { escapeAttr } from '../../xml/serialize.js';

/** What a helper returns to put markup in the output unescaped (Handlebars's SafeString shape). */
export interface SafeStringLike {
  toHTML(): string;
}

function isSafe(value: unknown): value is SafeStringLike {
  return value != null && typeof (value as SafeStringLike).toHTML === 'function';
}

/** The characters escapeAttr rewrites; most values have none and are written as they are. */
const NEEDS_ESCAPE = /[&<>"'\t\n\r]/;

/**
 * What `{{value}}` writes: the value's text escaped for XML, valid both in element content
 * and in a single- or double-quoted attribute (`& < > " '`, plus tab, CR and LF as character
 * references so attribute values keep them). Handlebars's own escaping follows HTML's rules
 * (it also rewrites `=` and `` ` ``, which XML does not need).
 *
 * Like Handlebars: null and undefined write nothing, `false` and `0` write their text, a
 * SafeString (from the `xml` helper) is written as it is.
 */
export function xmlEscapeExpression(value: unknown): string {
  if (typeof value === 'string') return NEEDS_ESCAPE.test(value) ? escapeAttr(value) : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value); // digits, '.', '-', 'e', letters: nothing to escape
  if (value == null) return '';
  if (isSafe(value)) return value.toHTML();
  return escapeAttr(String(value));
}
