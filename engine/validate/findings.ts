/**
 * Collects domforge's own findings on a document: errors (the document must not
 * reach libvirt) and warnings (it may, but an admin should look), each placed by the
 * node it is about — file, line, column and XML path.
 */
import { DomforgeError } from '../errors.js';
import { NODE, lineOf, columnOf, pathOf, type Element, type Node } from '../xml/parse.js';

export type Severity = 'error' | 'warning';

export interface Finding {
  severity: Severity;
  /** The node the finding is about (an element or an attribute). */
  node: Node;
  problem: DomforgeError;
}

export class Findings {
  readonly all: Finding[] = [];
  constructor(private readonly file?: string) {}

  error(node: Node, message: string): void {
    this.add('error', node, message);
  }
  warn(node: Node, message: string): void {
    this.add('warning', node, message);
  }

  get errors(): DomforgeError[] {
    return this.all.filter((f) => f.severity === 'error').map((f) => f.problem);
  }
  get warnings(): DomforgeError[] {
    return this.all.filter((f) => f.severity === 'warning').map((f) => f.problem);
  }

  private add(severity: Severity, node: Node, message: string): void {
    const el = elementOf(node);
    this.all.push({
      severity,
      node,
      problem: new DomforgeError('DOMAIN_INVALID', message, { file: this.file, line: lineOf(el), column: columnOf(el), path: pathOf(node) }),
    });
  }
}

/** The element itself, or an attribute's owner (attributes carry no line of their own). */
export function elementOf(node: Node): Element {
  return (node.nodeType === NODE.ATTRIBUTE ? (node as unknown as { ownerElement: Element }).ownerElement : node) as Element;
}

/** The attribute node `name` of `el`, for placing a finding on it; the element when absent. */
export function attr(el: Element, name: string): Node {
  return (el.getAttributeNode(name) as unknown as Node | null) ?? el;
}
