/** A metadata key given to two items: the first item and the second (0-based). */
export interface DuplicateMetadataKey {
  key: string;
  first: number;
  second: number;
}

/**
 * The first metadata key given twice, if any. Every consumer of `/instance/metadata` maps
 * key to value (OpenStack's `meta`, KVP's `euca.meta-data`), so a second item of a key
 * would silently replace the first: the parsers refuse it, and so do the config drive and
 * KVP for an Instance built in code. Keys are compared exactly, as those maps do.
 */
export function duplicateMetadataKey(metadata: readonly (readonly [string, string])[]): DuplicateMetadataKey | undefined {
  const seen = new Map<string, number>();
  for (const [i, [key]] of metadata.entries()) {
    const first = seen.get(key);
    if (first !== undefined) return { key, first, second: i };
    seen.set(key, i);
  }
  return undefined;
}

/** `/instance/metadata/item[N]/@key` for item `i` (0-based): the path the parsers and later checks name. */
export const metadataKeyPath = (i: number): string => `/instance/metadata/item[${i + 1}]/@key`;

/** The refusal of `dup`, at its second item; `first` names the first (its line, else its path). */
export function duplicateMetadataMessage(dup: DuplicateMetadataKey, first = metadataKeyPath(dup.first)): string {
  return `metadata key ${JSON.stringify(dup.key)} is given twice (first at ${first}); give each item its own key`;
}
