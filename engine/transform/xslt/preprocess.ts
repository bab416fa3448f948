import { serializeXml } from '../../xml/serialize.js';
import { NODE, type Document, type Element } from '../../xml/parse.js';
import { XSL_NS } from './constants.js';
import { allElements } from './stylesheet.js';

/**
 * Rewrites a stylesheet so that xslt-processor gives libxslt's result where the two are
 * known to differ on constructs real stylesheets use. Works on a copy; returns the text
 * handed to xslt-processor.
 *
 * 1. Parameters of one call are evaluated in the caller's scope (XSLT 1.0 §11.6), but
 *    xslt-processor binds each `xsl:with-param` before evaluating the next, so
 *    `<with-param name="n" select="$n - 1"/><with-param name="acc" select="$acc + $n"/>`
 *    sees the new `$n`. Where a later parameter reads an earlier one's name, every
 *    parameter of the call is first evaluated into a fresh `xsl:variable` placed just
 *    before the call, and the call passes those.
 */
export function preprocessForXsltProcessor(doc: Document): { text: string; rewrites: number } {
  const copy = doc.cloneNode(true) as Document;
  let rewrites = 0;
  let counter = 0;
  for (const call of allElements(copy)) {
    if (call.namespaceURI !== XSL_NS || (call.localName !== 'call-template' && call.localName !== 'apply-templates')) continue;
    const params = childParams(call);
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
  return { text: serializeXml(copy), rewrites };
}

function childParams(el: Element): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === NODE.ELEMENT && (n as Element).namespaceURI === XSL_NS && (n as Element).localName === 'with-param') out.push(n as Element);
  }
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
}
