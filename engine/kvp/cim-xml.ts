import { validateRecord } from './limits.js';
import { KvpCharacterError } from './errors.js';
import type { KvpRecord } from './constants.js';
import { KvpError } from '../errors.js';
import { childElements, parseXml, type Element } from '../xml/parse.js';
import { XML_INVALID_CHARS } from '../xml/serialize.js';

/**
 * The embedded `Msvm_KvpExchangeDataItem` instance (CIM-XML, DSP0201) that `AddKvpItems`,
 * `ModifyKvpItems` and `RemoveKvpItems` take in their `DataItems` string array, and its
 * reading back (the VM's `HostExchangeItems` / `GuestExchangeItems` are the same text).
 */

export const KVP_ITEM_CLASS = 'Msvm_KvpExchangeDataItem';

/** A KVP item as WMI sees it. `source` 0 = host→guest (guest pool 0). */
export interface KvpItem {
  name: string;
  data: string;
  source: number;
}

/**
 * Escapes text for a CIM-XML `<VALUE>`: `&`, `<`, `>` as entities (so `]]>` never appears and
 * the result can also sit inside CDATA), CR as `&#13;` (a parser would turn CRLF into LF),
 * TAB and LF literal (see `escapeXmlText`). A character XML 1.0 cannot carry is a KvpCharacterError naming `key`.
 */
export function escapeCimText(text: string, key: string, field: 'key' | 'value'): string {
  const bad = XML_INVALID_CHARS.exec(text);
  if (bad) {
    const c = bad[0].charCodeAt(0);
    const problem = c === 0 ? 'nul' : c >= 0xd800 && c <= 0xdfff ? 'lone-surrogate' : 'xml-invalid';
    throw new KvpCharacterError({ key, field, index: bad.index, problem, codeUnit: c });
  }
  return escapeXmlText(text);
}

/**
 * `&`, `<`, `>` as entities; CR, NEL (U+0085), LINE SEPARATOR (U+2028) and PARAGRAPH
 * SEPARATOR (U+2029) as character references, because parsers normalise them to LF as line
 * ends (XML 1.0 §2.11 for CR; XML 1.1 and @xmldom/xmldom also for the other three).
 * A reference is never normalised, so the character arrives as it was sent.
 */
export function escapeXmlText(text: string): string {
  return text.replace(/[&<>\r\u0085\u2028\u2029]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : `&#${c.charCodeAt(0)};`));
}

/**
 * Renders one item on one line, properties in the order WMI's `GetText(1)` prints them:
 * `<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Data" …>…</INSTANCE>`.
 * The record is validated with the `host` profile first (it will travel host→guest).
 * @param source `Source` property (default 0, the host→guest pool); an integer 0–65535.
 */
export function renderKvpItem(name: string, data: string, source = 0): string {
  if (!Number.isInteger(source) || source < 0 || source > 0xffff) {
    throw new KvpError(`Expected \`source\` to be a uint16 (0 for host-to-guest items), got \`${source}\` (${typeof source})`);
  }
  validateRecord({ key: name, value: data }, 'host');
  const d = escapeCimText(data, name, 'value');
  const n = escapeCimText(name, name, 'key');
  return (
    `<INSTANCE CLASSNAME="${KVP_ITEM_CLASS}">` +
    `<PROPERTY NAME="Data" TYPE="string"><VALUE>${d}</VALUE></PROPERTY>` +
    `<PROPERTY NAME="Name" TYPE="string"><VALUE>${n}</VALUE></PROPERTY>` +
    `<PROPERTY NAME="Source" TYPE="uint16"><VALUE>${source}</VALUE></PROPERTY>` +
    `</INSTANCE>`
  );
}

/**
 * Reads an embedded `Msvm_KvpExchangeDataItem` instance back. Property order does not matter
 * and extra properties (Caption, Description, ElementName, InstanceID, …) are ignored; a
 * property without `<VALUE>` reads as `""` for Data and Name.
 */
export function parseKvpItem(xml: string): KvpItem {
  const doc = parseXml(xml);
  const root = doc.documentElement!;
  if (root.nodeName !== 'INSTANCE' || root.getAttribute('CLASSNAME') !== KVP_ITEM_CLASS) {
    throw new KvpError(`expected <INSTANCE CLASSNAME="${KVP_ITEM_CLASS}">, found <${root.nodeName} CLASSNAME="${root.getAttribute('CLASSNAME') ?? ''}">`);
  }
  const props = new Map<string, Element>();
  for (const p of childElements(root, 'PROPERTY')) props.set(p.getAttribute('NAME') ?? '', p);
  const valueOf = (prop: string): string | undefined => {
    const p = props.get(prop);
    if (!p) return undefined;
    const v = childElements(p, 'VALUE')[0];
    return v ? (v.textContent ?? '') : '';
  };
  const name = valueOf('Name');
  if (name === undefined) throw new KvpError(`${KVP_ITEM_CLASS} instance has no Name property`);
  const sourceText = valueOf('Source');
  const source = sourceText === undefined || sourceText === '' ? 0 : Number(sourceText);
  if (!Number.isInteger(source)) throw new KvpError(`${KVP_ITEM_CLASS} ${JSON.stringify(name)}: Source ${JSON.stringify(sourceText)} is not an integer`);
  return { name, data: valueOf('Data') ?? '', source };
}

/**
 * The items as a CIM-XML (DSP0201) `<PARAMVALUE>` of AddKvpItems: `DataItems` is a string
 * array whose members are embedded instances, so each `<VALUE>` holds one
 * `<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem">` as escaped text, exactly the string the
 * method takes (`parseKvpItem` reads it back).
 */
export function kvpItemsDocument(instanceId: string, records: readonly KvpRecord[]): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<!-- AddKvpItems DataItems for ${instanceId.replace(/--/g, '- -')}: ${records.length} Msvm_KvpExchangeDataItem instances, Source 0 (host to guest). At most 128 per call. -->`,
    '<PARAMVALUE NAME="DataItems" PARAMTYPE="string" EmbeddedObject="instance">',
    '  <VALUE.ARRAY>',
    ...records.map((r) => `    <VALUE>${escapeXmlText(renderKvpItem(r.key, r.value))}</VALUE>`),
    '  </VALUE.ARRAY>',
    '</PARAMVALUE>',
    '',
  ].join('\n');
}
