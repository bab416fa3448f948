import { DomainInvalidError, DomforgeError } from '../errors.js';
import { readInputText } from '../instance/input.js';
import { FRAGMENT_KINDS, isFragmentKind, validateDomainFragment, validateDomainXml, type DomainValidation, type SchemaEngine } from '../validate/index.js';
import { parseOrThrow } from '../validate/validate-domain.js';
import { columnOf, lineOf, type Document } from '../xml/parse.js';
import { SCHEMA_HELP, schemaFlag } from './schema-flag.js';
import { readStdinOnce, type CliIo } from './io.js';
import type { RegisterCommand } from './commands.js';

interface ValidateCliOptions {
  schema?: string;
  checkPaths?: boolean;
  json?: boolean;
}

/** What the gate needs besides the text: the same options render passes it. */
interface GateOptions {
  schema?: SchemaEngine;
  checkPaths?: boolean;
}

/** One file's outcome: its warnings when it passed, the error that stopped it otherwise. */
interface FileVerdict {
  file: string;
  /** The document's root element, once it was read and parsed. */
  root?: string;
  warnings: DomforgeError[];
  error?: DomforgeError;
}

/** The roots render's input takes, not validate's: saying so sends the admin to the right command. */
const RENDER_INPUTS = ['instance', 'nic', 'volume'];

/**
 * `domforge validate FILE...` — the gate every render passes (strict parse, libvirt's
 * schema, domforge's own checks), for libvirt XML an admin already has: a hand-edited
 * libvirt.xml, a filter's output, `virsh dumpxml`, an `eni-XXX-libvirt.xml` fragment.
 * A `<domain>` is checked as a domain, a `<disk>` or `<interface>` as a hot-plug fragment.
 * Every file is checked and reported, so one bad file does not hide the next.
 */
export const registerValidate: RegisterCommand = (program, io) => {
  program
    .command('validate')
    .description(`Validate libvirt XML files as render validates its output: a <domain>, or a device fragment (${FRAGMENT_KINDS.map((k) => `<${k}>`).join(', ')}). Touches no hypervisor.`)
    .argument('<file...>', 'libvirt XML files (- or /dev/stdin reads standard input)')
    .option('--schema <engine>', SCHEMA_HELP)
    .option('--check-paths', 'also check that disks, kernel, initrd and console folders exist on this host')
    .option('--json', 'print one JSON object ({ok, files: [{file, ok, root, warnings, error, problems}]}) instead of text')
    .action(async (files: string[], opts: ValidateCliOptions) => {
      const gate: GateOptions = { schema: schemaFlag(opts.schema), checkPaths: opts.checkPaths };
      readStdinOnce(files.map((f) => ['FILE', f] as const));
      // One after another: the in-process schema is compiled once, and virt-xml-validate runs one process at a time.
      const verdicts: FileVerdict[] = [];
      for (const file of files) verdicts.push(await validateFile(file, gate));
      report(io, verdicts, opts.json === true);
      const failure = failureOf(verdicts);
      if (failure) throw failure;
    });
};

/** Reads, parses and validates one file; a DomforgeError becomes its verdict, anything else is a defect and propagates. */
async function validateFile(file: string, gate: GateOptions): Promise<FileVerdict> {
  let root: string | undefined;
  try {
    const text = await readInputText(file, 'libvirt XML');
    const doc = parseOrThrow(text, file);
    root = doc.documentElement!.nodeName;
    const { warnings } = await validateDocument(text, doc, file, gate);
    return { file, root, warnings };
  } catch (e) {
    if (!(e instanceof DomforgeError)) throw e;
    return { file, root, warnings: [], error: e };
  }
}

/** Sends a document to the entry point its root element calls for, or refuses a root neither takes. */
function validateDocument(text: string, doc: Document, file: string, gate: GateOptions): Promise<DomainValidation> {
  const root = doc.documentElement!;
  const options = { file, document: doc, schema: gate.schema, checkPaths: gate.checkPaths };
  if (root.nodeName === 'domain') return validateDomainXml(text, options);
  if (isFragmentKind(root.nodeName)) return validateDomainFragment(text, root.nodeName, options);
  const accepted = ['domain', ...FRAGMENT_KINDS].map((k) => `<${k}>`).join(', ');
  const hint = RENDER_INPUTS.includes(root.nodeName) ? '; an instance description or stub is rendered by `domforge render --instance FILE`' : '';
  throw new DomainInvalidError(`root element <${root.nodeName}> is not libvirt XML domforge validates: expected one of ${accepted}${hint}`, {
    file,
    line: lineOf(root),
    column: columnOf(root),
    path: `/${root.nodeName}`,
  });
}

/**
 * Prints the verdicts: `FILE: valid` on stdout and warnings on stderr as render gives them;
 * with several failures, each as the CLI prints any error (one failure is left to the
 * runner, as the command's error: see {@link failureOf}). Under `--json`, one object on stdout.
 */
function report(io: CliIo, verdicts: FileVerdict[], json: boolean): void {
  const failed = verdicts.filter((v) => v.error);
  if (json) io.stdout(JSON.stringify({ ok: failed.length === 0, files: verdicts.map(verdictJson) }) + '\n');
  else {
    for (const v of verdicts) {
      if (!v.error) io.stdout(`${v.file}: valid\n`);
      for (const w of v.warnings) io.stderr(`domforge: warning: ${w.message}\n`);
      if (v.error && failed.length > 1) io.stderr(`domforge: ${v.error.fullMessage}\n`);
    }
  }
}

/**
 * The command's error, which the runner prints (as `{"error": …}` under `--json`) and
 * turns into exit 1: the one failure itself, so a single bad file reads as render's error
 * would; with several, a count naming them, with the first one's code and as its cause.
 */
function failureOf(verdicts: FileVerdict[]): DomforgeError | undefined {
  const failed = verdicts.filter((v) => v.error);
  if (failed.length <= 1) return failed[0]?.error;
  const first = failed[0]!.error!;
  return new DomforgeError(first.code, `${failed.length} of ${verdicts.length} files are not valid: ${failed.map((v) => v.file).join(', ')}`, { cause: first });
}

/** A verdict as JSON: the error in the `{"error": …}` shape, and every problem it found, each with its place. */
function verdictJson(v: FileVerdict): Record<string, unknown> {
  const problems = v.error instanceof DomainInvalidError && v.error.problems.length ? v.error.problems : v.error ? [v.error] : [];
  return {
    file: v.file,
    ok: !v.error,
    root: v.root,
    warnings: v.warnings.map((w) => w.message),
    error: v.error?.toJSON(),
    problems: v.error ? problems.map((p) => p.toJSON()) : undefined,
  };
}
