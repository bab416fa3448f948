import { serializeXml } from '../../xml/serialize.js';
import { NODE, type Document, type Element } from '../../xml/parse.js';
import { XSL_NS } from './constants.js';
import { allElements, topLevel, type Stylesheet } from './stylesheet.js';

/**
 * Rewrites a stylesheet so that xslt-processor gives libxslt's result where the two are
 * known to differ. Works on a copy; returns the text handed to xslt-processor. Each
 * rewrite is the XSLT 1.0 meaning of the construct spelled in a form xslt-processor
 * evaluates correctly:
 *
 * 1. **with-param binding.** Parameters of one call are evaluated in the caller's scope
 *    (XSLT 1.0 §11.6), but xslt-processor binds each `xsl:with-param` before evaluating
 *    the next, so `<with-param name="n" select="$n - 1"/><with-param name="acc"
 *    select="$acc + $n"/>` sees the new `$n`. Where a later parameter reads an earlier
 *    one's name, every parameter of the call is first evaluated into a fresh
 *    `xsl:variable` just before the call, and the call passes those.
 * 2. **xsl:include.** xslt-processor drops the top-level variables of included modules.
 *    An include means "these top-level elements, here" (§2.6.1), so the included
 *    module's top-level elements are copied in place of the `xsl:include`.
 * 3. **Literal attributes.** xslt-processor keeps a literal result element's attribute
 *    when an `xsl:attribute` of the same name follows (libxslt replaces it, §7.1.3), and
 *    writes `{{`/`}}` in an attribute value template literally instead of as one brace.
 *    Such literal attributes become leading `xsl:attribute` instructions.
 */
export function preprocessForXsltProcessor(doc: Document, sheet?: Stylesheet): { text: string; rewrites: number } {
  const copy = doc.cloneNode(true) as Document;
  let rewrites = 0;
  if (sheet) rewrites += inlineIncludes(copy, sheet, new Set());
  rewrites += rewriteWithParams(copy);
  rewrites += rewriteLiteralAttributes(copy);
  return { text: serializeXml(copy), rewrites };
}

function rewriteWithParams(copy: Document): number {
  let rewrites = 0;
  let counter = 0;
  for (const call of allElements(copy)) {
    if (!isXsl(call, 'call-template') && !isXsl(call, 'apply-templates')) continue;
    const params = xslChildren(call, 'with-param');
    if (params.length < 2) continue;
    const names = params.map((p) => p.getAttribute('name') ?? '');
    const needs = params.some((p, i) => {
      const expr = p.getAttribute('select') ?? '';
      return names.slice(0, i).some((n) => new RegExp(`\\$${escapeRe(n)}(?![\\w.-])`).test(expr)) || (!p.hasAttribute('select') && i > 0);
    });
    if (!needs) continue;
    rewrites++;
    const parent = call.parentNode!;
    for (const p of params) {
      const tmp = `domforge-wp-${++counter}`;
      const v = copy.createElementNS(XSL_NS, 'xsl:variable');
      v.setAttribute('name', tmp);
      if (p.hasAttribute('select')) v.setAttribute('select', p.getAttribute('select')!);
      else {
        while (p.firstChild) v.appendChild(p.firstChild);
      }
      parent.insertBefore(v, call);
      p.setAttribute('select', `$${tmp}`);
    }
  }
  return rewrites;
}

function inlineIncludes(doc: Document, sheet: Stylesheet, seen: Set<string>): number {
  let rewrites = 0;
  for (const inc of topLevel(doc)) {
    if (!isXsl(inc, 'include')) continue;
    const mod = sheet.modules.get(inc.getAttribute('href') ?? '');
    if (!mod || seen.has(mod.file)) continue;
    const sub = mod.doc.cloneNode(true) as Document;
    rewrites += 1 + inlineIncludes(sub, sheet, new Set([...seen, mod.file]));
    const subRoot = sub.documentElement!;
    const nsDecls: [string, string][] = [];
    for (let i = 0; i < subRoot.attributes.length; i++) {
      const a = subRoot.attributes.item(i)!;
      if (a.name.startsWith('xmlns:')) nsDecls.push([a.name, a.value]);
    }
    for (const el of topLevel(sub)) {
      const imported = doc.importNode(el, true) as Element;
      // Prefixes used in the module's XPath expressions stay declared.
      for (const [n, v] of nsDecls) if (!imported.hasAttribute(n)) imported.setAttribute(n, v);
      inc.parentNode!.insertBefore(imported, inc);
    }
    inc.parentNode!.removeChild(inc);
  }
  return rewrites;
}

function rewriteLiteralAttributes(doc: Document): number {
  let rewrites = 0;
  for (const el of allElements(doc)) {
    if (el.namespaceURI === XSL_NS) continue;
    const added = attributeInstructionsOf(el);
    const computed = added.some((a) => (a.getAttribute('name') ?? '').includes('{'));
    const names = new Set(added.map((a) => a.getAttribute('name')));
    const convert: { name: string; ns: string | null; value: string }[] = [];
    for (let i = 0; i < el.attributes.length; i++) {
      const a = el.attributes.item(i)!;
      if (a.name === 'xmlns' || a.name.startsWith('xmlns:') || a.namespaceURI === XSL_NS) continue;
      if (computed || names.has(a.name) || a.value.includes('{{') || a.value.includes('}}')) convert.push({ name: a.name, ns: a.namespaceURI, value: a.value });
    }
    if (convert.length === 0) continue;
    rewrites++;
    const first = el.firstChild;
    for (const c of convert) {
      el.removeAttribute(c.name);
      const at = doc.createElementNS(XSL_NS, 'xsl:attribute');
      at.setAttribute('name', c.name);
      if (c.ns) at.setAttribute('namespace', c.ns);
      for (const part of avtParts(c.value)) {
        if (part.expr !== undefined) {
          const v = doc.createElementNS(XSL_NS, 'xsl:value-of');
          v.setAttribute('select', part.expr);
          at.appendChild(v);
        } else {
          const t = doc.createElementNS(XSL_NS, 'xsl:text');
          t.appendChild(doc.createTextNode(part.text!));
          at.appendChild(t);
        }
      }
      el.insertBefore(at, first);
    }
  }
  return rewrites;
}

/** `xsl:attribute` instructions that add to `el` itself (not to an element nested in it). */
function attributeInstructionsOf(el: Element): Element[] {
  const out: Element[] = [];
  const walk = (n: Element) => {
    for (let k = n.firstChild; k; k = k.nextSibling) {
      if (k.nodeType !== NODE.ELEMENT) continue;
      const c = k as Element;
      if (c.namespaceURI !== XSL_NS) continue; // a nested literal element takes its own attributes
      if (c.localName === 'attribute') out.push(c);
      else if (c.localName !== 'element' && c.localName !== 'copy' && c.localName !== 'attribute') walk(c);
    }
  };
  walk(el);
  return out;
}

/** An attribute value template cut into literal text (braces unescaped) and expressions. */
export function avtParts(v: string): { text?: string; expr?: string }[] {
  const parts: { text?: string; expr?: string }[] = [];
  let text = '';
  let i = 0;
  while (i < v.length) {
    const c = v[i]!;
    if (c === '{' && v[i + 1] === '{') {
      text += '{';
      i += 2;
    } else if (c === '}' && v[i + 1] === '}') {
      text += '}';
      i += 2;
    } else if (c === '{') {
      const end = v.indexOf('}', i);
      if (end < 0) {
        text += v.slice(i);
        break;
      }
      if (text) parts.push({ text });
      text = '';
      parts.push({ expr: v.slice(i + 1, end) });
      i = end + 1;
    } else {
      text += c;
      i++;
    }
  }
  if (text) parts.push({ text });
  return parts;
}

function isXsl(el: Element, name: string): boolean {
  return el.namespaceURI === XSL_NS && el.localName === name;
}

function xslChildren(el: Element, name: string): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) if (n.nodeType === NODE.ELEMENT && isXsl(n as Element, name)) out.push(n as Element);
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
}
