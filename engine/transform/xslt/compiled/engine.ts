import type { XsltEngine } from '../engine.js';
import type { Stylesheet } from '../stylesheet.js';
import type { RenderResult, TransformParams } from '../../types.js';
import { compileProgram, type CompiledProgram } from './program.js';
import { parseInput } from './input-parser.js';
import { Run, Runtime, applyTemplates } from './runtime.js';
import { serialize } from './serialize.js';
import { ELEMENT, TEXT } from './tree.js';
import { unsupportedInput } from './refuse.js';
import { checkTransformParams } from '../../params.js';

/**
 * The compiled engine: the stylesheet is compiled once into synchronous closures
 * (instructions, XPath expressions, match patterns), and a render is one pass over the
 * input with no promise or generator per instruction. What it does not run exactly as
 * libxslt does is refused with TRANSFORM_UNSUPPORTED: at construction for what the
 * stylesheet shows, at render time for what only the input shows.
 */
export class CompiledEngine implements XsltEngine {
  readonly name = 'compiled' as const;
  private readonly compiled: CompiledProgram;

  constructor(private readonly sheet: Stylesheet) {
    this.compiled = compileProgram(sheet);
  }

  async render(inputXml: string, params: TransformParams = {}, file?: string): Promise<RenderResult> {
    return this.renderSync(inputXml, params, file);
  }

  /** The same render, without a promise (for callers that are themselves synchronous). `file` names the input in its parse errors. */
  renderSync(inputXml: string, params: TransformParams = {}, file?: string): RenderResult {
    checkTransformParams(params);
    const { program, output, methodGiven, strip } = this.compiled;
    const input = parseInput(inputXml, strip, file);
    const rt = new Runtime(program, input, params);
    const x = new Run(rt, [], input);
    const result = x.out;
    try {
      applyTemplates([input], '', x, undefined);
    } catch (e) {
      // A stack overflow or a string grown too long: named by the instruction it came through, now that the stack is unwound.
      throw rt.fault.error(e, this.sheet.main.file) ?? e;
    }
    if (!methodGiven && output.method === 'xml') {
      const first = result.children.find((k) => k.kind !== TEXT || k.value.trim() !== '');
      if (first && first.kind === ELEMENT && first.name.toLowerCase() === 'html') throw unsupportedInput('a result whose root element is html without xsl:output method (libxslt switches to HTML output)');
    }
    return { output: serialize(result, output), warnings: rt.warnings, engine: this.name };
  }
}
