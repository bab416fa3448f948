import { constants, readFileSync, statSync, type Stats } from 'node:fs';
import { lstat, open, readFile, stat } from 'node:fs/promises';

/** What a path that is not a regular file is, for messages: `a folder`, `a FIFO`, … */
export type NotRegularKind = 'a folder' | 'a FIFO' | 'a socket' | 'a character device' | 'a block device' | 'not a regular file';

/** A folder, FIFO, socket or device where a file's text is expected: reading it would fail, wait for a writer, or never end. */
export class NotRegularFileError extends Error {
  constructor(
    readonly file: string,
    /** What it is, when known (from its `stat`). */
    readonly kind: NotRegularKind = 'not a regular file',
  ) {
    super(notRegularText(kind));
    this.name = 'NotRegularFileError';
  }

  /** A folder cannot block a read; the rest can (a FIFO until a writer comes, a device forever). */
  get mayBlock(): boolean {
    return this.kind !== 'a folder';
  }
}

/** What `st` is, when it is not a regular file. */
export function notRegularKind(st: Pick<Stats, 'isDirectory' | 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice'>): NotRegularKind {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** What a message says of a path that is not a regular file: `a FIFO, not a regular file`. */
export function notRegularText(kind: NotRegularKind): string {
  return kind === 'not a regular file' ? kind : `${kind}, not a regular file`;
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

/**
 * A regular file's text (UTF-8), as {@link readRegularFile} reads it: the files of an instance
 * folder, which a hook or an admin may have replaced by a FIFO or a device, must not hang
 * a controller that reads them.
 */
export async function readRegularText(file: string): Promise<string> {
  return (await readRegularFile(file)).toString('utf8');
}

/** The last bytes of a file, and how long the file was when they were read. */
export interface FileTail {
  /** At most `maxBytes`: fewer when the file is shorter, or was cut short while being read. */
  bytes: Buffer;
  /** The file's size, by `fstat` of the handle the bytes were read through. */
  size: number;
  /** Where in the file `bytes` start: `size - bytes.length` unless the file shrank meanwhile. */
  start: number;
  /** The file's inode number (tells a file renamed away and replaced from the one read). */
  ino: number;
}

/**
 * The last `maxBytes` of a regular file, for logs that grow without bound (a guest's serial
 * console can be gigabytes): one `fstat` and positioned reads of the tail, never the whole file.
 *
 * `lstat` first refuses a folder, FIFO, socket, device or symbolic link without opening it
 * (opening a device can do something). The open then says `O_NOFOLLOW` and `O_NONBLOCK`, and
 * the handle's `fstat` is checked again, so a file swapped for a link or a FIFO between the two
 * is refused rather than followed or waited on. A link is refused as `not a regular file`:
 * the caller resolves links itself where it means to follow them (see realpath).
 */
export async function readRegularFileTail(file: string, maxBytes: number): Promise<FileTail> {
  const before = await lstat(file);
  if (!before.isFile()) throw new NotRegularFileError(file, notRegularKind(before));
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new NotRegularFileError(file, notRegularKind(st));
    const start = Math.max(0, st.size - maxBytes);
    const bytes = Buffer.alloc(st.size - start);
    let got = 0;
    while (got < bytes.length) {
      const { bytesRead } = await handle.read(bytes, got, bytes.length - got, start + got);
      if (bytesRead === 0) break; // cut short since the fstat (a log rotated by truncation)
      got += bytesRead;
    }
    return { bytes: bytes.subarray(0, got), size: st.size, start, ino: st.ino };
  } finally {
    await handle.close();
  }
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
