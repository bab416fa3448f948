import { dirname, resolve } from 'node:path';
import { TransformError } from '../../errors.js';
import type { DivergencePolicy, GuardReport } from '../xslt/guard.js';
import type { CompiledTransform, RenderResult, TransformInput, TransformParams } from '../types.js';
import type { TransformSandbox, TaskLabel } from './pool.js';
import type { CompileReply, ProveReply, ProvingSample, TransformSource } from './protocol.js';
import type { Unreadable } from '../links-out.js';
import { expectPositiveTimerMs } from '../../option-checks.js';
import { checkTransformParams } from '../params.js';

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
  /**
   * When `root` is a copy of the folder (a version snapshot): the symbolic links out of the
   * folder the copy left out, by path relative to `root`, each with the real path it points
   * to. An include, `document()` or partial that is one is refused as it is in the folder
   * itself.
   */
  linksOut?: Readonly<Record<string, string>>;
  /**
   * When `root` is a copy of the folder: the files the copy left out for what they are (a
   * FIFO, a symbolic link to nothing), by path relative to `root`. An include or partial that is one is refused as it
   * is in the folder itself.
   */
  unreadable?: Readonly<Record<string, Unreadable>>;
  /** Wall-clock limit of this transform's renders, in ms. Default: the sandbox's `timeoutMs`. */
  timeoutMs?: number;
  /** XSLT under `auto`: on a difference `pin` to libxslt (default) or `refuse` the stylesheet (the load fails). */
  onDivergence?: DivergencePolicy;
  /**
   * XSLT under `auto`: the samples the version will be proved on (a promise while they are
   * read). The differential guard then runs once for the version, on one worker, over these
   * samples, while the other workers compile; every render after that, on any worker, uses
   * the engine it chose. Without them each worker's copy guards on its first render.
   */
  provingSet?: readonly { xml: string; file: string }[] | Promise<readonly { xml: string; file: string }[]>;
  /** Parameters the guard renders the proving set with (those of the proof). */
  params?: TransformParams;
  /**
   * XSLT under `auto` with a proving set: called, while the guard still runs, with this
   * version rendering on the in-process compiled engine, as soon as a worker not running
   * the guard has compiled it. A proof started with it is valid for the loaded transform
   * only if the guard's verdict is `compiled` (see {@link speculationHolds}); otherwise it
   * must be thrown away and the proof run again. Not called when the pool has no second
   * worker idle, or the stylesheet does not compile.
   */
  onSpeculative?: (t: SandboxedTransform) => void;
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
  /** XSLT under `auto`, when the guard ran at load: its verdict, which every render uses. */
  readonly guard?: GuardReport;

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
    this.guard = source.verdict;
  }

  render(input: TransformInput, params: TransformParams = {}): Promise<RenderResult> {
    // The caller parsed the input strictly in its own thread (renderText does).
    const checked = input.checked ?? input.document !== undefined;
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

/**
 * Whether a proof made with a speculative transform (see `onSpeculative`) stands for
 * `loaded`: the same version, and the guard chose the compiled engine — the one the
 * speculative renders used — so every sample would render exactly as it did.
 */
export function speculationHolds(speculative: SandboxedTransform, loaded: SandboxedTransform): boolean {
  const g = loaded.guard;
  return speculative.source.speculative === true && speculative.hash === loaded.hash && g !== undefined && g.engine === 'compiled' && !g.pinned && !g.unguarded;
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
  const source: TransformSource = { file: resolve(file), root: options.root ? resolve(options.root) : undefined, engine: options.engine, trusted: options.trusted, onDivergence: options.onDivergence, linksOut: options.linksOut, unreadable: options.unreadable };
  const mapFile = pathMapper(options.displayRoot ? (source.root ?? dirname(source.file)) : undefined, options.displayRoot);
  expectPositiveTimerMs('timeoutMs', options.timeoutMs);
  checkTransformParams(options.params);
  const label = { file: mapFile(source.file), mapFile, timeoutMs: options.timeoutMs };
  const guarding = options.provingSet !== undefined && (source.engine === undefined || (source.engine as string) === 'auto') && /\.xslt?$/i.test(source.file);
  // Every idle worker compiles the same files at the same time, so the renders that
  // follow (a proof's samples, spread over the pool) find the version warm everywhere
  // instead of each worker compiling it in turn. Under `auto` with a proving set, one of
  // them compiles and runs the guard instead (see below).
  const compiles: Promise<CompileReply>[] = [];
  const compile = () => {
    const p = sandbox.run({ kind: 'compile', source }, label);
    p.catch(() => undefined);
    compiles.push(p);
  };
  if (!guarding) compile();
  for (let i = sandbox.idleWorkers() - (guarding ? 1 : 0); i > 0; i--) compile();
  if (guarding && options.onSpeculative && compiles.length) {
    const speculate = options.onSpeculative;
    Promise.any(compiles).then(
      (reply) => speculate(new SandboxedTransform(sandbox, { ...source, speculative: true }, reply, mapFile, options.timeoutMs)),
      () => undefined,
    );
  }
  if (guarding) {
    const verdict = await guardVersion(sandbox, source, label, options);
    if (verdict) {
      const [reply, guard] = verdict;
      if (guard.difference && options.onDivergence === 'refuse') {
        throw new TransformError('TRANSFORM_UNSUPPORTED', `the in-process engine and libxslt disagree on this stylesheet (${guard.difference.input} at ${guard.difference.path}: ${guard.difference.message}); refused by configuration`, { file: label.file });
      }
      return new SandboxedTransform(sandbox, { ...source, verdict: guard }, reply, mapFile, options.timeoutMs);
    }
    // The guard did not run to a verdict (see guardVersion): a plain compile, whose error is the answer.
    if (!compiles.length) compile();
  }
  // The first compile to succeed is the answer; when none does, the first one's error is.
  const compiled = await Promise.any(compiles).catch(() => compiles[0]!);
  return new SandboxedTransform(sandbox, source, compiled, mapFile, options.timeoutMs);
}

/**
 * Runs a version's differential guard once, on one worker, over the proving set. Undefined
 * when it reached no verdict (the samples could not be read, or the worker failed or ran
 * out of time, for instance on a runaway template): the caller then compiles plainly and
 * the proof, whose renders guard on each worker as before, reports the failing sample.
 */
async function guardVersion(sandbox: TransformSandbox, source: TransformSource, label: TaskLabel, options: SandboxLoadOptions): Promise<[CompileReply, GuardReport] | undefined> {
  let samples: readonly { xml: string; file: string }[];
  try {
    samples = await options.provingSet!;
  } catch {
    return undefined;
  }
  try {
    const reply = await sandbox.run({ kind: 'guard', source, samples: samples.map((s) => ({ xml: s.xml, file: s.file })), params: options.params ?? {} }, label);
    const { guard, ...compiled } = reply;
    return [compiled, guard];
  } catch {
    return undefined;
  }
}
