import { accessSync, closeSync, constants, openSync, readSync } from 'node:fs';

/**
 * Why a program that exists could not be started, in words an admin can act on. The
 * kernel reports a missing `#!` interpreter as ENOENT on the script itself (and a
 * non-executable one as EACCES), which reads as if the script were missing; so for those
 * two codes the script's first line is read and its interpreter checked:
 *
 *     spawn /etc/domforge/hooks/10-bad ENOENT
 *     → its interpreter /no/such/interp (from the #! line) does not exist (spawn /etc/domforge/hooks/10-bad ENOENT)
 *
 * Any other error, or one this does not explain, is returned as is.
 */
export function explainSpawnError(file: string, error: Error): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== 'ENOENT' && code !== 'EACCES') return error;
  const why = whyScriptCannotStart(file);
  if (!why) return error;
  const explained = new Error(`${why} (${error.message})`, { cause: error });
  Object.assign(explained, { code, syscall: (error as NodeJS.ErrnoException).syscall, path: (error as NodeJS.ErrnoException).path });
  return explained;
}

/**
 * Why the kernel will refuse to start the script `file` because of its `#!` line (its
 * interpreter missing or not executable, a carriage return at its end, no interpreter named),
 * in the words explainSpawnError uses; undefined when its `#!` line is fine, or it has none.
 * Lets `domforge check` tell before a launch what a hook's start would fail with.
 */
export function whyScriptCannotStart(file: string): string | undefined {
  const line = firstLine(file);
  if (line === undefined || !line.startsWith('#!')) return undefined;
  const interpreter = line.slice(2).trim().split(/[ \t]+/)[0] ?? '';
  if (line.endsWith('\r')) {
    return `its #! line ends with a carriage return (Windows line endings), so the interpreter looked for is ${JSON.stringify(interpreter + '\r')}`;
  }
  if (interpreter === '') return 'its #! line names no interpreter';
  if (!can(interpreter, constants.F_OK)) return `its interpreter ${interpreter} (from the #! line) does not exist`;
  if (!can(interpreter, constants.X_OK)) return `its interpreter ${interpreter} (from the #! line) is not executable`;
  return undefined;
}

/** The file's first line (up to 256 bytes, without its newline), or undefined when it cannot be read. */
function firstLine(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(256);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('latin1').split('\n')[0];
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function can(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}
