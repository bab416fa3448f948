import { InstanceError } from '../errors.js';
import { NODE, lineOf, columnOf, type Element } from '../xml/parse.js';
import { longTextBytes, MAX_TEXT_BYTES, textTooLongMessage } from '../xml/text-length.js';

/** What is said of a whole number (`shown` as given) past Number.MAX_SAFE_INTEGER, in instance.xml or a JSON description. */
export function outOfRangeMessage(shown: string): string {
  return `number out of range: ${shown} is past ${Number.MAX_SAFE_INTEGER}, the largest whole number domforge reads`;
}

/**
 * Typed access to one element of a parsed instance document. Every conversion error
 * names the file, the element's line and its path (`/instance/cores`).
 */
export class ElementReader {
  constructor(
    readonly el: Element,
    readonly path: string,
    readonly file?: string,
  ) {}

  fail(message: string, path = this.path, el: Element = this.elementAt(path)): never {
    throw new InstanceError(message, { file: this.file, line: lineOf(el), column: columnOf(el), path });
  }

  /** The element a path of this reader points into: a direct child when the path names one, else this element. */
  private elementAt(path: string): Element {
    if (!path.startsWith(this.path + '/')) return this.el;
    const rest = path.slice(this.path.length + 1);
    if (!/^[A-Za-z_][\w.-]*$/.test(rest)) return this.el;
    return this.child(rest)?.el ?? this.el;
  }

  /** Child element readers by name, in document order. */
  children(name: string): ElementReader[] {
    const out: ElementReader[] = [];
    let i = 0;
    for (let n = this.el.firstChild; n; n = n.nextSibling) {
      if (n.nodeType === NODE.ELEMENT && (n as Element).nodeName === name) {
        i++;
        out.push(new ElementReader(n as Element, `${this.path}/${name}`, this.file));
      }
    }
    if (out.length > 1) out.forEach((r, k) => ((r as { path: string }).path = `${this.path}/${name}[${k + 1}]`));
    return out;
  }

  /**
   * The one child element of that name (a single-valued field). A second one is an error at
   * its line: which of the two the author meant cannot be known, and the other would never be checked.
   */
  child(name: string): ElementReader | undefined {
    let found: Element | undefined;
    for (let n = this.el.firstChild; n; n = n.nextSibling) {
      if (n.nodeType !== NODE.ELEMENT || (n as Element).nodeName !== name) continue;
      if (found) {
        const first = lineOf(found);
        this.fail(`<${name}> is given twice${first ? ` (first at line ${first})` : ''}`, `${this.path}/${name}[2]`, n as Element);
      }
      found = n as Element;
    }
    return found && new ElementReader(found, `${this.path}/${name}`, this.file);
  }

  requireChild(name: string): ElementReader {
    const c = this.child(name);
    if (!c) this.fail(`missing required element <${name}>`, `${this.path}/${name}`);
    return c;
  }

  /** Every child element, in order. */
  elements(): Element[] {
    const out: Element[] = [];
    for (let n = this.el.firstChild; n; n = n.nextSibling) if (n.nodeType === NODE.ELEMENT) out.push(n as Element);
    return out;
  }

  /**
   * The element's text, for a field that holds text only. An element inside it is refused at
   * that element's line and column with the field's path: its tags would be dropped and its
   * text run into the value (`<diskPath>/a<b>c</b></diskPath>` read as `/ac`). Text in CDATA
   * is text. Comments and processing instructions are not content: the text around them is
   * joined, as libxml2 and so an XSLT transform read the field (XPath's string value). Joined,
   * it is written back as one text node, which libxml2 reads only up to its limit (pieces
   * split by comments may each be within it): a longer one is refused at the element.
   */
  text(): string {
    for (let n = this.el.firstChild; n; n = n.nextSibling) {
      if (n.nodeType !== NODE.ELEMENT) continue;
      const inner = (n as Element).nodeName;
      this.fail(`<${this.el.nodeName}> holds text only, not elements: <${inner}> would be dropped, its text run into the value (escape markup as &lt;...&gt; or put it in <![CDATA[...]]>)`, this.path, n as Element);
    }
    const text = this.el.textContent ?? '';
    const bytes = longTextBytes(text);
    if (bytes > MAX_TEXT_BYTES) this.fail(textTooLongMessage(`the text of <${this.el.nodeName}>`, bytes), this.path);
    return text;
  }

  /** Text of a child element, or undefined when the child is absent. */
  childText(name: string): string | undefined {
    return this.child(name)?.text();
  }

  has(attr: string): boolean {
    return this.el.hasAttribute(attr);
  }

  attr(name: string): string | undefined {
    return this.el.hasAttribute(name) ? this.el.getAttribute(name)! : undefined;
  }

  requireAttr(name: string): string {
    const v = this.attr(name);
    if (v === undefined) this.fail(`missing required attribute ${name}`, `${this.path}/@${name}`);
    return v;
  }

  /** Parses `true`/`false` (what Eucalyptus writes); anything else is an error naming the path. */
  bool(value: string | undefined, path: string): boolean | undefined {
    if (value === undefined) return undefined;
    const v = value.trim();
    if (v === 'true') return true;
    if (v === 'false') return false;
    return this.fail(`expected true or false, got ${JSON.stringify(value)}`, path);
  }

  int(value: string | undefined, path: string): number | undefined {
    if (value === undefined) return undefined;
    const v = value.trim();
    if (!/^[+-]?\d+$/.test(v)) return this.fail(`expected a whole number, got ${JSON.stringify(value)}`, path);
    const n = Number(v);
    if (!Number.isSafeInteger(n)) return this.fail(outOfRangeMessage(v), path);
    return n;
  }

  oneOf<T extends string>(value: string | undefined, allowed: readonly T[], path: string): T | undefined {
    if (value === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(value)) return this.fail(`expected one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`, path);
    return value as T;
  }

  /** Path of this element's attribute. */
  at(attr: string): string {
    return `${this.path}/@${attr}`;
  }
  sub(name: string): string {
    return `${this.path}/${name}`;
  }
}
