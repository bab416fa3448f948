// What the tests of symbolic links under the watcher share (document-link, folder-link, link-watch, versions-store).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rename, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { DomforgeError } from '../../engine/errors.js';
import { loadTransform } from '../../engine/transform/load.js';
import { join } from 'node:path';
import { TransformSandbox } from '../../engine/transform/sandbox/index.js';
import { watchTransforms, type TransformWatcher, type TransformWatcherOptions } from '../../engine/transform/watch/index.js';
import { copyProvingSet, readInput, type TempDir } from '../sandbox/fixtures.js';
import type { EventLog } from './helpers.js';

/** document() pins a version to libxslt: without xsltproc there is no engine to read it with. */
export const SKIP_WITHOUT_XSLTPROC = spawnSync('xsltproc', ['--version'], { stdio: 'ignore' }).status === 0 ? false : 'xsltproc is not installed';

/** The `<name>` line of the default transform. */
export const NAME = '<name><xsl:value-of select="name"/></name>';

/** The default transform `base`, with the name suffixed by `@suffix` of the document `href`. */
export const readingDocument = (base: string, href: string): string =>
  base.replace(NAME, `<name><xsl:value-of select="name"/><xsl:value-of select="document('${href}')/n/@suffix"/></name>`);

/** The domain name in rendered XML. */
export const nameOf = (xml: string): string | undefined => /<name>([^<]*)<\/name>/.exec(xml)?.[1];

/** Writes a file whole, as an editor that saves by renaming does: the watcher never sees it half-written. */
export async function saveWhole(file: string, text: string): Promise<void> {
  await writeFile(file + '.tmp', text);
  await rename(file + '.tmp', file);
}

/** Waits for the watcher to see a change made just now and finish the check it starts. */
export async function quiet(watcher: TransformWatcher, ms = 400): Promise<void> {
  await sleep(ms);
  await watcher.settled();
}

/** The error compiling the stylesheet `main` in place gives (the folder itself, no watcher). */
export async function compileErrorInPlace(main: string): Promise<DomforgeError> {
  const e = await loadTransform(main, { engine: 'auto' }).then(
    () => assert.fail('the stylesheet compiled in place'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof DomforgeError, String(e));
  return e;
}

export const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Watches `tmp.dir/transforms` (or `options.dir`) with a sandbox of two workers, proving on
 * `samples` (copied to `tmp.dir/proving`), with any other `options`; resolves once the first
 * version is active, with the first sample's text to render.
 */
export async function startWatching(tmp: TempDir, samples: string[], log: EventLog, options: Partial<TransformWatcherOptions> = {}): Promise<{ sandbox: TransformSandbox; watcher: TransformWatcher; instance: string }> {
  await copyProvingSet(join(tmp.dir, 'proving'), samples);
  const instance = await readInput(samples[0]!);
  const sandbox = new TransformSandbox({ size: 2, timeoutMs: 6000 });
  const watcher = await watchTransforms({ dir: join(tmp.dir, 'transforms'), provingSet: join(tmp.dir, 'proving'), sandbox, ...options }, log.push);
  await log.expect('activated');
  return { sandbox, watcher, instance };
}

/** Closes what startWatching started, and removes the test's folder. */
export async function stopWatching(watcher: TransformWatcher | undefined, sandbox: TransformSandbox | undefined, tmp: TempDir | undefined): Promise<void> {
  await watcher?.close();
  await sandbox?.close();
  await tmp?.cleanup();
}
