/**
 * "What was expected" for a RelaxNG schema, read from the `.rng` files themselves:
 * for each element (keyed by its parent, e.g. `disk/target`), the attributes it may
 * carry with their allowed values or data types, the child elements it may hold,
 * and what its text may be. libxml2's RelaxNG messages do not say this; domforge adds
 * it to its own messages ("expected one of: ide, fdc, scsi, virtio, ...").
 *
 * This is a summary, not a validator: alternatives are merged (a superset), and an
 * element defined in several places under the same parent is the union of them.
 * Built only when a document fails, once per schema path.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseXml, childElements, type Element } from '../xml/parse.js';

/** Allowed values of an attribute or of an element's text. */
export interface ValueHint {
  /** Literal `<value>`s. */
  values: Set<string>;
  /** `<data>` types, e.g. `positiveInteger` or `string /[a-z]+/` (type and pattern). */
  types: Set<string>;
  /** Patterns, compiled where JavaScript accepts them (anchored). */
  patterns: RegExp[];
  /** True when free `<text/>` is allowed. */
  anyText: boolean;
  /** True when some pattern could not be compiled, so a value cannot be ruled out. */
  uncheckable: boolean;
}

export interface ElementHint {
  attributes: Map<string, ValueHint>;
  children: Set<string>;
  text: ValueHint;
}

export class SchemaHints {
  private readonly byKey = new Map<string, Element[]>();
  private readonly byName = new Map<string, Element[]>();
  private readonly defines = new Map<string, Element[]>();
  private readonly summaries = new Map<Element, ElementHint>();

  private constructor(files: Element[]) {
    for (const grammar of files) {
      for (const d of descendants(grammar, 'define')) push(this.defines, d.getAttribute('name') ?? '', d);
    }
    for (const grammar of files) {
      for (const start of descendants(grammar, 'start')) {
        for (const c of this.summarize(start).children) for (const el of this.childNodes(start, c)) push(this.byKey, `/${c}`, el);
      }
      for (const el of descendants(grammar, 'element')) {
        const name = el.getAttribute('name');
        if (!name) continue;
        push(this.byName, name, el);
        for (const child of this.elementChildren(el)) push(this.byKey, `${name}/${child.getAttribute('name')}`, child);
      }
    }
  }

  /** Reads `rngPath` and every file it includes. */
  static load(rngPath: string): SchemaHints {
    const roots: Element[] = [];
    const seen = new Set<string>();
    const visit = (path: string): void => {
      if (seen.has(path) || !existsSync(path)) return;
      seen.add(path);
      const root = parseXml(readFileSync(path, 'utf8'), { file: path }).documentElement!;
      roots.push(root);
      for (const inc of descendants(root, 'include')) visit(resolve(dirname(path), inc.getAttribute('href') ?? ''));
    };
    visit(rngPath);
    return new SchemaHints(roots);
  }

  /**
   * The merged hint for element `name` whose parent is `parent` (`''` for the root).
   * Falls back to every element of that name when the pair is unknown.
   */
  element(parent: string, name: string): ElementHint | undefined {
    const els = this.byKey.get(`${parent}/${name}`) ?? this.byName.get(name);
    if (!els?.length) return undefined;
    const out: ElementHint = { attributes: new Map(), children: new Set(), text: emptyValue() };
    for (const el of els) {
      const s = this.summarize(el);
      for (const [a, v] of s.attributes) mergeValue((out.attributes.get(a) ?? out.attributes.set(a, emptyValue()).get(a))!, v);
      for (const c of s.children) out.children.add(c);
      mergeValue(out.text, s.text);
    }
    return out;
  }

  private elementChildren(el: Element): Element[] {
    const out: Element[] = [];
    this.walk(el, new Set(), { onElement: (e) => out.push(e) });
    return out;
  }

  private childNodes(pattern: Element, name: string): Element[] {
    const out: Element[] = [];
    this.walk(pattern, new Set(), { onElement: (e) => e.getAttribute('name') === name && out.push(e) });
    return out;
  }

  private summarize(el: Element): ElementHint {
    let s = this.summaries.get(el);
    if (s) return s;
    s = { attributes: new Map(), children: new Set(), text: emptyValue() };
    this.summaries.set(el, s);
    const sum = s;
    this.walk(el, new Set(), {
      onElement: (e) => {
        const n = e.getAttribute('name');
        if (n) sum.children.add(n);
      },
      onAttribute: (a) => {
        const n = a.getAttribute('name');
        if (!n) return;
        const v = sum.attributes.get(n) ?? emptyValue();
        sum.attributes.set(n, v);
        this.walk(a, new Set(), { value: v });
        if (childElements(a).length === 0) v.anyText = true; // <attribute name="x"/> means any text
      },
      value: sum.text,
    });
    return s;
  }

  /** Walks a pattern's children, following refs, without entering nested elements or attributes. */
  private walk(
    node: Element,
    refs: Set<string>,
    on: { onElement?: (e: Element) => void; onAttribute?: (a: Element) => void; value?: ValueHint },
  ): void {
    for (const c of childElements(node)) {
      switch (c.localName) {
        case 'element':
          on.onElement?.(c);
          break;
        case 'attribute':
          on.onAttribute?.(c);
          break;
        case 'ref':
        case 'parentRef': {
          const name = c.getAttribute('name') ?? '';
          if (refs.has(name)) break;
          refs.add(name);
          for (const d of this.defines.get(name) ?? []) this.walk(d, refs, on);
          break;
        }
        case 'value':
          on.value?.values.add((c.textContent ?? '').trim());
          break;
        case 'data': {
          const type = c.getAttribute('type') ?? 'string';
          const pattern = childElements(c, 'param').find((p) => p.getAttribute('name') === 'pattern')?.textContent?.trim();
          on.value?.types.add(pattern ? `${type} matching ${pattern}` : type);
          if (pattern && on.value) {
            try {
              on.value.patterns.push(new RegExp(`^(?:${pattern})$`, 'u'));
            } catch {
              // an XSD pattern JavaScript does not read: keep it only as text
              on.value.uncheckable = true;
            }
          }
          break;
        }
        case 'text':
          if (on.value) on.value.anyText = true;
          break;
        case 'except':
        case 'name':
        case 'anyName':
        case 'nsName':
        case 'empty':
        case 'notAllowed':
          break;
        default:
          this.walk(c, refs, on);
      }
    }
  }
}

/** "one of: a, b" / "positiveInteger" / "any text", for a message. */
export function describeExpected(v: ValueHint, max = 12): string {
  const parts: string[] = [];
  if (v.values.size) {
    const vals = [...v.values].map((x) => `"${x}"`);
    parts.push(`one of ${vals.slice(0, max).join(', ')}${vals.length > max ? ', …' : ''}`);
  }
  for (const t of v.types) parts.push(t);
  if (v.anyText && !parts.length) parts.push('any text');
  return parts.join(', or ');
}

/**
 * Whether `value` can satisfy the hint: `false` only when it certainly cannot
 * (not a listed value, no type or pattern it could match).
 */
export function mayMatch(v: ValueHint, value: string): boolean {
  if (v.anyText || v.uncheckable || v.values.has(value)) return true;
  for (const t of v.types) {
    const type = t.split(' ')[0]!;
    const check = XSD_TYPES[type];
    if (!check) return true; // a type we do not check
    if (!t.includes(' matching ') && check(value)) return true;
  }
  if (v.patterns.some((p) => p.test(value))) return true;
  return false;
}

const XSD_TYPES: Record<string, (s: string) => boolean> = {
  positiveInteger: (s) => /^\+?0*[1-9]\d*$/.test(s),
  nonNegativeInteger: (s) => /^\+?\d+$/.test(s),
  unsignedInt: (s) => /^\+?\d+$/.test(s) && Number(s) <= 0xffffffff,
  unsignedLong: (s) => /^\+?\d+$/.test(s),
  unsignedShort: (s) => /^\+?\d+$/.test(s) && Number(s) <= 0xffff,
  unsignedByte: (s) => /^\+?\d+$/.test(s) && Number(s) <= 0xff,
  int: (s) => /^[+-]?\d+$/.test(s),
  integer: (s) => /^[+-]?\d+$/.test(s),
  long: (s) => /^[+-]?\d+$/.test(s),
  short: (s) => /^[+-]?\d+$/.test(s),
  boolean: (s) => /^(true|false|0|1)$/.test(s),
  double: (s) => !Number.isNaN(Number(s)) && s.trim() !== '',
  float: (s) => !Number.isNaN(Number(s)) && s.trim() !== '',
  decimal: (s) => /^[+-]?(\d+\.?\d*|\.\d+)$/.test(s),
  string: (s) => s.length >= 0,
};

const hintCache = new Map<string, SchemaHints>();

/** The hints for a schema file, built once per path. */
export function schemaHints(rngPath: string): SchemaHints {
  let h = hintCache.get(rngPath);
  if (!h) {
    h = SchemaHints.load(rngPath);
    hintCache.set(rngPath, h);
  }
  return h;
}

function emptyValue(): ValueHint {
  return { values: new Set(), types: new Set(), patterns: [], anyText: false, uncheckable: false };
}
function mergeValue(into: ValueHint, from: ValueHint): void {
  for (const v of from.values) into.values.add(v);
  for (const t of from.types) into.types.add(t);
  into.patterns.push(...from.patterns);
  into.anyText ||= from.anyText;
  into.uncheckable ||= from.uncheckable;
}
function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}
function descendants(root: Element, localName: string): Element[] {
  return Array.from(root.getElementsByTagName(localName)) as unknown as Element[];
}
