/**
 * A JSON parser that remembers where each value came from, for error messages that point
 * at the faulty key itself (not the first key of that name in the file), and that refuses
 * what JSON.parse lets pass silently: a key given twice in one object (JSON.parse keeps
 * the last; which one the author meant is unknowable). Values are what JSON.parse gives,
 * `__proto__` included as a plain own key.
 */

/** Where one value is: its key's offset (for object members) and the value's own. */
export interface JsonPlace {
  key?: number;
  value: number;
}

export class JsonSourceError extends Error {
  constructor(
    message: string,
    /** Offset of the fault in the text. */
    readonly index: number,
    /** For a duplicate key: the offset of its first occurrence. */
    readonly firstIndex?: number,
  ) {
    super(message);
    this.name = 'JsonSourceError';
  }
}

export interface JsonSource {
  value: unknown;
  /** Places by path: the keys and array indexes from the root, joined with NUL. */
  places: Map<string, JsonPlace>;
}

/** Deeper nesting than any instance description needs is refused rather than risking the stack. */
export const MAX_JSON_DEPTH = 256;

export const placeKey = (path: readonly (string | number)[]): string => path.join('\0');

export function parseJsonSource(text: string): JsonSource {
  const places = new Map<string, JsonPlace>();
  let i = 0;
  const n = text.length;
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
      i++;
    }
  };
  const unexpected = (): never => {
    if (i >= n) throw new JsonSourceError('unexpected end of the JSON text', i);
    throw new JsonSourceError(`unexpected ${JSON.stringify(text[i])}`, i);
  };
  const str = (): string => {
    // i is at the opening quote
    const start = i;
    i++;
    let out = '';
    let from = i;
    for (;;) {
      if (i >= n) throw new JsonSourceError('unterminated string', start);
      const c = text.charCodeAt(i);
      if (c === 34) break;
      if (c < 0x20) throw new JsonSourceError('a control character must be escaped in a JSON string', i);
      if (c !== 92) {
        i++;
        continue;
      }
      out += text.slice(from, i);
      const e = text[i + 1];
      const simple = e === undefined ? undefined : ({ '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' } as Record<string, string>)[e];
      if (simple !== undefined) {
        out += simple;
        i += 2;
      } else if (e === 'u' && /^[0-9A-Fa-f]{4}$/.test(text.slice(i + 2, i + 6))) {
        out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
      } else throw new JsonSourceError('bad escape in a JSON string', i);
      from = i;
    }
    out += text.slice(from, i);
    i++;
    return out;
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const value = (path: (string | number)[], depth: number, key?: number): unknown => {
    ws();
    places.set(placeKey(path), { key, value: i });
    const c = text[i];
    if (c === '{' || c === '[') {
      if (depth >= MAX_JSON_DEPTH) throw new JsonSourceError(`nested deeper than ${MAX_JSON_DEPTH} levels`, i);
      i++;
      ws();
      if (c === '[') {
        const arr: unknown[] = [];
        if (text[i] === ']') {
          i++;
          return arr;
        }
        for (;;) {
          arr.push(value([...path, arr.length], depth + 1));
          ws();
          if (text[i] === ',') i++;
          else if (text[i] === ']') {
            i++;
            return arr;
          } else unexpected();
        }
      }
      const obj: Record<string, unknown> = {};
      const seen = new Map<string, number>();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') unexpected();
        const at = i;
        const k = str();
        const first = seen.get(k);
        if (first !== undefined) throw new JsonSourceError(`key ${JSON.stringify(k)} is given twice in one object`, at, first);
        seen.set(k, at);
        ws();
        if (text[i] !== ':') unexpected();
        i++;
        // defineProperty, not assignment: "__proto__" is an own key, as JSON.parse makes it.
        Object.defineProperty(obj, k, { value: value([...path, k], depth + 1, at), enumerable: true, writable: true, configurable: true });
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return obj;
        } else unexpected();
      }
    }
    if (c === '"') return str();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) return unexpected();
    i += m[0].length;
    return Number(m[0]);
  };
  const v = value([], 0);
  ws();
  if (i < n) throw new JsonSourceError(`unexpected ${JSON.stringify(text[i])} after the JSON value`, i);
  return { value: v, places };
}
