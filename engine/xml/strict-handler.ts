/**
 * xmldom's DOM builder (its `domHandler`), with the checks xmldom's parser leaves out made
 * where the builder is told what it needs: what follows the root element.
 *
 * xmldom reads a CDATA section after the root element into the document, and takes an end
 * tag named like the root element after it (`<r/></r>`) for the root's own; libxml2
 * refuses both ("Extra content at the end of the document"). The builder sees the one at
 * each CDATA section and the other once the document is read, at no cost to the elements.
 * What it reports goes to the parse's `onError` as xmldom's own reports do, worded as
 * xmldom words that one, so the parse places it as it places xmldom's
 * (engine/xml/markup-check.ts).
 */
import { DOMParser, type Document, type Node } from '@xmldom/xmldom';

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
  startCDATA(): void;
  endDocument(): void;
}

type DomHandlerClass = new (options: unknown) => DomHandler;

/** xmldom's DOMHandler: the default of the `domHandler` option. */
const XmldomHandler = (new DOMParser() as unknown as { domHandler?: DomHandlerClass }).domHandler;
if (typeof XmldomHandler !== 'function' || typeof XmldomHandler.prototype.startCDATA !== 'function' || typeof XmldomHandler.prototype.endDocument !== 'function') {
  // Without it the parse would quietly accept what libxml2 refuses: fail loudly instead.
  throw new Error("@xmldom/xmldom's DOMParser has no domHandler with startCDATA() and endDocument(): domforge's strict XML parse needs it (engine/xml/strict-handler.ts)");
}

/** What xmldom says of text after the root element; the parse's onError knows it as one to place by the markup. */
export const AFTER_ROOT = 'Extra content at the end of the document';

export class StrictHandler extends XmldomHandler {
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
}
