import type { TransformVersion } from './version-log.js';

/** A new version passed every sample and is now the one renders use. */
export interface ActivatedEvent {
  type: 'activated';
  hash: string;
  /** The version it replaced (absent for the first). */
  previousHash?: string;
  /** The main transform file (in the transforms folder). */
  file: string;
  /** Every file the transform is made of. */
  files: string[];
  samples: number;
  /** Milliseconds from the start of the check (after the write settled) to the swap. */
  durationMs: number;
  /** Milliseconds from the last file-system event to the swap (includes the debounce). */
  sinceChangeMs?: number;
  /** Re-activated at start from the version log because the files on disk failed. */
  restored?: boolean;
  /**
   * The proof ran on the compiled engine while the differential guard was still running,
   * and the guard's verdict (the compiled engine) kept it. Absent when the proof ran after
   * the verdict: no guard (Handlebars, a fixed engine), or a version pinned to libxslt.
   */
  speculativeProof?: boolean;
  version: TransformVersion;
  at: string;
}

/** A new version failed; the last good one stays active. */
export interface RejectedEvent {
  type: 'rejected';
  /** The rejected version's hash, when it compiled. */
  hash?: string;
  /** The hash still active (absent when nothing has passed yet). */
  activeHash?: string;
  /** Stable error code (`TRANSFORM_SYNTAX`, `DOMAIN_INVALID`, `TRANSFORM_TIMEOUT`, ...). */
  code: string;
  /** The file at fault: a transform file, an include or partial, or a sample's expected XML. */
  file?: string;
  line?: number;
  column?: number;
  /** XML path, for a schema or comparison failure. */
  path?: string;
  /** The sample that failed, when a render or its validation did. */
  sample?: string;
  sampleFile?: string;
  /** The error's full message (`file:line:col: ...`). */
  message: string;
  durationMs: number;
  sinceChangeMs?: number;
  at: string;
}

/** The watcher itself had a problem (folder unreadable, version log not writable). */
export interface WatchErrorEvent {
  type: 'error';
  code: string;
  message: string;
  file?: string;
  at: string;
}

export interface WatchEvents {
  activated: ActivatedEvent;
  rejected: RejectedEvent;
  error: WatchErrorEvent;
}

export type WatchEvent = WatchEvents[keyof WatchEvents];
export type WatchListener<K extends keyof WatchEvents> = (event: WatchEvents[K]) => void;

/**
 * A small typed event hub: `on()` returns its own unsubscribe function, `onAny()` hears
 * every event. A listener that throws does not stop the others or the watcher.
 */
export class WatchEventHub {
  private readonly listeners = new Map<keyof WatchEvents | '*', Set<(e: WatchEvent) => void>>();

  on<K extends keyof WatchEvents>(name: K, fn: WatchListener<K>): () => void {
    return this.add(name, fn as (e: WatchEvent) => void);
  }

  onAny(fn: (e: WatchEvent) => void): () => void {
    return this.add('*', fn);
  }

  emit(event: WatchEvent): void {
    for (const name of [event.type, '*'] as const) {
      for (const fn of [...(this.listeners.get(name) ?? [])]) {
        try {
          fn(event);
        } catch {
          // A listener's failure is its own.
        }
      }
    }
  }

  private add(name: keyof WatchEvents | '*', fn: (e: WatchEvent) => void): () => void {
    const set = this.listeners.get(name) ?? new Set();
    this.listeners.set(name, set);
    set.add(fn);
    return () => void set.delete(fn);
  }
}
