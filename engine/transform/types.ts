import type { Document } from '../xml/parse.js';
import type { Instance } from '../instance/model.js';

/** What a transform renders: the input document (instance.xml or a `<nic>`/`<volume>` stub). */
export interface TransformInput {
  /** The input XML text. */
  xml: string;
  /** File name for messages. */
  file?: string;
  /** The strictly parsed input, when the caller already has it. */
  document?: Document;
  /**
   * Whether the caller has read `xml` strictly already (renderText does: it is the text it
   * parsed, or what emitInstance / emitStub wrote from that parse), so a sandboxed render
   * does not parse it again. Default: whether `document` is given.
   */
  checked?: boolean;
  /** The typed instance (the Handlebars context), when the input is an instance. */
  instance?: Instance;
  /** The typed stub, when the input is a `<nic>` or `<volume>` stub. */
  stub?: { kind: 'nic' | 'volume'; data: unknown };
}

/** Parameters passed to a transform (`--param name=value`; XSLT string parameters). */
export type TransformParams = Record<string, string>;

export interface RenderResult {
  /** The rendered XML text. */
  output: string;
  /** Non-fatal messages (`xsl:message` without terminate, engine notes). */
  warnings: string[];
  /** Which engine produced the output. */
  engine: string;
}

/**
 * A transform compiled once and rendered many times: XSLT or Handlebars behind one
 * interface. Every render error is a TransformError naming the transform file and line.
 */
export interface CompiledTransform {
  readonly kind: 'xslt' | 'handlebars';
  /** The main transform file. */
  readonly file: string;
  /** Every file the transform is made of (includes, partials), the main file first. */
  readonly files: readonly string[];
  /** SHA-256 over the content of every file, in order: the transform's version. */
  readonly hash: string;
  render(input: TransformInput, params?: TransformParams): Promise<RenderResult>;
}
