/**
 * Naming the partial call that recursed, or whose output grew too long. Handlebars runs a
 * partial call as a JavaScript call, so a partial that calls itself without end (`{{> self}}`
 * in self.hbs, an inline `{{#*inline "r"}}{{> r}}{{/inline}}`) fills the call stack, and
 * the RangeError says nothing of the template; nor does the `Invalid string length` of
 * partials that multiply their output (ten calls of a partial that makes ten calls, eight
 * levels deep). Every partial call still made at render time is compiled to go through
 * {@link PartialCalls.run} (environment.ts), which notes its place when such an error
 * unwinds through it; the call noted most often is the one that recursed, the innermost one
 * the one whose output grew past the limit, through the FaultTrace the compiled XSLT engine
 * uses too (engine/transform/fault-trace.ts).
 */
import type { TransformError } from '../../errors.js';
import { FaultTrace, type FaultSite } from '../fault-trace.js';

export { isStackOverflow, isTooLong } from '../fault-trace.js';

/** A `{{> name}}` as written: the file, line and column of the call (Handlebars's loc, column from 1). */
export interface PartialSite extends FaultSite {
  /** `{{> self}}`, `{{#> layout}}`, `{{> (lookup …)}}`. */
  what: string;
}

const WORDS = {
  recursed: 'the template recursed too deeply',
  grew: () => 'the output grew past what a render may produce (the longest string JavaScript can hold)',
  hint: '(partials that multiply their output?)',
};

export class PartialCalls {
  /** Every partial call compiled so far, by the index the compiled code passes to `run`. */
  readonly sites: PartialSite[] = [];
  /** What unwound through the calls since the last `reset`. */
  private trace = new FaultTrace<PartialSite>(WORDS);

  add(site: PartialSite): number {
    return this.sites.push(Object.freeze(site)) - 1;
  }

  /** Runs the partial call compiled at `site`. */
  run(site: number, call: () => unknown): unknown {
    try {
      return call();
    } catch (e) {
      this.trace.call(e, this.sites[site]!);
      throw e;
    }
  }

  /** Before a render: nothing noted. */
  reset(): void {
    this.trace = new FaultTrace<PartialSite>(WORDS);
  }

  /**
   * The error for a stack overflow that escaped a render, at the call that recursed; for a
   * string too long, at the innermost call it came out of (the template itself when none,
   * every partial written in place); undefined for any other error.
   */
  error(e: unknown, mainFile: string): TransformError | undefined {
    return this.trace.error(e, mainFile);
  }
}
