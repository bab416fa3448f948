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
  const line = firstLine(file);
  if (line === undefined || !line.startsWith('#!')) return error;
  const interpreter = line.slice(2).trim().split(/[ \t]+/)[0] ?? '';
  let why: string | undefined;
  if (line.endsWith('\r')) {
    why = `its #! line ends with a carriage return (Windows line endings), so the interpreter looked for is ${JSON.stringify(interpreter + '\r')}`;
  } else if (interpreter === '') {
    why = 'its #! line names no interpreter';
  } else if (!can(interpreter, constants.F_OK)) {
    why = `its interpreter ${interpreter} (from the #! line) does not exist`;
  } else if (!can(interpreter, constants.X_OK)) {
    why = `its interpreter ${interpreter} (from the #! line) is not executable`;
  }
  if (!why) return error;
  const explained = new Error(`${why} (${error.message})`, { cause: error });
  Object.assign(explained, { code, syscall: (error as NodeJS.ErrnoException).syscall, path: (error as NodeJS.ErrnoException).path });
  return explained;
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
