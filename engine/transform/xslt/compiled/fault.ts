import { TransformError } from '../../../errors.js';
import type { Element } from '../../../xml/parse.js';
import { XSL_NS } from '../constants.js';
import { placeOf, type Place } from './refuse.js';

/** A stylesheet instruction as a runtime error names it: its module's file, line and column, and what it is. */
export interface Site extends Place {
  /** e.g. `xsl:call-template name="loop"`, `xsl:value-of select="concat($s, $s)"`, `<domain>`. */
  what: string;
}

export function siteOf(file: string, el: Element): Site {
  return { ...placeOf(file, el), what: describe(el) };
}

function describe(el: Element): string {
  if (el.namespaceURI !== XSL_NS) return `<${el.nodeName}>`;
  let s = `xsl:${el.localName}`;
  for (const a of ['name', 'select', 'test']) {
    const v = el.getAttribute(a);
    if (v !== null) s += ` ${a}="${v.length > 60 ? `${v.slice(0, 59)}…` : v}"`;
  }
  return s;
}

/**
 * Where a RangeError escaping a render came from. A call stack exceeded, or a string or
 * array grown past what JavaScript can hold, names no stylesheet line, so the instructions
 * note themselves here as it unwinds through them (in a catch, which costs nothing in V8
 * until something throws) and the engine names the instruction in its message.
 *
 * Noting is a field store, and for a template call a count in one small map; a note made
 * while the stack is still full may overflow it again, which throws a new RangeError of the
 * same kind that the next instruction out notes instead. The message is built by `error()`
 * once the stack is unwound.
 */
export class FaultTrace {
  /** The innermost instruction a RangeError came through: the one that built the string. */
  private instruction: Site | undefined = undefined;
  /** The template calls (call-template, apply-templates) it came through, innermost first, each with how many times. */
  private calls: Map<Site, number> | undefined = undefined;

  /** An instruction a thrown `e` unwinds through. */
  at(e: unknown, site: Site): void {
    if (this.instruction === undefined && e instanceof RangeError) this.instruction = site;
  }

  /** A template call a thrown `e` unwinds through. */
  call(e: unknown, site: Site): void {
    if (!(e instanceof RangeError)) return;
    if (this.instruction === undefined) this.instruction = site;
    const calls = (this.calls ??= new Map());
    calls.set(site, (calls.get(site) ?? 0) + 1);
  }

  /** The call that recursed: the one the stack held most often (the innermost of a tie), not a helper it called on the way. */
  private recursing(): Site | undefined {
    let best: Site | undefined;
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
   * The error for a RangeError that escaped the render, at the instruction that was running
   * (the recursing call for a stack overflow); undefined for any other error.
   */
  error(e: unknown, mainFile: string): TransformError | undefined {
    if (!(e instanceof RangeError)) return undefined;
    if (/call stack/i.test(e.message)) {
      const site = this.recursing() ?? this.instruction;
      return new TransformError('TRANSFORM_RUNTIME', `compiled: the transform recursed too deeply${site ? ` at ${site.what}` : ''} (infinite recursion?)`, placed(site, mainFile, e));
    }
    if (/Invalid (string|array) length/i.test(e.message)) {
      const site = this.instruction;
      const what = /string/i.test(e.message) ? 'string' : 'node-set';
      return new TransformError('TRANSFORM_OUT_OF_MEMORY', `compiled: a ${what} grew past the largest JavaScript can hold${site ? ` at ${site.what}` : ''} (a template that doubles a value at every call?)`, placed(site, mainFile, e));
    }
    return undefined;
  }
}

function placed(site: Site | undefined, mainFile: string, cause: Error) {
  return site ? { file: site.file, line: site.line, column: site.column, cause } : { file: mainFile, cause };
}
