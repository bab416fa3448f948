import { isAbsolute, relative, resolve, dirname } from 'node:path';
import { TransformError, XmlForbiddenError } from '../../errors.js';
import { lineOf, columnOf, NODE, type Element } from '../../xml/parse.js';
import type { XPath } from 'xslt-processor';
import { xsltProcessor } from './processor-module.js';
import { leavesFolder } from '../links-out.js';
import { XSL_NS, XSLT10_ELEMENTS, XPATH_ATTRIBUTES } from './constants.js';
import { allElements, type Stylesheet, type StylesheetModule } from './stylesheet.js';
import { avtParts } from './preprocess.js';

/**
 * A construct xslt-processor is known to get wrong (measured against libxslt on the
 * probes) and domforge does not rewrite. A stylesheet with one renders with libxslt
 * under `--engine auto`, and is refused under `--engine xslt-processor`.
 */
export interface EngineCaveat {
  feature: string;
  file: string;
  line?: number;
}

export interface StaticReport {
  namedTemplates: Set<string>;
  /** Parameter names declared by the main stylesheet (`xsl:param` at top level). */
  params: string[];
  caveats: EngineCaveat[];
  /** The stylesheet's `xsl:output method` (default `xml`). */
  outputMethod: string;
}

let parser: XPath | undefined;
/** xslt-processor's XPath parser, made at the first check. */
const xpath = (): XPath => (parser ??= new (xsltProcessor().XPath)());

/**
 * Compile-time checks with file:line, before any engine sees the stylesheet: unknown
 * `xsl:` elements, XPath syntax, `call-template` targets (across includes and imports),
 * variable references that nothing declares, `document()` (only a literal relative path
 * inside the transforms folder, or `''`), and the constructs the in-process engine is
 * known to mishandle (reported as caveats).
 */
export function checkStylesheet(sheet: Stylesheet): StaticReport {
  const mods: StylesheetModule[] = [sheet.main, ...new Set(sheet.modules.values())];
  const namedTemplates = new Set<string>();
  const declared = new Set<string>();
  const literalAttrNames = new Set<string>();
  const params: string[] = [];
  const caveats: EngineCaveat[] = [];
  let usesApplyTemplates = false;
  let outputMethod = 'xml';
  for (const m of mods) {
    const root = m.doc.documentElement!;
    for (const el of allElements(m.doc)) {
      if (el.namespaceURI === XSL_NS) {
        if (el.localName === 'template' && el.getAttribute('name')) namedTemplates.add(el.getAttribute('name')!);
        if (el.localName === 'variable' || el.localName === 'param') declared.add(el.getAttribute('name') ?? '');
        if (el.localName === 'apply-templates') usesApplyTemplates = true;
        if (m === sheet.main && el.localName === 'param' && el.parentNode === root) params.push(el.getAttribute('name') ?? '');
        if (m === sheet.main && el.localName === 'output' && el.parentNode === root && el.hasAttribute('method')) outputMethod = el.getAttribute('method')!;
      } else {
        for (let i = 0; i < el.attributes.length; i++) literalAttrNames.add(el.attributes.item(i)!.name);
      }
    }
  }
  const ctx: CheckContext = { sheet, declared, caveats };
  for (const m of mods) {
    const version = Number(m.doc.documentElement!.getAttribute('version') ?? '1.0');
    for (const el of allElements(m.doc)) {
      const place = { file: m.file, line: lineOf(el), column: columnOf(el) };
      if (el.namespaceURI === XSL_NS) {
        const name = el.localName!;
        if (!XSLT10_ELEMENTS.has(name) && !(version > 1 && hasFallback(el))) {
          throw new TransformError('TRANSFORM_SYNTAX', `unknown XSLT element <xsl:${name}> (XSLT 1.0 has no such instruction)`, place);
        }
        for (const attr of XPATH_ATTRIBUTES[name] ?? []) {
          if (el.hasAttribute(attr)) checkExpression(el.getAttribute(attr)!, `xsl:${name}/@${attr}`, place, ctx, { positional: usesApplyTemplates && inTemplateOutsideForEach(el) });
        }
        if (name === 'template' && el.hasAttribute('match')) checkExpression(el.getAttribute('match')!, 'xsl:template/@match', place, ctx, { pattern: true });
        if (name === 'call-template') {
          const target = el.getAttribute('name') ?? '';
          if (!namedTemplates.has(target)) {
            throw new TransformError('TRANSFORM_SYNTAX', `xsl:call-template name="${target}": no template of that name in the stylesheet or what it includes or imports`, place);
          }
        }
        // Attribute value templates on XSLT instructions (xsl:element/@name, xsl:attribute/@name...).
        for (const attr of ['name', 'namespace']) {
          const v = el.getAttribute(attr);
          if (v?.includes('{') && (name === 'element' || name === 'attribute' || name === 'processing-instruction')) {
            for (const p of avtParts(v)) if (p.expr !== undefined) checkExpression(p.expr, `xsl:${name}/@${attr}`, place, ctx, {});
          }
        }
        caveatsFor(el, name, m, caveats, literalAttrNames);
      } else {
        if (el.hasAttributeNS(XSL_NS, 'use-attribute-sets')) caveats.push({ feature: 'xsl:use-attribute-sets', file: m.file, line: lineOf(el) });
        // Attribute value templates on literal result elements.
        for (let i = 0; i < el.attributes.length; i++) {
          const a = el.attributes.item(i)!;
          if (!a.value.includes('{')) continue;
          const positional = usesApplyTemplates && inTemplateOutsideForEach(el);
          for (const p of avtParts(a.value)) if (p.expr !== undefined) checkExpression(p.expr, `attribute ${a.name}`, place, ctx, { positional });
        }
      }
    }
  }
  return { namedTemplates, params, caveats: dedupe(caveats), outputMethod };
}

interface CheckContext {
  sheet: Stylesheet;
  declared: Set<string>;
  caveats: EngineCaveat[];
}

function hasFallback(el: Element): boolean {
  for (let n = el.firstChild; n; n = n.nextSibling) if ((n as Element).namespaceURI === XSL_NS && (n as Element).localName === 'fallback') return true;
  return false;
}

/** Whether `el` sits in a template body with no xsl:for-each between them (position() there is the apply-templates position). */
function inTemplateOutsideForEach(el: Element): boolean {
  for (let n: Element | null = el; n && n.nodeType === NODE.ELEMENT; n = n.parentNode as Element | null) {
    if (n.namespaceURI !== XSL_NS) continue;
    if (n.localName === 'for-each' && n !== el) return false;
    if (n.localName === 'template') return true;
  }
  return false;
}

/** The expression with string literals and predicates blanked out, so what is left is evaluated in the outer context. */
function outsidePredicates(expr: string): string {
  let out = '';
  let depth = 0;
  let quote: string | undefined;
  for (const c of expr) {
    if (quote) {
      if (c === quote) quote = undefined;
      out += ' ';
    } else if (c === '"' || c === "'") {
      quote = c;
      out += ' ';
    } else if (c === '[') {
      depth++;
      out += ' ';
    } else if (c === ']') {
      depth--;
      out += ' ';
    } else out += depth > 0 ? ' ' : c;
  }
  return out;
}

function withoutStrings(expr: string): string {
  return expr.replace(/"[^"]*"|'[^']*'/g, (s) => ' '.repeat(s.length));
}

function checkExpression(expr: string, where: string, place: { file: string; line?: number; column?: number }, ctx: CheckContext, o: { pattern?: boolean; positional?: boolean }): void {
  const add = (feature: string) => ctx.caveats.push({ feature, file: place.file, line: place.line });
  const code = withoutStrings(expr);
  if (/(^|[^\w.:-])document\s*\(/.test(code)) checkDocumentCalls(expr, where, place, ctx);
  try {
    xpath().xPathParse(expr);
  } catch (e) {
    const msg = (e as Error).message.replace(/^XPST\d+:\s*/, '');
    throw new TransformError('TRANSFORM_SYNTAX', `${where}: invalid XPath ${JSON.stringify(expr)}: ${msg}`, { ...place, cause: e });
  }
  for (const m of code.matchAll(/\$([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)/g)) {
    if (!ctx.declared.has(m[1]!)) throw new TransformError('TRANSFORM_SYNTAX', `${where}: undefined variable $${m[1]} (no xsl:variable or xsl:param declares it)`, place);
  }
  if (/(^|[^\w.:-])generate-id\s*\(/.test(code)) add('generate-id()');
  if (/(^|[^\w.-])[A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*\s*\(/.test(code)) add('extension function call');
  if (/(^|[/[(|@\s,=<>!+*-])[A-Za-z_][\w.-]*:([A-Za-z_*])/.test(code.replace(/[a-z-]+::/g, ' ').replace(/[A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*\s*\(/g, ' ('))) add('namespace prefix in an XPath name test');
  if (o.positional && !o.pattern && /(^|[^\w.-])(position|last)\s*\(/.test(outsidePredicates(expr))) add('position() or last() in a template reached through xsl:apply-templates');
}

/** `document()` may read only a literal relative path inside the transforms folder, or `''` (the stylesheet itself). */
function checkDocumentCalls(expr: string, where: string, place: { file: string; line?: number; column?: number }, ctx: CheckContext): void {
  const calls = [...expr.matchAll(/(^|[^\w.:-])document\s*\(\s*("[^"]*"|'[^']*')?\s*(\)|,)?/g)];
  for (const c of calls) {
    if (!c[2] || c[3] !== ')') {
      throw new XmlForbiddenError(`${where}: document() is refused unless its one argument is a literal relative path inside the transforms folder`, place);
    }
    const href = c[2].slice(1, -1);
    if (href !== '') {
      if (/^[a-z][a-z0-9+.-]*:/i.test(href) || isAbsolute(href)) throw new XmlForbiddenError(`${where}: document('${href}') is refused: only relative paths inside ${ctx.sheet.root} may be read`, place);
      const target = resolve(dirname(place.file), href);
      const rel = relative(ctx.sheet.root, target);
      if (leavesFolder(rel)) throw new XmlForbiddenError(`${where}: document('${href}') is refused: it leaves the transforms folder ${ctx.sheet.root}`, place);
      // Where it really is: a symbolic link inside the folder may point anywhere (as for includes).
      const real = ctx.sheet.realpath(target);
      const realRel = relative(ctx.sheet.realpath(ctx.sheet.root), real);
      if (leavesFolder(realRel)) {
        throw new XmlForbiddenError(`${where}: document('${href}') is refused: it is a symbolic link to ${real}, outside the transforms folder ${ctx.sheet.root}`, place);
      }
    }
  }
  ctx.caveats.push({ feature: 'document()', file: place.file, line: place.line });
}

function caveatsFor(el: Element, name: string, m: StylesheetModule, caveats: EngineCaveat[], literalAttrNames: Set<string>): void {
  const add = (feature: string) => caveats.push({ feature, file: m.file, line: lineOf(el) });
  switch (name) {
    case 'attribute-set':
    case 'import':
    case 'apply-imports':
    case 'strip-space':
    case 'preserve-space':
    case 'namespace-alias':
    case 'decimal-format':
      add(`xsl:${name}`);
      break;
    case 'element':
    case 'copy':
      if (el.hasAttribute('use-attribute-sets')) add('use-attribute-sets');
      if (el.hasAttribute('namespace')) add(`xsl:${name} with a namespace`);
      break;
    case 'output': {
      const method = el.getAttribute('method');
      if (method && method !== 'xml') add(`xsl:output method="${method}"`);
      break;
    }
    case 'attribute': {
      if (el.hasAttribute('namespace') || (el.getAttribute('name') ?? '').includes(':')) add('xsl:attribute with a namespace');
      // An xsl:attribute that adds to an element made elsewhere (the caller's) may meet a literal attribute there.
      const an = el.getAttribute('name') ?? '';
      if (!ownerIsLiteral(el) && (an.includes('{') || literalAttrNames.has(an))) add('xsl:attribute adding to an element created by another template');
      break;
    }
    case 'sort':
      if ((el.parentNode as Element | null)?.localName === 'apply-templates') add('xsl:sort inside xsl:apply-templates');
      break;
    case 'value-of':
      if (el.getAttribute('disable-output-escaping') === 'yes') add('xsl:value-of disable-output-escaping="yes"');
      break;
  }
}

/** Whether the element an xsl:attribute adds to is made in the same template (a literal element, xsl:element or xsl:copy). */
function ownerIsLiteral(el: Element): boolean {
  for (let n = el.parentNode as Element | null; n && n.nodeType === NODE.ELEMENT; n = n.parentNode as Element | null) {
    if (n.namespaceURI !== XSL_NS) return true;
    if (n.localName === 'element' || n.localName === 'copy') return true;
    if (n.localName === 'template' || n.localName === 'attribute-set') return false;
  }
  return false;
}

function dedupe(caveats: EngineCaveat[]): EngineCaveat[] {
  const seen = new Set<string>();
  return caveats.filter((c) => {
    const k = `${c.feature}\0${c.file}\0${c.line}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
