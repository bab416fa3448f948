import { DomforgeError, XmlSyntaxError } from '../errors.js';
import { millisecondsFlag } from './number-flags.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { readInstanceJsonFile } from '../instance/from-json.js';
import { emitInstance } from '../instance/emit.js';
import { sourceOf, type InstanceSource } from '../instance/source.js';
import { isJsonInstancePath, readInputText, withJsonHint } from '../instance/input.js';
import { renderText, type Rendered } from '../render/render.js';
import { defaultTransformPath } from '../transform/defaults.js';
import { RENDER_WORKER } from '../transform/sandbox/options.js';
import { TransformSandbox } from '../transform/sandbox/pool.js';
import { XSLT_ENGINE_CHOICES } from '../transform/xslt/engine.js';
import { parseEngineChoice } from './xslt.js';
import { parseXml, lineOf, columnOf, type Document } from '../xml/parse.js';
import { firstTooDeep, tooDeepMessage } from '../xml/depth.js';
import { prettyXml } from '../xml/pretty.js';
import { xmlEqual } from '../xml/compare.js';
import { unifiedDiff } from '../hooks/line-diff.js';
import { collectParam, readStdinOnce, refuseOutOverInput } from './io.js';
import { SCHEMA_HELP, schemaFlag } from './schema-flag.js';
import type { RegisterCommand } from './commands.js';

interface RenderCliOptions {
  instance: string;
  transform?: string;
  param?: Record<string, string>;
  out?: string;
  validate: boolean;
  diff?: string;
  json?: boolean;
  checkPaths?: boolean;
  engine?: string;
  schema?: string;
  sandbox: boolean;
  timeout?: string;
}


/**
 * `domforge render --instance instance.xml` — the admin's dry run: the libvirt XML the
 * node would define, validated, without touching libvirt. Nothing is written unless the
 * render and validation succeed; `--out` is replaced atomically.
 */
export const registerRender: RegisterCommand = (program, io) => {
  program
    .command('render')
    .description('Render libvirt XML from an instance.xml (or a <nic>/<volume> stub) through a transform, validate it, and print or write it. Touches no hypervisor.')
    .requiredOption('--instance <file>', 'instance.xml, a .json instance description, or a <nic>/<volume> stub')
    .option('--transform <file>', 'XSLT (*.xsl, *.xslt) or Handlebars (*.hbs, *.handlebars) transform (default: $DOMFORGE_TRANSFORM, else the shipped transforms/libvirt.xsl)')
    .option('--param <name=value>', 'transform parameter, as xsltproc --stringparam (repeatable)', collectParam)
    .option('--out <file>', 'write the XML to this file atomically instead of stdout (- : stdout)')
    .option('--no-validate', 'skip libvirt schema and semantic validation (the output is still parsed strictly)')
    .option('--check-paths', 'also check that disks, kernel, initrd and console folders exist on this host')
    .option('--diff <file>', 'print a unified diff from an earlier libvirt.xml to this render instead of the XML')
    .option('--engine <name>', `XSLT engine: ${XSLT_ENGINE_CHOICES.join(', ')} (default: auto — the compiled in-process engine, checked against libxslt on first use and pinned to libxslt where they differ)`)
    .option('--schema <engine>', SCHEMA_HELP)
    .option('--json', 'print one JSON object (xml, warnings, transform, diff) instead of text')
    .option('--timeout <ms>', 'time limit of the compile and of the render in the sandbox (default: 2000)')
    .option('--no-sandbox', 'compile and render in this process: no time or memory limit (a transform you trust)')
    .action(async (opts: RenderCliOptions) => {
      const engine = parseEngineChoice(opts.engine);
      const schema = schemaFlag(opts.schema);
      readStdinOnce([['--instance', opts.instance], ['--diff', opts.diff]]);
      // `--out -` is standard output, as `--instance -` is standard input (./- names a file called -).
      if (opts.out === '-') opts.out = undefined;
      if (opts.out !== undefined) await refuseOutOverInput(opts.out, opts.instance, 'the render');
      const { text, source } = await readInput(opts.instance);
      const earlier = opts.diff === undefined ? undefined : await readInputText(opts.diff, 'earlier libvirt.xml');
      // Parsed before anything is rendered or written: a bad --diff file is named, and --out stays untouched.
      const earlierDoc = earlier === undefined ? undefined : parseEarlier(earlier, opts.diff!);
      const timeoutMs = opts.timeout === undefined ? undefined : millisecondsFlag('--timeout', opts.timeout, 1);
      const file = opts.transform ?? defaultTransformPath();
      // The admin's transform compiles and renders in a worker process with a time and memory
      // limit, as in a node controller: a loop is TRANSFORM_TIMEOUT, not a hung command.
      const sandbox = opts.sandbox ? new TransformSandbox({ ...RENDER_WORKER, timeoutMs }) : undefined;
      let r: Rendered;
      try {
        const transform = sandbox ? await sandbox.load(file, { engine: engine === 'auto' ? undefined : engine }) : file;
        r = await renderText(text, {
          file: opts.instance,
          transform,
          load: { engine },
          params: opts.param,
          validate: opts.validate,
          schema,
          checkPaths: opts.checkPaths,
          source,
        });
      } catch (e) {
        throw e instanceof DomforgeError && e.file === opts.instance ? withJsonHint(e, text) : e;
      } finally {
        await sandbox?.close();
      }
      let diff: string | undefined;
      if (earlier !== undefined) {
        diff = xmlEqual(earlierDoc!, r.document) ? '' : unifiedDiff(prettyXml(earlier, opts.diff), prettyXml(r.xml), { fromFile: opts.diff, toFile: opts.out ?? 'rendered' });
      }
      // Every check has passed: only now is --out replaced.
      if (opts.out) await writeFileAtomic(opts.out, r.xml, { notRegularHint: 'leave out --out, or give --out -, to print to standard output' });
      for (const w of r.warnings) io.stderr(`domforge: warning: ${w}\n`);
      if (opts.json) {
        io.stdout(
          JSON.stringify({
            input: { file: opts.instance, kind: r.inputKind },
            transform: r.transform,
            validated: r.validated,
            warnings: r.warnings,
            out: opts.out,
            diff,
            xml: opts.out ? undefined : r.xml,
          }) + '\n',
        );
      } else if (diff !== undefined) {
        io.stdout(diff === '' ? `no differences from ${opts.diff}\n` : diff);
      } else if (!opts.out) {
        io.stdout(r.xml.endsWith('\n') ? r.xml : r.xml + '\n');
      }
    });
};

/** The input as instance XML text: `.json` descriptions are turned into instance.xml first. */
/** The input's text, and for a JSON description the instance's own source (errors found later name its lines, not those of the XML written from it). */
async function readInput(file: string): Promise<{ text: string; source?: InstanceSource }> {
  if (isJsonInstancePath(file)) {
    const inst = await readInstanceJsonFile(file);
    return { text: emitInstance(inst), source: sourceOf(inst) };
  }
  return { text: await readInputText(file, 'input') };
}

/**
 * The --diff file, parsed as libvirt would read it: nested no deeper than libxml2 takes (the
 * comparison and the re-indenting walk the tree with recursion).
 */
function parseEarlier(text: string, file: string): Document {
  const doc = parseXml(text, { file, forbidDoctype: false });
  const deep = firstTooDeep(doc.documentElement!);
  if (deep) throw new XmlSyntaxError(tooDeepMessage(deep), { file, line: lineOf(deep), column: columnOf(deep) });
  return doc;
}
