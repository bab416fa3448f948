import type { ErrorPlace } from '../errors.js';
import type { Instance } from './model.js';
import type { Locator } from './validate.js';

/**
 * Where a parsed Instance came from, for checks made after the parse (the KVP step of a
 * launch, `domforge kvp --instance`): with it their errors name the file and the line of
 * the offending element, as the parser's own checks do.
 *
 * Kept beside the Instance, not in it: the Instance stays plain data (compared, spread,
 * cloned and frozen as before). Only the object the parser returned has a source; a copy
 * (`{ ...instance, password }`) or an Instance built in code has none, and errors about it
 * name the field's path alone. An Instance changed in place keeps the lines of the file it
 * was read from.
 */
export interface InstanceSource {
  /** The instance.xml or JSON description, as the caller named it (undefined for text without a name). */
  file?: string;
  /**
   * Line and column of an instance path (`/instance/metadata/item[2]/@key`) in that text, as
   * far as known: a path the text does not hold gives the nearest element above it.
   */
  locate: Locator;
}

const sources = new WeakMap<Instance, InstanceSource>();

/** Records where `instance` was read from (the parsers call this). */
export function rememberSource(instance: Instance, source: InstanceSource): void {
  sources.set(instance, source);
}

/** Where `instance` was read from, when it is an object a parser returned. */
export function sourceOf(instance: Instance): InstanceSource | undefined {
  return sources.get(instance);
}

/** The place of an instance path for an error: the path, and the file, line and column when the source knows them. */
export function placeOf(source: InstanceSource | undefined, path: string): ErrorPlace {
  if (!source) return { path };
  const { line, column } = source.locate(path);
  return { file: source.file, line, column, path };
}
