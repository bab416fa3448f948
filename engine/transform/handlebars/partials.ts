/**
 * Partials live in `partials/` beside the template: `{{> disk}}` is `partials/disk.hbs`,
 * `{{> devices/disk}}` is `partials/devices/disk.hbs`. A name cannot leave that folder
 * (no `..`, no absolute names), and neither can a symbolic link inside it.
 */
import { realpathSync } from 'node:fs';
import { dirname, join, relative, isAbsolute, sep } from 'node:path';
import { TransformError } from '../../errors.js';

export const PARTIALS_DIR = 'partials';
export const PARTIAL_EXT = '.hbs';

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/;

/** The `partials/` folder of a template. */
export function partialsDirOf(templateFile: string): string {
  return join(dirname(templateFile), PARTIALS_DIR);
}

export interface PartialPlace {
  /** The file that calls the partial, and where. */
  file: string;
  line: number;
  column: number;
}

/**
 * The file a partial name refers to, checked to exist and to stay inside the partials
 * folder. Errors name the calling file and line and the partial.
 */
export function resolvePartial(name: string, dir: string, at: PartialPlace): string {
  const place = { file: at.file, line: at.line, column: at.column };
  if (!NAME.test(name) || name.split('/').some((s) => s === '.' || s === '..')) {
    throw new TransformError('TRANSFORM_SYNTAX', `partial "${name}": names are letters, digits, _ . - and / between folders, and stay inside ${PARTIALS_DIR}/`, place);
  }
  const file = join(dir, ...name.split('/')) + PARTIAL_EXT;
  let real: string;
  let realDir: string;
  try {
    real = realpathSync(file);
  } catch {
    throw new TransformError('TRANSFORM_SYNTAX', `partial "${name}" not found (looked for ${file})`, place);
  }
  try {
    realDir = realpathSync(dir);
  } catch {
    throw new TransformError('TRANSFORM_SYNTAX', `partial "${name}" not found: there is no ${dir}`, place);
  }
  const rel = relative(realDir, real);
  if (rel === '' || rel.startsWith('..' + sep) || rel === '..' || isAbsolute(rel)) {
    throw new TransformError('TRANSFORM_SYNTAX', `partial "${name}" resolves to ${real}, outside ${dir}`, place);
  }
  return file;
}
