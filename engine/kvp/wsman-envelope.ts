import { randomUUID } from 'node:crypto';
import { KvpError } from '../errors.js';
import { codePointName, escapeAttr, XML_INVALID_CHARS } from '../xml/serialize.js';
import { escapeXmlText } from './cim-xml.js';

/**
 * SOAP 1.2 envelopes that invoke a CIM method over WS-Management (DSP0226, the WS-CIM mapping
 * DSP0227/DSP0230), as WinRM on a Hyper-V host expects them. Pure string rendering; which
 * class, method and parameters is decided by the caller (hyperv-calls.ts).
 */

export const WSMAN_NS = {
  s: 'http://www.w3.org/2003/05/soap-envelope',
  a: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  w: 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
} as const;

/** The WS-Addressing anonymous role: `a:ReplyTo` and the address of every EPR parameter. */
export const ANONYMOUS_ADDRESS = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous';

/** One key of a selector set, e.g. `Name=vmms`. Order is kept as given. */
export interface Selector {
  name: string;
  value: string;
}

/** A reference to a CIM instance: class resource URI plus its key selectors (DSP0230 8.2). */
export interface EndpointReference {
  resourceUri: string;
  selectors: Selector[];
  /** `a:Address` (default the anonymous role, as WinRM expects for REF parameters). */
  address?: string;
}

/** A text value written as CDATA instead of escaped text (libvirt's style for embedded instances). */
export interface CdataText {
  cdata: string;
}

export type WsmanValue = string | number | bigint | boolean | EndpointReference | CdataText;

/** One method parameter. An array is the element repeated; an empty array omits the parameter (null). */
export interface WsmanParam {
  name: string;
  value: WsmanValue | readonly WsmanValue[];
}

export interface WsmanInvoke {
  /** `a:To`: the WinRM endpoint, e.g. `http://HOST:5985/wsman`. */
  to: string;
  /** Resource URI of the class whose method is invoked; also the `p:` namespace of the body. */
  resourceUri: string;
  /** Method name; the action is `resourceUri/method`, the body element `p:method_INPUT`. */
  method: string;
  /** Key selectors of the instance the method runs on, in the header's `w:SelectorSet`. */
  selectors: readonly Selector[];
  /** Parameters, in the order they are written. */
  params: readonly WsmanParam[];
  /** `a:MessageID` (default `uuid:` and a random UUID). */
  messageId?: string;
  /** `w:MaxEnvelopeSize`, bytes the reply may take (default 153600). */
  maxEnvelopeSize?: number;
  /** `w:Locale` language (default `en-US`). */
  locale?: string;
  /** `w:OperationTimeout` in seconds (default 60, written `PT60.000S`). */
  operationTimeoutSeconds?: number;
}

/** Text for XML character data; a character XML 1.0 cannot carry is a KvpError naming `where`. */
export function xmlText(s: string, where: string): string {
  const bad = XML_INVALID_CHARS.exec(s);
  if (bad) {
    const hex = codePointName(bad[0].charCodeAt(0));
    throw new KvpError(`${where} contains ${hex} at index ${bad.index}, which XML 1.0 cannot carry`);
  }
  return escapeXmlText(s);
}

function attr(s: string, where: string): string {
  xmlText(s, where);
  return escapeAttr(s).replace(/[\u0085\u2028\u2029]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function isEpr(v: WsmanValue): v is EndpointReference {
  return typeof v === 'object' && v !== null && 'resourceUri' in v;
}

function isCdata(v: WsmanValue): v is CdataText {
  return typeof v === 'object' && v !== null && 'cdata' in v;
}

/** `<w:SelectorSet>` lines at the given indentation. */
export function renderSelectorSet(selectors: readonly Selector[], indent: string): string[] {
  const lines = [`${indent}<w:SelectorSet>`];
  for (const s of selectors) {
    lines.push(`${indent}  <w:Selector Name="${attr(s.name, 'selector name')}">${xmlText(s.value, `selector ${s.name}`)}</w:Selector>`);
  }
  lines.push(`${indent}</w:SelectorSet>`);
  return lines;
}

/** The children of a REF parameter element: `a:Address` and `a:ReferenceParameters`. */
export function renderEprBody(epr: EndpointReference, indent: string): string[] {
  return [
    `${indent}<a:Address>${xmlText(epr.address ?? ANONYMOUS_ADDRESS, 'EPR address')}</a:Address>`,
    `${indent}<a:ReferenceParameters>`,
    `${indent}  <w:ResourceURI>${xmlText(epr.resourceUri, 'EPR resource URI')}</w:ResourceURI>`,
    ...renderSelectorSet(epr.selectors, indent + '  '),
    `${indent}</a:ReferenceParameters>`,
  ];
}

/** An EPR in URI form: resource URI `?` selectors `Name=Value` joined with `+` (for messages). */
export function eprToUri(epr: EndpointReference): string {
  return epr.selectors.length ? `${epr.resourceUri}?${epr.selectors.map((s) => `${s.name}=${s.value}`).join('+')}` : epr.resourceUri;
}

function renderValue(name: string, v: WsmanValue, indent: string): string[] {
  const open = `${indent}<p:${name}>`;
  const close = `</p:${name}>`;
  if (isEpr(v)) return [open, ...renderEprBody(v, indent + '  '), `${indent}${close}`];
  if (isCdata(v)) {
    xmlText(v.cdata, `parameter ${name}`);
    // A line-end character inside CDATA would be normalised to LF by the reader; use escaped text.
    if (/[\r\u0085\u2028\u2029]/.test(v.cdata)) return [`${open}${xmlText(v.cdata, `parameter ${name}`)}${close}`];
    return [`${open}<![CDATA[${v.cdata.split(']]>').join(']]]]><![CDATA[>')}]]>${close}`];
  }
  if (typeof v === 'boolean') return [`${open}${v ? 'true' : 'false'}${close}`];
  if (typeof v === 'number' && !Number.isFinite(v)) throw new KvpError(`parameter ${name}: ${v} is not a number WS-Management can carry`);
  return [`${open}${xmlText(String(v), `parameter ${name}`)}${close}`];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Bounds of `w:OperationTimeout`, written in seconds with three decimals (`PT60.000S`):
 * below a millisecond it would read `PT0.000S`, and WinRM keeps a timeout as a 32-bit
 * count of milliseconds (its MaxTimeoutms), so more than 2^32 − 1 ms cannot be meant.
 */
export const MIN_OPERATION_TIMEOUT_S = 0.001;
export const MAX_OPERATION_TIMEOUT_S = 4_294_967.295;

/**
 * What `w:OperationTimeout` needs of `seconds` when it is not a number of seconds it can say
 * (`a number of seconds from 0.001 to 4294967.295 (...)`, to follow ``Expected `<name>` to be``),
 * or undefined when it is one. The envelope's check and the CLI's `--timeout` both use it.
 */
export function operationTimeoutProblem(seconds: unknown): string | undefined {
  if (typeof seconds === 'number' && seconds >= MIN_OPERATION_TIMEOUT_S && seconds <= MAX_OPERATION_TIMEOUT_S) return undefined;
  return `a number of seconds from ${MIN_OPERATION_TIMEOUT_S} to ${MAX_OPERATION_TIMEOUT_S} (WinRM counts it in whole ms, in 32 bits)`;
}

/** Renders the whole invocation envelope, indented two spaces a level. */
export function renderInvokeEnvelope(o: WsmanInvoke): string {
  if (!NAME.test(o.method)) throw new KvpError(`Expected \`method\` to be a CIM method name, got ${JSON.stringify(o.method)}`);
  const maxEnvelopeSize = o.maxEnvelopeSize ?? 153600;
  const timeout = o.operationTimeoutSeconds ?? 60;
  if (!Number.isInteger(maxEnvelopeSize) || maxEnvelopeSize <= 0) {
    throw new KvpError(`Expected \`maxEnvelopeSize\` to be a positive integer, got \`${maxEnvelopeSize}\` (${typeof maxEnvelopeSize})`);
  }
  const timeoutProblem = operationTimeoutProblem(timeout);
  if (timeoutProblem) throw new KvpError(`Expected \`operationTimeoutSeconds\` to be ${timeoutProblem}, got \`${timeout}\` (${typeof timeout})`);
  const uri = xmlText(o.resourceUri, 'resource URI');
  const body: string[] = [];
  for (const p of o.params) {
    if (!NAME.test(p.name)) throw new KvpError(`Expected a parameter name, got ${JSON.stringify(p.name)}`);
    const values = Array.isArray(p.value) ? (p.value as readonly WsmanValue[]) : [p.value as WsmanValue];
    for (const v of values) body.push(...renderValue(p.name, v, '      '));
  }
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<s:Envelope xmlns:s="${WSMAN_NS.s}" xmlns:a="${WSMAN_NS.a}" xmlns:w="${WSMAN_NS.w}">`,
    '  <s:Header>',
    `    <a:To>${xmlText(o.to, 'endpoint')}</a:To>`,
    `    <w:ResourceURI s:mustUnderstand="true">${uri}</w:ResourceURI>`,
    '    <a:ReplyTo>',
    `      <a:Address>${ANONYMOUS_ADDRESS}</a:Address>`,
    '    </a:ReplyTo>',
    `    <a:Action s:mustUnderstand="true">${uri}/${o.method}</a:Action>`,
    `    <w:MaxEnvelopeSize s:mustUnderstand="true">${maxEnvelopeSize}</w:MaxEnvelopeSize>`,
    `    <a:MessageID>${xmlText(o.messageId ?? `uuid:${randomUUID().toUpperCase()}`, 'message id')}</a:MessageID>`,
    `    <w:Locale xml:lang="${attr(o.locale ?? 'en-US', 'locale')}" s:mustUnderstand="false"/>`,
    ...renderSelectorSet(o.selectors, '    '),
    `    <w:OperationTimeout>PT${timeout.toFixed(3)}S</w:OperationTimeout>`,
    '  </s:Header>',
    '  <s:Body>',
    `    <p:${o.method}_INPUT xmlns:p="${attr(o.resourceUri, 'resource URI')}">`,
    ...body,
    `    </p:${o.method}_INPUT>`,
    '  </s:Body>',
    '</s:Envelope>',
  ];
  return lines.join('\n') + '\n';
}
