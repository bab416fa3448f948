import { TransformError } from '../../errors.js';
import { expectPositiveTimerMs } from '../../option-checks.js';
import { checkTransformParams } from '../params.js';
import { terminateError } from './error-map.js';
import { spawnEngineChild } from './children.js';
import type { Stylesheet } from './stylesheet.js';
import type { RenderResult, TransformParams } from '../types.js';
import type { XsltEngine } from './engine.js';

export interface LibxsltOptions {
  /** The xsltproc binary (default `xsltproc` on PATH). */
  binary?: string;
  /** Kill xsltproc after this many milliseconds (default 10000). */
  timeoutMs?: number;
}

/**
 * An XPath 1.0 expression whose value is `value`: a string literal, or where the value holds
 * both kinds of quote (which no XPath 1.0 literal can, and which `xsltproc --stringparam`
 * refuses: "contains both quote and double-quotes"), a concat() of literals with each `'`
 * given as `"'"`.
 */
export function xpathString(value: string): string {
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('"')) return `"${value}"`;
  return `concat(${value.split("'").map((piece) => `'${piece}'`).join(`, "'", `)})`;
}

/** xsltproc's arguments for string parameters: `--param NAME EXPR` each, any string value reaching the stylesheet intact. */
export function xsltprocParamArgs(params: TransformParams): string[] {
  return Object.entries(params).flatMap(([name, value]) => ['--param', name, xpathString(value)]);
}

/**
 * libxslt through `xsltproc --nonet --nowrite --nomkdir STYLESHEET -`: the reference
 * engine (what Eucalyptus linked and what admins debug with). Parameters are passed with
 * `--param` as XPath string expressions ({@link xsltprocParamArgs}). A non-zero exit, or any `compilation error` / `runtime error` line
 * (xsltproc sometimes exits 0 after those), is a failure; other stderr lines are
 * `xsl:message` output and become warnings.
 */
export class LibxsltEngine implements XsltEngine {
  readonly name = 'libxslt' as const;
  constructor(
    private readonly sheet: Stylesheet,
    private readonly options: LibxsltOptions = {},
  ) {
    expectPositiveTimerMs('libxslt.timeoutMs', options.timeoutMs);
  }

  render(inputXml: string, params: TransformParams = {}): Promise<RenderResult> {
    return new Promise((resolve, reject) => {
      checkTransformParams(params);
      const args = ['--nonet', '--nowrite', '--nomkdir', ...xsltprocParamArgs(params), this.sheet.main.file, '-'];
      const child = spawnEngineChild(this.options.binary ?? 'xsltproc', args, { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const timer = setTimeout(() => child.kill('SIGKILL'), this.options.timeoutMs ?? 10_000);
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.stdin.on('error', () => undefined);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(new TransformError('TRANSFORM_RUNTIME', `libxslt: cannot run xsltproc: ${(e as Error).message} (install the xsltproc package)`, { file: this.sheet.main.file, cause: e }));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const stderr = Buffer.concat(err).toString('utf8');
        const output = Buffer.concat(out).toString('utf8');
        const lines = stderr.split('\n').filter((l) => l.trim() !== '');
        const failure = this.failure(lines, code, signal);
        if (failure) return reject(failure);
        resolve({ output, warnings: lines.map((l) => `xsl:message: ${l}`), engine: this.name });
      });
      child.stdin.end(inputXml);
    });
  }

  private failure(lines: string[], code: number | null, signal: NodeJS.Signals | null): TransformError | undefined {
    if (signal) return new TransformError('TRANSFORM_TIMEOUT', `libxslt: xsltproc was killed (${signal}) after ${this.options.timeoutMs ?? 10_000} ms`, { file: this.sheet.main.file });
    const idx = lines.findIndex((l) => /^(compilation|runtime) error/.test(l));
    if (idx >= 0) {
      const m = /^(compilation|runtime) error: file (.*?) line (\d+) element ([\w:-]+)/.exec(lines[idx]!);
      const detail = lines.slice(idx + 1).filter((l) => !/^no result for/.test(l));
      return new TransformError(m?.[1] === 'compilation' ? 'TRANSFORM_SYNTAX' : 'TRANSFORM_RUNTIME', `libxslt: ${detail[0] ?? lines[idx]}${m ? ` (in xsl:${m[4]})` : ''}`, {
        file: m?.[2] ?? this.sheet.main.file,
        line: m ? Number(m[3]) : undefined,
        details: detail.slice(1, 6),
      });
    }
    if (code !== 0) {
      const messages = lines.filter((l) => !/^no result for/.test(l));
      // Exit 10 with "no result": xsl:message terminate="yes"; the messages are what it printed.
      if (lines.some((l) => /^no result for/.test(l)) && messages.length) return terminateError(this.sheet, messages.join('\n'), this.name);
      return new TransformError('TRANSFORM_RUNTIME', `libxslt: xsltproc exited with code ${code}: ${messages[0] ?? ''}`, { file: this.sheet.main.file, details: messages.slice(1, 6) });
    }
    return undefined;
  }
}
