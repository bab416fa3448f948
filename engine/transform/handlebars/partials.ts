/**
 * Partials live in `partials/` beside the template: `{{> disk}}` is `partials/disk.hbs`,
 * `{{> devices/disk}}` is `partials/devices/disk.hbs`. A name cannot leave that folder
 * (no `..`, no absolute names). A symbolic link inside it is followed where it stays inside
 * the transforms folder, as an `xsl:include` or `document()` of one is, and as the watcher's
 * snapshot copies it; a link out of the transforms folder is refused, also in a snapshot,
 * which leaves the link out and lists it in `linksOut` (see realpathThrough).
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { TransformError } from '../../errors.js';
import { leavesFolder, realpathThrough, unreadableThrough, type Unreadable } from '../links-out.js';

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
 * `linksOut`: the links out of the folder that `root` (a version snapshot) left out, by path
 * relative to `root`, each with where it leads (default none): a partial reached through
 * one is refused as in the folder itself, rather than not found; `unreadable`: the files it
 * left out for what they are (a FIFO, a symbolic link to nothing), found as in the folder itself, to be refused when
 * read.
 */
export function resolvePartial(name: string, dir: string, root: string, at: PartialPlace, linksOut?: Readonly<Record<string, string>>, unreadable?: Readonly<Record<string, Unreadable>>): string {
  const place = { file: at.file, line: at.line, column: at.column };
  if (!NAME.test(name) || name.split('/').some((s) => s === '.' || s === '..')) {
    throw new TransformError('TRANSFORM_SYNTAX', `partial "${name}": names are letters, digits, _ . - and / between folders, and stay inside ${PARTIALS_DIR}/`, place);
  }
  const file = join(dir, ...name.split('/')) + PARTIAL_EXT;
  if (leavesFolder(relative(resolve(root), resolve(file)))) throw new TransformError('TRANSFORM_SYNTAX', `partial "${name}" (${file}) is outside ${root}`, place);
  // Followed one name at a time, through `linksOut` where the path meets one of them; a
  // path that leads nowhere comes back as it is (as missing).
  const real = realpathThrough(root, linksOut)(file);
  if (!existsSync(real) && !unreadableThrough(root, unreadable)(file)) throw new TransformError('TRANSFORM_SYNTAX', `partial "${name}" not found (looked for ${file})`, place);
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    throw new TransformError('TRANSFORM_SYNTAX', `partial "${name}" not found: there is no ${root}`, place);
  }
  if (leavesFolder(relative(realRoot, real))) {
    throw new TransformError('TRANSFORM_SYNTAX', `partial "${name}": ${relative(root, file)} is a symbolic link to ${real}, outside the transforms folder ${root}`, place);
  }
  return file;
}
