/**
 * The one gate every rendered document passes before it reaches libvirt:
 * strict parse → libvirt's RelaxNG schema → domforge's own checks. All problems
 * are collected; the thrown {@link DomainInvalidError} names the first and counts
 * the rest, and lists every one in `problems` (each with file, line and XML path).
 */
import { DomainInvalidError, DomforgeError, XmlSyntaxError } from '../errors.js';
import { parseXml, lineOf, columnOf, type Document } from '../xml/parse.js';
import { MAX_DEPTH, firstTooDeep } from '../xml/depth.js';
import { loadDomainSchema } from './schema.js';
import { runVirtXmlValidate } from './virt-xml-validate.js';
import { domainSchemaProblems, placeRawProblems } from './domain-schema.js';
import { checkDomainSemantics } from './semantic.js';
import type { Findings } from './findings.js';

/** Which schema validator to run, or `false` for domforge's own checks only. */
export type SchemaEngine = 'wasm' | 'virt-xml-validate' | false;

export interface ValidateDomainOptions {
  /** File name used in messages (the document is never read from it). Default: none (`<input>`). */
  file?: string;
  /**
   * Check that the files the domain refers to exist on this host (disk sources,
   * kernel, initrd, loader; folders of serial/console output and logs). Default: false.
   */
  checkPaths?: boolean;
  /**
   * `'wasm'` (default): libvirt's `domain.rng` compiled once in-process with libxml2-wasm,
   * with problems narrowed down to the element or attribute at fault.
   * `'virt-xml-validate'`: libvirt's own script as a process (its schema path, libxml2's
   * terse messages, ~40 ms a document). `false`: skip the schema.
   */
  schema?: SchemaEngine;
  /**
   * The `.rng` file or schema folder for the `'wasm'` engine.
   * Default: `$DOMFORGE_LIBVIRT_SCHEMAS`, else `/usr/share/libvirt/schemas/domain.rng`.
   */
  schemaPath?: string;
  /** How `checkPaths` tests a path. Default: `fs.existsSync`. */
  exists?: (path: string) => boolean;
  /** `xml` already parsed strictly with domforge's parseXml (it is then not parsed again). */
  document?: Document;
}

export interface DomainValidation {
  /** Things an admin should look at that do not stop the document (e.g. `vda` on an IDE bus). */
  warnings: DomforgeError[];
}

/**
 * Validates a libvirt domain document. Resolves with its warnings when it may go to
 * libvirt; rejects with DomainInvalidError listing every problem otherwise, or with
 * IoError when the schema (or `virt-xml-validate`) is not installed.
 */
export async function validateDomainXml(xml: string, options: ValidateDomainOptions = {}): Promise<DomainValidation> {
  const file = options.file;
  const doc = options.document ?? parseOrThrow(xml, file);
  refuseTooDeep(doc, options);
  const schemaProblems = await runSchema(doc, xml, options);
  const findings = checkDomainSemantics(doc, { file, checkPaths: options.checkPaths, exists: options.exists });
  return settle(schemaProblems, findings, file);
}

async function runSchema(doc: Document, xml: string, o: ValidateDomainOptions): Promise<DomforgeError[]> {
  const engine = o.schema ?? 'wasm';
  if (engine === false) return [];
  if (engine === 'virt-xml-validate') {
    const r = await runVirtXmlValidate(xml);
    return r.valid ? [] : placeRawProblems(doc, r.errors, o.file);
  }
  const schema = await loadDomainSchema({ schemaPath: o.schemaPath });
  return domainSchemaProblems(doc, xml, schema, { file: o.file });
}

/** Parses strictly; a syntax error becomes a DomainInvalidError with it as the one problem. */
export function parseOrThrow(xml: string, file?: string): Document {
  try {
    return parseXml(xml, { file });
  } catch (e) {
    if (!(e instanceof DomforgeError)) throw e;
    throw new DomainInvalidError(`not well-formed XML: ${e.shortMessage}`, {
      file: e.file,
      line: e.line,
      column: e.column,
      problems: [e],
      cause: e,
    });
  }
}

/**
 * Levels below the root element the `'wasm'` schema engine takes: the libxml2 built into
 * libxml2-wasm refuses one level fewer than Debian's ("Excessive depth in document: 256"
 * for an element 256 levels down, which xmllint and libvirt accept).
 */
export const WASM_SCHEMA_MAX_DEPTH = MAX_DEPTH - 1;

/**
 * Refuses a document nested deeper than libxml2 parses, at the first element too deep,
 * before the schema parses it again (libxml2 refuses it there with a message naming no file)
 * and before the checks walk it. `levelsAbove` counts the elements the document is put under
 * to be checked (a fragment goes into `<domain><devices>`).
 */
export function refuseTooDeep(doc: Document, o: ValidateDomainOptions, levelsAbove = 0): void {
  const limit = (o.schema ?? 'wasm') === 'wasm' ? WASM_SCHEMA_MAX_DEPTH : MAX_DEPTH;
  const max = limit - levelsAbove;
  const deep = firstTooDeep(doc.documentElement!, max);
  if (!deep) return;
  const root = doc.documentElement!.nodeName;
  const why = limit < MAX_DEPTH ? 'the schema engine\'s libxml2 refuses a document nested deeper; libvirt\'s takes one level more' : 'libxml2, and so libvirt, refuses a document nested deeper';
  const message = levelsAbove
    ? `elements nested too deeply: <${deep.nodeName}> is more than ${max} levels below <${root}>, so more than ${limit} below the <domain> it is checked in (${why})`
    : `elements nested too deeply: <${deep.nodeName}> is more than ${max} levels below the root element (${why})`;
  const problem = new XmlSyntaxError(message, { file: o.file, line: lineOf(deep), column: columnOf(deep) });
  throw new DomainInvalidError(message, { file: o.file, line: problem.line, column: problem.column, problems: [problem], cause: problem });
}

/**
 * Merges schema problems and domforge's findings: where both speak of the same node,
 * domforge's (more specific) message wins. Throws when any error remains.
 */
export function settle(schemaProblems: DomforgeError[], findings: Findings, file?: string): DomainValidation {
  const own = findings.errors;
  const covered = (p: DomforgeError): boolean =>
    !!p.path && own.some((e) => e.path === p.path || (e.path !== undefined && e.path.startsWith(p.path + '/')));
  const problems = [...own, ...schemaProblems.filter((p) => !covered(p))].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  if (problems.length) throw invalid(problems, file);
  return { warnings: findings.warnings };
}

function invalid(problems: DomforgeError[], file?: string): DomainInvalidError {
  const [first] = problems as [DomforgeError, ...DomforgeError[]];
  const more = problems.length - 1;
  return new DomainInvalidError(first.shortMessage + (more ? ` (and ${more} more problem${more > 1 ? 's' : ''})` : ''), {
    file: first.file ?? file,
    line: first.line,
    column: first.column,
    path: first.path,
    problems,
    details: problems.slice(1).map((p) => p.message),
  });
}
