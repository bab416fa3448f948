import { createHash } from 'node:crypto';
import { NotRegularFileError, readRegularFileSync } from '../../fs/regular-file.js';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { TransformError, XmlForbiddenError, DomforgeError } from '../../errors.js';
import { parseXml, lineOf, columnOf, NODE, type Document, type Element, type Node } from '../../xml/parse.js';
import { XSL_NS } from './constants.js';
import { MAX_DEPTH, firstTooDeep, tooDeepMessage } from '../../xml/depth.js';
import { leavesFolder, readThrough, realpathThrough, type Unreadable } from '../links-out.js';

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
  /**
   * Files read by `document('literal')` inside the transforms folder, as the stylesheet
   * names them (resolved from the module that reads them). Part of the version: their text
   * is in `hash`, so an edit of one is a new version like an edit of an include.
   */
  documents: string[];
  /** SHA-256 over every module's text and every document() target's (or its absence). */
  hash: string;
  /** Folder includes and imports must stay inside. */
  root: string;
  /** Where a path of the stylesheet really is: its realpath, through `linksOut` when given (see LoadStylesheetOptions). */
  realpath: (path: string) => string;
}

export interface LoadStylesheetOptions {
  /** Folder that `xsl:include` / `xsl:import` may read from (default: the stylesheet's own folder). */
  root?: string;
  /** Main stylesheet text, when already read (the file is then only used for messages and resolution). */
  text?: string;
  /**
   * Symbolic links of the folder `root` stands for that `root` does not hold, by path
   * relative to `root`, each with the real path it points to (default none). A version
   * snapshot leaves out every link that points out of the transforms folder: through
   * these, an include or `document()` of one is refused as it is in the folder itself,
   * rather than read as a missing file.
   */
  linksOut?: Readonly<Record<string, string>>;
  /**
   * Files of the folder `root` stands for that `root` does not hold because of what they
   * are (a FIFO, a symbolic link to nothing), by path relative to `root` (default none): a version snapshot leaves
   * them out, and through these an include of one is refused as it is in the folder itself,
   * rather than read as a missing file.
   */
  unreadable?: Readonly<Record<string, Unreadable>>;
}

/**
 * Reads a stylesheet and every module it includes or imports, parsing each strictly.
 * Includes must be relative paths inside `root`; URLs, absolute paths and `..` escapes
 * are refused, so a transform can never read other files of the host.
 */
export function loadStylesheet(file: string, options: LoadStylesheetOptions = {}): Stylesheet {
  const root = resolve(options.root ?? dirname(file));
  const realpath = realpathThrough(root, options.linksOut);
  const read = readThrough(root, options.unreadable);
  // Where the folder really is: an include's real path is compared with it, so a folder
  // given through a symbolic link (`/tmp/x/link-to-transforms`) holds its own files.
  const realRoot = realpath(root);
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
      const real = realpath(target);
      const rel = relative(realRoot, real);
      if (leavesFolder(rel)) {
        throw new XmlForbiddenError(`xsl:${el.localName} href="${href}" is refused: it leaves the transforms folder ${root}`, place);
      }
      if (chain.includes(real)) throw new TransformError('TRANSFORM_SYNTAX', `xsl:${el.localName} href="${href}" includes itself (cycle through ${chain.join(' -> ')})`, place);
      let sub = modules.get(real);
      if (!sub) {
        let text: string;
        try {
          text = read(target, real);
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
  visit(main, [realpath(resolve(file))]);
  // Files read by document('...'): the static checks refuse any that leave the folder (links
  // resolved); those inside are hashed with the modules, and a missing one as missing, so
  // adding it later is a change too. Nothing outside the folder is read here.
  const documents = new Map<string, string>();
  for (const mod of [main, ...new Set(modules.values())]) {
    for (const el of allElements(mod.doc)) {
      for (let i = 0; i < el.attributes.length; i++) {
        for (const href of documentHrefs(el.attributes.item(i)!.value)) {
          if (href === '' || /^[a-z][a-z0-9+.-]*:/i.test(href) || isAbsolute(href)) continue;
          const target = resolve(dirname(mod.file), href);
          const real = realpath(target);
          const rel = relative(realRoot, real);
          if (leavesFolder(rel) || documents.has(real)) continue;
          documents.set(real, target);
          let text: string | undefined;
          try {
            text = read(target, real);
          } catch (e) {
            // A FIFO, socket or device is refused as an include of one is: xsltproc would open it
            // at every render and block until the sandbox's timeout (a FIFO) or read what it gives.
            if (e instanceof NotRegularFileError) {
              throw new TransformError('TRANSFORM_SYNTAX', `document('${href}'): cannot read ${target}: ${e.message}`, { file: mod.file, line: lineOf(el), column: columnOf(el), cause: e });
            }
            text = undefined; // missing (or a link to nothing): read as an empty node-set, as libxslt reads it
          }
          hash.update('\0document()\0' + rel + '\0' + (text === undefined ? '\0missing' : '\0' + text));
        }
      }
    }
  }
  return { main, modules, documents: [...documents.values()], hash: hash.digest('hex'), root, realpath };
}

/** The literal arguments of the `document('...')` calls in an XPath expression or attribute value. */
export function documentHrefs(value: string): string[] {
  if (!value.includes('document')) return [];
  return [...value.matchAll(/(^|[^\w.:-])document\s*\(\s*("[^"]*"|'[^']*')\s*\)/g)].map((m) => m[2]!.slice(1, -1));
}

function readText(file: string): string {
  try {
    return readRegularFileSync(file);
  } catch (e) {
    throw new TransformError('TRANSFORM_SYNTAX', `cannot read stylesheet: ${(e as Error).message}`, { file, cause: e });
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
  const deep = firstTooDeep(root, MAX_STYLESHEET_DEPTH);
  if (deep) throw new TransformError('TRANSFORM_SYNTAX', tooDeepMessage(deep, MAX_STYLESHEET_DEPTH), { file, line: lineOf(deep), column: columnOf(deep) });
  return doc;
}

/** libxml2's default limit on element nesting below the root (see MAX_DEPTH): xsltproc refuses a stylesheet nested deeper. */
export const MAX_STYLESHEET_DEPTH = MAX_DEPTH;

export function topLevel(doc: Document): Element[] {
  const out: Element[] = [];
  for (let n = doc.documentElement!.firstChild; n; n = n.nextSibling) if (n.nodeType === NODE.ELEMENT) out.push(n as Element);
  return out;
}

/** Every element of a document in document order (iteratively: any depth of nesting). */
export function allElements(doc: Document): Element[] {
  const out: Element[] = [];
  const root = doc.documentElement!;
  const firstElement = (from: Node | null): Element | null => {
    for (let c = from; c; c = c.nextSibling) if (c.nodeType === NODE.ELEMENT) return c as Element;
    return null;
  };
  let el: Element | null = root;
  while (el) {
    out.push(el);
    let next = firstElement(el.firstChild);
    for (let up: Node | null = el; !next && up && up !== root; up = up.parentNode) next = firstElement(up.nextSibling);
    el = next;
  }
  return out;
}
