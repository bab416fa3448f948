import { WsmanResponseError } from './errors.js';
import { WSMAN_NS, type EndpointReference, type Selector } from './wsman-envelope.js';
import { XmlSyntaxError } from '../errors.js';
import { childElements, parseXml, type Element } from '../xml/parse.js';

/**
 * Reads the reply to a WS-Management method invocation: `<p:METHOD_OUTPUT>` with `ReturnValue`,
 * an optional `Job` reference to poll, and out parameters (SummaryInformation for
 * GetSummaryInformation). A SOAP fault becomes a WsmanResponseError with the fault's text.
 */

/** An embedded instance returned as an out parameter: property → text, list, or null (xsi:nil). */
export type WsmanObject = Record<string, string | string[] | null>;
export type WsmanOutputValue = string | null | EndpointReference | WsmanObject;

export interface WsmanMethodOutput {
  /** Method name taken from `…_OUTPUT`. */
  method: string;
  /** 0 completed, 4096 job started (poll `job`), 32768 and up failed. */
  returnValue: number;
  /** What `returnValue` means, in words. */
  status: string;
  /** `Job` out parameter, the `Msvm_ConcreteJob` to poll when `returnValue` is 4096. */
  job?: EndpointReference;
  /** Every out parameter except ReturnValue, each a list (arrays are repeated elements). */
  outputs: Record<string, WsmanOutputValue[]>;
}

/** Return values of Msvm_VirtualSystemManagementService methods (Microsoft's method references). */
export const RETURN_VALUES: Readonly<Record<number, string>> = {
  0: 'completed with no error',
  4096: 'method parameters checked, job started',
  32768: 'failed',
  32769: 'access denied',
  32770: 'not supported',
  32771: 'status is unknown',
  32772: 'timeout',
  32773: 'invalid parameter (for AddKvpItems: often a key that already exists)',
  32774: 'system is in use',
  32775: 'invalid state for this operation',
  32776: 'incorrect data type',
  32777: 'system is not available',
  32778: 'out of memory',
};

export function describeReturnValue(n: number): string {
  return RETURN_VALUES[n] ?? (n >= 32768 ? 'failed (unknown error code)' : 'unknown return value');
}

const XSI = WSMAN_NS.xsi;

function isNil(el: Element): boolean {
  const v = el.getAttributeNS(XSI, 'nil');
  return v === 'true' || v === '1';
}

function elementChildren(el: Element): Element[] {
  return childElements(el);
}

function child(el: Element, ns: string, local: string): Element | undefined {
  return elementChildren(el).find((c) => c.namespaceURI === ns && c.localName === local);
}

/** Reads an endpoint reference from an element holding `a:Address` / `a:ReferenceParameters`. */
export function readEpr(el: Element): EndpointReference {
  const address = child(el, WSMAN_NS.a, 'Address')?.textContent?.trim();
  const refs = child(el, WSMAN_NS.a, 'ReferenceParameters');
  const resourceUri = refs ? child(refs, WSMAN_NS.w, 'ResourceURI')?.textContent?.trim() : undefined;
  if (!refs || !resourceUri) throw new WsmanResponseError(`<${el.nodeName}> is not an endpoint reference (no a:ReferenceParameters/w:ResourceURI)`);
  const selectors: Selector[] = [];
  const set = child(refs, WSMAN_NS.w, 'SelectorSet');
  if (set) {
    for (const s of elementChildren(set)) {
      if (s.localName === 'Selector') selectors.push({ name: s.getAttribute('Name') ?? '', value: s.textContent ?? '' });
    }
  }
  return address ? { resourceUri, selectors, address } : { resourceUri, selectors };
}

function isEprElement(el: Element): boolean {
  return child(el, WSMAN_NS.a, 'ReferenceParameters') !== undefined;
}

function readObject(el: Element): WsmanObject {
  let props = elementChildren(el);
  // Some WinRM versions wrap an embedded instance in an element named after its class.
  if (props.length === 1 && /^(Msvm|CIM)_/.test(props[0]!.localName ?? '') && elementChildren(props[0]!).length) props = elementChildren(props[0]!);
  const out: WsmanObject = {};
  for (const p of props) {
    const name = p.localName ?? p.nodeName;
    const v = isNil(p) ? null : (p.textContent ?? '');
    const prev = out[name];
    if (prev === undefined) out[name] = v;
    else if (Array.isArray(prev)) prev.push(v ?? '');
    else out[name] = [prev ?? '', v ?? ''];
  }
  return out;
}

function readFault(body: Element): WsmanResponseError | undefined {
  const fault = child(body, WSMAN_NS.s, 'Fault');
  if (!fault) return undefined;
  const code = child(fault, WSMAN_NS.s, 'Code');
  const codeValue = code ? child(code, WSMAN_NS.s, 'Value')?.textContent?.trim() : undefined;
  const sub = code ? child(code, WSMAN_NS.s, 'Subcode') : undefined;
  const subValue = sub ? child(sub, WSMAN_NS.s, 'Value')?.textContent?.trim() : undefined;
  const reason = child(fault, WSMAN_NS.s, 'Reason');
  const text = reason ? elementChildren(reason).map((t) => t.textContent?.trim() ?? '').find((t) => t) : undefined;
  const detail = child(fault, WSMAN_NS.s, 'Detail')?.textContent?.replace(/\s+/g, ' ').trim();
  return new WsmanResponseError(`WS-Management fault ${subValue ?? codeValue ?? '(no code)'}: ${text ?? 'no reason given'}`, {
    faultCode: codeValue,
    faultSubcode: subValue,
    details: detail ? [detail] : [],
  });
}

/**
 * Parses a method reply. With `expectedMethod`, a reply for another method is an error.
 * Throws WsmanResponseError for a SOAP fault, a missing `_OUTPUT` element or ReturnValue.
 */
export function parseMethodResponse(xml: string, expectedMethod?: string): WsmanMethodOutput {
  let root: Element;
  try {
    root = parseXml(xml).documentElement!;
  } catch (e) {
    throw new WsmanResponseError(`WS-Management reply is not well-formed XML: ${(e as XmlSyntaxError).message}`, { cause: e });
  }
  if (root.namespaceURI !== WSMAN_NS.s || root.localName !== 'Envelope') {
    throw new WsmanResponseError(`expected a SOAP 1.2 <s:Envelope>, found <${root.nodeName}>`);
  }
  const body = child(root, WSMAN_NS.s, 'Body');
  if (!body) throw new WsmanResponseError('SOAP envelope has no <s:Body>');
  const fault = readFault(body);
  if (fault) throw fault;
  const output = elementChildren(body).find((e) => (e.localName ?? '').endsWith('_OUTPUT'));
  if (!output) throw new WsmanResponseError('SOAP body holds no <…_OUTPUT> element');
  const method = output.localName!.slice(0, -'_OUTPUT'.length);
  if (expectedMethod && method !== expectedMethod) throw new WsmanResponseError(`expected the output of ${expectedMethod}, got ${method}_OUTPUT`);
  let returnValue: number | undefined;
  const outputs: Record<string, WsmanOutputValue[]> = {};
  for (const el of elementChildren(output)) {
    const name = el.localName ?? el.nodeName;
    if (name === 'ReturnValue') {
      const t = (el.textContent ?? '').trim();
      returnValue = /^\d+$/.test(t) ? Number(t) : NaN;
      if (!Number.isInteger(returnValue)) throw new WsmanResponseError(`${method}: ReturnValue ${JSON.stringify(t)} is not an integer`);
      continue;
    }
    const value: WsmanOutputValue = isNil(el) ? null : isEprElement(el) ? readEpr(el) : elementChildren(el).length ? readObject(el) : (el.textContent ?? '');
    (outputs[name] ??= []).push(value);
  }
  if (returnValue === undefined) throw new WsmanResponseError(`${method}_OUTPUT has no ReturnValue`);
  const jobValue = outputs['Job']?.[0];
  const job = jobValue && typeof jobValue === 'object' && 'resourceUri' in jobValue ? (jobValue as EndpointReference) : undefined;
  return { method, returnValue, status: describeReturnValue(returnValue), ...(job ? { job } : {}), outputs };
}

/** The `SummaryInformation` objects of a GetSummaryInformation reply, one per VM or snapshot. */
export function summaryInformationOf(out: WsmanMethodOutput): WsmanObject[] {
  return (out.outputs['SummaryInformation'] ?? []).filter((v): v is WsmanObject => v !== null && typeof v === 'object' && !('resourceUri' in v));
}
