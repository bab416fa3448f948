import { dirname, resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import type { CompiledTransform, RenderResult, TransformInput, TransformParams } from '../types.js';
import type { TransformSandbox, TaskLabel } from './pool.js';
import type { CompileReply, ProveReply, ProvingSample, TransformSource } from './protocol.js';

export interface SandboxLoadOptions {
  /** Folder includes, imports and partials must stay inside (default: the main file's folder). */
  root?: string;
  /** XSLT engine (default `xslt-processor`). */
  engine?: TransformSource['engine'];
  /** Handlebars: the admin marked the template trusted. */
  trusted?: boolean;
  /**
   * The folder the admin knows these files under, when `root` is a copy of it (a version
   * snapshot): file names in `file`, `files` and every error are shown under this folder.
   */
  displayRoot?: string;
  /** Wall-clock limit of this transform's renders, in ms. Default: the sandbox's `timeoutMs`. */
  timeoutMs?: number;
}

/**
 * A transform that renders in the sandbox: the same CompiledTransform interface as an
 * in-thread one, so renderText, the controller and the CLI use either unchanged. It holds
 * no compiled code, only where its files are and the hash of the version they hold.
 */
export class SandboxedTransform implements CompiledTransform {
  readonly kind: 'xslt' | 'handlebars';
  readonly file: string;
  readonly files: readonly string[];
  readonly hash: string;

  constructor(
    private readonly sandbox: TransformSandbox,
    readonly source: TransformSource,
    compiled: CompileReply,
    private readonly mapFile: (s: string) => string,
    private readonly timeoutMs?: number,
  ) {
    this.kind = compiled.kind;
    this.file = compiled.file;
    this.files = compiled.files;
    this.hash = compiled.hash;
  }

  render(input: TransformInput, params: TransformParams = {}): Promise<RenderResult> {
    // A `document` means the caller parsed the input strictly in its own thread (renderText does).
    const checked = input.document !== undefined;
    return this.sandbox.run({ kind: 'render', source: this.source, hash: this.hash, xml: input.xml, file: input.file, params, checked }, this.label(input.file));
  }

  /** Renders one sample in the sandbox, validates the output and compares it with the expected XML. */
  prove(sample: ProvingSample, params: TransformParams = {}, signal?: AbortSignal): Promise<ProveReply> {
    return this.sandbox.run({ kind: 'prove', source: this.source, hash: this.hash, sample, params, schema: this.sandbox.options.schema }, this.label(sample.file), signal);
  }

  private label(input?: string): TaskLabel {
    return { file: this.file, input, mapFile: this.mapFile, timeoutMs: this.timeoutMs };
  }
}

/** A function that shows paths under `from` as paths under `to`. */
export function pathMapper(from: string | undefined, to: string | undefined): (s: string) => string {
  if (!from || !to || from === to) return (s) => s;
  const a = resolve(from);
  const b = resolve(to);
  return (s) => s.split(a).join(b);
}

/**
 * Compiles a transform in the sandbox (strict parse, static checks, include confinement
 * all run in a worker) and returns a handle that renders there.
 */
export async function loadSandboxedTransform(sandbox: TransformSandbox, file: string, options: SandboxLoadOptions = {}): Promise<SandboxedTransform> {
  const source: TransformSource = { file: resolve(file), root: options.root ? resolve(options.root) : undefined, engine: options.engine, trusted: options.trusted };
  const mapFile = pathMapper(options.displayRoot ? (source.root ?? dirname(source.file)) : undefined, options.displayRoot);
  if (options.timeoutMs !== undefined && (!Number.isInteger(options.timeoutMs) || options.timeoutMs < 1)) {
    throw new UsageError(`Expected \`timeoutMs\` to be a positive integer, got \`${String(options.timeoutMs)}\``);
  }
  const label = { file: mapFile(source.file), mapFile, timeoutMs: options.timeoutMs };
  const first = sandbox.run({ kind: 'compile', source }, label);
  // Every other idle worker compiles the same files at the same time, so the renders that
  // follow (a proof's samples, spread over the pool) find the version warm everywhere
  // instead of each worker compiling it in turn. The first compile to succeed is the
  // answer; when none does, the first one's error is.
  const all = [first];
  for (let i = sandbox.idleWorkers(); i > 0; i--) all.push(sandbox.run({ kind: 'compile', source }, label));
  for (const p of all) p.catch(() => undefined);
  const compiled = await Promise.any(all).catch(() => first);
  return new SandboxedTransform(sandbox, source, compiled, mapFile, options.timeoutMs);
}
