import type { XsltEngineName } from '../xslt/compile.js';
import type { DivergencePolicy, GuardReport } from '../xslt/guard.js';
import type { RenderResult, TransformParams } from '../types.js';
import type { SchemaEngine } from '../../validate/index.js';
import type { WireError } from './errors.js';
import type { Unreadable } from '../links-out.js';

/**
 * Where a worker loads a transform from: its files on disk, never code sent across. For a
 * watched transform these are the files of an immutable version snapshot, so every worker,
 * even one started after a kill, compiles exactly the version the hash names.
 */
export interface TransformSource {
  /** The main transform file (`*.xsl`, `*.xslt`, `*.hbs`, `*.handlebars`). */
  file: string;
  /** Folder includes, imports and partials must stay inside (default: the main file's folder). */
  root?: string;
  /** XSLT engine (default `xslt-processor`). */
  engine?: XsltEngineName;
  /** Handlebars: the admin marked the template trusted. */
  trusted?: boolean;
  /** XSLT under `auto`: on a difference `pin` to libxslt (default) or `refuse` the stylesheet. */
  onDivergence?: DivergencePolicy;
  /**
   * When `root` is a version snapshot: the links out of the transforms folder it left out,
   * by path relative to `root`, each with the real path it points to. The compile refuses
   * an include, `document()` or partial that is one as it does in the folder itself.
   */
  linksOut?: Readonly<Record<string, string>>;
  /**
   * When `root` is a version snapshot: the files it left out for what they are (a FIFO, a symbolic link to nothing),
   * by path relative to `root`. The compile refuses an include or partial that is one as it
   * does in the folder itself.
   */
  unreadable?: Readonly<Record<string, Unreadable>>;
  /**
   * XSLT under `auto`: the guard's verdict on this version, reached once (a `guard` task).
   * A worker renders with it and never runs the guard itself.
   */
  verdict?: GuardReport;
  /**
   * XSLT under `auto`, while the version's guard is still running: render as under a
   * verdict for the in-process compiled engine, without guarding (a speculative proof,
   * which the caller keeps only if the guard's verdict is that one). The worker's warm copy
   * of the version, and any verdict it holds, are left as they are.
   */
  speculative?: boolean;
}

/** One instance a new transform version must render before it goes live. */
export interface ProvingSample {
  /** Short name for reports (`01-linux-virtio`). */
  name: string;
  /** The input file, for messages. */
  file: string;
  /** The input XML (instance.xml or a `<nic>` / `<volume>` stub). */
  xml: string;
  /** Expected libvirt XML, compared by meaning (whitespace, attribute order and number spelling ignored). */
  expected?: string;
  /** The expected file, for messages. */
  expectedFile?: string;
}

export type SandboxTask =
  | { kind: 'compile'; source: TransformSource }
  | {
      kind: 'render';
      source: TransformSource;
      hash: string;
      xml: string;
      file?: string;
      params: TransformParams;
      /** The caller already parsed the input strictly (renderText does): the worker need not again. */
      checked?: boolean;
    }
  | { kind: 'prove'; source: TransformSource; hash: string; sample: ProvingSample; params: TransformParams; schema?: SchemaEngine }
  /** XSLT under `auto`: compile, and run the differential guard over the samples (once per version). */
  | { kind: 'guard'; source: TransformSource; samples: { xml: string; file: string }[]; params: TransformParams };

export interface CompileReply {
  kind: 'xslt' | 'handlebars';
  file: string;
  files: string[];
  hash: string;
}

/** A compile that also ran the guard: the verdict the other workers are told. */
export interface GuardReply extends CompileReply {
  guard: GuardReport;
}

export interface ProveReply {
  output: string;
  warnings: string[];
  /** Where the output differs from the expected XML, when one was given. */
  difference?: { path: string; message: string };
}

export type TaskReply<T extends SandboxTask> = T extends { kind: 'compile' } ? CompileReply : T extends { kind: 'guard' } ? GuardReply : T extends { kind: 'render' } ? RenderResult : ProveReply;

export type ToWorker = { id: number; task: SandboxTask };
export type FromWorker =
  | { ready: true }
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: WireError }
  /** An xsltproc the worker started (`running`) or saw end: the runner kills those still running when it ends the worker. */
  | { child: number; running: boolean };
/** What the pool hears from a worker: everything but the child reports, which the runner keeps. */
export type WorkerReply = Exclude<FromWorker, { child: number }>;

/** What the pool hands a worker at start. */
export interface WorkerConfig {
  warmTransforms: number;
  prewarm: boolean;
  schema?: SchemaEngine;
  /** A folder of this worker's own for temporary files, removed by the pool when the worker ends. */
  scratchDir?: string;
}
