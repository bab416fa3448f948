import { NODE, type Element, type Node } from './parse.js';

/**
 * libxml2's default limit on element nesting below the root element (xmlParserMaxDepth,
 * without XML_PARSE_HUGE): xsltproc refuses a stylesheet or an input document nested deeper
 * ("Excessive depth in document: 256"), so domforge refuses them first, at their place.
 */
export const MAX_DEPTH = 256;

/**
 * The first element, in document order, nested more than `max` levels below `root` (its
 * children are level 1), or undefined. Walked without recursion, so any depth is looked at.
 */
export function firstTooDeep(root: Element, max: number = MAX_DEPTH): Element | undefined {
  const stack: [Node | null, number][] = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [n, depth] = top;
    if (!n) {
      stack.pop();
      continue;
    }
    top[0] = n.nextSibling;
    if (n.nodeType !== NODE.ELEMENT) continue;
    if (depth > max) return n as Element;
    stack.push([n.firstChild, depth + 1]);
  }
  return undefined;
}

/** What is said of an element found by {@link firstTooDeep}: `elements nested too deeply: <a> is more than 256 levels below the root element (...)`. */
export function tooDeepMessage(el: Element, max: number = MAX_DEPTH): string {
  return `elements nested too deeply: <${el.nodeName}> is more than ${max} levels below the root element (libxml2, and so xsltproc, refuses a document nested deeper)`;
}
