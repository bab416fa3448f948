import { stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { TransformError, IoError } from '../errors.js';
import { notRegularKind, notRegularText } from '../fs/regular-file.js';
import { compileXslt, type XsltEngineChoice } from './xslt/compile.js';
import type { DivergencePolicy } from './xslt/guard.js';
import type { TransformInput } from './types.js';
import type { CompiledTransform } from './types.js';
import { FileTransformSource } from './file-source.js';
import type { Unreadable } from './links-out.js';

export type TransformKind = 'xslt' | 'handlebars';

export interface LoadTransformOptions {
  /** Folder that includes, imports and partials must stay inside (default: the transform's folder). */
  root?: string;
  /** XSLT engine (default `auto`: in-process, pinned to libxslt by the differential guard when they differ). */
  engine?: XsltEngineChoice;
  /** XSLT, `auto`: on a difference `pin` to libxslt (default) or `refuse` the stylesheet. */
  onDivergence?: DivergencePolicy;
  /** XSLT, `auto`: inputs the guard renders with both engines when the stylesheet is first used. */
  provingSet?: TransformInput[];
  /** Transform text when already read. */
  text?: string;
  /** Handlebars: the admin has marked this template trusted (triple-stash allowed on instance values). */
  trusted?: boolean;
  /**
   * Symbolic links of the transforms folder that `root` does not hold, by path relative to
   * `root`, each with the real path it points to (a version snapshot leaves out every link
   * out of the folder). An include, `document()` or partial that is one is refused as it is
   * in the folder itself. Default none.
   */
  linksOut?: Readonly<Record<string, string>>;
  /**
   * Files of the transforms folder that `root` left out for what they are (a FIFO, a symbolic link to nothing), by
   * path relative to `root` (a version snapshot's). An include or partial that is one is
   * refused as it is in the folder itself. Default none.
   */
  unreadable?: Readonly<Record<string, Unreadable>>;
}

/** Compiles one kind of transform; Handlebars registers itself here. */
export type TransformCompiler = (file: string, options: LoadTransformOptions) => CompiledTransform | Promise<CompiledTransform>;

const compilers = new Map<TransformKind, TransformCompiler>([
  ['xslt', (file, o) => compileXslt(file, { root: o.root, engine: o.engine, text: o.text, onDivergence: o.onDivergence, provingSet: o.provingSet, linksOut: o.linksOut, unreadable: o.unreadable })],
]);

/** Registers the compiler of a transform kind (used by the Handlebars module). */
export function registerTransformCompiler(kind: TransformKind, compiler: TransformCompiler): void {
  compilers.set(kind, compiler);
}

/** The kind of transform a file is, by its name: `*.xsl`, `*.xslt`, `*.hbs` (`*.xml.hbs`) or `*.handlebars`. */
export function transformKindOf(file: string): TransformKind {
  const ext = extname(file).toLowerCase();
  if (ext === '.xsl' || ext === '.xslt') return 'xslt';
  if (ext === '.hbs' || ext === '.handlebars') return 'handlebars';
  throw new TransformError('TRANSFORM_UNSUPPORTED', `cannot tell what kind of transform this is from its name: expected *.xsl, *.xslt, *.hbs or *.handlebars`, { file });
}

/** Reads, strictly parses and compiles a transform, choosing XSLT or Handlebars by file name. */
export async function loadTransform(file: string, options: LoadTransformOptions = {}): Promise<CompiledTransform> {
  const kind = transformKindOf(file);
  let compiler = compilers.get(kind);
  if (!compiler && kind === 'handlebars') {
    // The Handlebars module registers its compiler when loaded.
    const spec = './handlebars/index.js';
    await import(spec).catch(() => undefined);
    compiler = compilers.get(kind);
  }
  if (!compiler) throw new TransformError('TRANSFORM_UNSUPPORTED', `${kind} transforms are not available in this build`, { file });
  if (options.text === undefined) {
    try {
      const s = await stat(file);
      if (!s.isFile()) throw new IoError(`cannot read transform: ${notRegularText(notRegularKind(s))}`, { file });
    } catch (e) {
      if (e instanceof IoError) throw e;
      throw new IoError(`cannot read transform: ${(e as Error).message}`, { file, cause: e });
    }
  }
  return compiler(file, options);
}

/**
 * Compiled transforms by file, kept while their files do not change: a lookup takes one
 * `stat` of each of the transform's files (main file, includes, partials), reads and
 * hashes them when a stat differs or a file changed too recently to trust its times, and
 * compiles again only when their content differs from the last compile (see
 * FileTransformSource).
 */
export class TransformCache {
  private readonly sources = new Map<string, FileTransformSource>();

  constructor(private readonly options: LoadTransformOptions = {}) {}

  /** The compiled transform for a file, compiled now if it is new or has changed. */
  get(file: string): Promise<CompiledTransform> {
    const key = resolve(file);
    let source = this.sources.get(key);
    if (!source) this.sources.set(key, (source = new FileTransformSource(key, this.options)));
    return source.get();
  }

  clear(): void {
    this.sources.clear();
  }
}
