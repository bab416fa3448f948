import { DOMParser, type Document, type Node, type Element } from '@xmldom/xmldom';
import { XmlSyntaxError, XmlForbiddenError } from '../errors.js';
import { cacheXmldomGrammar } from './xmldom-grammar-cache.js';

cacheXmldomGrammar();

export type { Document, Node, Element };

export interface ParseOptions {
  /** File name used in error messages. */
  file?: string;
  /**
   * Refuse any `<!DOCTYPE>` (default true). A DTD is how external entities (XXE) and
   * entity-expansion bombs get in; no instance, stub or stylesheet domforge reads needs one.
   */
  forbidDoctype?: boolean;
}

export const NODE = {
  ELEMENT: 1,
  ATTRIBUTE: 2,
  TEXT: 3,
  CDATA: 4,
  PI: 7,
  COMMENT: 8,
  DOCUMENT: 9,
  DOCTYPE: 10,
} as const;

/**
 * Parses XML strictly with @xmldom/xmldom: any well-formedness error, unknown entity or
 * DOCTYPE is an XmlSyntaxError / XmlForbiddenError naming file:line:column.
 * Element nodes keep `lineNumber` / `columnNumber` for later messages.
 */
export function parseXml(text: string, options: ParseOptions = {}): Document {
  const file = options.file;
  if (options.forbidDoctype !== false) {
    const m = /<!DOCTYPE/i.exec(text);
    if (m) {
      const { line, column } = lineColOf(text, m.index);
      throw new XmlForbiddenError('DOCTYPE declarations are not allowed (external entities and entity expansion are refused)', {
        file,
        line,
        column,
      });
    }
  }
  let firstError: XmlSyntaxError | undefined;
  const parser = new DOMParser({
    locator: true,
    onError(level, message, context) {
      // xmldom reports recoverable problems (unknown entities, stray text) as 'error'
      // and carries on; domforge treats every one of them as fatal.
      const loc = locatorOf(context);
      const err = new XmlSyntaxError(cleanMessage(message), { file, line: loc?.lineNumber, column: loc?.columnNumber });
      if (level === 'warning') {
        if (!firstError && /attribute.*(redefined|without value)|unclosed|mismatch/i.test(message)) firstError = err;
        return;
      }
      if (!firstError) firstError = err;
    },
  });
  let doc: Document;
  try {
    doc = parser.parseFromString(text, 'text/xml');
  } catch (e) {
    if (firstError) throw firstError;
    const err = e as Error & { locator?: { lineNumber?: number; columnNumber?: number } };
    throw new XmlSyntaxError(cleanMessage(err.message), {
      file,
      line: err.locator?.lineNumber || undefined,
      column: err.locator?.columnNumber || undefined,
      cause: e,
    });
  }
  if (firstError) throw firstError;
  if (!doc.documentElement) throw new XmlSyntaxError('no root element', { file, line: 1 });
  return doc;
}

function locatorOf(context: unknown): { lineNumber?: number; columnNumber?: number } | undefined {
  const c = context as { locator?: { lineNumber?: number; columnNumber?: number } } | undefined;
  return c?.locator;
}

function cleanMessage(m: string): string {
  // xmldom appends "\n@#[line:..,col:..]" and sometimes a stack of context; keep the first line.
  return m.split('\n')[0]!.replace(/^\[xmldom \w+\]\s*/, '').replace(/@#\[line:.*$/, '').trim();
}

export function lineColOf(text: string, index: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < index; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, column: index - last };
}

/** Line of an element as recorded by the parser (undefined for synthetic nodes). */
export function lineOf(node: Node | null | undefined): number | undefined {
  const n = node as unknown as { lineNumber?: number } | null | undefined;
  return n?.lineNumber && n.lineNumber > 0 ? n.lineNumber : undefined;
}
export function columnOf(node: Node | null | undefined): number | undefined {
  const n = node as unknown as { columnNumber?: number } | null | undefined;
  return n?.columnNumber && n.columnNumber > 0 ? n.columnNumber : undefined;
}

/** Child elements of `el` (optionally only those with the given local name). */
export function childElements(el: Element, name?: string): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === NODE.ELEMENT && (name === undefined || (n as Element).localName === name || (n as Element).nodeName === name)) {
      out.push(n as Element);
    }
  }
  return out;
}

export function firstChild(el: Element, name: string): Element | undefined {
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === NODE.ELEMENT && ((n as Element).localName === name || (n as Element).nodeName === name)) return n as Element;
  }
  return undefined;
}

/** Concatenated text content of an element (text and CDATA children only, not descendants' elements). */
export function textOf(el: Element): string {
  return el.textContent ?? '';
}

/**
 * XPath of a node in the style `/domain/devices/disk[2]/target/@dev`: a position
 * predicate is added only where the element has same-named siblings.
 */
export function pathOf(node: Node): string {
  const parts: string[] = [];
  let n: Node | null = node;
  while (n && n.nodeType !== NODE.DOCUMENT) {
    if (n.nodeType === NODE.ATTRIBUTE) {
      parts.push('@' + n.nodeName);
      n = (n as unknown as { ownerElement: Node | null }).ownerElement;
      continue;
    }
    if (n.nodeType === NODE.ELEMENT) {
      const name = n.nodeName;
      let idx = 1;
      let count = 0;
      const parent: Node | null = n.parentNode;
      if (parent) {
        for (let s = parent.firstChild; s; s = s.nextSibling) {
          if (s.nodeType === NODE.ELEMENT && s.nodeName === name) {
            count++;
            if (s === n) idx = count;
          }
        }
      }
      parts.push(count > 1 ? `${name}[${idx}]` : name);
    } else if (n.nodeType === NODE.TEXT || n.nodeType === NODE.CDATA) {
      parts.push('text()');
    }
    n = n.parentNode;
  }
  return '/' + parts.reverse().join('/');
}
