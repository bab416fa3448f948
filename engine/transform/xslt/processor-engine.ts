import type { Xslt, XmlParser, XDocument } from 'xslt-processor';
import { xsltProcessor } from './processor-module.js';
import { TransformError } from '../../errors.js';
import { preprocessForXsltProcessor } from './preprocess.js';
import { applyProcessorPatches } from './processor-patches.js';
import type { XsltEngine } from './engine.js';
import { mapRuntimeError, terminateError } from './error-map.js';
import type { Stylesheet } from './stylesheet.js';
import type { RenderResult, TransformParams } from '../types.js';
import { checkTransformParams } from '../params.js';

class TerminateSignal extends Error {
  constructor(readonly text: string) {
    super(`xsl:message terminated: ${text}`);
  }
}

/**
 * xslt-processor's output options, every one spelled out: passing any options object
 * replaces all of its defaults, and a missing `escape: true` silently writes `AT&T <x>`
 * unescaped into libvirt XML.
 */
function options(params: TransformParams, modules: Map<string, string>) {
  return {
    cData: true, // CDATA in the result is written as escaped text
    escape: true, // escape & < > in text and attributes
    selfClosingTags: true, // <readonly/> rather than <readonly></readonly>
    outputMethod: 'xml' as const,
    parameters: Object.entries(params).map(([name, value]) => ({ name, value })),
    // Includes were read, checked and pre-processed at compile time; nothing else is fetched.
    fetchFunction: async (uri: string) => {
      const t = modules.get(uri) ?? modules.get(uri.replace(/^file:\/\//, ''));
      if (t === undefined) throw new TransformError('TRANSFORM_RUNTIME', `xsl:include/import of ${uri} was not resolved at compile time`);
      return t;
    },
    // document() is refused by the static checks; a loader that finds nothing backs that up.
    documentLoader: () => null,
  };
}

/** Removes comments, PIs and the XML declaration around the root element: xslt-processor loses its global variables when the input's document node has other children. */
export function stripProlog(xml: string): string {
  const start = /^(?:\s|<\?[\s\S]*?\?>|<!--[\s\S]*?-->)*/.exec(xml)![0].length;
  const end = /(?:\s|<\?[\s\S]*?\?>|<!--[\s\S]*?-->)*$/.exec(xml.slice(start))!.index + start;
  return xml.slice(start, end);
}

/** The in-process engine: xslt-processor with domforge's fixes around it. */
export class XsltProcessorEngine implements XsltEngine {
  readonly name = 'xslt-processor' as const;
  private readonly parser: XmlParser = new (xsltProcessor().XmlParser)();
  private readonly styleDoc: XDocument;
  private readonly modules = new Map<string, string>();
  readonly rewrites: number;

  constructor(private readonly sheet: Stylesheet) {
    applyProcessorPatches();
    const pre = preprocessForXsltProcessor(sheet.main.doc, sheet);
    this.rewrites = pre.rewrites;
    this.styleDoc = this.parser.xmlParse(pre.text);
    for (const [key, mod] of sheet.modules) this.modules.set(key, preprocessForXsltProcessor(mod.doc, sheet).text);
  }

  async render(inputXml: string, params: TransformParams = {}): Promise<RenderResult> {
    checkTransformParams(params);
    const warnings: string[] = [];
    const xslt = new (xsltProcessor().Xslt)(options(params, this.modules));
    // xsl:message goes to console.log inside xslt-processor: collect it instead.
    (xslt as unknown as { xsltMessage: unknown }).xsltMessage = async function (this: Xslt, context: unknown, template: unknown) {
      const self = this as unknown as {
        outputDocument: XDocument;
        xsltChildNodes(c: unknown, t: unknown, o: unknown): Promise<void>;
      };
      const frag = new (self.outputDocument.constructor as new () => XDocument)();
      await self.xsltChildNodes(context, template, frag);
      const text = textOf(frag);
      const terminate = (template as { getAttributeValue?(n: string): string }).getAttributeValue?.('terminate') ?? attr(template, 'terminate');
      if (terminate === 'yes') throw new TerminateSignal(text);
      warnings.push(`xsl:message: ${text}`);
    };
    (xslt as unknown as { warningsCallback: (...a: unknown[]) => void }).warningsCallback = (...a: unknown[]) => warnings.push(a.map(String).join(' '));
    let output: string;
    try {
      output = await xslt.xsltProcess(this.parser.xmlParse(stripProlog(inputXml)), this.styleDoc);
    } catch (e) {
      if (e instanceof TerminateSignal) throw terminateError(this.sheet, e.text, this.name);
      throw mapRuntimeError(this.sheet, e, this.name);
    }
    return { output: escapeAttributeWhitespace(output), warnings, engine: this.name };
  }
}

/**
 * Writes tab, line feed and carriage return inside attribute values as character
 * references. xslt-processor's serializer writes them raw, and a parser then reads them
 * as spaces (attribute-value normalisation, XML 1.0 §3.3.3): `&#10;` in a value would
 * silently become a space. libxslt writes `&#9;`, `&#10;`, `&#13;`.
 */
export function escapeAttributeWhitespace(xml: string): string {
  if (!/[\t\n\r]/.test(xml)) return xml;
  let out = '';
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) break;
    out += xml.slice(i, lt);
    const skip = (open: string, close: string): boolean => {
      if (!xml.startsWith(open, lt)) return false;
      const end = xml.indexOf(close, lt + open.length);
      const stop = end < 0 ? xml.length : end + close.length;
      out += xml.slice(lt, stop);
      i = stop;
      return true;
    };
    if (skip('<!--', '-->') || skip('<![CDATA[', ']]>') || skip('<?', '?>') || skip('<!', '>')) continue;
    // A start or end tag: whitespace inside quoted values is escaped.
    let j = lt;
    let quote: string | undefined;
    for (; j < xml.length; j++) {
      const c = xml[j]!;
      if (quote) {
        if (c === quote) quote = undefined;
        else if (c === '\t' || c === '\n' || c === '\r') {
          out += c === '\t' ? '&#9;' : c === '\n' ? '&#10;' : '&#13;';
          continue;
        }
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '>') break;
      out += c;
    }
    out += '>';
    i = j + 1;
  }
  return out + xml.slice(i);
}

function attr(node: unknown, name: string): string | undefined {
  const n = node as { childNodes?: { nodeType: number; nodeName: string; nodeValue: string }[] };
  return n.childNodes?.find((c) => c.nodeType === 2 && c.nodeName === name)?.nodeValue;
}

function textOf(node: unknown): string {
  const n = node as { nodeType: number; nodeValue?: string; childNodes?: unknown[] };
  if (n.nodeType === 3 || n.nodeType === 4) return n.nodeValue ?? '';
  if (n.nodeType === 2) return '';
  return (n.childNodes ?? []).map(textOf).join('');
}
