/**
 * A Handlebars transform compiled once and rendered many times, behind the same
 * CompiledTransform interface as XSLT. Loading reads the template and every partial it
 * uses (transitively), checks them (helpers, partial names, triple-stash), and compiles
 * them; rendering is then a synchronous function call over the typed input.
 */
import { createHash } from 'node:crypto';
import type Handlebars from 'handlebars';
import { readRegularFileSync } from '../../fs/regular-file.js';
import { dirname, relative } from 'node:path';
import { DomforgeError, IoError, TransformError } from '../../errors.js';
import type { CompiledTransform, RenderResult, TransformInput, TransformParams } from '../types.js';
import { handlebarsLibrary, setLogSink } from './library.js';
import { compileAst, createEnvironment, partialCallsOf, type HandlebarsEnv } from './environment.js';
import { isStackOverflow, isTooLong, type PartialCalls } from './recursion.js';
import { KNOWN_HELPERS, registerHelpers } from './helpers.js';
import { checkTemplate } from './checks.js';
import { parseTemplate } from './parse.js';
import { partialsDirOf, resolvePartial } from './partials.js';
import { readThrough, type Unreadable } from '../links-out.js';
import { buildContext } from './context.js';
import { PartialInliner, calledPartials, type ParsedPartial } from './inline-partials.js';

export interface CompileHandlebarsOptions {
  /**
   * The transforms folder: partials, and what a symbolic link among them leads to, must stay
   * inside it (default: the template's own folder).
   */
  root?: string;
  /** Template text when already read (partials are always read from disk). */
  text?: string;
  /**
   * Trust every file of this transform: triple-stash (`{{{x}}}`) may write values unescaped.
   * Default false; a single file is trusted by starting with `{{!-- domforge: trusted --}}`.
   */
  trusted?: boolean;
  /**
   * Write partials into their callers where that renders the same (inline-partials.ts),
   * instead of calling them at render time. Default true; false is for comparing the two.
   */
  inlinePartials?: boolean;
  /**
   * Symbolic links of the folder `root` stands for that `root` does not hold, by path
   * relative to `root`, each with the real path it points to (default none). A version
   * snapshot leaves out every link that points out of the transforms folder: through these,
   * a partial that is one (or sits in a folder that is one) is refused as it is in the
   * folder itself, rather than not found.
   */
  linksOut?: Readonly<Record<string, string>>;
  /**
   * Files of the folder `root` stands for that `root` does not hold because of what they are
   * (a FIFO, a symbolic link to nothing), by path relative to `root` (default none): a version snapshot leaves them
   * out, and through these a partial that is one is refused as it is in the folder itself,
   * rather than not found.
   */
  unreadable?: Readonly<Record<string, Unreadable>>;
}

/**
 * Handlebars' own messages (logged through its shared logger, not an environment's `log`:
 * "Access has been denied to resolve the property ..." when a template reaches for an
 * inherited property such as `{{instance.hasOwnProperty}}`) go to the render under way
 * as warnings, never to the process's stderr (library.ts routes them).
 */
/** Handlebars' own message as a domforge warning: the property it denied, in one line. */
function handlebarsMessage(message: string): string {
  const denied = /Access has been denied to resolve the property "([^"]*)"/.exec(message);
  if (denied) return `"${denied[1]}" is not a field of its parent (Handlebars refuses inherited properties and methods): it renders as nothing`;
  return message.replace(/^Handlebars:\s*/, '').split('\n')[0]!;
}

interface SourceFile {
  file: string;
  text: string;
}

export class CompiledHandlebars implements CompiledTransform {
  readonly kind = 'handlebars' as const;
  readonly file: string;
  readonly files: readonly string[];
  readonly hash: string;
  /** The partials written in place at one call or more (the rest are called at render time). */
  readonly inlined: ReadonlySet<string>;
  private readonly template: HandlebarsTemplateDelegate;
  /** Files being rendered, innermost last (rendering is synchronous, so one stack serves every call). */
  private readonly stack: string[] = [];
  private warnings: string[] = [];
  /** The partial calls made at render time, which name the one that recursed when the stack overflows. */
  private readonly partialCalls: PartialCalls;

  constructor(file: string, options: CompileHandlebarsOptions = {}) {
    this.file = file;
    const env = createEnvironment();
    this.partialCalls = partialCallsOf(env);
    registerHelpers(env, () => this.stack[this.stack.length - 1] ?? file);
    // `{{log}}` messages become warnings naming the file the call is written in: its
    // loc's source (a partial written in place keeps its own), else the file rendering.
    let logSource: string | undefined;
    const builtinLog = env.helpers['log'] as (...args: unknown[]) => unknown;
    env.registerHelper('log', function (this: unknown, ...args: unknown[]) {
      logSource = (args[args.length - 1] as { loc?: { source?: string } } | undefined)?.loc?.source;
      try {
        return builtinLog.apply(this, args);
      } finally {
        logSource = undefined;
      }
    });
    env.log = ((level: unknown, ...message: unknown[]) => {
      this.warnings.push(`${logSource ?? this.stack[this.stack.length - 1] ?? file}: ${message.map(String).join(' ')}${level === 'error' ? ' (error)' : ''}`);
    }) as typeof env.log;
    const sources: SourceFile[] = [{ file, text: options.text ?? readText(file) }];
    const trusted = options.trusted === true;
    const mainAst = parseTemplate(env, sources[0]!.text, file);
    const queue = checkTemplate(mainAst, { file, knownHelpers: KNOWN_HELPERS, trusted }).partials.map((u) => ({ ...u, from: file }));
    const dir = partialsDirOf(file);
    const root = options.root ?? dirname(file);
    const loaded = new Map<string, ParsedPartial>();
    const read = readThrough(root, options.unreadable);
    while (queue.length) {
      const use = queue.shift()!;
      if (loaded.has(use.name)) continue;
      const pfile = resolvePartial(use.name, dir, root, { file: use.from, line: use.line, column: use.column }, options.linksOut, options.unreadable);
      let text: string;
      try {
        text = read(pfile);
      } catch (e) {
        // Named where the partial is called, as resolvePartial names a missing one.
        throw new TransformError('TRANSFORM_SYNTAX', `partial "${use.name}": cannot read ${pfile}: ${(e as Error).message}`, { file: use.from, line: use.line, column: use.column, cause: e });
      }
      sources.push({ file: pfile, text });
      const ast = parseTemplate(env, text, pfile);
      loaded.set(use.name, { file: pfile, ast });
      const report = checkTemplate(ast, { file: pfile, knownHelpers: KNOWN_HELPERS, trusted });
      queue.push(...report.partials.map((u) => ({ ...u, from: pfile })));
    }
    // Every file is parsed and checked before anything compiles: compiling changes the
    // tree it compiles, and the inliner copies partials from the trees as parsed.
    const inliner = new PartialInliner(loaded, mainAst, options.inlinePartials !== false);
    const main = inliner.expand(mainAst);
    // Partials still called at render time, and the partials those call: compiled on
    // their own and registered. A partial written in place everywhere is not.
    const called = [...calledPartials(main)];
    const compiled = new Set<string>();
    while (called.length) {
      const name = called.shift()!;
      const p = loaded.get(name);
      if (!p || compiled.has(name)) continue;
      compiled.add(name);
      const ast = inliner.expand(p.ast, name);
      called.push(...calledPartials(ast));
      this.registerPartial(env, name, p.file, compileChecked(env, ast, p.file));
    }
    try {
      this.template = compileChecked(env, main, file, true);
    } catch (e) {
      // An error in a partial written in place would be reported at the template's file:
      // compiling each partial alone names the partial's.
      for (const [name, p] of loaded) if (!compiled.has(name)) compileChecked(env, inliner.expand(p.ast, name), p.file);
      throw e;
    }
    this.inlined = inliner.used;
    this.files = sources.map((s) => s.file);
    // Paths relative to the template's folder, so a copy of the folder (the watcher's
    // snapshot of a version) has the same hash as the folder itself.
    const h = createHash('sha256');
    for (const s of sources) h.update(relative(dir, s.file)).update('\0').update(s.text).update('\0');
    this.hash = h.digest('hex');
  }

  private registerPartial(env: HandlebarsEnv, name: string, file: string, fn: HandlebarsTemplateDelegate): void {
    env.registerPartial(name, ((context: unknown, options: Handlebars.RuntimeOptions) => {
      this.stack.push(file);
      try {
        return fn(context, options);
      } catch (e) {
        // A stack overflow, or a string too long, goes on out as it is: the render names the
        // call that recursed, or the one whose output grew past the limit.
        throw isStackOverflow(e) || isTooLong(e) ? e : runtimeError(e, file);
      } finally {
        this.stack.pop();
      }
    }) as unknown as Handlebars.Template);
  }

  render(input: TransformInput, params: TransformParams = {}): Promise<RenderResult> {
    try {
      return Promise.resolve(this.renderSync(input, params));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The same as render, without the promise (Handlebars renders synchronously). */
  renderSync(input: TransformInput, params: TransformParams = {}): RenderResult {
    const context = buildContext(input, params);
    this.stack.length = 0;
    this.stack.push(this.file);
    this.warnings = [];
    this.partialCalls.reset();
    // Handlebars tells of a denied property once per process; each render hears of its own.
    (handlebarsLibrary() as unknown as { resetLoggedPropertyAccesses?(): void }).resetLoggedPropertyAccesses?.();
    const outer = setLogSink((_level, message) => this.warnings.push(`${this.stack[this.stack.length - 1] ?? this.file}: ${handlebarsMessage(message)}`));
    try {
      const output = this.template(context);
      return { output, warnings: this.warnings, engine: 'handlebars' };
    } catch (e) {
      throw this.partialCalls.error(e, this.file) ?? runtimeError(e, this.file);
    } finally {
      setLogSink(outer);
      this.stack.length = 0;
    }
  }
}

/** Loads, checks and compiles a Handlebars transform (`*.hbs`). */
export function compileHandlebars(file: string, options: CompileHandlebarsOptions = {}): CompiledHandlebars {
  return new CompiledHandlebars(file, options);
}

function readText(file: string): string {
  try {
    return readRegularFileSync(file);
  } catch (e) {
    throw new IoError(`cannot read template: ${(e as Error).message}`, { file, cause: e });
  }
}

function compileChecked(env: HandlebarsEnv, ast: hbs.AST.Program, file: string, top = false): HandlebarsTemplateDelegate {
  try {
    return compileAst(env, ast, KNOWN_HELPERS, top);
  } catch (e) {
    const err = e as { message?: string; lineNumber?: number; column?: number };
    throw new TransformError('TRANSFORM_SYNTAX', `template cannot be compiled: ${String(err.message ?? e).replace(/ - \d+:\d+$/, '')}`, {
      file,
      line: err.lineNumber,
      column: err.column !== undefined ? err.column + 1 : undefined,
      cause: e,
    });
  }
}

/** A render failure as a TransformError naming the file (and line, when Handlebars knows it). */
function runtimeError(e: unknown, file: string): DomforgeError {
  if (e instanceof DomforgeError) return e;
  const err = e as { message?: string; lineNumber?: number; column?: number };
  return new TransformError('TRANSFORM_RUNTIME', `template failed: ${String(err?.message ?? e).replace(/ - \d+:\d+$/, '')}`, {
    file,
    line: err?.lineNumber,
    column: err?.column !== undefined ? err.column + 1 : undefined,
    cause: e,
  });
}
