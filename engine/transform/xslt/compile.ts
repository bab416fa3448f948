import { loadStylesheet, type Stylesheet } from './stylesheet.js';
import { checkStylesheet, type StaticReport } from './static-checks.js';
import { XsltProcessorEngine } from './processor-engine.js';
import { LibxsltEngine } from './libxslt-engine.js';
import type { CompiledTransform, RenderResult, TransformInput, TransformParams } from '../types.js';

export type XsltEngineName = 'xslt-processor' | 'libxslt';

export interface CompileXsltOptions {
  /** Folder includes/imports must stay inside (default: the stylesheet's folder). */
  root?: string;
  /** Which engine renders (default `xslt-processor`, in-process). */
  engine?: XsltEngineName;
  /** Stylesheet text when already read. */
  text?: string;
}

/** An XSLT 1.0 stylesheet compiled once: strictly parsed, statically checked, ready to render. */
export class CompiledXslt implements CompiledTransform {
  readonly kind = 'xslt' as const;
  readonly file: string;
  readonly files: readonly string[];
  readonly hash: string;
  readonly report: StaticReport;
  readonly engineName: XsltEngineName;
  private processor?: XsltProcessorEngine;
  private libxslt?: LibxsltEngine;

  constructor(
    readonly sheet: Stylesheet,
    engine: XsltEngineName,
  ) {
    this.file = sheet.main.file;
    this.files = [sheet.main.file, ...new Set([...sheet.modules.values()].map((m) => m.file))];
    this.hash = sheet.hash;
    this.report = checkStylesheet(sheet);
    this.engineName = engine;
    if (engine === 'xslt-processor') this.processor = new XsltProcessorEngine(sheet);
  }

  /** Renders with the chosen engine. */
  render(input: TransformInput, params: TransformParams = {}): Promise<RenderResult> {
    return this.renderWith(this.engineName, input, params);
  }

  /** Renders with a given engine (both are available on every compiled stylesheet). */
  renderWith(engine: XsltEngineName, input: TransformInput, params: TransformParams = {}): Promise<RenderResult> {
    if (engine === 'libxslt') {
      this.libxslt ??= new LibxsltEngine(this.sheet);
      return this.libxslt.render(input.xml, params);
    }
    this.processor ??= new XsltProcessorEngine(this.sheet);
    return this.processor.render(input.xml, params);
  }
}

/** Loads, strictly parses, checks and compiles an XSLT stylesheet. */
export function compileXslt(file: string, options: CompileXsltOptions = {}): CompiledXslt {
  const sheet = loadStylesheet(file, { root: options.root, text: options.text });
  return new CompiledXslt(sheet, options.engine ?? 'xslt-processor');
}
