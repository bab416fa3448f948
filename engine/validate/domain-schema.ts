/**
 * Schema problems of a whole domain document or of a hot-plug fragment, placed by
 * line and XML path: the units of a domain (children of `<domain>` and of
 * `<devices>`) are checked one by one inside a minimal valid domain (see
 * `schema-report.ts`), and what they do not explain is reported as libxml2 says it.
 */
import { XMLSerializer } from '@xmldom/xmldom';
import { DomforgeError } from '../errors.js';
import { childElements, lineOf, columnOf, pathOf, type Document, type Element, type Node } from '../xml/parse.js';
import type { CompiledSchema, RawSchemaError } from './schema.js';
import { schemaHints, describeExpected, type SchemaHints } from './schema-hints.js';
import { explainUnit, rawProblems, humanize, repeatProblem, type SchemaUnit } from './schema-report.js';

const serializer = new XMLSerializer();
const serialize = (n: Node): string => serializer.serializeToString(n as never);

/** The parts libvirt's schema requires, used where the unit under test is not one of them. */
const REQUIRED: Record<string, string> = {
  name: '<name>domforge-check</name>',
  memory: '<memory>1048576</memory>',
  os: '<os><type>hvm</type></os>',
};

/** `<domain type="kvm" ...>` with the root's own attributes (and namespace declarations). */
function openTag(root: Element | undefined): string {
  if (!root) return `<domain type="kvm">`;
  const shallow = root.cloneNode(false) as Element;
  return serialize(shallow).replace(/\/>$/, '>').replace(/><\/domain>$/, '>');
}

function skeleton(open: string, top: { name: string; xml: string } | undefined, devices: string): string {
  let s = open;
  for (const [name, xml] of Object.entries(REQUIRED)) if (top?.name !== name) s += xml;
  if (top) s += top.xml;
  return s + `<devices>${devices}</devices></domain>`;
}

export interface SchemaProblemOptions {
  file?: string;
}

/** Problems libvirt's schema finds in a parsed domain (`xml` is its text); [] when valid. */
export function domainSchemaProblems(doc: Document, xml: string, schema: CompiledSchema, o: SchemaProblemOptions = {}): DomforgeError[] {
  const raw = schema.validate(xml, o.file);
  if (raw.length === 0) return [];
  const root = doc.documentElement!;
  if (root.nodeName !== 'domain') {
    return [new DomforgeError('DOMAIN_INVALID', `the root element must be <domain>, not <${root.nodeName}>`, { file: o.file, line: lineOf(root), path: pathOf(root) })];
  }
  const hints = loadHints(schema);
  let open = openTag(root);
  const problems: DomforgeError[] = [];
  const culprits = new Set<Element>();

  if (!schema.accepts(skeleton(open, undefined, ''))) {
    problems.push(...rootAttributeProblems(root, schema, hints, o.file));
    // Test the units under a plain <domain type="kvm"> (keeping namespaces), so a bad
    // root attribute is not blamed on every unit as well.
    const plain = root.cloneNode(false) as Element;
    for (const a of Array.from(root.attributes)) if (a.name !== 'xmlns' && !a.name.startsWith('xmlns:')) plain.removeAttribute(a.name);
    plain.setAttribute('type', 'kvm');
    open = openTag(plain);
    culprits.add(root);
  }

  const devices = childElements(root, 'devices');
  for (const child of childElements(root)) {
    if (child.nodeName === 'devices') continue;
    const unit: SchemaUnit = { node: child, wrap: (x) => skeleton(open, { name: child.nodeName, xml: x }, '') };
    const found = explainUnit(schema, hints, unit, o);
    if (found.length) culprits.add(child);
    problems.push(...found);
  }
  for (const repeat of repeatedChildren(root, culprits, (name, xml) => schema.accepts(skeleton(open, { name, xml }, '')))) {
    culprits.add(repeat);
    problems.push(repeatProblem(repeat, pathOf, o.file));
  }
  for (const dev of devices.flatMap((d) => childElements(d))) {
    const unit: SchemaUnit = { node: dev, wrap: (x) => skeleton(open, undefined, x) };
    const found = explainUnit(schema, hints, unit, o);
    if (found.length) culprits.add(dev);
    problems.push(...found);
  }

  // What the units do not explain: validate the rest, culprits blanked out in place.
  const rest = culprits.has(root) ? [] : culprits.size ? schema.validate(blankOut(root, culprits)) : raw;
  if (rest.length) problems.push(...rawProblems(rest, { file: o.file }).map((p) => withLine(p, doc)));
  return problems;
}

/**
 * Children of `<domain>` the schema takes alone but not together with the first of their
 * name (a second `<name>`, `<memory>` or `<devices>`), for which libxml2 says only `Extra
 * element name in interleave`, with no line. `accepts(name, xml)`: whether a minimal domain
 * holding `xml` in place of its own `<name>`, … is valid. Culprits, already explained, are
 * left out.
 */
function repeatedChildren(root: Element, culprits: Set<Element>, accepts: (name: string, xml: string) => boolean): Element[] {
  const byName = new Map<string, Element[]>();
  for (const c of childElements(root)) if (!culprits.has(c)) byName.set(c.nodeName, [...(byName.get(c.nodeName) ?? []), c]);
  // The minimal domain has a <devices> of its own, and what a <devices> holds is checked device by device.
  const pair = (name: string, first: Element, el: Element) => (name === 'devices' ? '<devices/>' : serialize(first) + serialize(el));
  return [...byName].flatMap(([name, [first, ...later]]) => later.filter((el) => !accepts(name, pair(name, first!, el))));
}

/**
 * Problems libvirt's schema finds in a `<disk>`/`<interface>` fragment, validated as
 * the one device of a minimal domain; lines and paths are the fragment's own.
 */
export function fragmentSchemaProblems(doc: Document, schema: CompiledSchema, o: SchemaProblemOptions = {}): DomforgeError[] {
  const el = doc.documentElement!;
  const unit: SchemaUnit = { node: el, wrap: (x) => skeleton(openTag(undefined), undefined, x) };
  return explainUnit(schema, loadHints(schema), unit, o);
}

/** Problems from `virt-xml-validate` (element name and line, no path): the path is looked up by both. */
export function placeRawProblems(doc: Document, raw: (RawSchemaError & { element?: string })[], file?: string): DomforgeError[] {
  const withPaths = raw.map((r) => {
    if (r.xpath) return r;
    // xmllint gives "Extra element vcpu in interleave" no line: take a second <vcpu> in
    // <domain>, which the interleave takes once, else the first <vcpu>.
    const named = /^Extra element (\S+) in interleave$/.exec(r.message)?.[1];
    const root = doc.documentElement!;
    const el =
      r.line !== undefined ? findElement(root, r.line, r.element) : named ? (childElements(root, named)[1] ?? findByName(root, named)) : undefined;
    if (el && r.line === undefined) return { ...r, xpath: pathOf(el), line: lineOf(el), column: columnOf(el) };
    return el ? { ...r, xpath: pathOf(el) } : r;
  });
  return rawProblems(withPaths, { file });
}

function rootAttributeProblems(root: Element, schema: CompiledSchema, hints: SchemaHints | undefined, file?: string): DomforgeError[] {
  const hint = hints?.element('', 'domain');
  for (let i = 0; i < root.attributes.length; i++) {
    const a = root.attributes.item(i)!;
    if (a.name === 'xmlns' || a.name.startsWith('xmlns:')) continue;
    const shallow = root.cloneNode(false) as Element;
    shallow.removeAttribute(a.name);
    if (a.name === 'type') shallow.setAttribute('type', 'kvm');
    if (schema.accepts(skeleton(openTag(shallow), undefined, ''))) {
      const allowed = hint?.attributes.get(a.name);
      const msg = allowed
        ? `attribute ${a.name}="${a.value}" of <domain> is not accepted by libvirt's schema; expected ${describeExpected(allowed)}`
        : `<domain> has no attribute ${a.name} in libvirt's schema`;
      return [new DomforgeError('DOMAIN_INVALID', msg, { file, line: lineOf(root), column: columnOf(root), path: `/domain/@${a.name}` })];
    }
  }
  const raw = schema.validate(skeleton(openTag(root), undefined, ''));
  return [
    new DomforgeError('DOMAIN_INVALID', `the attributes of <domain> do not match libvirt's schema: ${humanize(raw[0]?.message ?? 'invalid')}`, {
      file,
      line: lineOf(root),
      path: '/domain',
    }),
  ];
}

/**
 * The document with each culprit replaced by a comment spanning as many lines, so
 * libxml2's line numbers and XPaths (comments are not counted) still match the original.
 */
function blankOut(root: Element, culprits: Set<Element>): string {
  const copy = root.cloneNode(true) as Element;
  const visit = (o: Element, c: Element): void => {
    const oc = childElements(o);
    const cc = childElements(c);
    for (let i = 0; i < oc.length; i++) {
      if (culprits.has(oc[i]!)) {
        const lines = serialize(oc[i]!).split('\n').length - 1;
        c.replaceChild(c.ownerDocument!.createComment(' checked separately ' + '\n'.repeat(lines)), cc[i]!);
      } else visit(oc[i]!, cc[i]!);
    }
  };
  visit(root, copy);
  return serialize(copy);
}

/** Adds the line from the original document when libxml2 gave a path but no line. */
function withLine(p: DomforgeError, doc: Document): DomforgeError {
  if (p.line !== undefined || !p.path) return p;
  const el = resolvePath(doc, p.path);
  if (!el) return p;
  return new DomforgeError(p.code, p.shortMessage, { file: p.file, line: lineOf(el), column: columnOf(el), path: p.path });
}

/** Resolves a simple libxml2 XPath such as `/domain/devices/disk[2]/target`. */
export function resolvePath(doc: Document, path: string): Element | undefined {
  let cur: Element | undefined;
  for (const step of path.split('/').filter(Boolean)) {
    const m = /^([^[@]+)(?:\[(\d+)\])?$/.exec(step);
    if (!m) return cur;
    const name = m[1]!;
    const idx = m[2] ? Number(m[2]) : 1;
    const pool = cur ? childElements(cur, name) : doc.documentElement?.nodeName === name ? [doc.documentElement] : [];
    cur = pool[idx - 1];
    if (!cur) return undefined;
  }
  return cur;
}

function findByName(root: Element, name: string): Element | undefined {
  if (root.nodeName === name) return root;
  for (const c of childElements(root)) {
    const f = findByName(c, name);
    if (f) return f;
  }
  return undefined;
}

function findElement(root: Element, line: number, name?: string): Element | undefined {
  if (lineOf(root) === line && (!name || root.nodeName === name)) return root;
  for (const c of childElements(root)) {
    const f = findElement(c, line, name);
    if (f) return f;
  }
  return undefined;
}

function loadHints(schema: CompiledSchema): SchemaHints | undefined {
  try {
    return schemaHints(schema.path);
  } catch {
    return undefined; // hints are a courtesy; messages stay correct without them
  }
}
