/**
 * Turns a RelaxNG failure into problems an admin can act on.
 *
 * libxml2 stops at the first mismatch inside an `<interleave>` and then blames the
 * wrong element (`Extra element devices in interleave` for a bad `<target bus>` deep
 * inside a disk). So domforge narrows the failure down itself, with the compiled
 * schema (about 0.1 ms a try, and only when a document already failed):
 *
 * 1. Each *unit* — a child of `<domain>` or of `<devices>`, or a hot-plug fragment —
 *    is validated alone inside a minimal valid domain. Units that fail are culprits.
 * 2. Inside a culprit, an element the schema takes once but that is given again (a
 *    second `<target>` in a disk) is named at the repeat; otherwise attributes and then
 *    elements are removed one at a time, deepest first, and the first removal that makes
 *    it valid names the exact node.
 * 3. That node is described against the schema's own summary ({@link SchemaHints}):
 *    an unknown element lists what is allowed there, a bad value what was expected.
 * 4. Whatever the units do not explain (a missing `<name>`) is reported with libxml2's
 *    own message, its line and path.
 */
import { XMLSerializer } from '@xmldom/xmldom';
import { DomforgeError } from '../errors.js';
import { NODE, childElements, lineOf, columnOf, pathOf, type Element, type Node } from '../xml/parse.js';
import type { CompiledSchema, RawSchemaError } from './schema.js';
import { describeExpected, mayMatch, type SchemaHints } from './schema-hints.js';

/** A part of the document that is validated on its own inside `wrap`. */
export interface SchemaUnit {
  node: Element;
  /** The whole test document with `xml` (the unit, serialized) in its place. */
  wrap(xml: string): string;
  /** Path prefix to report instead of the node's own (fragments: `/interface`). */
  pathOf?: (n: Node) => string;
}

export interface ReportOptions {
  file?: string;
  /** Most removals tried per unit. Default 400. */
  maxTries?: number;
}

const serializer = new XMLSerializer();
const serialize = (n: Node): string => serializer.serializeToString(n as never);

/** Finds the node inside `unit` the schema rejects; [] when the unit is valid in its context. */
export function explainUnit(schema: CompiledSchema, hints: SchemaHints | undefined, unit: SchemaUnit, o: ReportOptions = {}): DomforgeError[] {
  const accepts = (n: Node): boolean => schema.accepts(unit.wrap(serialize(n)));
  const own = schema.validate(unit.wrap(serialize(unit.node)));
  if (own.length === 0) return [];
  const path = unit.pathOf ?? pathOf;

  // Work on a copy; `pairs` maps each copy node back to the original (for line and path).
  const copy = unit.node.cloneNode(true) as Element;
  const repeats = repeatedIn(unit.node, copy, () => accepts(copy));
  if (repeats) return repeats.map((el) => repeatProblem(el, path, o.file));
  const pairs: { orig: Node; copy: Node }[] = [];
  collect(unit.node, copy, pairs, true);
  let tries = 0;
  const max = o.maxTries ?? 400;
  for (const { orig, copy: c } of pairs) {
    if (++tries > max) break;
    if (c.nodeType === NODE.ATTRIBUTE) {
      const owner = (c as unknown as { ownerElement: Element }).ownerElement;
      const name = c.nodeName;
      const value = c.nodeValue ?? '';
      owner.removeAttribute(name);
      const ok = accepts(copy);
      owner.setAttribute(name, value);
      if (ok) return [describeAttribute(hints, orig, path, o.file)];
    } else {
      const parent = c.parentNode!;
      const next = c.nextSibling;
      parent.removeChild(c);
      const ok = accepts(copy);
      parent.insertBefore(c, next);
      if (ok) return [describeElement(hints, orig as Element, path, o.file)];
    }
  }
  // No single removal helps: an element the schema does not know, several problems
  // inside, or a required part missing.
  const el = unit.node;
  const parent = el.parentNode?.nodeType === NODE.ELEMENT ? (el.parentNode as Element) : undefined;
  const grand = parent?.parentNode?.nodeType === NODE.ELEMENT ? parent.parentNode.nodeName : '';
  const parentHint = parent ? hints?.element(grand, parent.nodeName) : undefined;
  if (parentHint && !parentHint.children.has(el.nodeName)) return [describeElement(hints, el, path, o.file)];
  const msg = bestMessage(own);
  return [
    new DomforgeError('DOMAIN_INVALID', `<${el.nodeName}> does not match libvirt's schema: ${humanize(msg)}`, {
      file: o.file,
      line: lineOf(el),
      column: columnOf(el),
      path: path(el),
    }),
  ];
}

/**
 * The later elements of a name, inside `orig` (or it), where the schema takes one: the unit
 * is valid with only the first of them kept, and with only the second, but not with both.
 * libxml2 blames something else then (`Extra element devices in interleave`, or the first
 * one). Elements it takes several of (`<vcpupin>`) pass with both when both are right.
 * `copy` is `orig`'s clone, which `valid` validates; it is left as it was.
 */
function repeatedIn(orig: Element, copy: Element, valid: () => boolean): Element[] | undefined {
  const oc = childElements(orig);
  const cc = childElements(copy);
  for (const name of new Set(oc.map((e) => e.nodeName))) {
    const at = oc.flatMap((e, i) => (e.nodeName === name ? [i] : []));
    if (at.length < 2) continue;
    const keepOnly = (...keep: number[]) => without(at.filter((i) => !keep.includes(i)).map((i) => cc[i]!), valid);
    const [first, second] = at as [number, number];
    if (keepOnly(first) && keepOnly(second) && !keepOnly(first, second)) return at.slice(1).map((i) => oc[i]!);
  }
  for (let i = 0; i < oc.length; i++) {
    const found = repeatedIn(oc[i]!, cc[i]!, valid);
    if (found) return found;
  }
  return undefined;
}

/** `check()` with `nodes` taken out of their document, which they are put back into. */
function without(nodes: Node[], check: () => boolean): boolean {
  const places = nodes.map((n) => ({ n, parent: n.parentNode!, next: n.nextSibling }));
  for (const p of places) p.parent.removeChild(p.n);
  try {
    return check();
  } finally {
    for (const p of places.reverse()) p.parent.insertBefore(p.n, p.next);
  }
}

/** An element libvirt's schema takes once in its parent, given again: placed at the repeat, naming the first. */
export function repeatProblem(el: Element, path: (n: Node) => string = pathOf, file?: string): DomforgeError {
  const parent = el.parentNode as Element;
  const first = childElements(parent, el.nodeName)[0]!;
  return new DomforgeError(
    'DOMAIN_INVALID',
    `<${el.nodeName}> is given more than once in <${parent.nodeName}> (first at line ${lineOf(first) ?? '?'}); libvirt's schema takes one`,
    { file, line: lineOf(el), column: columnOf(el), path: path(el) },
  );
}

/**
 * Problems libxml2 reported that no unit explains, with its own wording (made a little
 * plainer), placed by its line and path. `noise` messages are dropped when others exist.
 */
export function rawProblems(raw: (RawSchemaError & { column?: number })[], o: ReportOptions & { lineOffset?: number; mapPath?: (p: string) => string } = {}): DomforgeError[] {
  const specific = raw.filter((r) => !NOISE.some((n) => n.test(r.message)));
  const keep = specific.length ? specific : raw.slice(0, 1);
  const seen = new Set<string>();
  const out: DomforgeError[] = [];
  for (const r of keep) {
    const text = humanize(r.message);
    if (seen.has(text + r.xpath)) continue;
    seen.add(text + r.xpath);
    const line = r.line !== undefined ? r.line - (o.lineOffset ?? 0) : undefined;
    out.push(
      new DomforgeError('DOMAIN_INVALID', `libvirt's schema rejects the document: ${text}`, {
        file: o.file,
        line: line !== undefined && line > 0 ? line : undefined,
        column: line !== undefined && line > 0 ? r.column : undefined,
        path: r.xpath ? (o.mapPath ? o.mapPath(r.xpath) : r.xpath) : undefined,
      }),
    );
  }
  return out;
}

const NOISE = [/^Invalid sequence in interleave$/, /failed to validate content$/, /^Extra element \S+ in interleave$/];

function bestMessage(raw: RawSchemaError[]): string {
  return (raw.find((r) => !NOISE.some((n) => n.test(r.message))) ?? raw[0])?.message ?? 'invalid';
}

/** libxml2's phrasing, made plainer where it is cryptic. */
export function humanize(message: string): string {
  let m: RegExpExecArray | null;
  if ((m = /^Expecting an element (\S+), got nothing$/.exec(message))) return `required element <${m[1]}> is missing`;
  if ((m = /^Expecting element (\S+), got (\S+)$/.exec(message))) return `expected <${m[1]}> but found <${m[2]}>`;
  if ((m = /^Extra element (\S+) in interleave$/.exec(message)))
    return `<${m[1]}> (or something inside it) is not allowed as written, or appears more than once`;
  if ((m = /^Did not expect element (\S+) there$/.exec(message))) return `element <${m[1]}> is not allowed there`;
  if ((m = /^Element (\S+) failed to validate attributes$/.exec(message))) return `an attribute of <${m[1]}> is missing or has a bad value`;
  if ((m = /^Invalid attribute (\S+) for element (\S+)$/.exec(message))) return `attribute ${m[1]} is not allowed on <${m[2]}>`;
  if ((m = /^Element (\S+) has extra content: (\S+)$/.exec(message))) return `<${m[1]}> has unexpected content (${m[2]})`;
  return message;
}

function describeAttribute(hints: SchemaHints | undefined, attr: Node, path: (n: Node) => string, file?: string): DomforgeError {
  const owner = (attr as unknown as { ownerElement: Element }).ownerElement;
  const parentName = owner.parentNode?.nodeType === NODE.ELEMENT ? owner.parentNode.nodeName : '';
  const name = attr.nodeName;
  const value = attr.nodeValue ?? '';
  const hint = hints?.element(parentName, owner.nodeName);
  let message: string;
  const allowed = hint?.attributes.get(name);
  if (hint && !allowed) {
    const known = [...hint.attributes.keys()];
    message = `<${owner.nodeName}> has no attribute ${name} in libvirt's schema` + (known.length ? ` (it allows: ${known.join(', ')})` : ' (it allows none)');
  } else {
    message = `attribute ${name}="${value}" of <${owner.nodeName}> is not accepted by libvirt's schema`;
    if (allowed) message += `; expected ${describeExpected(allowed)}`;
  }
  return new DomforgeError('DOMAIN_INVALID', message, { file, line: lineOf(owner), column: columnOf(owner), path: path(attr) });
}

function describeElement(hints: SchemaHints | undefined, el: Element, path: (n: Node) => string, file?: string): DomforgeError {
  const parent = el.parentNode?.nodeType === NODE.ELEMENT ? (el.parentNode as Element) : undefined;
  const parentName = parent?.nodeName ?? '';
  const grand = parent?.parentNode?.nodeType === NODE.ELEMENT ? parent.parentNode.nodeName : '';
  const place = { file, line: lineOf(el), column: columnOf(el), path: path(el) };
  const parentHint = parent ? hints?.element(grand, parentName) : undefined;
  if (parentHint && !parentHint.children.has(el.nodeName)) {
    const allowed = [...parentHint.children].sort();
    return new DomforgeError(
      'DOMAIN_INVALID',
      `unknown element <${el.nodeName}> in <${parentName}>` +
        (allowed.length ? `; libvirt's schema allows ${allowed.slice(0, 30).join(', ')}${allowed.length > 30 ? ', …' : ''}` : ''),
      place,
    );
  }
  const hint = hints?.element(parentName, el.nodeName);
  if (hint) {
    // A known element: say which attribute or what text is wrong, when the summary can tell.
    for (let i = 0; i < el.attributes.length; i++) {
      const a = el.attributes.item(i)!;
      const allowed = hint.attributes.get(a.name);
      if (!allowed) return describeAttribute(hints, a as unknown as Node, path, file);
      if (!mayMatch(allowed, a.value)) return describeAttribute(hints, a as unknown as Node, path, file);
    }
    const text = (el.textContent ?? '').trim();
    if (childElements(el).length === 0 && text && !mayMatch(hint.text, text)) {
      return new DomforgeError(
        'DOMAIN_INVALID',
        `value "${text}" of <${el.nodeName}> is not accepted by libvirt's schema; expected ${describeExpected(hint.text)}`,
        place,
      );
    }
    if (childElements(el).length === 0 && text) {
      return new DomforgeError('DOMAIN_INVALID', `value "${text}" of <${el.nodeName}> is not accepted by libvirt's schema` + expectedSuffix(hint.text), place);
    }
  }
  return new DomforgeError(
    'DOMAIN_INVALID',
    `<${el.nodeName}> is not valid here per libvirt's schema (check its attributes and children, or whether it may appear twice)`,
    place,
  );
}

function expectedSuffix(v: { values: Set<string>; types: Set<string>; anyText: boolean }): string {
  const d = describeExpected({ ...v, patterns: [], uncheckable: false });
  return d ? `; expected ${d}` : '';
}

/**
 * Pairs original and copy nodes in the order removals are tried: deepest first, an
 * element's attributes before the element itself; the unit's own node is left out
 * (removing the whole unit proves nothing).
 */
function collect(orig: Element, copy: Element, out: { orig: Node; copy: Node }[], isUnit: boolean): void {
  const oc = childElements(orig);
  const cc = childElements(copy);
  for (let i = 0; i < oc.length; i++) collect(oc[i]!, cc[i]!, out, false);
  for (let i = 0; i < orig.attributes.length; i++) {
    const a = orig.attributes.item(i)!;
    if (a.name === 'xmlns' || a.name.startsWith('xmlns:')) continue;
    const ca = copy.getAttributeNode(a.name);
    if (ca) out.push({ orig: a as unknown as Node, copy: ca as unknown as Node });
  }
  if (!isUnit) out.push({ orig, copy });
}
