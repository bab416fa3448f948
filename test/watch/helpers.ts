import assert from 'node:assert/strict';
import type { TransformWatcher, WatchEvent } from '../../engine/transform/watch/index.js';

/** Records a watcher's events and waits for the next ones in order. */
export class EventLog {
  readonly events: WatchEvent[] = [];
  private cursor = 0;
  private wake?: () => void;

  push = (e: WatchEvent): void => {
    this.events.push(e);
    this.wake?.();
  };

  attach(w: TransformWatcher): void {
    w.onAny(this.push);
  }

  /** The next event after the last one returned (any type), within `ms`. */
  async next(ms = 30_000): Promise<WatchEvent> {
    const deadline = Date.now() + ms;
    while (this.cursor >= this.events.length) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no watcher event within ${ms} ms (seen: ${this.events.map((e) => e.type).join(', ')})`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
    return this.events[this.cursor++]!;
  }

  /** The next event, which must be of type `type` (the whole event is shown when it is not). */
  async expect<T extends WatchEvent['type']>(type: T, ms?: number): Promise<Extract<WatchEvent, { type: T }>> {
    const e = await this.next(ms);
    assert.equal(e.type, type, JSON.stringify(e));
    return e as Extract<WatchEvent, { type: T }>;
  }

  /** Skips to the end: later `next()` calls see only new events. */
  drain(): WatchEvent[] {
    const rest = this.events.slice(this.cursor);
    this.cursor = this.events.length;
    return rest;
  }
}

/** 1-based line of the first occurrence of `needle` in `text`. */
export function lineOf(text: string, needle: string): number {
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`not found: ${needle}`);
  return text.slice(0, i).split('\n').length;
}
