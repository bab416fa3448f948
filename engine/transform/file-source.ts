import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadTransform, type LoadTransformOptions } from './load.js';
import type { CompiledTransform } from './types.js';

/**
 * The transform of a file for every launch, compiled once and again only when one of its
 * files (the main file, includes, partials: `CompiledTransform.files`) has changed.
 *
 * A lookup reads those files and hashes their content — about 0.1 ms for the shipped
 * stylesheet — where compiling it costs tens of ms (a launch used to recompile it every
 * time). Content, not mtime: an edit saved twice within the file system's timestamp
 * granularity is still seen. The digest kept with a compiled transform is taken before
 * the compile and checked again after it, so a file edited while it compiles is never
 * paired with the older compile (the next lookup compiles again).
 */
export class FileTransformSource {
  private current?: { transform: CompiledTransform; digest: string };
  /** The files of the last compile (at first, the main file alone). */
  private files: readonly string[];
  private pending?: Promise<CompiledTransform>;

  constructor(
    file: string,
    private readonly options: LoadTransformOptions = {},
  ) {
    this.files = [resolve(file)];
  }

  async get(): Promise<CompiledTransform> {
    const c = this.current;
    if (c && (await digestOf(this.files).catch(() => undefined)) === c.digest) return c.transform;
    // Concurrent launches that find it stale share one compile.
    this.pending ??= this.load().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async load(retry = true): Promise<CompiledTransform> {
    const files = this.files;
    this.current = undefined;
    const before = await digestOf(files).catch(() => undefined);
    const transform = await loadTransform(files[0]!, this.options);
    this.files = transform.files.length ? transform.files : files;
    const after = await digestOf(this.files).catch(() => undefined);
    // Kept only when the files read before the compile are the ones it used, unchanged since.
    if (before !== undefined && before === after && sameFiles(files, this.files)) this.current = { transform, digest: after };
    // The first compile is what tells which files (includes, partials) a transform has;
    // compile once more with the full list so the digest can be checked around it.
    else if (retry && !sameFiles(files, this.files)) return this.load(false);
    return transform;
  }
}

async function digestOf(files: readonly string[]): Promise<string> {
  const h = createHash('sha256');
  for (const text of await Promise.all(files.map((f) => readFile(f)))) {
    h.update(String(text.length)).update('\0').update(text);
  }
  return h.digest('hex');
}

function sameFiles(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((f, i) => f === b[i]);
}
