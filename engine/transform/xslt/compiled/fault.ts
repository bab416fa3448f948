import { FaultTrace as Trace } from '../../fault-trace.js';
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

/** The compiled engine's FaultTrace (engine/transform/fault-trace.ts), its messages prefixed `compiled:`. */
export class FaultTrace extends Trace<Site> {
  constructor() {
    super({
      recursed: 'compiled: the transform recursed too deeply',
      grew: (kind) => `compiled: a ${kind === 'string' ? 'string' : 'node-set'} grew past the largest JavaScript can hold`,
      hint: '(a template that doubles a value at every call?)',
    });
  }
}
