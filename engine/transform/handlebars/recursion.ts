/**
 * Naming the partial call that recursed. Handlebars runs a partial call as a JavaScript
 * call, so a partial that calls itself without end (`{{> self}}` in self.hbs, an inline
 * `{{#*inline "r"}}{{> r}}{{/inline}}`) fills the call stack, and the RangeError says
 * nothing of the template. Every partial call still made at render time is compiled to go
 * through {@link PartialCalls.run} (environment.ts), which notes its place when a stack
 * overflow unwinds through it; the call noted most often is the one that recursed — as the
 * compiled XSLT engine's FaultTrace names the template call that recursed.
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

export class PartialCalls {
  /** Every partial call compiled so far, by the index the compiled code passes to `run`. */
  readonly sites: PartialSite[] = [];
  /** How many times a stack overflow unwound through each call, since the last `reset`. */
  private counts: Map<number, number> | undefined = undefined;

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
      throw e;
    }
  }

  /** Before a render: nothing noted. */
  reset(): void {
    this.counts = undefined;
  }

  /** The error for a stack overflow that escaped a render, at the call that recursed; undefined for any other error. */
  error(e: unknown, mainFile: string): TransformError | undefined {
    if (!isStackOverflow(e)) return undefined;
    let best: number | undefined;
    let most = 0;
    for (const [site, n] of this.counts ?? []) {
      if (n > most) [best, most] = [site, n];
    }
    const site = best === undefined ? undefined : this.sites[best];
    const place = site ? { file: site.file ?? mainFile, line: site.line, column: site.column, cause: e } : { file: mainFile, cause: e };
    return new TransformError('TRANSFORM_RUNTIME', `the template recursed too deeply${site ? ` at ${site.what}` : ''} (infinite recursion?)`, place);
  }
}
