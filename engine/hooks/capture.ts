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

  toString(): string {
    const s = Buffer.concat(this.chunks).toString('utf8');
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
