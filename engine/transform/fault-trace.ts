/**
 * Where a RangeError escaping a render came from, for the engines that run a transform as
 * JavaScript (the compiled XSLT engine, Handlebars). A call stack exceeded, or a string or
 * array grown past what JavaScript can hold, names no line of the transform, so the
 * transform's instructions and calls note themselves here as it unwinds through them (in a
 * catch, which costs nothing in V8 until something throws), and the engine names the one
 * at fault in its message.
 *
 * Noting is a field store, and for a call a count in one small map; a note made while the
 * stack is still full may overflow it again, which throws a new RangeError of the same kind
 * that the next one out notes instead. The message is built by `error()` once the stack is
 * unwound.
 */
import { TransformError } from '../errors.js';

/** A place in the transform as a runtime error names it, and what is there. */
export interface FaultSite {
  /** The file, when not the main one. */
  file?: string;
  line?: number;
  column?: number;
  /** e.g. `xsl:call-template name="loop"`, `{{> self}}`. */
  what: string;
}

/** How an engine words the two errors. */
export interface FaultWords {
  /** `the template recursed too deeply`: the site and `(infinite recursion?)` follow. */
  recursed: string;
  /** `a string grew past the largest JavaScript can hold`, for what grew: the site and `hint` follow. */
  grew(kind: 'string' | 'array'): string;
  hint: string;
}

/** A RangeError for a full call stack. */
export function isStackOverflow(e: unknown): e is RangeError {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

/** A RangeError for a string or array grown past the longest V8 can hold. */
export function isTooLong(e: unknown): e is RangeError {
  return e instanceof RangeError && /Invalid (string|array) length/i.test(e.message);
}

export class FaultTrace<S extends FaultSite = FaultSite> {
  /** The innermost instruction a RangeError came through: the one that built the string. */
  private instruction: S | undefined = undefined;
  /** The calls it came through, each with how many times. */
  private calls: Map<S, number> | undefined = undefined;

  constructor(private readonly words: FaultWords) {}

  /** An instruction a thrown `e` unwinds through. */
  at(e: unknown, site: S): void {
    if (this.instruction === undefined && e instanceof RangeError) this.instruction = site;
  }

  /** A call (a template call, a partial call) a thrown `e` unwinds through. */
  call(e: unknown, site: S): void {
    if (!(e instanceof RangeError)) return;
    if (this.instruction === undefined) this.instruction = site;
    const calls = (this.calls ??= new Map());
    calls.set(site, (calls.get(site) ?? 0) + 1);
  }

  /** The call that recursed: the one the stack held most often (the innermost of a tie), not a helper it called on the way. */
  private recursing(): S | undefined {
    let best: S | undefined;
    let most = 0;
    for (const [site, n] of this.calls ?? []) {
      if (n > most) {
        best = site;
        most = n;
      }
    }
    return best;
  }

  /**
   * The error for a RangeError that escaped the render, at the site that was running (the
   * recursing call for a stack overflow); undefined for any other error.
   */
  error(e: unknown, mainFile: string): TransformError | undefined {
    const at = (site: S | undefined) => (site ? ` at ${site.what}` : '');
    if (isStackOverflow(e)) {
      const site = this.recursing() ?? this.instruction;
      return new TransformError('TRANSFORM_RUNTIME', `${this.words.recursed}${at(site)} (infinite recursion?)`, placed(site, mainFile, e));
    }
    if (isTooLong(e)) {
      const site = this.instruction;
      return new TransformError('TRANSFORM_OUT_OF_MEMORY', `${this.words.grew(/string/i.test(e.message) ? 'string' : 'array')}${at(site)} ${this.words.hint}`, placed(site, mainFile, e));
    }
    return undefined;
  }
}

function placed(site: FaultSite | undefined, mainFile: string, cause: Error) {
  return site ? { file: site.file ?? mainFile, line: site.line, column: site.column, cause } : { file: mainFile, cause };
}
