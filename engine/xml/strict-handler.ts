/**
 * xmldom's DOM builder (its `domHandler`), with the checks xmldom's parser leaves out made
 * where the builder is told what it needs: what follows the root element, and the
 * namespace declarations and processing instructions Namespaces in XML 1.0 forbids.
 *
 * xmldom reads a CDATA section after the root element into the document, and takes an end
 * tag named like the root element after it (`<r/></r>`) for the root's own; libxml2
 * refuses both ("Extra content at the end of the document"). The builder sees the one at
 * each CDATA section and the other once the document is read, at no cost to the elements.
 * What it reports goes to the parse's `onError` as xmldom's own reports do, worded as
 * xmldom words that one, so the parse places it as it places xmldom's
 * (engine/xml/markup-check.ts).
 *
 * libxml2 reports a namespace error (xmllint and xsltproc print it, and carry on) for a
 * declaration that binds `xml` or `xmlns` wrongly, undeclares a prefix (`xmlns:p=""`) or
 * names no URI reference (`xmlns:p="a b"`, engine/xml/namespace-name.ts), for
 * two attributes that are one once their prefixes are resolved (`p:a` and `q:a`, p and q
 * both bound to one name), and for a colon in a processing instruction's target; xmldom
 * for none (and its DOM keeps one of the two attributes). The builder is told of every
 * declaration and processing instruction, so these cost nothing in a document without them;
 * attributes are compared only once a document has bound one namespace name to two prefixes.
 */
import { DOMParser, type Document, type Node } from '@xmldom/xmldom';
import { isUriReference } from './namespace-name.js';

interface Locator {
  lineNumber?: number;
  columnNumber?: number;
}

/** The part of xmldom's DOMHandler (lib/dom-parser.js) this module uses. */
interface DomHandler {
  doc: Document;
  /** The element the next node goes into; the document once the root element has ended, null after an end tag more. */
  currentElement: Node | null | undefined;
  locator?: Locator;
  onError?: (level: 'warning' | 'error' | 'fatalError', message: string, context: unknown) => void;
  startElement(namespaceURI: string | null, localName: string, qName: string, attrs: Attributes): void;
  startPrefixMapping(prefix: string, uri: string): void;
  processingInstruction(target: string, data: string): void;
  startCDATA(): void;
  endDocument(): void;
}

/** xmldom's ElementAttributes, as its parser hands them to startElement (namespaces resolved). */
interface Attributes {
  length: number;
  getURI(i: number): string | null | undefined;
  getLocalName(i: number): string;
  getQName(i: number): string;
}

/**
 * What the handler gives the parse's onError as its context: where, and what there to
 * place the report at (an attribute of the start tag at the locator, or a column further).
 */
export interface HandlerContext {
  locator: Locator;
  /** The name of the attribute of the start tag at `locator` the report is about. */
  attribute?: string;
}

type DomHandlerClass = new (options: unknown) => DomHandler;

/** xmldom's DOMHandler: the default of the `domHandler` option. */
const XmldomHandler = (new DOMParser() as unknown as { domHandler?: DomHandlerClass }).domHandler;
const METHODS = ['startElement', 'startPrefixMapping', 'processingInstruction', 'startCDATA', 'endDocument'] as const;
if (typeof XmldomHandler !== 'function' || METHODS.some((m) => typeof XmldomHandler.prototype[m] !== 'function')) {
  // Without it the parse would quietly accept what libxml2 refuses: fail loudly instead.
  throw new Error(`@xmldom/xmldom's DOMParser has no domHandler with ${METHODS.join(', ')}: domforge's strict XML parse needs it (engine/xml/strict-handler.ts)`);
}

export const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';

/** What xmldom says of text after the root element; the parse's onError knows it as one to place by the markup. */
export const AFTER_ROOT = 'Extra content at the end of the document';

export class StrictHandler extends XmldomHandler {
  /** The first prefix each namespace name was bound to, and whether one was bound to two (unprefixed attributes have no namespace). */
  private prefixOf: Map<string, string> | undefined;
  private sharedNamespace = false;

  override startPrefixMapping(prefix: string, uri: string): void {
    const problem = declarationProblem(prefix, uri);
    // The locator is the start tag's while xmldom tells of its declarations.
    if (problem) this.report(problem, prefix ? `xmlns:${prefix}` : 'xmlns');
    if (prefix && uri && !this.sharedNamespace) {
      this.prefixOf ??= new Map();
      const first = this.prefixOf.get(uri);
      if (first === undefined) this.prefixOf.set(uri, prefix);
      else if (first !== prefix) {
        // From this element on (xmldom tells of an element's declarations before the element), its attributes are compared.
        this.sharedNamespace = true;
        this.startElement = this.startElementComparing;
      }
    }
    super.startPrefixMapping(prefix, uri);
  }

  override processingInstruction(target: string, data: string): void {
    if (target.includes(':')) {
      // The locator is the '<?'; the target starts two columns on.
      const { lineNumber, columnNumber } = this.locator ?? {};
      this.onError?.('error', `processing instruction target '${target}' has a colon (Namespaces in XML 1.0 §7: targets are names without one)`, {
        locator: { lineNumber, columnNumber: columnNumber === undefined ? undefined : columnNumber + 2 },
      } satisfies HandlerContext);
    }
    super.processingInstruction(target, data);
  }

  override startCDATA(): void {
    // Once the root element has ended, the document (or null, see endDocument) is where the next node would go.
    if (this.currentElement === null || this.currentElement?.nodeType === 9 /* DOCUMENT_NODE */) this.onError?.('error', AFTER_ROOT, this);
    super.startCDATA();
  }

  override endDocument(): void {
    super.endDocument();
    // The root element's end tag makes the document current; an end tag more makes it null.
    if (this.currentElement === null) this.onError?.('error', AFTER_ROOT, this);
  }

  /** startElement, once two prefixes are bound to one namespace name: xmldom's DOM would keep only one of two attributes they make one. */
  private startElementComparing(namespaceURI: string | null, localName: string, qName: string, attrs: Attributes): void {
    const twice = attributeTwice(attrs);
    if (twice) {
      this.report(`attributes '${twice.first}' and '${twice.second}' are one attribute: both prefixes are bound to '${twice.uri}' (Namespaces in XML 1.0 §6.3)`, twice.second);
    }
    super.startElement(namespaceURI, localName, qName, attrs);
  }

  private report(message: string, attribute: string): void {
    const { lineNumber, columnNumber } = this.locator ?? {};
    this.onError?.('error', message, { locator: { lineNumber, columnNumber }, attribute } satisfies HandlerContext);
  }
}

/** What Namespaces in XML 1.0 says against declaring `prefix` ('' for the default namespace) as `uri`, if anything. */
export function declarationProblem(prefix: string, uri: string): string | undefined {
  const ns = '(Namespaces in XML 1.0 §3)';
  if (prefix === 'xmlns') return `the prefix 'xmlns' cannot be declared ${ns}`;
  if (prefix === 'xml') return uri === XML_NAMESPACE ? undefined : `the prefix 'xml' cannot be bound to '${uri}': it is bound to ${XML_NAMESPACE} only ${ns}`;
  if (uri === XML_NAMESPACE) return `${prefix ? `the prefix '${prefix}'` : 'the default namespace'} cannot be ${XML_NAMESPACE}: only 'xml' is bound to it ${ns}`;
  if (uri === XMLNS_NAMESPACE) return `${prefix ? `the prefix '${prefix}'` : 'the default namespace'} cannot be ${XMLNS_NAMESPACE}: it is the name of 'xmlns' itself ${ns}`;
  if (prefix && !uri) return `xmlns:${prefix}="" cannot undeclare a prefix: only the default namespace is undeclared, with xmlns="" ${ns}`;
  if (uri && !isUriReference(uri)) return `the namespace name '${uri}' is not a URI reference (Namespaces in XML 1.0 §2, RFC 3986: no spaces, no characters past ASCII, '%' before two hex digits...)`;
  return undefined;
}

/** The first two of `attrs` with one local name and namespace name (a Map for many: an element may have 1,024). */
function attributeTwice(attrs: Attributes): { first: string; second: string; uri: string } | undefined {
  const seen = attrs.length > 16 ? new Map<string, number>() : undefined;
  for (let i = 0; i < attrs.length; i++) {
    const uri = attrs.getURI(i);
    if (!uri || uri === XMLNS_NAMESPACE) continue;
    let j: number | undefined;
    if (seen) {
      const key = `${attrs.getLocalName(i)} ${uri}`;
      j = seen.get(key);
      if (j === undefined) seen.set(key, i);
    } else {
      for (let k = 0; k < i && j === undefined; k++) if (attrs.getURI(k) === uri && attrs.getLocalName(k) === attrs.getLocalName(i)) j = k;
    }
    if (j !== undefined) return { first: attrs.getQName(j), second: attrs.getQName(i), uri };
  }
  return undefined;
}
