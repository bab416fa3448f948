/**
 * Partials live in `partials/` beside the template: `{{> disk}}` is `partials/disk.hbs`,
 * `{{> devices/disk}}` is `partials/devices/disk.hbs`. A name cannot leave that folder
 * (no `..`, no absolute names). A symbolic link inside it is followed where it stays inside
 * the transforms folder, as an `xsl:include` or `document()` of one is, and as the watcher's
 * snapshot copies it; a link out of the transforms folder is refused.
 */
import { realpathSync } from 'node:fs';
import { dirname, join, relative, resolve, isAbsolute, sep } from 'node:path';
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
 * The file a partial name refers to in the partials folder `dir`, checked to exist and,
 * through any symbolic links, to stay inside the transforms folder `root`. Errors name the
 * calling file and line and the partial; a link out names the link and where it leads.
 */
export function resolvePartial(name: string, dir: string, root: string, at: PartialPlace): string {
  const place = { file: at.file, line: at.line, column: at.column };
  if (!NAME.test(name) || name.split('/').some((s) => s === '.' || s === '..')) {
    throw new TransformError('TRANSFORM_SYNTAX', `partial "${name}": names are letters, digits, _ . - and / between folders, and stay inside ${PARTIALS_DIR}/`, place);
  }
  const file = join(dir, ...name.split('/')) + PARTIAL_EXT;
  if (outside(relative(resolve(root), resolve(file)))) throw new TransformError('TRANSFORM_SYNTAX', `partial "${name}" (${file}) is outside ${root}`, place);
  let real: string;
  let realRoot: string;
  try {
    real = realpathSync(file);
  } catch {
    throw new TransformError('TRANSFORM_SYNTAX', `partial "${name}" not found (looked for ${file})`, place);
  }
  try {
    realRoot = realpathSync(root);
  } catch {
    throw new TransformError('TRANSFORM_SYNTAX', `partial "${name}" not found: there is no ${root}`, place);
  }
  if (outside(relative(realRoot, real))) {
    throw new TransformError('TRANSFORM_SYNTAX', `partial "${name}": ${relative(root, file)} is a symbolic link to ${real}, outside the transforms folder ${root}`, place);
  }
  return file;
}

/** A path relative to a folder that leads out of it. */
const outside = (rel: string): boolean => rel === '..' || rel.startsWith('..' + sep) || isAbsolute(rel);
