import type { RenderResult, TransformParams } from '../types.js';

/** The engines that can run an XSLT 1.0 stylesheet: two in-process (compiled, xslt-processor) and libxslt. */
export type XsltEngineName = 'xslt-processor' | 'libxslt' | 'compiled';

/**
 * Which engine a stylesheet renders with: one of the two, or `auto` (the default): the
 * in-process engine unless the differential guard pins the stylesheet to libxslt.
 */
export type XsltEngineChoice = XsltEngineName | 'auto';

export const XSLT_ENGINE_CHOICES: readonly XsltEngineChoice[] = ['auto', 'compiled', 'xslt-processor', 'libxslt'];

/**
 * One way of running a compiled stylesheet over an input document. Both engines throw
 * the same TransformError (code, stylesheet file:line) and return `xsl:message` output
 * without terminate as warnings.
 */
export interface XsltEngine {
  readonly name: XsltEngineName;
  /** `file` names the input in an error about the input itself (the compiled engine's input parse). */
  render(inputXml: string, params?: TransformParams, file?: string): Promise<RenderResult>;
}
