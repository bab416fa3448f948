/**
 * Transform parameters (`--param NAME=VALUE`, the `params` option) as every engine takes
 * them: strings of XML characters. A value holding any other character (a control
 * character such as U+0001, U+FFFE, a lone surrogate) is refused the same way whichever
 * engine runs: libxslt cannot take it ("Evaluating user parameter … failed") and libvirt XML
 * cannot hold it, so the compiled engine or Handlebars would write output nobody can read.
 */
import { UsageError } from '../errors.js';
import { expectStringRecord } from '../option-checks.js';
import { codePointName, XML_INVALID_CHARS } from '../xml/serialize.js';
import type { TransformParams } from './types.js';

/** Why a value cannot be a transform parameter (`its character 9 is U+0001, …`), or undefined when it can. */
export function paramValueProblem(value: string): string | undefined {
  const m = XML_INVALID_CHARS.exec(value);
  if (!m) return undefined;
  const position = [...value.slice(0, m.index)].length + 1;
  return `its character ${position} is ${codePointName(m[0].charCodeAt(0))}, which is not an XML character (XML 1.0 §2.2): libxslt cannot take it and libvirt XML cannot hold it`;
}

/** Checks `params` (an object of strings, each of XML characters only), naming the one at fault as `name.NAME`. */
export function checkTransformParams(params: unknown, name = 'params'): asserts params is TransformParams | undefined {
  expectStringRecord(name, params);
  for (const [k, v] of Object.entries((params ?? {}) as Record<string, string | undefined>)) {
    const problem = v === undefined ? undefined : paramValueProblem(v);
    if (problem) throw new UsageError(`Expected \`${name}.${k}\` to hold only XML characters, but ${problem}`);
  }
}
