/**
 * Parsing template text into Handlebars's AST, with parse errors turned into
 * TransformErrors that name the file, the line and, for a block left open or closed by
 * the wrong name, the block.
 */
import { TransformError } from '../../errors.js';
import type { HandlebarsEnv } from './environment.js';

export function parseTemplate(env: HandlebarsEnv, text: string, file: string): hbs.AST.Program {
  try {
    // srcName: every node's loc names the file, which errors in a partial written in place use.
    return env.parse(text, { srcName: file });
  } catch (e) {
    throw syntaxError(e, text, file);
  }
}

interface HandlebarsException extends Error {
  lineNumber?: number;
  column?: number;
}

function syntaxError(e: unknown, text: string, file: string): TransformError {
  const err = e as HandlebarsException;
  const raw = String(err?.message ?? e);
  // "if doesn't match each - 4:2": a block closed by another name.
  const mismatch = /^(\S+) doesn't match (\S+)/.exec(raw);
  if (mismatch) {
    const line = err.lineNumber;
    return new TransformError('TRANSFORM_SYNTAX', `block {{#${mismatch[1]}}} is closed by {{/${mismatch[2]}}}`, { file, line, column: err.column !== undefined ? err.column + 1 : undefined, cause: e });
  }
  if (/got 'EOF'/.test(raw)) {
    const open = unclosedBlock(text);
    if (open) return new TransformError('TRANSFORM_SYNTAX', `block {{#${open.name}}} is never closed (expected {{/${open.name}}})`, { file, line: open.line, column: open.column, cause: e });
  }
  const at = /on line (\d+)/.exec(raw);
  const detail = raw.split('\n').filter((l) => l.trim() !== '');
  // Handlebars shows the source around the error and what it expected; keep the last line (what it expected).
  const message = `template syntax error: ${detail[detail.length - 1] ?? raw}`.replace(/^template syntax error: Parse error on line \d+:?\s*/, 'template syntax error: ');
  return new TransformError('TRANSFORM_SYNTAX', message, { file, line: at ? Number(at[1]) : err?.lineNumber, cause: e, details: detail.slice(1, -1) });
}

/** The innermost block still open at the end of the text, found by matching `{{#x}}` and `{{/x}}`. */
function unclosedBlock(text: string): { name: string; line: number; column: number } | undefined {
  const stack: { name: string; index: number }[] = [];
  // Comments first (they may hold braces), then block openers and closers.
  const re = /\{\{!--[\s\S]*?--\}\}|\{\{![\s\S]*?\}\}|\{\{~?\s*([#/])\s*(?:[*>]\s*)?([^\s}~]+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (!m[1]) continue;
    if (m[1] === '#') stack.push({ name: m[2]!, index: m.index });
    else if (stack.length) stack.pop();
  }
  const top = stack.pop();
  if (!top) return undefined;
  const before = text.slice(0, top.index);
  const line = before.split('\n').length;
  return { name: top.name, line, column: top.index - before.lastIndexOf('\n') };
}
