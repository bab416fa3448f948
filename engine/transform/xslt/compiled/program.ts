import { realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { TransformError } from '../../../errors.js';
import type { Element } from '../../../xml/parse.js';
import { XSL_NS } from '../constants.js';
import { allElements, topLevel, type Stylesheet, type StylesheetModule } from '../stylesheet.js';
import type { Exec, Value } from './values.js';
import { compilePattern } from './patterns.js';
import { compileXPath } from './xpath-compile.js';
import { InstructionCompiler, VarScope, childElements, type SheetContext } from './instructions.js';
import { sortRules, type GlobalVar, type KeyDef, type Program, type Rule, type Template, type TemplateParam } from './runtime.js';
import type { OutputSettings } from './serialize.js';
import { unsupported, placeOf } from './refuse.js';
import { siteOf } from './fault.js';

/** A stylesheet compiled to closures, plus what rendering needs around it. */
export interface CompiledProgram {
  program: Program;
  output: OutputSettings;
  /** Whether xsl:output names a method (without one, an `html` root element would switch libxslt to HTML output). */
  methodGiven: boolean;
  /** xsl:strip-space / xsl:preserve-space as a rule on element names (undefined: nothing is stripped). */
  strip?: (name: string) => boolean;
}

interface Decl {
  el: Element;
  mod: StylesheetModule;
  precedence: number;
}

/** Top-level declarations in import precedence order: imports before the module importing them, includes in place. */
function declarations(sheet: Stylesheet): Decl[] {
  const out: Decl[] = [];
  let precedence = 0;
  const lookup = (mod: StylesheetModule, href: string): StylesheetModule => {
    const target = resolve(dirname(mod.file), href);
    let real = target;
    try {
      real = realpathSync(target);
    } catch {
      /* resolved by href below */
    }
    const m = sheet.modules.get(real) ?? sheet.modules.get(href);
    if (!m) throw new TransformError('TRANSFORM_SYNTAX', `xsl:include/import href="${href}" was not loaded`, { file: mod.file });
    return m;
  };
  const visit = (mod: StylesheetModule) => {
    const els = topLevel(mod.doc);
    for (const el of els) if (el.namespaceURI === XSL_NS && el.localName === 'import') visit(lookup(mod, el.getAttribute('href') ?? ''));
    const mine = ++precedence;
    const inline = (m: StylesheetModule, list: Element[]) => {
      for (const el of list) {
        if (el.namespaceURI !== XSL_NS) continue;
        if (el.localName === 'import') {
          if (m !== mod) throw unsupported('xsl:import inside an included module', placeOf(m.file, el));
          continue;
        }
        if (el.localName === 'include') {
          const inc = lookup(m, el.getAttribute('href') ?? '');
          inline(inc, topLevel(inc.doc));
          continue;
        }
        out.push({ el, mod: m, precedence: mine });
      }
    };
    inline(mod, els);
  };
  visit(sheet.main);
  return out;
}

/** Compiles every module of a stylesheet; throws TRANSFORM_UNSUPPORTED naming the first construct the engine does not run exactly. */
export function compileProgram(sheet: Stylesheet): CompiledProgram {
  const mods = [sheet.main, ...new Set(sheet.modules.values())];
  for (const m of mods) {
    for (const el of allElements(m.doc)) {
      for (let i = 0; i < el.attributes.length; i++) {
        const a = el.attributes.item(i)!;
        if ((a.name === 'xmlns' || a.name.startsWith('xmlns:')) && a.value !== XSL_NS) {
          throw unsupported(`the namespace declaration ${a.name}="${a.value}"`, placeOf(m.file, el));
        }
        if (a.name === 'xml:space') throw unsupported('xml:space in the stylesheet', placeOf(m.file, el));
      }
    }
    const root = m.doc.documentElement!;
    const version = root.getAttribute('version') ?? '1.0';
    if (version !== '1.0') throw unsupported(`version="${version}" (forwards-compatible processing)`, placeOf(m.file, root));
    if (root.hasAttribute('extension-element-prefixes')) throw unsupported('extension-element-prefixes', placeOf(m.file, root));
  }
  const decls = declarations(sheet);

  // Globals: the one with the highest import precedence wins; two at the same precedence are refused.
  const globalDecls = new Map<string, Decl>();
  for (const d of decls) {
    if (d.el.localName !== 'variable' && d.el.localName !== 'param') continue;
    const name = d.el.getAttribute('name') ?? '';
    const prev = globalDecls.get(name);
    if (prev && prev.precedence === d.precedence) throw unsupported(`two global variables named $${name}`, placeOf(d.mod.file, d.el));
    if (!prev || d.precedence > prev.precedence) globalDecls.set(name, d);
  }
  const globalNames = new Map<string, (x: Exec) => Value>();
  const chosen = [...globalDecls.values()];
  chosen.forEach((d, i) => globalNames.set(d.el.getAttribute('name')!, (x) => x.rt.global(i)));
  const rootScope = VarScope.root(globalNames);

  const keys = new Set<string>();
  for (const d of decls) if (d.el.localName === 'key') keys.add(d.el.getAttribute('name') ?? '');

  const named = new Map<string, Template>();
  const calls: SheetContext['calls'] = [];
  const compilers = new Map<string, InstructionCompiler>();
  const compilerFor = (mod: StylesheetModule) => {
    let c = compilers.get(mod.file);
    if (!c) compilers.set(mod.file, (c = new InstructionCompiler({ file: mod.file, keys, named, calls })));
    return c;
  };

  const globals: GlobalVar[] = chosen.map((d) => {
    const scope = rootScope.body();
    const value = compilerFor(d.mod).variableValue(d.el, scope);
    return { name: d.el.getAttribute('name')!, isParam: d.el.localName === 'param', slots: scope.slots.n, value, place: siteOf(d.mod.file, d.el) };
  });

  const modes = new Map<string, Rule[]>();
  const keyDefs = new Map<string, KeyDef[]>();
  let index = 0;
  let output: OutputSettings = { method: 'xml', indent: false, omitDeclaration: false };
  let methodGiven = false;
  const strip = new Set<string>();
  const preserve = new Set<string>();
  let outputPrecedence = -1;

  for (const d of decls) {
    const { el, mod } = d;
    const place = placeOf(mod.file, el);
    const ic = compilerFor(mod);
    switch (el.localName) {
      case 'template': {
        const t = compileTemplate(ic, el, rootScope, d.precedence, mod.file);
        const name = el.getAttribute('name');
        if (name) {
          if (name.includes(':')) throw unsupported('a template name with a namespace prefix', place);
          const prev = named.get(name);
          if (prev && prev.precedence === d.precedence) throw unsupported(`two templates named ${name}`, place);
          if (!prev || d.precedence > prev.precedence) named.set(name, t);
        }
        const match = el.getAttribute('match');
        if (match !== null) {
          const mode = ic.mode(el);
          const pr = el.getAttribute('priority');
          const priority = pr === null ? undefined : Number(pr);
          if (priority !== undefined && !Number.isFinite(priority)) throw unsupported(`priority="${pr}"`, place);
          const alts = compilePattern(match, { variable: () => undefined, keys, place }, 'xsl:template/@match');
          const list = modes.get(mode) ?? [];
          for (const alt of alts) list.push({ alt, template: t, precedence: d.precedence, priority: priority ?? alt.priority, index: index++ });
          modes.set(mode, list);
        } else if (el.hasAttribute('mode') || el.hasAttribute('priority')) {
          // mode and priority without match are ignored by XSLT; nothing to do.
        }
        break;
      }
      case 'variable':
      case 'param':
      case 'include':
      case 'import':
        break;
      case 'key': {
        const name = el.getAttribute('name') ?? '';
        if (name.includes(':')) throw unsupported('a key name with a namespace prefix', place);
        const match = compilePattern(el.getAttribute('match') ?? '', { variable: () => undefined, keys, place }, 'xsl:key/@match');
        const use = compileXPath(el.getAttribute('use') ?? '', { variable: () => undefined, keys, place }, 'xsl:key/@use');
        keyDefs.set(name, [...(keyDefs.get(name) ?? []), { name, match, use }]);
        break;
      }
      case 'output': {
        if (d.precedence < outputPrecedence) break;
        outputPrecedence = d.precedence;
        for (let i = 0; i < el.attributes.length; i++) {
          const a = el.attributes.item(i)!;
          const v = a.value;
          switch (a.name) {
            case 'method':
              if (v !== 'xml' && v !== 'text') throw unsupported(`xsl:output method="${v}"`, place);
              output = { ...output, method: v };
              methodGiven = true;
              break;
            case 'indent':
              output = { ...output, indent: v === 'yes' };
              break;
            case 'omit-xml-declaration':
              output = { ...output, omitDeclaration: v === 'yes' };
              break;
            case 'encoding':
              if (v.toUpperCase() !== 'UTF-8') throw unsupported(`xsl:output encoding="${v}"`, place);
              output = { ...output, encoding: v };
              break;
            case 'standalone':
              output = { ...output, standalone: v };
              break;
            case 'version':
              if (v !== '1.0') throw unsupported(`xsl:output version="${v}"`, place);
              break;
            case 'media-type':
              break;
            default:
              if (!a.name.startsWith('xmlns')) throw unsupported(`xsl:output ${a.name}`, place);
          }
        }
        break;
      }
      case 'strip-space':
      case 'preserve-space':
        for (const t of (el.getAttribute('elements') ?? '').split(/\s+/).filter(Boolean)) {
          if (t.includes(':')) throw unsupported(`xsl:${el.localName} elements="${t}"`, place);
          (el.localName === 'strip-space' ? strip : preserve).add(t);
        }
        break;
      default:
        throw unsupported(`xsl:${el.localName}`, place);
    }
  }
  for (const c of calls) if (!named.has(c.name)) throw new TransformError('TRANSFORM_SYNTAX', `xsl:call-template name="${c.name}": no template of that name`, c.place);
  for (const [name, list] of modes) {
    sortRules(list);
    modes.set(name, list);
  }
  for (const n of strip) if (preserve.has(n)) throw unsupported(`both xsl:strip-space and xsl:preserve-space for ${n}`, { file: sheet.main.file });
  let stripRule: CompiledProgram['strip'];
  if (strip.size) {
    const all = strip.has('*') && !preserve.has('*');
    stripRule = (name) => (strip.has(name) ? true : preserve.has(name) ? false : all);
  }
  return { program: { modes, named, globals, keys: keyDefs, candidates: new Map() }, output, methodGiven, strip: stripRule };
}

function compileTemplate(ic: InstructionCompiler, el: Element, rootScope: VarScope, precedence: number, file: string): Template {
  let scope = rootScope.body();
  const params: TemplateParam[] = [];
  const paramEls = new Set<Element>();
  for (const c of childElements(el)) {
    if (c.namespaceURI !== XSL_NS || c.localName !== 'param') break;
    const value = ic.variableValue(c, scope);
    const bound = scope.bind(c.getAttribute('name') ?? '', placeOf(file, c));
    scope = bound.scope;
    params.push({ name: c.getAttribute('name')!, slot: bound.slot, value, site: siteOf(file, c) });
    paramEls.add(c);
  }
  const body = ic.sequence(el, scope, (c) => paramEls.has(c));
  return {
    name: el.getAttribute('name') ?? undefined,
    params,
    slots: scope.slots.n,
    body,
    place: siteOf(file, el),
    precedence,
  };
}
