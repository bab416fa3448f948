// parse.ts imports this module too: NODE is read only when a function here runs, after both have loaded (as in depth.ts).
import { NODE, type Document, type Element, type Node } from './parse.js';

/**
 * libxml2's limit on one text node, CDATA section, comment, processing instruction or
 * attribute value, in bytes of UTF-8 (XML_MAX_TEXT_LENGTH, without XML_PARSE_HUGE): longer,
 * xsltproc refuses the document ("xmlSAX2Characters: huge text node", "CData section too big
 * found", "Comment too big found", "AttValue length too long"). xsltproc reads CDATA as text
 * (XML_PARSE_NOCDATA), so text and CDATA sections side by side are one node there, held to the
 * limit together.
 */
export const MAX_TEXT_BYTES = 10_000_000;

/** The UTF-8 length of `s`, when it may be more than {@link MAX_TEXT_BYTES} (a UTF-16 unit is at most 3 bytes); else 0. */
export function longTextBytes(s: string): number {
  if (s.length * 3 <= MAX_TEXT_BYTES) return 0;
  return Buffer.byteLength(s, 'utf8');
}

/** What is said of `what` (`the text of <userData>`, `a comment`) when it is `bytes` long; `one` is what libxml2 reads it as. */
export function textTooLongMessage(what: string, bytes: number, one = 'one text node'): string {
  return `${what} is ${bytes} bytes (UTF-8), more than the ${MAX_TEXT_BYTES} libxml2 reads in ${one} (XML_MAX_TEXT_LENGTH; xsltproc would refuse the document)`;
}

/**
 * A node too long for libxml2, and what to say of it: the element whose text it is, the
 * comment or processing instruction itself, or the attribute (with `attribute`, its name, and
 * `element`, the element it is on).
 */
export type LongText = { node: Node; message: string } & ({ attribute?: undefined } | { attribute: string; element: Element });

/**
 * A text (text and CDATA sections side by side), comment, processing instruction or attribute
 * value in `doc` longer than {@link MAX_TEXT_BYTES} (the outermost first; an element's
 * attributes before what it holds), or undefined. A document whose
 * text (`textLength` UTF-16 units) is no more than a third of that holds none, and is not
 * walked: every document domforge ships and reads day to day.
 */
export function firstLongText(doc: Document, textLength: number): LongText | undefined {
  if (textLength * 3 <= MAX_TEXT_BYTES) return undefined;
  const stack: Node[] = [doc];
  while (stack.length) {
    const parent = stack.pop()!;
    if (parent.nodeType === NODE.ELEMENT) {
      const long = longAttribute(parent as Element);
      if (long) return long;
    }
    let run = 0;
    const children: Node[] = [];
    for (let n = parent.firstChild; n; n = n.nextSibling) {
      const t = n.nodeType;
      if (t === NODE.TEXT || t === NODE.CDATA) {
        run += Buffer.byteLength((n as unknown as { data: string }).data, 'utf8');
        if (run > MAX_TEXT_BYTES) return { node: parent, message: textTooLongMessage(`the text of <${parent.nodeName}>`, run) };
        continue;
      }
      run = 0;
      if (t === NODE.COMMENT || t === NODE.PI) {
        const bytes = Buffer.byteLength((n as unknown as { data: string }).data, 'utf8');
        if (bytes > MAX_TEXT_BYTES) return { node: n, message: textTooLongMessage(t === NODE.COMMENT ? 'a comment' : `the processing instruction <?${n.nodeName}?>`, bytes) };
      } else if (t === NODE.ELEMENT) children.push(n);
    }
    // Children in document order: the first one on top.
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return undefined;
}

/**
 * The first attribute of `el` whose value, as read (references replaced, whitespace
 * normalised), is longer than {@link MAX_TEXT_BYTES}, or undefined. xsltproc (libxml2 2.9.14)
 * refuses a value of 10,000,001 bytes ("AttValue length too long") and reads one of 10,000,000
 * ASCII characters where instance.xml has its `<key sshKey>` (test/xml/text-length.test.ts);
 * elsewhere in a document, or with references, non-ASCII characters, tabs or line ends, it may
 * refuse one a few hundred bytes shorter ("Huge input lookup", XML_MAX_LOOKUP_LIMIT on the
 * bytes it holds from its buffer's start, which depend on how its reads fall): a limit domforge
 * does not model.
 */
function longAttribute(el: Element): LongText | undefined {
  const attributes = el.attributes;
  for (let i = 0; i < attributes.length; i++) {
    const a = attributes.item(i)!;
    const bytes = longTextBytes(a.value);
    if (bytes > MAX_TEXT_BYTES) {
      return { node: a, attribute: a.name, element: el, message: textTooLongMessage(`the value of attribute ${a.name} of <${el.nodeName}>`, bytes, 'one attribute value') };
    }
  }
  return undefined;
}

/**
 * What is said when xmldom ran out of stack on the markup at `at` (its report: `reported`).
 * Its comment pattern does on a comment of more than about 8,388,000 characters, which
 * libxml2 reads up to {@link MAX_TEXT_BYTES} bytes: such a comment is named, with its length.
 */
export function outOfStackMessage(text: string, at: number, reported: string): string {
  if (!text.startsWith('<!--', at)) return `markup too long for domforge's XML parser (xmldom ran out of stack: ${reported})`;
  const end = text.indexOf('-->', at + 4);
  const length = (end < 0 ? text.length : end) - at - 4;
  return `a comment of ${length} characters is longer than domforge's XML parser (xmldom) reads, about 8 million (libxml2 reads up to ${MAX_TEXT_BYTES} bytes): shorten it`;
}
