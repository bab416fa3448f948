/** `--schema`, read the same way by every command that validates libvirt XML (render, validate). */

import { UsageError } from '../errors.js';
import type { SchemaEngine } from '../validate/index.js';

/** The values `--schema` takes: `none` skips the schema (domforge's own checks still run). */
export const SCHEMA_CHOICES = ['wasm', 'virt-xml-validate', 'none'] as const;

/** The `--schema` help text. */
export const SCHEMA_HELP = `schema validator: ${SCHEMA_CHOICES.join(', ')} (default: wasm, libvirt's domain.rng in-process)`;

/**
 * The schema engine `--schema` names (`undefined` when not given: the validator's default,
 * `wasm`); any other value is a usage error (exit 2) naming the choices.
 */
export function schemaFlag(value: string | undefined): SchemaEngine | undefined {
  if (value === undefined) return undefined;
  if (!(SCHEMA_CHOICES as readonly string[]).includes(value)) {
    throw new UsageError(`Expected \`--schema\` to be one of ${SCHEMA_CHOICES.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value === 'none' ? false : (value as SchemaEngine);
}
