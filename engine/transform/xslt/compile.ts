import { TransformError } from '../../errors.js';
import { parseXml } from '../../xml/parse.js';
import { loadStylesheet, type Stylesheet } from './stylesheet.js';
import { checkStylesheet, type StaticReport } from './static-checks.js';
import { XsltProcessorEngine } from './processor-engine.js';
import { CompiledEngine } from './compiled/engine.js';
import { LibxsltEngine, type LibxsltOptions } from './libxslt-engine.js';
import { hasXsltproc, runGuard, startLibxsltBatch, type DivergencePolicy, type GuardOutcome, type GuardReport } from './guard.js';
import type { XsltEngine, XsltEngineChoice, XsltEngineName } from './engine.js';
import type { CompiledTransform, RenderResult, TransformInput, TransformParams } from '../types.js';
import type { Unreadable } from '../links-out.js';

export type { XsltEngineName, XsltEngineChoice } from './engine.js';

export interface CompileXsltOptions {
  /** Folder includes, imports and document() must stay inside (default: the stylesheet's folder). */
  root?: string;
  /**
   * Which engine renders (default `auto`: the in-process engine, unless a difference on the
   * proving set pins the stylesheet to libxslt). The in-process engine under `auto` is the
   * compiled engine when it compiles the stylesheet, else xslt-processor when no static
   * caveat applies, else libxslt.
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
  /** Links of the transforms folder that `root` does not hold (a version snapshot's; see LoadStylesheetOptions). Default none. */
  linksOut?: Readonly<Record<string, string>>;
  /** Files of the transforms folder that `root` left out for what they are (a version snapshot's; see LoadStylesheetOptions). Default none. */
  unreadable?: Readonly<Record<string, Unreadable>>;
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
  /** The in-process engine `auto` compares with libxslt (and renders with, unless pinned). */
  readonly inProcess: 'compiled' | 'xslt-processor';
  /** Why the compiled engine does not run this stylesheet (`auto` then uses xslt-processor). */
  readonly compiledRefusal?: Error;
  private processor?: XsltProcessorEngine;
  private compiled?: CompiledEngine;
  private readonly libxslt: LibxsltEngine;
  private activation?: Promise<GuardReport>;

  constructor(
    readonly sheet: Stylesheet,
    engine: XsltEngineChoice,
    private readonly options: CompileXsltOptions = {},
    report?: StaticReport,
  ) {
    this.file = sheet.main.file;
    this.files = [sheet.main.file, ...new Set([...sheet.modules.values()].map((m) => m.file)), ...sheet.documents];
    this.hash = sheet.hash;
    this.report = report ?? checkStylesheet(sheet);
    this.choice = engine;
    // Made now, not at its first render: its options are checked with the stylesheet.
    this.libxslt = new LibxsltEngine(sheet, options.libxslt);
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
    if (engine === 'compiled') this.compiled = new CompiledEngine(sheet);
    if (engine === 'auto') {
      try {
        this.compiled = new CompiledEngine(sheet);
      } catch (e) {
        // Whatever the compiled engine cannot compile goes to the other engines, which report their own errors.
        this.compiledRefusal = e as Error;
      }
    }
    this.inProcess = this.compiled ? 'compiled' : 'xslt-processor';
  }

  /** The engine renders go to now: the chosen one, or under `auto` the guard's choice (the in-process engine until activated). */
  get engineName(): XsltEngineName {
    if (this.choice !== 'auto') return this.choice;
    return this.guard?.engine ?? this.inProcess;
  }

  /** The engine object for a name (the compiled engine throws its refusal when it cannot run the stylesheet). */
  engine(name: XsltEngineName): XsltEngine {
    if (name === 'libxslt') return this.libxslt;
    if (name === 'compiled') {
      if (this.compiledRefusal) throw this.compiledRefusal;
      return (this.compiled ??= new CompiledEngine(this.sheet));
    }
    return (this.processor ??= new XsltProcessorEngine(this.sheet));
  }

  /**
   * Runs the differential guard (`auto` only; once): the proving set, plus `extra` inputs
   * such as the instance at hand, rendered by both engines. Later calls return the first verdict.
   */
  activate(extra: TransformInput[] = [], params: TransformParams = {}, known?: Map<TransformInput, GuardOutcome>, libxsltKnown?: Map<TransformInput, Promise<GuardOutcome>>): Promise<GuardReport> {
    this.activation ??= runGuard({
      processor: this.engine(this.inProcess),
      libxslt: this.engine('libxslt'),
      // The compiled engine refuses at compile time what it does not run exactly; the caveats are xslt-processor's.
      caveats: this.inProcess === 'compiled' ? [] : this.report.caveats,
      inputs: [...(this.options.provingSet ?? []), ...extra],
      params,
      textOutput: this.report.outputMethod === 'text',
      libxsltAvailable: hasXsltproc(this.options.libxslt?.binary),
      known,
      libxsltKnown,
    }).then((g) => {
      this.guard = g;
      return g;
    });
    return this.activation;
  }

  /**
   * `auto` only: takes a verdict the guard reached for this version elsewhere (in another
   * sandbox worker, over the proving set), so this copy renders with it and never runs the
   * guard itself. The verdict replaces any earlier one: renders use exactly the engine the
   * version was proved with.
   */
  adoptGuard(report: GuardReport): void {
    if (this.choice !== 'auto') return;
    this.guard = report;
    this.activation = Promise.resolve(report);
  }

  /** Renders with the chosen engine; under `auto` the first render activates the guard with its input. */
  async render(input: TransformInput, params: TransformParams = {}): Promise<RenderResult> {
    if (this.choice !== 'auto') return this.renderWith(this.choice, input, params);
    let known: Map<TransformInput, GuardOutcome> | undefined;
    let first: GuardOutcome | undefined;
    const inProcess = this.inProcess;
    if (!this.activation && (inProcess === 'compiled' || this.report.caveats.length === 0) && !inputCaveat(input.xml)) {
      first = await this.engine(inProcess)
        .render(input.xml, params, input.file)
        .then((result) => ({ ok: true as const, result }), (error: Error) => ({ ok: false as const, error }));
      known = new Map([[input, first]]);
    }
    const guard = await this.activate(inputCaveat(input.xml) ? [] : [input], params, known);
    if (guard.difference && this.options.onDivergence === 'refuse') {
      throw new TransformError('TRANSFORM_UNSUPPORTED', `${inProcess} and libxslt disagree on this stylesheet (${guard.difference.input} at ${guard.difference.path}: ${guard.difference.message}); refused by configuration`, { file: this.file });
    }
    return this.renderUnder(guard, input, params, first);
  }

  /**
   * `auto` only: renders `input` exactly as {@link render} does once the guard has reached
   * `guard` — without adopting it (the sandbox's speculative proof renders under the
   * verdict it expects while the real guard is still running). `first` is the in-process
   * engine's outcome on this input when it is already known.
   */
  async renderUnder(guard: GuardReport, input: TransformInput, params: TransformParams = {}, first?: GuardOutcome): Promise<RenderResult> {
    const inProcess = this.inProcess;
    const note = guard.unguarded ? [guard.summary] : [];
    if (guard.engine === inProcess && inputCaveat(input.xml) && !guard.unguarded) {
      const r = await this.renderWith('libxslt', input, params);
      return { ...r, warnings: [...r.warnings, `rendered with libxslt: ${inputCaveat(input.xml)}`] };
    }
    if (guard.engine === inProcess && first) {
      if (!first.ok) return this.fallback(first.error, input, params, guard.unguarded);
      return { ...first.result, warnings: [...first.result.warnings, ...note] };
    }
    let r: RenderResult;
    try {
      r = await this.renderWith(guard.engine, input, params);
    } catch (e) {
      if (guard.engine !== inProcess) throw e;
      return this.fallback(e as Error, input, params, guard.unguarded);
    }
    return note.length ? { ...r, warnings: [...r.warnings, ...note] } : r;
  }

  /**
   * Under `auto`, an input the in-process engine refuses (TRANSFORM_UNSUPPORTED: something
   * only this input shows) is rendered with libxslt instead; any other error stands.
   */
  private async fallback(error: Error & { code?: string }, input: TransformInput, params: TransformParams, unguarded: boolean): Promise<RenderResult> {
    if (error.code !== 'TRANSFORM_UNSUPPORTED' || unguarded) throw error;
    const r = await this.renderWith('libxslt', input, params);
    return { ...r, warnings: [...r.warnings, `rendered with libxslt: ${(error as { shortMessage?: string }).shortMessage ?? error.message}`] };
  }

  /** Renders with a given engine, bypassing the guard. xslt-processor still refuses inputs it cannot render exactly. */
  renderWith(engine: XsltEngineName, input: TransformInput, params: TransformParams = {}): Promise<RenderResult> {
    if (engine === 'xslt-processor') {
      const why = inputCaveat(input.xml);
      if (why) return Promise.reject(new TransformError('TRANSFORM_UNSUPPORTED', `xslt-processor does not render ${why} exactly as libxslt does; use --engine libxslt or auto`, { file: input.file ?? this.file }));
    }
    return this.engine(engine).render(input.xml, params, input.file);
  }
}

/**
 * `auto` only: compiles a stylesheet and runs its differential guard over `inputs` in one
 * go, overlapping the two: libxslt (xsltproc processes) starts on every input as soon as
 * the stylesheet has passed its strict parse and static checks, while the in-process
 * engine compiles. The stylesheet comes back activated (`guard` set).
 */
export async function compileAndGuardXslt(file: string, inputs: TransformInput[], params: TransformParams = {}, options: CompileXsltOptions = {}): Promise<CompiledXslt> {
  const sheet = loadStylesheet(file, { root: options.root, text: options.text, linksOut: options.linksOut, unreadable: options.unreadable });
  const report = checkStylesheet(sheet);
  const usable = inputs.filter((i) => !inputCaveat(i.xml));
  const libxslt = new LibxsltEngine(sheet, options.libxslt);
  // Without xsltproc nothing is started. (A caveat that pins without comparing is known only
  // once the compiled engine has accepted or refused the stylesheet; the renders are then unused.)
  // The outcomes never reject: an error thrown below leaves no unhandled rejection.
  // One xsltproc process for all of them where its output can be split (see startLibxsltBatch).
  const early = hasXsltproc(options.libxslt?.binary) ? startLibxsltBatch(libxslt, sheet.main.file, usable, params, options.libxslt?.binary, options.libxslt?.timeoutMs) : undefined;
  const xsl = new CompiledXslt(sheet, 'auto', { ...options, engine: 'auto', provingSet: [] }, report);
  await xsl.activate(usable, params, undefined, early);
  return xsl;
}

/** Loads, strictly parses, checks and compiles an XSLT stylesheet. */
export function compileXslt(file: string, options: CompileXsltOptions = {}): CompiledXslt {
  const sheet = loadStylesheet(file, { root: options.root, text: options.text, linksOut: options.linksOut, unreadable: options.unreadable });
  // A proving input that is not well-formed is refused at its place: both engines would fail
  // on it, each its own way, and the guard would take that for a difference between them.
  for (const input of options.provingSet ?? []) if (!input.document) parseXml(input.xml, { file: input.file ?? 'proving input' });
  return new CompiledXslt(sheet, options.engine ?? 'auto', options);
}
