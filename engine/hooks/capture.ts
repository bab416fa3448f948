import { StringDecoder } from 'node:string_decoder';

/**
 * Keeps the last `maxBytes` bytes written to it (a stderr tail is what an admin needs),
 * and remembers whether anything was dropped.
 */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Total bytes seen, including dropped ones. */
  total = 0;
  truncated = false;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.maxBytes && this.chunks.length) {
      const excess = this.size - this.maxBytes;
      const first = this.chunks[0]!;
      this.truncated = true;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
    }
  }

  /** The bytes kept. */
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  toString(): string {
    const s = this.bytes().toString('utf8');
    // A cut in the middle of a multi-byte character decodes as U+FFFD: drop it.
    return this.truncated ? s.replace(/^\uFFFD+/, '') : s;
  }
}

/** Splits a byte stream into text lines (without the newline); over-long lines are cut into pieces. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLineLength = 8192,
  ) {}

  push(chunk: Buffer): void {
    this.pending += this.decoder.write(chunk);
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      this.emit(this.pending.slice(0, nl).replace(/\r$/, ''));
      this.pending = this.pending.slice(nl + 1);
    }
    while (this.pending.length > this.maxLineLength) {
      this.emit(this.pending.slice(0, this.maxLineLength));
      this.pending = this.pending.slice(this.maxLineLength);
    }
  }

  /** Emits the last, unterminated line. */
  end(): void {
    this.pending += this.decoder.end();
    if (this.pending !== '') this.emit(this.pending);
    this.pending = '';
  }

  private emit(line: string): void {
    this.onLine(line);
  }
}

/**
 * What of a stream goes to the log, with memory and log size bounded however much a
 * program prints: the first `headBytes` (and at most `maxLines` lines), line by line as
 * they arrive; after that only the last `tailBytes` are held, and at the end their last
 * `maxLines` lines are passed on, after `onDropped` is told how many bytes were left out
 * between the two (when any were). A line cut by the head's limit is passed on as far as
 * it goes; one cut by the tail's is left out.
 */
export class HeadTailLines {
  private readonly lines: LineSplitter;
  private readonly tail: TailBuffer;
  private seen = 0;
  /** Bytes passed on from the start of the stream; the head ends when it reaches headBytes or maxLines lines. */
  private headSize = 0;
  private headLines = 0;
  private headOpen = true;

  constructor(
    onLine: (line: string) => void,
    private readonly onDropped: (bytes: number) => void,
    private readonly headBytes: number,
    tailBytes: number,
    private readonly maxLines = Infinity,
  ) {
    this.lines = new LineSplitter(onLine);
    this.tail = new TailBuffer(tailBytes);
  }

  push(chunk: Buffer): void {
    this.seen += chunk.length;
    let room = 0;
    if (this.headOpen) {
      room = Math.min(chunk.length, this.headBytes - this.headSize);
      if (this.maxLines !== Infinity) {
        // Stop after the maxLines-th newline.
        for (let at = chunk.indexOf(0x0a); at >= 0 && at < room; at = chunk.indexOf(0x0a, at + 1)) {
          if (++this.headLines === this.maxLines) room = at + 1;
        }
      }
      this.headSize += room;
      if (room > 0) this.lines.push(room === chunk.length ? chunk : chunk.subarray(0, room));
      if (room < chunk.length || this.headLines >= this.maxLines) this.headOpen = false;
    }
    if (room < chunk.length) this.tail.push(room > 0 ? chunk.subarray(room) : chunk);
  }

  /** Passes on the tail (after the dropped-bytes notice, if anything was dropped) and the last, unterminated line. */
  end(): void {
    let rest = this.tail.bytes();
    let from = 0;
    if (this.tail.truncated) {
      // The tail starts in the middle of a line: leave that piece out too.
      const nl = rest.indexOf(0x0a);
      if (nl >= 0 && nl < rest.length - 1) from = nl + 1;
    }
    // At most maxLines lines: `count` is the number of lines after the newline at `at`.
    let count = rest.length && rest[rest.length - 1] !== 0x0a ? 1 : 0;
    for (let at = rest.lastIndexOf(0x0a); at >= from; at = at > 0 ? rest.lastIndexOf(0x0a, at - 1) : -1) {
      if (count === this.maxLines) {
        from = at + 1;
        break;
      }
      count++;
    }
    rest = rest.subarray(from);
    const dropped = this.seen - this.headSize - rest.length;
    if (dropped > 0) {
      this.lines.end();
      this.onDropped(dropped);
    }
    if (rest.length) this.lines.push(rest);
    this.lines.end();
  }
}
