import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { readRegularFileSync } from '../../fs/regular-file.js';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { TransformError, XmlForbiddenError, DomforgeError } from '../../errors.js';
import { parseXml, lineOf, columnOf, NODE, type Document, type Element } from '../../xml/parse.js';
import { XSL_NS } from './constants.js';

/** One file of a stylesheet: the main one or an included/imported module. */
export interface StylesheetModule {
  file: string;
  /** The href it was reached by (undefined for the main file). */
  href?: string;
  text: string;
  doc: Document;
}

export interface Stylesheet {
  main: StylesheetModule;
  /** Included and imported modules, each once, keyed by the href as written and by resolved path. */
  modules: Map<string, StylesheetModule>;
  /** SHA-256 over every module's text. */
  hash: string;
  /** Folder includes and imports must stay inside. */
  root: string;
}

export interface LoadStylesheetOptions {
  /** Folder that `xsl:include` / `xsl:import` may read from (default: the stylesheet's own folder). */
  root?: string;
  /** Main stylesheet text, when already read (the file is then only used for messages and resolution). */
  text?: string;
}

/**
 * Reads a stylesheet and every module it includes or imports, parsing each strictly.
 * Includes must be relative paths inside `root`; URLs, absolute paths and `..` escapes
 * are refused, so a transform can never read other files of the host.
 */
export function loadStylesheet(file: string, options: LoadStylesheetOptions = {}): Stylesheet {
  const root = resolve(options.root ?? dirname(file));
  const mainText = options.text ?? readText(file);
  const main: StylesheetModule = { file, text: mainText, doc: parseStylesheetXml(mainText, file) };
  const modules = new Map<string, StylesheetModule>();
  const hash = createHash('sha256');
  hash.update(mainText);
  const visit = (mod: StylesheetModule, chain: string[]) => {
    for (const el of topLevel(mod.doc)) {
      if (el.namespaceURI !== XSL_NS || (el.localName !== 'include' && el.localName !== 'import')) continue;
      const href = el.getAttribute('href') ?? '';
      const place = { file: mod.file, line: lineOf(el), column: columnOf(el) };
      if (!href) throw new TransformError('TRANSFORM_SYNTAX', `xsl:${el.localName} without href`, place);
      if (/^[a-z][a-z0-9+.-]*:/i.test(href) || isAbsolute(href)) {
        throw new XmlForbiddenError(`xsl:${el.localName} href="${href}" is refused: only relative paths inside ${root} may be included`, place);
      }
      const target = resolve(dirname(mod.file), href);
      const real = safeRealpath(target);
      const rel = relative(root, real);
      if (rel.startsWith('..') || isAbsolute(rel)) {
        throw new XmlForbiddenError(`xsl:${el.localName} href="${href}" is refused: it leaves the transforms folder ${root}`, place);
      }
      if (chain.includes(real)) throw new TransformError('TRANSFORM_SYNTAX', `xsl:${el.localName} href="${href}" includes itself (cycle through ${chain.join(' -> ')})`, place);
      let sub = modules.get(real);
      if (!sub) {
        let text: string;
        try {
          text = readRegularFileSync(real);
        } catch (e) {
          throw new TransformError('TRANSFORM_SYNTAX', `xsl:${el.localName} href="${href}": cannot read ${target}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { ...place, cause: e });
        }
        sub = { file: target, href, text, doc: parseStylesheetXml(text, target) };
        modules.set(real, sub);
        hash.update('\0' + rel + '\0' + text);
        visit(sub, [...chain, real]);
      }
      modules.set(href, sub);
    }
  };
  visit(main, [safeRealpath(resolve(file))]);
  return { main, modules, hash: hash.digest('hex'), root };
}

function readText(file: string): string {
  try {
    return readRegularFileSync(file);
  } catch (e) {
    throw new TransformError('TRANSFORM_SYNTAX', `cannot read stylesheet: ${(e as Error).message}`, { file, cause: e });
  }
}

function safeRealpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** Strict parse of a stylesheet: XML errors become TRANSFORM_SYNTAX with file:line:col. */
export function parseStylesheetXml(text: string, file: string): Document {
  let doc: Document;
  try {
    doc = parseXml(text, { file });
  } catch (e) {
    if (e instanceof XmlForbiddenError) throw e;
    const d = e as DomforgeError;
    throw new TransformError('TRANSFORM_SYNTAX', `stylesheet is not well-formed XML: ${d.shortMessage ?? d.message}`, { file, line: d.line, column: d.column, cause: e });
  }
  const root = doc.documentElement!;
  if (root.namespaceURI !== XSL_NS || (root.localName !== 'stylesheet' && root.localName !== 'transform')) {
    throw new TransformError('TRANSFORM_SYNTAX', `not an XSLT stylesheet: the root element is <${root.nodeName}> (expected xsl:stylesheet in namespace ${XSL_NS})`, { file, line: lineOf(root), column: columnOf(root) });
  }
  return doc;
}

export function topLevel(doc: Document): Element[] {
  const out: Element[] = [];
  for (let n = doc.documentElement!.firstChild; n; n = n.nextSibling) if (n.nodeType === NODE.ELEMENT) out.push(n as Element);
  return out;
}

/** Every element of a document in document order. */
export function allElements(doc: Document): Element[] {
  const out: Element[] = [];
  const walk = (el: Element) => {
    out.push(el);
    for (let n = el.firstChild; n; n = n.nextSibling) if (n.nodeType === NODE.ELEMENT) walk(n as Element);
  };
  walk(doc.documentElement!);
  return out;
}
