import { TransformError } from '../../../errors.js';
import { NODE, lineOf, type Element, type Node } from '../../../xml/parse.js';
import { XSL_NS } from '../constants.js';
import { XNode, ROOT, ELEMENT, ATTRIBUTE, TEXT, COMMENT, PI, appendChild } from './tree.js';
import { Rtf, isNodeSet, toBool, toStr, toNum, type Exec, type Value, type Expr } from './values.js';
import { compileXPath, type Scope } from './xpath-compile.js';
import { addAttribute, addText, applyTemplates, copyNode, copyValue, fragment, invoke, type Body, type Run, type Template } from './runtime.js';
import { unsupported, runtimeError, placeOf, type Place } from './refuse.js';
import { siteOf, type Site } from './fault.js';

const WS_ONLY = /^[ \t\r\n]*$/;
const NCNAME = /^[A-Za-z_\u00C0-\uFFFF][\w.\u00B7-\uFFFF-]*$/;

/** Lexical variable scope of a template (or global variable) body: names to frame slots. */
export class VarScope {
  private constructor(
    private readonly names: Map<string, (x: Exec) => Value>,
    private readonly locals: Set<string>,
    readonly slots: { n: number },
  ) {}

  static root(globals: Map<string, (x: Exec) => Value>): VarScope {
    return new VarScope(globals, new Set(), { n: 0 });
  }

  /** A new body (template, global variable): fresh slots, globals still visible. */
  body(): VarScope {
    return new VarScope(this.names, new Set(), { n: 0 });
  }

  get(name: string): ((x: Exec) => Value) | undefined {
    return this.names.get(name);
  }

  /** Binds a local variable for what follows; returns the new scope and its slot. */
  bind(name: string, place: Place): { scope: VarScope; slot: number } {
    if (this.locals.has(name)) throw unsupported(`a local variable $${name} that shadows another local variable of the same name`, place);
    const slot = this.slots.n++;
    const names = new Map(this.names);
    names.set(name, (x) => x.frame[slot]!);
    const locals = new Set(this.locals);
    locals.add(name);
    return { scope: new VarScope(names, locals, this.slots), slot };
  }
}

/** Stylesheet-wide facts an instruction compiler needs. */
export interface SheetContext {
  file: string;
  keys: Set<string>;
  named: Map<string, Template>;
  /** Named templates referenced (checked once every module is compiled). */
  calls: { name: string; place: Place }[];
}

export class InstructionCompiler {
  constructor(private readonly sheet: SheetContext) {}

  private place(el: Element): Place {
    return placeOf(this.sheet.file, el);
  }

  private site(el: Element): Site {
    return siteOf(this.sheet.file, el);
  }

  expr(src: string, scope: VarScope, el: Element, where: string): Expr {
    const s: Scope = { variable: (n) => scope.get(n), keys: this.sheet.keys, place: this.place(el) };
    return compileXPath(src, s, where);
  }

  /** An attribute value template: literal text with `{expr}` parts (`{{` and `}}` are braces). */
  avt(src: string, scope: VarScope, el: Element, where: string): (n: XNode, p: number, s: number, x: Run) => string {
    if (!src.includes('{') && !src.includes('}')) return () => src;
    const parts: (string | Expr)[] = [];
    let text = '';
    let i = 0;
    while (i < src.length) {
      const c = src[i]!;
      if ((c === '{' || c === '}') && src[i + 1] === c) {
        text += c;
        i += 2;
      } else if (c === '}') {
        throw new TransformError('TRANSFORM_SYNTAX', `${where}: a lone } in the attribute value template ${JSON.stringify(src)}`, this.place(el));
      } else if (c === '{') {
        let j = i + 1;
        let quote: string | undefined;
        for (; j < src.length; j++) {
          const d = src[j]!;
          if (quote) {
            if (d === quote) quote = undefined;
          } else if (d === '"' || d === "'") quote = d;
          else if (d === '}') break;
        }
        if (j >= src.length) throw new TransformError('TRANSFORM_SYNTAX', `${where}: an unclosed { in the attribute value template ${JSON.stringify(src)}`, this.place(el));
        if (text) parts.push(text);
        text = '';
        parts.push(this.expr(src.slice(i + 1, j), scope, el, where));
        i = j + 1;
      } else {
        text += c;
        i++;
      }
    }
    if (text) parts.push(text);
    if (parts.length === 1 && typeof parts[0] !== 'string') {
      const e = parts[0]!;
      return (n, p, s, x) => toStr(e(n, p, s, x));
    }
    return (n, p, s, x) => {
      let r = '';
      for (const part of parts) r += typeof part === 'string' ? part : toStr(part(n, p, s, x));
      return r;
    };
  }

  /** The children of `parent` as one body; xsl:variable binds for the siblings after it. */
  sequence(parent: Element, scope: VarScope, skip: (el: Element) => boolean = () => false): Body {
    const bodies: Body[] = [];
    const preserve = parent.namespaceURI === XSL_NS && parent.localName === 'text';
    for (let k: Node | null = parent.firstChild; k; k = k.nextSibling) {
      if (k.nodeType === NODE.TEXT || k.nodeType === NODE.CDATA) {
        const v = k.nodeValue ?? '';
        if (!preserve && WS_ONLY.test(v)) continue;
        bodies.push((_n, _p, _s, x) => addText(x, v));
        continue;
      }
      if (k.nodeType !== NODE.ELEMENT) continue;
      const el = k as Element;
      if (skip(el)) continue;
      if (el.namespaceURI === XSL_NS && el.localName === 'variable') {
        const value = this.variableValue(el, scope);
        const bound = scope.bind(el.getAttribute('name') ?? '', this.place(el));
        const slot = bound.slot;
        scope = bound.scope;
        const site = this.site(el);
        bodies.push((n, p, s, x) => {
          try {
            x.frame[slot] = value(n, p, s, x);
          } catch (e) {
            x.rt.fault.at(e, site);
            throw e;
          }
        });
        continue;
      }
      bodies.push(this.instruction(el, scope));
    }
    if (bodies.length === 0) return () => undefined;
    if (bodies.length === 1) return bodies[0]!;
    if (bodies.length === 2) {
      const [a, b] = bodies as [Body, Body];
      return (n, p, s, x) => {
        a(n, p, s, x);
        b(n, p, s, x);
      };
    }
    return (n, p, s, x) => {
      for (let i = 0; i < bodies.length; i++) bodies[i]!(n, p, s, x);
    };
  }

  /** The value of xsl:variable, xsl:param or xsl:with-param: select, body (a result tree fragment), or ''. */
  variableValue(el: Element, scope: VarScope): (n: XNode, p: number, s: number, x: Run) => Value {
    const name = el.getAttribute('name') ?? '';
    if (!name || name.includes(':')) throw unsupported(`xsl:${el.localName} name="${name}"`, this.place(el));
    const hasBody = [...childNodes(el)].some((k) => k.nodeType === NODE.ELEMENT || ((k.nodeType === NODE.TEXT || k.nodeType === NODE.CDATA) && !WS_ONLY.test(k.nodeValue ?? '')));
    if (el.hasAttribute('select')) {
      if (hasBody) throw unsupported(`xsl:${el.localName} with both select and content`, this.place(el));
      const e = this.expr(el.getAttribute('select')!, scope, el, `xsl:${el.localName}/@select`);
      return e;
    }
    if (!hasBody) return () => '';
    const body = this.sequence(el, scope);
    return (n, p, s, x) => fragment(body, n, p, s, x);
  }

  private withParams(el: Element, scope: VarScope): ((n: XNode, p: number, s: number, x: Run) => Map<string, Value>) | undefined {
    const ps = childElements(el).filter((c) => c.namespaceURI === XSL_NS && c.localName === 'with-param');
    if (!ps.length) return undefined;
    const compiled = ps.map((p) => ({ name: p.getAttribute('name') ?? '', value: this.variableValue(p, scope), site: this.site(p) }));
    // Every with-param is evaluated, in the caller's context, before any parameter is bound.
    return (n, p, s, x) => {
      const m = new Map<string, Value>();
      let i = 0;
      try {
        for (; i < compiled.length; i++) m.set(compiled[i]!.name, compiled[i]!.value(n, p, s, x));
      } catch (e) {
        x.rt.fault.at(e, compiled[i]!.site);
        throw e;
      }
      return m;
    };
  }

  private sortKeys(el: Element, scope: VarScope): ((nodes: XNode[], x: Run) => XNode[]) | undefined {
    const sorts = childElements(el).filter((c) => c.namespaceURI === XSL_NS && c.localName === 'sort');
    if (!sorts.length) return undefined;
    const keys = sorts.map((s) => {
      for (const a of ['data-type', 'order', 'case-order', 'lang']) {
        if ((s.getAttribute(a) ?? '').includes('{')) throw unsupported(`xsl:sort ${a} as an attribute value template`, this.place(s));
      }
      if (s.hasAttribute('case-order')) throw unsupported('xsl:sort case-order', this.place(s));
      if (s.hasAttribute('lang')) throw unsupported('xsl:sort lang', this.place(s));
      const type = s.getAttribute('data-type') ?? 'text';
      if (type !== 'text' && type !== 'number') throw unsupported(`xsl:sort data-type="${type}"`, this.place(s));
      const order = s.getAttribute('order') ?? 'ascending';
      if (order !== 'ascending' && order !== 'descending') throw unsupported(`xsl:sort order="${order}"`, this.place(s));
      return { select: this.expr(s.getAttribute('select') ?? '.', scope, s, 'xsl:sort/@select'), number: type === 'number', desc: order === 'descending' };
    });
    return (nodes, x) => {
      const size = nodes.length;
      const rows = nodes.map((n, i) => ({ n, i, k: keys.map((k) => (k.number ? toNum(k.select(n, i + 1, size, x)) : toStr(k.select(n, i + 1, size, x)))) }));
      rows.sort((a, b) => {
        for (let j = 0; j < keys.length; j++) {
          const c = keys[j]!.number ? compareNumbers(a.k[j] as number, b.k[j] as number) : compareCodePoints(a.k[j] as string, b.k[j] as string);
          if (c) return keys[j]!.desc ? -c : c;
        }
        return a.i - b.i;
      });
      return rows.map((r) => r.n);
    };
  }

  private nodeSetOf(e: Expr, el: Element, what: string): (n: XNode, p: number, s: number, x: Run) => XNode[] {
    const place = this.place(el);
    return (n, p, s, x) => {
      const v = e(n, p, s, x);
      if (isNodeSet(v)) return v;
      if (v instanceof Rtf) throw unsupported(`a result tree fragment as the node-set of ${what}`, place);
      throw runtimeError(`${what}: the select expression gives a ${typeof v}, not a node-set`, place);
    };
  }

  /** One instruction or literal result element. */
  instruction(el: Element, scope: VarScope): Body {
    const place = this.place(el);
    // Every closure that evaluates an expression or builds a node notes its site when a
    // RangeError (stack overflow, string too long) passes (see FaultTrace). The try/catch is
    // written into each closure, not added by a wrapper function: a wrapper would be one more
    // stack frame per instruction, and the deepest recursion that renders would shrink.
    const site = this.site(el);
    if (el.namespaceURI !== XSL_NS) return this.literal(el, scope);
    const attr = (name: string) => el.getAttribute(name);
    const name = el.localName!;
    switch (name) {
      case 'value-of': {
        if (attr('disable-output-escaping') === 'yes') throw unsupported('disable-output-escaping="yes"', place);
        const e = this.expr(attr('select') ?? '', scope, el, 'xsl:value-of/@select');
        return (n, p, s, x) => {
          try {
            addText(x, toStr(e(n, p, s, x)));
          } catch (err) {
            x.rt.fault.at(err, site);
            throw err;
          }
        };
      }
      case 'text': {
        if (attr('disable-output-escaping') === 'yes') throw unsupported('disable-output-escaping="yes"', place);
        if (childElements(el).length) throw unsupported('an element inside xsl:text', place);
        const v = el.textContent ?? '';
        return (_n, _p, _s, x) => addText(x, v);
      }
      case 'if': {
        const test = this.expr(attr('test') ?? '', scope, el, 'xsl:if/@test');
        const body = this.sequence(el, scope);
        return (n, p, s, x) => {
          try {
            if (toBool(test(n, p, s, x))) body(n, p, s, x);
          } catch (e) {
            x.rt.fault.at(e, site);
            throw e;
          }
        };
      }
      case 'choose': {
        const branches: { test?: Expr; body: Body }[] = [];
        for (const c of childElements(el)) {
          if (c.namespaceURI !== XSL_NS || (c.localName !== 'when' && c.localName !== 'otherwise')) throw unsupported(`<${c.nodeName}> inside xsl:choose`, this.place(c));
          branches.push({ test: c.localName === 'when' ? this.expr(c.getAttribute('test') ?? '', scope, c, 'xsl:when/@test') : undefined, body: this.sequence(c, scope) });
        }
        return (n, p, s, x) => {
          try {
            for (const b of branches) {
              if (!b.test || toBool(b.test(n, p, s, x))) {
                b.body(n, p, s, x);
                return;
              }
            }
          } catch (e) {
            x.rt.fault.at(e, site);
            throw e;
          }
        };
      }
      case 'for-each': {
        const select = this.nodeSetOf(this.expr(attr('select') ?? '', scope, el, 'xsl:for-each/@select'), el, 'xsl:for-each');
        const sort = this.sortKeys(el, scope);
        const body = this.sequence(el, scope, (c) => c.namespaceURI === XSL_NS && c.localName === 'sort');
        return (n, p, s, x) => {
          try {
            let nodes = select(n, p, s, x);
            if (sort && nodes.length > 1) nodes = sort(nodes, x);
            const size = nodes.length;
            for (let i = 0; i < size; i++) body(nodes[i]!, i + 1, size, x);
          } catch (e) {
            x.rt.fault.at(e, site);
            throw e;
          }
        };
      }
      case 'apply-templates': {
        const mode = this.mode(el);
        const sel = attr('select');
        const select = sel === null ? (n: XNode) => n.children : this.nodeSetOf(this.expr(sel, scope, el, 'xsl:apply-templates/@select'), el, 'xsl:apply-templates');
        const sort = this.sortKeys(el, scope);
        const params = this.withParams(el, scope);
        for (const c of childElements(el)) if (c.namespaceURI !== XSL_NS || (c.localName !== 'sort' && c.localName !== 'with-param')) throw unsupported(`<${c.nodeName}> inside xsl:apply-templates`, this.place(c));
        return (n, p, s, x) => {
          try {
            let nodes = select(n, p, s, x);
            if (sort && nodes.length > 1) nodes = sort(nodes, x);
            applyTemplates(nodes, mode, x, params?.(n, p, s, x));
          } catch (e) {
            x.rt.fault.call(e, site);
            throw e;
          }
        };
      }
      case 'call-template': {
        const target = attr('name') ?? '';
        const params = this.withParams(el, scope);
        this.sheet.calls.push({ name: target, place });
        const named = this.sheet.named;
        let t: Template | undefined;
        return (n, p, s, x) => {
          t ??= named.get(target);
          if (!t) throw runtimeError(`xsl:call-template: no template named ${target}`, place);
          try {
            invoke(t, n, p, s, x, params?.(n, p, s, x));
          } catch (e) {
            x.rt.fault.call(e, site);
            throw e;
          }
        };
      }
      case 'copy-of': {
        const e = this.expr(attr('select') ?? '', scope, el, 'xsl:copy-of/@select');
        return (n, p, s, x) => {
          try {
            copyValue(x, e(n, p, s, x), place);
          } catch (err) {
            x.rt.fault.at(err, site);
            throw err;
          }
        };
      }
      case 'copy': {
        if (el.hasAttribute('use-attribute-sets')) throw unsupported('use-attribute-sets', place);
        const body = this.sequence(el, scope);
        return (n, p, s, x) => {
          switch (n.kind) {
            case ROOT:
              body(n, p, s, x);
              return;
            case ELEMENT: {
              const out = new XNode(ELEMENT, n.name, '');
              appendChild(x.out, out);
              const saved = x.out;
              x.out = out;
              try {
                body(n, p, s, x);
              } catch (e) {
                x.rt.fault.at(e, site);
                throw e;
              } finally {
                x.out = saved;
              }
              return;
            }
            case ATTRIBUTE:
            case TEXT:
            case COMMENT:
            case PI:
              try {
                copyNode(x, n, place);
              } catch (e) {
                x.rt.fault.at(e, site);
                throw e;
              }
          }
        };
      }
      case 'element': {
        if (el.hasAttribute('namespace')) throw unsupported('xsl:element with a namespace attribute', place);
        if (el.hasAttribute('use-attribute-sets')) throw unsupported('use-attribute-sets', place);
        const nm = this.avt(attr('name') ?? '', scope, el, 'xsl:element/@name');
        const body = this.sequence(el, scope);
        return (n, p, s, x) => {
          const saved = x.out;
          try {
            const qn = nm(n, p, s, x);
            checkName(qn, 'xsl:element', place);
            const out = new XNode(ELEMENT, qn, '');
            appendChild(x.out, out);
            x.out = out;
            body(n, p, s, x);
          } catch (e) {
            x.rt.fault.at(e, site);
            throw e;
          } finally {
            x.out = saved;
          }
        };
      }
      case 'attribute': {
        if (el.hasAttribute('namespace')) throw unsupported('xsl:attribute with a namespace attribute', place);
        const nm = this.avt(attr('name') ?? '', scope, el, 'xsl:attribute/@name');
        const body = this.sequence(el, scope);
        return (n, p, s, x) => {
          try {
            const qn = nm(n, p, s, x);
            checkName(qn, 'xsl:attribute', place);
            if (qn === 'xmlns') throw unsupported('xsl:attribute name="xmlns"', place);
            const v = stringOfBody(body, n, p, s, x);
            addAttribute(x, qn, v, place);
          } catch (e) {
            x.rt.fault.at(e, site);
            throw e;
          }
        };
      }
      case 'comment': {
        const body = this.sequence(el, scope);
        return (n, p, s, x) => {
          try {
            const v = stringOfBody(body, n, p, s, x);
            if (v.includes('--') || v.endsWith('-')) throw unsupported('a comment containing -- or ending in -', place);
            appendChild(x.out, new XNode(COMMENT, '', v));
          } catch (e) {
            x.rt.fault.at(e, site);
            throw e;
          }
        };
      }
      case 'processing-instruction': {
        const nm = this.avt(attr('name') ?? '', scope, el, 'xsl:processing-instruction/@name');
        const body = this.sequence(el, scope);
        return (n, p, s, x) => {
          try {
            const target = nm(n, p, s, x);
            checkName(target, 'xsl:processing-instruction', place);
            if (target.toLowerCase() === 'xml') throw unsupported('a processing instruction named xml', place);
            const v = stringOfBody(body, n, p, s, x);
            if (v.includes('?>')) throw unsupported('a processing instruction containing ?>', place);
            appendChild(x.out, new XNode(PI, target, v.replace(/^[ \t\r\n]+/, '')));
          } catch (e) {
            x.rt.fault.at(e, site);
            throw e;
          }
        };
      }
      case 'message': {
        const body = this.sequence(el, scope);
        const terminate = attr('terminate') === 'yes';
        if (attr('terminate') !== null && !['yes', 'no'].includes(attr('terminate')!)) throw unsupported(`xsl:message terminate="${attr('terminate')}"`, place);
        return (n, p, s, x) => {
          let text: string;
          try {
            text = stringOfBody(body, n, p, s, x);
          } catch (e) {
            x.rt.fault.at(e, site);
            throw e;
          }
          if (terminate) {
            throw new TransformError('TRANSFORM_MESSAGE', `the transform stopped: ${text.trim()}`, { ...place, details: ['(xsl:message terminate="yes", compiled)'] });
          }
          for (const line of text.split('\n')) if (line.trim() !== '') x.rt.warnings.push(`xsl:message: ${line}`);
        };
      }
      case 'fallback':
        // Outside an unknown instruction, xsl:fallback does nothing in XSLT 1.0.
        return () => undefined;
      case 'param':
        throw unsupported('xsl:param after the start of a template', place);
      case 'sort':
      case 'with-param':
      case 'when':
      case 'otherwise':
        throw unsupported(`xsl:${name} here`, place);
    }
    throw unsupported(`xsl:${name}`, place);
  }

  mode(el: Element): string {
    const m = el.getAttribute('mode') ?? '';
    if (m.includes(':')) throw unsupported('a mode name with a namespace prefix', this.place(el));
    return m;
  }

  private literal(el: Element, scope: VarScope): Body {
    const place = this.place(el);
    const site = this.site(el);
    if (el.prefix || el.namespaceURI) throw unsupported(`the literal result element <${el.nodeName}> in a namespace`, place);
    const attrs: { name: string; value: (n: XNode, p: number, s: number, x: Run) => string }[] = [];
    for (let i = 0; i < el.attributes.length; i++) {
      const a = el.attributes.item(i)!;
      if (a.name === 'xmlns' || a.name.startsWith('xmlns:')) {
        if (a.value === XSL_NS) continue;
        throw unsupported(`the namespace declaration ${a.name}="${a.value}" (namespace nodes in the result)`, place);
      }
      if (a.namespaceURI === XSL_NS) {
        if (a.localName === 'use-attribute-sets' || a.localName === 'extension-element-prefixes') throw unsupported(`xsl:${a.localName}`, place);
        continue;
      }
      if (a.name.includes(':')) throw unsupported(`the attribute ${a.name} (namespaces in the result)`, place);
      attrs.push({ name: a.name, value: this.avt(a.value, scope, el, `attribute ${a.name}`) });
    }
    const body = this.sequence(el, scope);
    const name = el.nodeName;
    return (n, p, s, x) => {
      const saved = x.out;
      try {
        const out = new XNode(ELEMENT, name, '');
        appendChild(x.out, out);
        for (const a of attrs) {
          const at = new XNode(ATTRIBUTE, a.name, a.value(n, p, s, x));
          at.parent = out;
          out.attrs.push(at);
        }
        x.out = out;
        body(n, p, s, x);
      } catch (e) {
        x.rt.fault.at(e, site);
        throw e;
      } finally {
        x.out = saved;
      }
    };
  }
}

function checkName(name: string, what: string, place: Place): void {
  if (name.includes(':')) throw unsupported(`${what} with the name ${JSON.stringify(name)} (namespaces in the result)`, place);
  if (!NCNAME.test(name)) throw unsupported(`${what} with the invalid name ${JSON.stringify(name)}`, place);
}

/** The string value of what a body makes (xsl:attribute, xsl:comment, xsl:message): only its text. */
function stringOfBody(body: Body, n: XNode, p: number, s: number, x: Run): string {
  const f = fragment(body, n, p, s, x);
  let out = '';
  for (const k of f.root.children) {
    if (k.kind === TEXT) out += k.value;
    else throw unsupported('a node other than text inside xsl:attribute, xsl:comment, xsl:processing-instruction or xsl:message', { file: '' });
  }
  return out;
}

function compareNumbers(a: number, b: number): number {
  const an = Number.isNaN(a);
  const bn = Number.isNaN(b);
  if (an || bn) return an && bn ? 0 : an ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Text sort keys compare by Unicode code point (libxslt compares UTF-8 bytes). */
function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

export function childElements(el: Element): Element[] {
  const out: Element[] = [];
  for (let k = el.firstChild; k; k = k.nextSibling) if (k.nodeType === NODE.ELEMENT) out.push(k as Element);
  return out;
}

function* childNodes(el: Element): Generator<Node> {
  for (let k = el.firstChild; k; k = k.nextSibling) yield k;
}

export { lineOf };
