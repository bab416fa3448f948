import { readFileSync, statSync, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';

/** What a path that is not a regular file is, for messages: `a directory`, `a FIFO`, … */
export type NotRegularKind = 'a directory' | 'a FIFO' | 'a socket' | 'a character device' | 'a block device' | 'not a regular file';

/** A folder, FIFO, socket or device where a file's text is expected: reading it would fail, wait for a writer, or never end. */
export class NotRegularFileError extends Error {
  constructor(
    readonly file: string,
    /** What it is, when known (from its `stat`). */
    readonly kind: NotRegularKind = 'not a regular file',
  ) {
    super(kind === 'not a regular file' ? kind : `${kind}, not a regular file`);
    this.name = 'NotRegularFileError';
  }

  /** A directory cannot block a read; the rest can (a FIFO until a writer comes, a device forever). */
  get mayBlock(): boolean {
    return this.kind !== 'a directory';
  }
}

/** What `st` is, when it is not a regular file. */
export function notRegularKind(st: Pick<Stats, 'isDirectory' | 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice'>): NotRegularKind {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** A file's text, after a `stat` (following links) has shown it is a regular file. */
export function readRegularFileSync(file: string): string {
  const st = statSync(file);
  if (!st.isFile()) throw new NotRegularFileError(file, notRegularKind(st));
  return readFileSync(file, 'utf8');
}

/** The asynchronous {@link readRegularFileSync}, as bytes. */
export async function readRegularFile(file: string): Promise<Buffer> {
  const st = await stat(file);
  if (!st.isFile()) throw new NotRegularFileError(file, notRegularKind(st));
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
