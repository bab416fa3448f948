/**
 * libvirt's own RelaxNG domain schema, compiled once and run in-process with
 * libxml2-wasm (the same libxml2 RelaxNG engine `virt-xml-validate` drives through
 * `xmllint`), or — as a fallback — `virt-xml-validate FILE domain` run as a process.
 *
 * This module only returns libxml2's raw findings ({@link RawSchemaError}); turning
 * them into messages an admin can act on is `schema-report.ts`'s job.
 *
 * Schema: https://libvirt.org/formatdomain.html, /usr/share/libvirt/schemas/domain.rng
 * (Debian package `libvirt0`, pulled in by `libvirt-clients` and `libvirt-dev`).
 */
import { existsSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IoError } from '../errors.js';

/** Folder libvirt installs its schemas into on Debian, Ubuntu, Fedora and RHEL. */
export const LIBVIRT_SCHEMA_DIR = '/usr/share/libvirt/schemas';

/** One finding of libxml2's RelaxNG validator, as it reports it. */
export interface RawSchemaError {
  /** libxml2's message, e.g. `Extra element vcpu in interleave` (trailing newline removed). */
  message: string;
  /** 1-based line in the validated document; undefined when libxml2 gives none. */
  line?: number;
  /** libxml2's XPath of the node, e.g. `/domain/devices/disk[2]/target`, when it gives one. */
  xpath?: string;
}

export interface SchemaLocationOptions {
  /**
   * The RelaxNG file to validate against, or a folder holding `domain.rng`.
   * Default: `$DOMFORGE_LIBVIRT_SCHEMAS` (a folder or an `.rng` file) when set,
   * else `/usr/share/libvirt/schemas/domain.rng`.
   */
  schemaPath?: string;
  /** Environment consulted for `DOMFORGE_LIBVIRT_SCHEMAS`. Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** Resolves which `domain.rng` to use (see {@link SchemaLocationOptions.schemaPath}). */
export function resolveDomainSchemaPath(options: SchemaLocationOptions = {}): string {
  const given = options.schemaPath ?? (options.env ?? process.env).DOMFORGE_LIBVIRT_SCHEMAS ?? LIBVIRT_SCHEMA_DIR;
  if (given.endsWith('.rng')) return given;
  return join(given, 'domain.rng');
}

/** The error for a schema file that is not there, saying what provides it. */
export function schemaMissingError(path: string, cause?: unknown): IoError {
  return new IoError(
    `libvirt's RelaxNG domain schema ${path} was not found. It is installed with libvirt ` +
      `(Debian/Ubuntu: \`apt-get install libvirt-clients\` or \`libvirt-dev\`, which pull in libvirt0; ` +
      `Fedora/RHEL: libvirt-libs). Set DOMFORGE_LIBVIRT_SCHEMAS to the folder holding domain.rng, ` +
      `or validate with schema: false to run only domforge's own checks.`,
    { file: path, cause },
  );
}

type Libxml = typeof import('libxml2-wasm');
let libxml: Promise<Libxml> | undefined;

/**
 * Loads libxml2-wasm on first use (about 50 ms: a WebAssembly module), and lets
 * libxml2 read files through Node's `fs` so the schema's `<include href>`s resolve.
 */
function loadLibxml(): Promise<Libxml> {
  libxml ??= (async () => {
    const lib = await import('libxml2-wasm');
    const { xmlRegisterFsInputProviders } = await import('libxml2-wasm/lib/nodejs.mjs');
    xmlRegisterFsInputProviders();
    return lib;
  })();
  return libxml;
}

/**
 * A RelaxNG schema compiled by libxml2-wasm. Validating creates and frees one
 * libxml2 document per call; the compiled schema lives until {@link dispose}.
 */
export class CompiledSchema {
  private disposed = false;
  private constructor(
    /** The `.rng` file this was compiled from. */
    readonly path: string,
    private readonly lib: Libxml,
    private readonly validator: InstanceType<Libxml['RelaxNGValidator']>,
  ) {}

  /** Reads and compiles `path`; throws IoError if missing or unreadable, DomforgeError-free libxml errors otherwise. */
  static async compile(path: string): Promise<CompiledSchema> {
    if (!existsSync(path) || !statSync(path).isFile()) throw schemaMissingError(path);
    const lib = await loadLibxml();
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new IoError(`cannot read libvirt's schema ${path}: ${(e as Error).message}`, { file: path, cause: e });
    }
    // The url makes relative <include href="domaincommon.rng"/> resolve next to the file.
    const rng = lib.XmlDocument.fromBuffer(bytes, { url: path });
    try {
      return new CompiledSchema(path, lib, lib.RelaxNGValidator.fromDoc(rng));
    } catch (e) {
      throw new IoError(`libvirt's schema ${path} does not compile: ${firstLine(e)}`, { file: path, cause: e });
    } finally {
      // xmlRelaxNGNewDocParserCtxt copies the document, so it can go at once.
      rng.dispose();
    }
  }

  /**
   * Validates `xml` (already known to be well-formed). Returns [] when valid.
   * `url` only labels libxml2's own messages.
   */
  validate(xml: string, url = 'domain.xml'): RawSchemaError[] {
    if (this.disposed) throw new Error(`schema ${this.path} was disposed`);
    const doc = this.lib.XmlDocument.fromString(xml, { url });
    try {
      this.validator.validate(doc);
      return [];
    } catch (e) {
      if (e instanceof this.lib.XmlValidateError) {
        return e.details.map((d) => ({
          message: d.message.trim(),
          line: d.line > 0 ? d.line : undefined,
          xpath: d.xpath || undefined,
        }));
      }
      throw e;
    } finally {
      doc.dispose();
    }
  }

  /** True when `xml` is valid (a shorthand used when narrowing problems down). */
  accepts(xml: string): boolean {
    return this.validate(xml).length === 0;
  }

  /** Frees the compiled schema in the wasm heap. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.validator.dispose();
  }
}

const cache = new Map<string, Promise<CompiledSchema>>();

/**
 * The compiled schema for `options` (see {@link resolveDomainSchemaPath}), compiled
 * on first use and cached per path. A failed compile is not cached, so installing
 * the schema and retrying works.
 */
export function loadDomainSchema(options: SchemaLocationOptions = {}): Promise<CompiledSchema> {
  const path = resolveDomainSchemaPath(options);
  let p = cache.get(path);
  if (!p) {
    p = CompiledSchema.compile(path);
    cache.set(path, p);
    p.catch(() => cache.delete(path));
  }
  return p;
}

/** Disposes every cached compiled schema (for long-running processes that reload, and tests). */
export async function releaseDomainSchemas(): Promise<void> {
  const all = [...cache.values()];
  cache.clear();
  for (const p of all) {
    try {
      (await p).dispose();
    } catch {
      // a schema that failed to compile holds nothing
    }
  }
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0]!.trim();
}
