import type { Document, Node } from '@xmldom/xmldom';

/**
 * libxml2's limit on one text node, CDATA section, comment or processing instruction, in
 * bytes of UTF-8 (XML_MAX_TEXT_LENGTH, without XML_PARSE_HUGE): longer, xsltproc refuses the
 * document ("xmlSAX2Characters: huge text node", "CData section too big found", "Comment too
 * big found"). xsltproc reads CDATA as text (XML_PARSE_NOCDATA), so text and CDATA sections
 * side by side are one node there, held to the limit together.
 */
export const MAX_TEXT_BYTES = 10_000_000;

const [ELEMENT, TEXT, CDATA, PI, COMMENT] = [1, 3, 4, 7, 8];

/** The UTF-8 length of `s`, when it may be more than {@link MAX_TEXT_BYTES} (a UTF-16 unit is at most 3 bytes); else 0. */
export function longTextBytes(s: string): number {
  if (s.length * 3 <= MAX_TEXT_BYTES) return 0;
  return Buffer.byteLength(s, 'utf8');
}

/** What is said of `what` (`the text of <userData>`, `a comment`) when it is `bytes` long. */
export function textTooLongMessage(what: string, bytes: number): string {
  return `${what} is ${bytes} bytes (UTF-8), more than the ${MAX_TEXT_BYTES} libxml2 reads in one text node (XML_MAX_TEXT_LENGTH; xsltproc would refuse the document)`;
}

/** A node too long for libxml2, and what to say of it: the element whose text it is, or the comment or processing instruction itself. */
export interface LongText {
  node: Node;
  message: string;
}

/**
 * A text (text and CDATA sections side by side), comment or processing instruction in `doc`
 * longer than {@link MAX_TEXT_BYTES} (the outermost first), or undefined. A document whose
 * text (`textLength` UTF-16 units) is no more than a third of that holds none, and is not
 * walked: every document domforge ships and reads day to day.
 */
export function firstLongText(doc: Document, textLength: number): LongText | undefined {
  if (textLength * 3 <= MAX_TEXT_BYTES) return undefined;
  const stack: Node[] = [doc];
  while (stack.length) {
    const parent = stack.pop()!;
    let run = 0;
    const children: Node[] = [];
    for (let n = parent.firstChild; n; n = n.nextSibling) {
      const t = n.nodeType;
      if (t === TEXT || t === CDATA) {
        run += Buffer.byteLength((n as unknown as { data: string }).data, 'utf8');
        if (run > MAX_TEXT_BYTES) return { node: parent, message: textTooLongMessage(`the text of <${parent.nodeName}>`, run) };
        continue;
      }
      run = 0;
      if (t === COMMENT || t === PI) {
        const bytes = Buffer.byteLength((n as unknown as { data: string }).data, 'utf8');
        if (bytes > MAX_TEXT_BYTES) return { node: n, message: textTooLongMessage(t === COMMENT ? 'a comment' : `the processing instruction <?${n.nodeName}?>`, bytes) };
      } else if (t === ELEMENT) children.push(n);
    }
    // Children in document order: the first one on top.
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
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
