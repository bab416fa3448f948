/**
 * XML the instance keeps verbatim (a volume's `<disk>`), parsed once per distinct text.
 * Handlebars' `xml` helper writes it and `nextFreeDev` reads its `<target dev>` in every
 * render (transform/handlebars/), as does the check that the rendered domain still holds the
 * volume (render/covers.ts);
 * both are pure functions of the text, so a render of an instance seen before (or of
 * another instance with the same volume) reuses the parse. A text that does not parse is
 * not remembered: it fails the same way every time.
 */
import { parseXml, NODE, type Element } from '../xml/parse.js';
import { serializeXml } from '../xml/serialize.js';

export interface KeptXml {
  /** The element serialized again (what `{{xml value}}` writes). */
  markup: string;
  /** `<target dev>` when the element is a `<disk>` with one. */
  targetDev: string | undefined;
}

/** Distinct texts remembered; the oldest is forgotten first. A few hundred volumes' `<disk>`s. */
const LIMIT = 512;
const cache = new Map<string, KeptXml>();

/** The kept element's markup and target; throws the parser's error when the text is not well-formed. */
export function keptXml(text: string): KeptXml {
  const hit = cache.get(text);
  if (hit) return hit;
  const root = parseXml(text).documentElement!;
  const kept: KeptXml = { markup: serializeXml(root), targetDev: targetDev(root) };
  if (cache.size >= LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(text, kept);
  return kept;
}

function targetDev(root: Element | null): string | undefined {
  if (!root || root.nodeName !== 'disk') return undefined;
  for (let n = root.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === NODE.ELEMENT && n.nodeName === 'target') {
      const t = n as Element;
      return t.hasAttribute('dev') ? t.getAttribute('dev')! : undefined;
    }
  }
  return undefined;
}
