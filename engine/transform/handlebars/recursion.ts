/**
 * Naming the partial call that recursed, or whose output grew too long. Handlebars runs a
 * partial call as a JavaScript call, so a partial that calls itself without end (`{{> self}}`
 * in self.hbs, an inline `{{#*inline "r"}}{{> r}}{{/inline}}`) fills the call stack, and
 * the RangeError says nothing of the template; nor does the `Invalid string length` of
 * partials that multiply their output (ten calls of a partial that makes ten calls, eight
 * levels deep). Every partial call still made at render time is compiled to go through
 * {@link PartialCalls.run} (environment.ts), which notes its place when such an error
 * unwinds through it; the call noted most often is the one that recursed, the innermost one
 * the one whose output grew past the limit — as the compiled XSLT engine's FaultTrace names
 * the template call that recursed and the instruction that built a string too long.
 */
import { TransformError } from '../../errors.js';

/** A `{{> name}}` as written: the file, line and column of the call (Handlebars's loc, column from 1). */
export interface PartialSite {
  file?: string;
  line?: number;
  column?: number;
  /** `{{> self}}`, `{{#> layout}}`, `{{> (lookup …)}}`. */
  what: string;
}

/** A RangeError for a full call stack: every wrapper passes it on untouched, so the render can place it. */
export function isStackOverflow(e: unknown): e is RangeError {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

/** A RangeError for a string grown past the longest V8 can hold (about 2^29 UTF-16 units). */
export function isTooLong(e: unknown): e is RangeError {
  return e instanceof RangeError && /Invalid string length/i.test(e.message);
}

export class PartialCalls {
  /** Every partial call compiled so far, by the index the compiled code passes to `run`. */
  readonly sites: PartialSite[] = [];
  /** How many times a stack overflow unwound through each call, since the last `reset`. */
  private counts: Map<number, number> | undefined = undefined;
  /** The innermost call a string too long unwound through, since the last `reset`. */
  private grown: number | undefined = undefined;

  add(site: PartialSite): number {
    return this.sites.push(Object.freeze(site)) - 1;
  }

  /** Runs the partial call compiled at `site`. */
  run(site: number, call: () => unknown): unknown {
    try {
      return call();
    } catch (e) {
      // Noting may overflow the stack again: that RangeError, of the same kind, goes on out instead.
      if (isStackOverflow(e)) (this.counts ??= new Map()).set(site, (this.counts.get(site) ?? 0) + 1);
      else if (this.grown === undefined && isTooLong(e)) this.grown = site;
      throw e;
    }
  }

  /** Before a render: nothing noted. */
  reset(): void {
    this.counts = undefined;
    this.grown = undefined;
  }

  /**
   * The error for a stack overflow that escaped a render, at the call that recursed; for a
   * string too long, at the innermost call it came out of (the template itself when none,
   * every partial written in place); undefined for any other error.
   */
  error(e: unknown, mainFile: string): TransformError | undefined {
    if (isTooLong(e)) {
      const site = this.grown === undefined ? undefined : this.sites[this.grown];
      return new TransformError('TRANSFORM_OUT_OF_MEMORY', `the output grew past what a render may produce (the longest string JavaScript can hold)${site ? ` at ${site.what}` : ''} (partials that multiply their output?)`, placeOf(site, mainFile, e));
    }
    if (!isStackOverflow(e)) return undefined;
    let best: number | undefined;
    let most = 0;
    for (const [site, n] of this.counts ?? []) {
      if (n > most) [best, most] = [site, n];
    }
    const site = best === undefined ? undefined : this.sites[best];
    return new TransformError('TRANSFORM_RUNTIME', `the template recursed too deeply${site ? ` at ${site.what}` : ''} (infinite recursion?)`, placeOf(site, mainFile, e));
  }
}

/** Where an error at a partial call is (the template itself when no call is known). */
function placeOf(site: PartialSite | undefined, mainFile: string, cause: Error) {
  return site ? { file: site.file ?? mainFile, line: site.line, column: site.column, cause } : { file: mainFile, cause };
}
