/**
 * @xmldom/xmldom 0.9 builds a new RegExp from its grammar at every end tag, comment and
 * CDATA section it parses (`g.reg('^', g.QName_group, g.S_OPT, '$')` in sax.js): it joins
 * the sources of large Unicode character classes into a string of several kilobytes and
 * hands it to `new RegExp`. Measured here, that is the single largest cost of a parse
 * (about 10 % of rendering and validating an instance, 8 % of compiling a stylesheet).
 *
 * Every call passes the same grammar constants (RegExp objects, and '^' / '$'), and the
 * RegExps carry neither the `g` nor the `y` flag, so `exec` keeps no state in them: one
 * RegExp per argument list can be shared. sax.js looks `reg` up on the grammar module at
 * each call, so replacing the export with a cached version takes effect for every parse.
 *
 * Defensive on purpose: if a later xmldom no longer has this shape, nothing is replaced
 * and parsing works as before, only slower; an argument that is not a short string or a
 * RegExp, or a result with a stateful flag, goes to the original function uncached.
 */
import { createRequire } from 'node:module';

type Reg = (this: unknown, ...parts: unknown[]) => RegExp;
interface Grammar {
  reg?: Reg;
}

/** At most this many distinct argument lists are kept (xmldom 0.9 has about ten). */
const MAX_ENTRIES = 64;
const RESULT = Symbol('result');
type Trie = Map<unknown, Trie> & { [RESULT]?: RegExp };

let installed: 'cached' | 'unavailable' | undefined;

/** Installs the cache once per process; returns whether xmldom's grammar had the expected shape. */
export function cacheXmldomGrammar(): boolean {
  if (installed) return installed === 'cached';
  let g: Grammar;
  try {
    g = createRequire(import.meta.url)('@xmldom/xmldom/lib/grammar.js') as Grammar;
  } catch {
    installed = 'unavailable';
    return false;
  }
  const original = g.reg;
  if (typeof original !== 'function') {
    installed = 'unavailable';
    return false;
  }
  const root: Trie = new Map();
  let entries = 0;
  g.reg = function cachedReg(this: unknown, ...parts: unknown[]): RegExp {
    let node = root;
    for (const p of parts) {
      if (!(p instanceof RegExp) && !(typeof p === 'string' && p.length <= 4)) return original.apply(this, parts);
      let next = node.get(p);
      if (!next) {
        if (entries >= MAX_ENTRIES) return original.apply(this, parts);
        next = new Map() as Trie;
        node.set(p, next);
      }
      node = next;
    }
    const hit = node[RESULT];
    if (hit) return hit;
    const made = original.apply(this, parts);
    if (made.global || made.sticky) return made;
    node[RESULT] = made;
    entries++;
    return made;
  };
  installed = 'cached';
  return true;
}
