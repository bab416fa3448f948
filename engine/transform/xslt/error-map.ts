import { TransformError, type TransformErrorCode } from '../../errors.js';
import { lineOf, columnOf, type Element } from '../../xml/parse.js';
import { XSL_NS } from './constants.js';
import { allElements, type Stylesheet, type StylesheetModule } from './stylesheet.js';

interface Found {
  mod: StylesheetModule;
  el: Element;
}

function modulesOf(sheet: Stylesheet): StylesheetModule[] {
  return [sheet.main, ...new Set(sheet.modules.values())];
}

/** The first element (in any module) whose attributes contain `needle` (a RegExp). */
export function findByAttribute(sheet: Stylesheet, needle: RegExp): Found | undefined {
  for (const mod of modulesOf(sheet)) {
    for (const el of allElements(mod.doc)) {
      for (let i = 0; i < el.attributes.length; i++) if (needle.test(el.attributes.item(i)!.value)) return { mod, el };
    }
  }
  return undefined;
}

/** The `xsl:message terminate="yes"` element that most likely produced `message`. */
export function findTerminatingMessage(sheet: Stylesheet, message: string): Found | undefined {
  const candidates: Found[] = [];
  for (const mod of modulesOf(sheet)) {
    for (const el of allElements(mod.doc)) {
      if (el.namespaceURI === XSL_NS && el.localName === 'message' && el.getAttribute('terminate') === 'yes') candidates.push({ mod, el });
    }
  }
  let best: Found | undefined;
  let bestScore = -1;
  for (const c of candidates) {
    // Score by how much of the element's literal text appears in the message.
    const literal: string[] = [];
    const walk = (n: Element) => {
      for (let k = n.firstChild; k; k = k.nextSibling) {
        if (k.nodeType === 3) literal.push(...(k.nodeValue ?? '').split(/\s+/).filter((w) => w.length > 2));
        else if (k.nodeType === 1) walk(k as Element);
      }
    };
    walk(c.el);
    const score = literal.filter((w) => message.includes(w)).length;
    if (score > bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}

/** Turns an error thrown by an engine at render time into a TransformError with the stylesheet's file:line. */
export function mapRuntimeError(sheet: Stylesheet, e: unknown, engine: string): TransformError {
  if (e instanceof TransformError) return e;
  const raw = (e as Error)?.message ?? String(e);
  const msg = raw.split('\n')[0]!;
  let code: TransformErrorCode = 'TRANSFORM_RUNTIME';
  let found: Found | undefined;
  let text = msg;
  let m: RegExpExecArray | null;
  if ((m = /Unresolved variable reference: \$?([\w.-]+)/.exec(msg))) {
    found = findByAttribute(sheet, new RegExp(`\\$${m[1]!.replace(/[.-]/g, '\\$&')}(?![\\w.-])`));
    text = `undefined variable $${m[1]}`;
  } else if ((m = /Unresolved function reference: ([\w.:-]+)/.exec(msg))) {
    found = findByAttribute(sheet, new RegExp(`(^|[^\\w.-])${m[1]!.replace(/[.-]/g, '\\$&')}\\s*\\(`));
    text = `unknown XPath function ${m[1]}()`;
  } else if (/Maximum call stack|too much recursion/i.test(msg)) {
    text = 'the transform recursed too deeply (infinite recursion?)';
  }
  return new TransformError(code, `${engine}: ${text}`, {
    file: found?.mod.file ?? sheet.main.file,
    line: found ? lineOf(found.el) : undefined,
    column: found ? columnOf(found.el) : undefined,
    cause: e,
  });
}

export function terminateError(sheet: Stylesheet, message: string, engine: string): TransformError {
  const found = findTerminatingMessage(sheet, message);
  return new TransformError('TRANSFORM_MESSAGE', `the transform stopped: ${message.trim()}`, {
    file: found?.mod.file ?? sheet.main.file,
    line: found ? lineOf(found.el) : undefined,
    column: found ? columnOf(found.el) : undefined,
    details: [`(xsl:message terminate="yes", ${engine})`],
  });
}
