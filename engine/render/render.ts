import { DomforgeError, DomainInvalidError, InstanceError, TransformError } from '../errors.js';
import { parseXml, type Document } from '../xml/parse.js';
import { emitInstance } from '../instance/emit.js';
import { readInputText } from '../instance/input.js';
import { parseInstance } from '../instance/parse.js';
import { emitStub, parseStub, type Stub } from '../instance/stubs.js';
import { validateStub } from '../instance/validate-stub.js';
import type { Instance } from '../instance/model.js';
import { loadTransform, type LoadTransformOptions } from '../transform/load.js';
import type { CompiledTransform, TransformParams } from '../transform/types.js';
import { validateDomainXml, validateDomainFragment, type SchemaEngine } from '../validate/index.js';
import { checkDomainCoversInstance, checkFragmentCoversStub } from './covers.js';
import { sourceOf, type InstanceSource } from '../instance/source.js';

/** What an input document is: a whole instance, or a hot-plug stub for one device. */
export type InputKind = 'instance' | 'nic' | 'volume';

/** The root element each input kind must render to. */
export const OUTPUT_ROOT: Record<InputKind, 'domain' | 'interface' | 'disk'> = {
  instance: 'domain',
  nic: 'interface',
  volume: 'disk',
};

export interface RenderOptions {
  /** A compiled transform, or the path of one to load. */
  transform: CompiledTransform | string;
  /** Options for loading the transform when a path is given. */
  load?: LoadTransformOptions;
  /** Transform parameters (`--param name=value`). */
  params?: TransformParams;
  /** Validate the output (default true). `false` only parses it strictly. */
  validate?: boolean;
  /** Schema engine for validation (default: libvirt's domain.rng in-process). */
  schema?: SchemaEngine;
  /** Check that files the domain refers to exist on this host (default false). */
  checkPaths?: boolean;
  /** For a device stub: the running domain's XML, so clashes with its devices are found. */
  domainXml?: string;
  /**
   * The input as {@link parseRenderInput} read it from this very text (a cache's copy, as
   * the sandbox keeps for proving samples): it is not parsed again.
   */
  parsed?: ParsedInput;
  /**
   * What the output is for, in the label of errors found in it: `TRANSFORM (output for
   * WHAT)`. Default: the input's `file`. A launch names the caller's instance, not the
   * record it renders, which its rollback removes.
   */
  outputFor?: string;
  /**
   * Where the instance was read from, for errors about it found in the output (a missing
   * volume or NIC). Default: the text rendered, by `file`. A caller that renders text
   * written from another file (an instance given as JSON) names that file's lines here.
   */
  source?: InstanceSource;
}

/** An input document as renderText reads it before rendering. */
export interface ParsedInput {
  kind: InputKind;
  /**
   * The strict parse of the text given, when the transform renders that text (no
   * `canonical`); may be left out of a kept copy (no transform needs it for an instance).
   */
  document?: Document;
  /** The typed instance, checked field by field (when `kind` is `instance`). */
  instance?: Instance;
  /** The typed stub, checked field by field (when `kind` is `nic` or `volume`). */
  stub?: Stub;
  /**
   * The text the transform renders: the input written back from its typed form
   * (`emitInstance`, `emitStub`), so values are trimmed and defaults filled in exactly as
   * in the `instance.xml` a launch writes. Left out when that is the input text itself.
   */
  canonical?: string;
}

export interface Rendered {
  /** The rendered libvirt XML. */
  xml: string;
  /** `xml`, parsed strictly (pass it on rather than parsing the text again). */
  document: Document;
  inputKind: InputKind;
  /** Root element of the output. */
  outputRoot: 'domain' | 'interface' | 'disk';
  /** The parsed instance, when the input was one. */
  instance?: Instance;
  /** The parsed stub, when the input was one (`<nic>`, `<volume>`). */
  stub?: Stub;
  /** Messages that do not stop the render (xsl:message, validation warnings). */
  warnings: string[];
  /** Whether the output passed validation (false when validation was skipped). */
  validated: boolean;
  transform: { file: string; kind: string; hash: string; engine: string };
}

/** Reads an input file (instance.xml, `<nic>` or `<volume>` stub) and renders it. */
export async function renderFile(inputFile: string, options: RenderOptions): Promise<Rendered> {
  // A regular file (or standard input), decoded by its BOM and declaration, as the CLI reads it.
  const text = await readInputText(inputFile, 'input');
  return renderText(text, { ...options, file: inputFile });
}

/**
 * The core pipeline: strict parse of the input → typed instance (checked field by field)
 * → transform → strict parse of the output → its root element is the one expected →
 * libvirt's schema and domforge's semantic checks. Any failure is a DomforgeError naming
 * the file, line and field at fault; nothing is written.
 */
export async function renderText(text: string, options: RenderOptions & { file?: string }): Promise<Rendered> {
  const file = options.file;
  const given = options.parsed;
  const { kind: inputKind, document, instance, stub, canonical } = given && (given.kind === 'instance' ? given.instance : given.stub) ? given : parseRenderInput(text, file);
  const transform = typeof options.transform === 'string' ? await loadTransform(options.transform, options.load) : options.transform;
  // Either the text given, parsed strictly above, or what emitInstance / emitStub wrote from it: checked.
  const result = await transform.render({ xml: canonical ?? text, file, document, instance, stub, checked: true }, options.params ?? {});
  const warnings = [...result.warnings];
  const outputRoot = OUTPUT_ROOT[inputKind];
  const outputLabel = `${transform.file} (output for ${options.outputFor ?? file ?? 'input'})`;
  const outputDocument = checkOutput(result.output, outputRoot, outputLabel, transform.file);
  let validated = false;
  if (options.validate !== false) {
    const v =
      inputKind === 'instance'
        ? await validateDomainXml(result.output, { file: outputLabel, schema: options.schema, checkPaths: options.checkPaths, document: outputDocument })
        : await validateDomainFragment(result.output, outputRoot as 'disk' | 'interface', {
            file: outputLabel,
            schema: options.schema,
            checkPaths: options.checkPaths,
            domainXml: options.domainXml,
          });
    warnings.push(...v.warnings.map((w) => w.message));
    // A valid domain may still have lost an attached volume or a NIC of the instance.
    if (instance) checkDomainCoversInstance(instance, outputDocument, { file: outputLabel, source: options.source ?? sourceOf(instance) });
    // An ENI's <interface> must keep its <nic>'s MAC, by which the record lists it.
    if (stub) checkFragmentCoversStub(stub, outputDocument, { file: outputLabel, from: file });
    validated = true;
  }
  return {
    xml: result.output,
    document: outputDocument,
    inputKind,
    outputRoot,
    instance,
    stub,
    warnings,
    validated,
    transform: { file: transform.file, kind: transform.kind, hash: transform.hash, engine: result.engine },
  };
}

/**
 * The first step of renderText: the input parsed strictly, its kind told by its root
 * element, and read into its typed form (checked field by field). The transform then
 * renders that form written back (`canonical`), not the text as given: a dry run renders
 * what a launch renders, whatever whitespace, attribute order or omitted defaults the
 * admin's file has. The text of a launch's own instance.xml is already that form.
 */
export function parseRenderInput(text: string, file?: string): ParsedInput {
  const given = parseXml(text, { file });
  const kind = inputKindOf(given, file);
  const instance = kind === 'instance' ? parseInstance(text, { file, document: given }) : undefined;
  const stub = kind === 'instance' ? undefined : parseStub(text, { file, document: given });
  // A stub's values are checked where they are given, as parseInstance checks an instance's.
  if (stub) validateStub(stub, { file, document: given });
  const written = instance ? emitInstance(instance) : emitStub(stub!);
  if (written === text) return { kind, document: given, instance, stub };
  // The written form is not parsed again: no transform reads a parse of it (the engines parse
  // the text, Handlebars reads the Instance), and it is well-formed as written (values a strict
  // parse gave, escaped; kept XML as its own strict parse found it). An xmldom tree costs about
  // 1 KB an element, and the written form has many more elements than a terse file (a <vbr> is
  // written with all 17 of its fields): parsed again, 20,000 <vbr>s took 450 MB.
  return { kind, instance, stub, canonical: written };
}

/** Tells instance.xml from a device stub by its root element. */
export function inputKindOf(doc: Document, file?: string): InputKind {
  const root = doc.documentElement;
  const name = root?.nodeName;
  if (name === 'instance' || name === 'nic' || name === 'volume') return name;
  throw new InstanceError(`the root element is <${name}>; expected <instance>, <nic> or <volume>`, { file, line: 1, path: `/${name ?? ''}` });
}

/** The transform's output must be well-formed and have the expected root; otherwise the transform is at fault. */
function checkOutput(xml: string, root: string, label: string, transformFile: string): Document {
  if (!xml.trim()) throw new TransformError('TRANSFORM_RUNTIME', `the transform produced no output (expected a <${root}> element)`, { file: transformFile });
  let doc: Document;
  try {
    doc = parseXml(xml, { file: label });
  } catch (e) {
    if (!(e instanceof DomforgeError)) throw e;
    throw new DomainInvalidError(`the transform's output is not well-formed XML: ${e.shortMessage}`, {
      file: label,
      line: e.line,
      column: e.column,
      cause: e,
      problems: [e],
    });
  }
  const got = doc.documentElement?.nodeName;
  if (got !== root) {
    throw new DomainInvalidError(`the transform's output has root element <${got}>; expected <${root}>`, { file: label, line: 1, path: `/${got}` });
  }
  return doc;
}
