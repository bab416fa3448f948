import { readInputText } from '../instance/input.js';
import { parseRenderInput } from '../render/render.js';
import { DEFAULT_PROVING_SET } from '../transform/watch/transform-watcher.js';
import { loadProvingSet } from '../transform/watch/proving-set.js';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { TransformError, UsageError, type TransformErrorCode } from '../errors.js';
import { compileXslt, type CompiledXslt } from '../transform/xslt/compile.js';
import { XSLT_ENGINE_CHOICES, type XsltEngineChoice } from '../transform/xslt/engine.js';
import { probeCases, referenceResult, runProbe } from '../transform/xslt/probes.js';
import { readStdinOnce, type CliIo } from './io.js';
import type { RegisterCommand } from './commands.js';

/** Parses `--engine`: auto, xslt-processor or libxslt. */
export function parseEngineChoice(value: string | undefined): XsltEngineChoice | undefined {
  if (value === undefined) return undefined;
  if (!XSLT_ENGINE_CHOICES.includes(value as XsltEngineChoice)) throw new UsageError(`Expected \`--engine\` to be one of ${XSLT_ENGINE_CHOICES.join(', ')}, got ${JSON.stringify(value)}`);
  return value as XsltEngineChoice;
}

/** Renders one proving input; its failure names the input after the transform's own place. */
async function renderProvingInput(xsl: CompiledXslt, input: { file: string; xml: string }): Promise<void> {
  try {
    await xsl.render(input);
  } catch (e) {
    if (!(e instanceof TransformError)) throw e;
    throw new TransformError(e.code as TransformErrorCode, `${e.shortMessage} (rendering the proving input ${input.file})`, { file: e.file, line: e.line, column: e.column, path: e.path, details: e.details, cause: e });
  }
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * `domforge xslt …`: XSLT fidelity tools.
 *   xslt check STYLESHEET [--proving FILE …] [--engine E] [--json]   compile-time report and the guard's verdict
 *   xslt probes DIR [--json]                                          probe folder through every engine vs xsltproc
 */
export const registerXslt: RegisterCommand = (program: Command, io: CliIo) => {
  const xslt = program.command('xslt').description('XSLT fidelity: static checks, the differential guard against libxslt, conformance probes');
  xslt
    .command('check <stylesheet>')
    .description('Check a stylesheet: caveats with file:line, then render the proving inputs with both engines and say which engine launches would use')
    .option('--proving <file>', "an input (instance.xml or stub) for the guard to render with both engines (repeatable; default: domforge's samples)", collect)
    .option('--engine <name>', `${XSLT_ENGINE_CHOICES.join(', ')} (default: auto)`)
    .option('--refuse', 'refuse the stylesheet on a difference instead of pinning it to libxslt')
    .option('--json', 'print one JSON object')
    .action(async (stylesheet: string, opts: { proving?: string[]; engine?: string; refuse?: boolean; json?: boolean }) => {
      const engine = parseEngineChoice(opts.engine) ?? 'auto';
      readStdinOnce((opts.proving ?? []).map((f) => ['--proving', f] as const));
      // Without --proving, the default proving set: domforge's samples, as for watch and transforms prove.
      const provingSet = opts.proving
        ? await Promise.all(opts.proving.map(async (file) => ({ file, xml: await readInputText(file, 'proving input') })))
        : (await loadProvingSet(DEFAULT_PROVING_SET)).map(({ file, xml }) => ({ file, xml }));
      // Each read as a render reads its input: one it would refuse is refused here at its place,
      // not taken for a difference between the engines (both fail on it, each its own way).
      for (const p of provingSet) parseRenderInput(p.xml, p.file);
      const xsl = compileXslt(stylesheet, { engine, provingSet, onDivergence: opts.refuse ? 'refuse' : 'pin' });
      const guard = engine === 'auto' ? await xsl.activate() : undefined;
      if (opts.json) io.stdout(JSON.stringify({ file: xsl.file, hash: xsl.hash, engine: xsl.engineName, caveats: xsl.report.caveats, guard }) + '\n');
      else {
        for (const c of xsl.report.caveats) io.stdout(`${c.file}:${c.line ?? '?'}: caveat: ${c.feature}\n`);
        io.stdout(`${xsl.file}: ${guard ? guard.summary : `engine ${engine}`}${guard ? ` (${guard.ms.toFixed(0)} ms)` : ''}\n`);
      }
      if (guard?.difference && opts.refuse) throw new TransformError('TRANSFORM_UNSUPPORTED', `refused: ${guard.summary}`, { file: xsl.file });
      // Engines that agree may agree on failing (an endless recursion fails every input in both):
      // each proving input is rendered with the engine launches would use, and the first failure is the command's.
      for (const p of provingSet) await renderProvingInput(xsl, p);
    });
  xslt
    .command('probes <dir>')
    .description('Run an XSLT conformance probe folder (manifest.json) through xslt-processor, libxslt and auto, judged against xsltproc')
    .option('--json', 'print one JSON object per probe case')
    .action(async (dir: string, opts: { json?: boolean }) => {
      for (const c of probeCases(dir)) {
        const ref = referenceResult(c);
        const results = await Promise.all((['xslt-processor', 'libxslt', 'auto'] as const).map((e) => runProbe(c, e, ref)));
        const row = { probe: `${c.id}/${basename(c.style)}`, 'xslt-processor': results[0]!.outcome, libxslt: results[1]!.outcome, auto: `${results[2]!.outcome} (${results[2]!.engine ?? 'error'})` };
        io.stdout(opts.json ? JSON.stringify(row) + '\n' : `${row.probe.padEnd(42)} ${row['xslt-processor'].padEnd(8)} ${row.libxslt.padEnd(8)} ${row.auto}\n`);
      }
    });
};
