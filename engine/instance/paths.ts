/** Instance paths as domforge's errors name them (`/instance/nics/nic[2]/@mac`). */

/**
 * The path of item `i` (from 0) of the `count` elements at `base`: indexed only when there
 * are several, as the reader (ElementReader.children) names them.
 */
export function itemPath(base: string, count: number, i: number): string {
  return count > 1 ? `${base}[${i + 1}]` : base;
}

/** The name of the element a path ends at: `nic` for `/instance/nics/nic[2]`. */
export function elementOfPath(path: string): string {
  return /([^/[]+)(\[\d+\])?$/.exec(path)?.[1] ?? path;
}
