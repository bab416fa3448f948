import { TransformError, XmlForbiddenError } from '../../errors.js';
import { lineOf, columnOf, type Element } from '../../xml/parse.js';
import { XPath } from 'xslt-processor';
import { XSL_NS, XSLT10_ELEMENTS, XPATH_ATTRIBUTES } from './constants.js';
import { allElements, type Stylesheet, type StylesheetModule } from './stylesheet.js';

/** A construct the in-process engine is known to get wrong; the differential guard pins such stylesheets to libxslt. */
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
}

const xpath = new XPath();

/**
 * Compile-time checks with file:line, before any engine sees the stylesheet:
 * unknown `xsl:` elements, XPath syntax, `call-template` targets, `document()` (refused:
 * a transform reads nothing but its input), and constructs the in-process engine is
 * known to mishandle (reported as caveats).
 */
export function checkStylesheet(sheet: Stylesheet): StaticReport {
  const mods: StylesheetModule[] = [sheet.main, ...new Set(sheet.modules.values())];
  const namedTemplates = new Set<string>();
  const params: string[] = [];
  const caveats: EngineCaveat[] = [];
  for (const m of mods) {
    const root = m.doc.documentElement!;
    const version = Number(root.getAttribute('version') ?? '1.0');
    for (const el of allElements(m.doc)) {
      if (el.namespaceURI === XSL_NS && el.localName === 'template' && el.getAttribute('name')) namedTemplates.add(el.getAttribute('name')!);
      if (m === sheet.main && el.namespaceURI === XSL_NS && el.localName === 'param' && el.parentNode === root) params.push(el.getAttribute('name') ?? '');
    }
    for (const el of allElements(m.doc)) {
      const place = { file: m.file, line: lineOf(el), column: columnOf(el) };
      if (el.namespaceURI === XSL_NS) {
        const name = el.localName!;
        if (!XSLT10_ELEMENTS.has(name) && !(version > 1 && hasFallback(el))) {
          throw new TransformError('TRANSFORM_SYNTAX', `unknown XSLT element <xsl:${name}> (XSLT 1.0 has no such instruction)`, place);
        }
        for (const attr of XPATH_ATTRIBUTES[name] ?? []) {
          if (el.hasAttribute(attr)) checkExpression(el.getAttribute(attr)!, `xsl:${name}/@${attr}`, place, caveats);
        }
        if (name === 'template' && el.hasAttribute('match')) checkExpression(el.getAttribute('match')!, 'xsl:template/@match', place, caveats, true);
        if (name === 'call-template') {
          const target = el.getAttribute('name') ?? '';
          if (!namedTemplatesAll(mods, namedTemplates).has(target)) {
            throw new TransformError('TRANSFORM_SYNTAX', `xsl:call-template name="${target}": no template of that name in the stylesheet or what it includes`, place);
          }
        }
        caveatsFor(el, name, m, caveats);
      } else {
        // Attribute value templates on literal result elements.
        for (let i = 0; i < el.attributes.length; i++) {
          const a = el.attributes.item(i)!;
          if (a.value.includes('{')) {
            if (a.value.includes('{{') || a.value.includes('}}')) caveats.push({ feature: 'escaped braces {{ }} in an attribute value template', file: m.file, line: lineOf(el) });
            for (const expr of avtExpressions(a.value)) checkExpression(expr, `attribute ${a.name}`, place, caveats);
          }
        }
      }
    }
  }
  return { namedTemplates, params, caveats };
}

function namedTemplatesAll(_mods: StylesheetModule[], names: Set<string>): Set<string> {
  return names;
}

function hasFallback(el: Element): boolean {
  for (let n = el.firstChild; n; n = n.nextSibling) if ((n as Element).namespaceURI === XSL_NS && (n as Element).localName === 'fallback') return true;
  return false;
}

function avtExpressions(v: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < v.length) {
    if (v[i] === '{') {
      if (v[i + 1] === '{') {
        i += 2;
        continue;
      }
      const end = v.indexOf('}', i);
      if (end < 0) break;
      out.push(v.slice(i + 1, end));
      i = end + 1;
    } else i++;
  }
  return out;
}

function checkExpression(expr: string, where: string, place: { file: string; line?: number; column?: number }, caveats: EngineCaveat[], pattern = false): void {
  if (/(^|[^\w.-])document\s*\(/.test(expr)) {
    throw new XmlForbiddenError(`${where}: document() is refused: a transform may read only its input document`, place);
  }
  try {
    xpath.xPathParse(pattern ? expr : expr);
  } catch (e) {
    const msg = (e as Error).message.replace(/^XPST\d+:\s*/, '');
    throw new TransformError('TRANSFORM_SYNTAX', `${where}: invalid XPath ${JSON.stringify(expr)}: ${msg}`, { ...place, cause: e });
  }
  if (/\bkey\s*\(/.test(expr)) caveats.push({ feature: 'key()', file: place.file, line: place.line });
  if (/\b[A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*\s*\(/.test(expr)) caveats.push({ feature: 'extension function call', file: place.file, line: place.line });
  if (/(^|[/[(\s])[A-Za-z_][\w.-]*:[A-Za-z_*]/.test(expr.replace(/[a-z-]+::/g, ''))) caveats.push({ feature: 'namespace prefix in an XPath name test', file: place.file, line: place.line });
  if (/[\uD800-\uDFFF]/.test(expr)) caveats.push({ feature: 'astral-plane characters in an expression', file: place.file, line: place.line });
}

function caveatsFor(el: Element, name: string, m: StylesheetModule, caveats: EngineCaveat[]): void {
  const line = lineOf(el);
  const add = (feature: string) => caveats.push({ feature, file: m.file, line });
  switch (name) {
    case 'attribute-set':
      add('xsl:attribute-set');
      break;
    case 'import':
    case 'apply-imports':
      add(`xsl:${name}`);
      break;
    case 'include':
      add('xsl:include (top-level variables and templates from included modules)');
      break;
    case 'key':
      add('xsl:key');
      break;
    case 'strip-space':
    case 'preserve-space':
      add(`xsl:${name}`);
      break;
    case 'output':
      if (el.getAttribute('method') === 'text' || el.getAttribute('method') === 'html') add(`xsl:output method="${el.getAttribute('method')}"`);
      break;
    case 'attribute': {
      // xsl:attribute overriding an attribute the literal parent already has
      const parent = el.parentNode as Element | null;
      const an = el.getAttribute('name') ?? '';
      if (parent && parent.namespaceURI !== XSL_NS && (an.includes('{') || parent.hasAttribute(an))) add('xsl:attribute overriding a literal attribute');
      break;
    }
    case 'apply-templates':
      add('xsl:apply-templates (position() and last() in the applied templates)');
      break;
    case 'number':
      add('xsl:number');
      break;
    case 'element':
      if (el.hasAttribute('namespace')) add('xsl:element with a namespace');
      break;
    case 'value-of':
    case 'text':
      if (el.getAttribute('disable-output-escaping') === 'yes') add('disable-output-escaping');
      break;
  }
}
