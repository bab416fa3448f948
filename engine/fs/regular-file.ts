import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';

/** A FIFO, socket or device where a file's text is expected: reading it would wait for a writer, or never end. */
export class NotRegularFileError extends Error {
  constructor(readonly file: string) {
    super('not a regular file');
    this.name = 'NotRegularFileError';
  }
}

/** A file's text, after a `stat` (following links) has shown it is a regular file. */
export function readRegularFileSync(file: string): string {
  if (!statSync(file).isFile()) throw new NotRegularFileError(file);
  return readFileSync(file, 'utf8');
}

/** The asynchronous {@link readRegularFileSync}, as bytes. */
export async function readRegularFile(file: string): Promise<Buffer> {
  if (!(await stat(file)).isFile()) throw new NotRegularFileError(file);
  return readFile(file);
}

/** Names that mean "standard input": the one place a pipe is read on purpose. */
export const STDIN_NAMES: readonly string[] = ['-', '/dev/stdin'];

/**
 * A file's bytes, read only when it is a regular file ({@link readRegularFile}); `-` and
 * `/dev/stdin` read this process's standard input to its end, whatever it is (a pipe, a
 * socket, a file): a pipe there has a writer, the caller.
 */
export async function readRegularFileOrStdin(file: string): Promise<Buffer> {
  if (!STDIN_NAMES.includes(file)) return readRegularFile(file);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
