import { TransformError } from '../../../errors.js';
import { lineOf, columnOf, type Element } from '../../../xml/parse.js';

/** Where a stylesheet construct is: the module's file and the element's line. */
export interface Place {
  file: string;
  line?: number;
  column?: number;
}

export function placeOf(file: string, el: Element | undefined): Place {
  return { file, line: lineOf(el), column: columnOf(el) };
}

/**
 * A construct the compiled engine does not run exactly as libxslt does. Thrown at compile
 * time (or, for what only an input can reveal, at render time) with TRANSFORM_UNSUPPORTED,
 * so `auto` renders with another engine instead of giving a different result.
 */
export function unsupported(construct: string, place: Place): TransformError {
  return new TransformError('TRANSFORM_UNSUPPORTED', `the compiled engine does not run ${construct} exactly as libxslt does; use --engine libxslt or auto`, place);
}

export function unsupportedInput(why: string, file?: string): TransformError {
  return new TransformError('TRANSFORM_UNSUPPORTED', `the compiled engine does not render ${why} exactly as libxslt does; use --engine libxslt or auto`, { file });
}

/** A runtime failure at an instruction (the same code libxslt's runtime errors get). */
export function runtimeError(message: string, place: Place): TransformError {
  return new TransformError('TRANSFORM_RUNTIME', `compiled: ${message}`, place);
}
