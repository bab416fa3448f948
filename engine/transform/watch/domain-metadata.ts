import { NODE, parseXml, type Element } from '../../xml/parse.js';
import { serializeXml } from '../../xml/serialize.js';
import { DomainInvalidError } from '../../errors.js';

/** domforge's namespace inside libvirt's `<metadata>` (libvirt keeps any namespaced element there). */
export const DOMFORGE_TRANSFORM_NS = 'urn:domforge:transform:1';
const ELEMENT = 'transform';
const PREFIX = 'domforge';

/** Which transform version produced a domain. */
export interface TransformStamp {
  hash: string;
  /** The main transform file. */
  file?: string;
}

/**
 * Records the transform version in the domain's `<metadata>` as
 * `<domforge:transform xmlns:domforge="urn:domforge:transform:1" hash="…" file="…"/>`,
 * replacing an earlier stamp and leaving every other metadata element untouched.
 * See https://libvirt.org/formatdomain.html#general-metadata.
 */
export function stampTransformVersion(domainXml: string, stamp: TransformStamp): string {
  const doc = parseXml(domainXml);
  const domain = doc.documentElement!;
  if (domain.nodeName !== 'domain') throw new DomainInvalidError(`cannot record the transform version: the root element is <${domain.nodeName}>, not <domain>`, { path: `/${domain.nodeName}` });
  let metadata = childElement(domain, 'metadata');
  if (!metadata) {
    metadata = doc.createElement('metadata');
    // Placed after name/uuid/title/description, where libvirt itself writes it.
    let after: Element | undefined;
    for (const name of ['name', 'uuid', 'genid', 'title', 'description']) after = childElement(domain, name) ?? after;
    domain.insertBefore(metadata, after ? after.nextSibling : domain.firstChild);
  }
  for (let n = metadata.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === NODE.ELEMENT && (n as Element).namespaceURI === DOMFORGE_TRANSFORM_NS && (n as Element).localName === ELEMENT) metadata.removeChild(n);
  }
  const el = doc.createElementNS(DOMFORGE_TRANSFORM_NS, `${PREFIX}:${ELEMENT}`);
  el.setAttribute('hash', stamp.hash);
  if (stamp.file) el.setAttribute('file', stamp.file);
  metadata.appendChild(el);
  return serializeXml(doc);
}

/** The transform version recorded in a domain's metadata, if any. */
export function readTransformVersion(domainXml: string): TransformStamp | undefined {
  const domain = parseXml(domainXml).documentElement!;
  const metadata = childElement(domain, 'metadata');
  if (!metadata) return undefined;
  for (let n = metadata.firstChild; n; n = n.nextSibling) {
    const el = n as Element;
    if (n.nodeType === NODE.ELEMENT && el.namespaceURI === DOMFORGE_TRANSFORM_NS && el.localName === ELEMENT) {
      return { hash: el.getAttribute('hash') ?? '', file: el.getAttribute('file') ?? undefined };
    }
  }
  return undefined;
}

function childElement(el: Element, name: string): Element | undefined {
  for (let n = el.firstChild; n; n = n.nextSibling) if (n.nodeType === NODE.ELEMENT && n.nodeName === name) return n as Element;
  return undefined;
}
