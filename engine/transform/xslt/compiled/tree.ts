/**
 * The compiled engine's node model: one small class for every node kind of the XPath 1.0
 * data model (root, element, attribute, text, comment, processing instruction; no
 * namespace nodes: documents with namespaces are refused). `order` is the document
 * order: an element comes before its attributes, which come before its children.
 */
export const ROOT = 9;
export const ELEMENT = 1;
export const ATTRIBUTE = 2;
export const TEXT = 3;
export const PI = 7;
export const COMMENT = 8;

export type NodeKind = typeof ROOT | typeof ELEMENT | typeof ATTRIBUTE | typeof TEXT | typeof PI | typeof COMMENT;

const NONE: XNode[] = [];
let counter = 0;

export class XNode {
  /** Position in document order (unique across every tree of the process). */
  order: number;
  parent: XNode | null = null;
  children: XNode[];
  attrs: XNode[];
  constructor(
    readonly kind: NodeKind,
    /** Element or attribute name, processing-instruction target; '' otherwise. */
    readonly name: string,
    /** Text, attribute value, comment or PI data. */
    public value: string,
  ) {
    this.order = ++counter;
    const container = kind === ELEMENT || kind === ROOT;
    this.children = container ? [] : NONE;
    this.attrs = kind === ELEMENT ? [] : NONE;
  }

  /** The root node of the tree this node belongs to. */
  root(): XNode {
    let n: XNode = this;
    while (n.parent) n = n.parent;
    return n;
  }
}

/** A fresh order number, for nodes built outside the constructor's sequence. */
export function nextOrder(): number {
  return ++counter;
}

export function appendChild(parent: XNode, child: XNode): void {
  child.parent = parent;
  parent.children.push(child);
}

/** The XPath string-value of a node. */
export function stringValue(n: XNode): string {
  if (n.kind === ELEMENT || n.kind === ROOT) {
    const c = n.children;
    if (c.length === 1 && c[0]!.kind === TEXT) return c[0]!.value;
    let s = '';
    for (const k of c) {
      if (k.kind === TEXT) s += k.value;
      else if (k.kind === ELEMENT) s += stringValue(k);
    }
    return s;
  }
  return n.value;
}
