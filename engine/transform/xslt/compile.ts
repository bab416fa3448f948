import { TransformError } from '../../errors.js';
import { loadStylesheet, type Stylesheet } from './stylesheet.js';
import { checkStylesheet, type StaticReport } from './static-checks.js';
import { XsltProcessorEngine } from './processor-engine.js';
import { LibxsltEngine, type LibxsltOptions } from './libxslt-engine.js';
import { hasXsltproc, runGuard, type DivergencePolicy, type GuardOutcome, type GuardReport } from './guard.js';
import type { XsltEngine, XsltEngineChoice, XsltEngineName } from './engine.js';
import type { CompiledTransform, RenderResult, TransformInput, TransformParams } from '../types.js';

export type { XsltEngineName, XsltEngineChoice } from './engine.js';

export interface CompileXsltOptions {
  /** Folder includes, imports and document() must stay inside (default: the stylesheet's folder). */
  root?: string;
  /**
   * Which engine renders (default `auto`: xslt-processor, unless a construct it does not
   * run exactly, or a difference on the proving set, pins the stylesheet to libxslt).
   */
  engine?: XsltEngineChoice;
  /** `auto` only: on a difference, `pin` to libxslt (default) or `refuse` the stylesheet. */
  onDivergence?: DivergencePolicy;
  /** `auto` only: inputs (samples) the guard renders with both engines on activation. Default none. */
  provingSet?: TransformInput[];
  /** How xsltproc is run (binary, timeout). */
  libxslt?: LibxsltOptions;
  /** Stylesheet text when already read. */
  text?: string;
}

/** Why one input cannot go through xslt-processor even when the stylesheet can (checked per render). */
export function inputCaveat(xml: string): string | undefined {
  if (/<[^!?][^>]*\sxmlns(:[\w.-]+)?\s*=/.test(xml)) return 'namespaces in the input document';
  return undefined;
}

/** An XSLT 1.0 stylesheet compiled once: strictly parsed, statically checked, ready to render. */
export class CompiledXslt implements CompiledTransform {
  readonly kind = 'xslt' as const;
  readonly file: string;
  readonly files: readonly string[];
  readonly hash: string;
  readonly report: StaticReport;
  readonly choice: XsltEngineChoice;
  /** The guard's verdict (`auto`, after activation). */
  guard?: GuardReport;
  private processor?: XsltProcessorEngine;
  private libxslt?: LibxsltEngine;
  private activation?: Promise<GuardReport>;

  constructor(
    readonly sheet: Stylesheet,
    engine: XsltEngineChoice,
    private readonly options: CompileXsltOptions = {},
  ) {
    this.file = sheet.main.file;
    this.files = [sheet.main.file, ...new Set([...sheet.modules.values()].map((m) => m.file))];
    this.hash = sheet.hash;
    this.report = checkStylesheet(sheet);
    this.choice = engine;
    if (engine === 'xslt-processor') {
      const c = this.report.caveats[0];
      if (c) {
        throw new TransformError('TRANSFORM_UNSUPPORTED', `xslt-processor does not run ${c.feature} exactly as libxslt does; use --engine libxslt or auto`, {
          file: c.file,
          line: c.line,
          details: this.report.caveats.slice(1, 6).map((x) => `also: ${x.feature} at ${x.file}:${x.line ?? '?'}`),
        });
      }
      this.processor = new XsltProcessorEngine(sheet);
    }
  }

  /** The engine renders go to now: the chosen one, or under `auto` the guard's choice (xslt-processor until activated). */
  get engineName(): XsltEngineName {
    if (this.choice !== 'auto') return this.choice;
    return this.guard?.engine ?? 'xslt-processor';
  }

  /** The engine object for a name (both are available on every compiled stylesheet). */
  engine(name: XsltEngineName): XsltEngine {
    if (name === 'libxslt') return (this.libxslt ??= new LibxsltEngine(this.sheet, this.options.libxslt));
    return (this.processor ??= new XsltProcessorEngine(this.sheet));
  }

  /**
   * Runs the differential guard (`auto` only; once): the proving set, plus `extra` inputs
   * such as the instance at hand, rendered by both engines. Later calls return the first verdict.
   */
  activate(extra: TransformInput[] = [], params: TransformParams = {}, known?: Map<TransformInput, GuardOutcome>): Promise<GuardReport> {
    this.activation ??= runGuard({
      processor: this.engine('xslt-processor'),
      libxslt: this.engine('libxslt'),
      caveats: this.report.caveats,
      inputs: [...(this.options.provingSet ?? []), ...extra],
      params,
      textOutput: this.report.outputMethod === 'text',
      libxsltAvailable: hasXsltproc(this.options.libxslt?.binary),
      known,
    }).then((g) => {
      this.guard = g;
      return g;
    });
    return this.activation;
  }

  /** Renders with the chosen engine; under `auto` the first render activates the guard with its input. */
  async render(input: TransformInput, params: TransformParams = {}): Promise<RenderResult> {
    if (this.choice !== 'auto') return this.renderWith(this.choice, input, params);
    let known: Map<TransformInput, GuardOutcome> | undefined;
    let first: GuardOutcome | undefined;
    if (!this.activation && this.report.caveats.length === 0 && !inputCaveat(input.xml)) {
      first = await this.engine('xslt-processor')
        .render(input.xml, params)
        .then((result) => ({ ok: true as const, result }), (error: Error) => ({ ok: false as const, error }));
      known = new Map([[input, first]]);
    }
    const guard = await this.activate(inputCaveat(input.xml) ? [] : [input], params, known);
    if (guard.difference && this.options.onDivergence === 'refuse') {
      throw new TransformError('TRANSFORM_UNSUPPORTED', `xslt-processor and libxslt disagree on this stylesheet (${guard.difference.input} at ${guard.difference.path}: ${guard.difference.message}); refused by configuration`, { file: this.file });
    }
    const note = guard.unguarded ? [guard.summary] : [];
    if (guard.engine === 'xslt-processor' && inputCaveat(input.xml) && !guard.unguarded) {
      const r = await this.renderWith('libxslt', input, params);
      return { ...r, warnings: [...r.warnings, `rendered with libxslt: ${inputCaveat(input.xml)}`] };
    }
    if (guard.engine === 'xslt-processor' && first) {
      if (!first.ok) throw first.error;
      return { ...first.result, warnings: [...first.result.warnings, ...note] };
    }
    const r = await this.renderWith(guard.engine, input, params);
    return note.length ? { ...r, warnings: [...r.warnings, ...note] } : r;
  }

  /** Renders with a given engine, bypassing the guard. xslt-processor still refuses inputs it cannot render exactly. */
  renderWith(engine: XsltEngineName, input: TransformInput, params: TransformParams = {}): Promise<RenderResult> {
    if (engine === 'xslt-processor') {
      const why = inputCaveat(input.xml);
      if (why) return Promise.reject(new TransformError('TRANSFORM_UNSUPPORTED', `xslt-processor does not render ${why} exactly as libxslt does; use --engine libxslt or auto`, { file: input.file ?? this.file }));
    }
    return this.engine(engine).render(input.xml, params);
  }
}

/** Loads, strictly parses, checks and compiles an XSLT stylesheet. */
export function compileXslt(file: string, options: CompileXsltOptions = {}): CompiledXslt {
  const sheet = loadStylesheet(file, { root: options.root, text: options.text });
  return new CompiledXslt(sheet, options.engine ?? 'auto', options);
}
