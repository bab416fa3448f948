import { performance } from 'node:perf_hooks';
import { DomforgeError, TransformError } from '../../errors.js';
import type { SandboxedTransform } from '../sandbox/sandboxed-transform.js';
import type { ProvingSample } from '../sandbox/protocol.js';
import type { TransformParams } from '../types.js';

/** DOMAIN_INVALID: a sample's output is valid libvirt XML but not the reviewed expected output. */
export class ExpectedOutputMismatchError extends DomforgeError {
  constructor(message: string, o: { file?: string; path: string; sample: string }) {
    super('DOMAIN_INVALID', `sample ${o.sample}: the output differs from the expected XML at ${o.path}: ${message}`, { file: o.file, path: o.path });
  }
}

export interface SampleOutcome {
  sample: string;
  file: string;
  ok: boolean;
  durationMs: number;
  /** Why the sample failed (render, validation or comparison). */
  error?: DomforgeError;
}

export interface ProofReport {
  ok: boolean;
  hash: string;
  /** One entry per sample, in the proving set's order (samples not run after the first failure are left out). */
  samples: SampleOutcome[];
  /** The first sample that failed. */
  failure?: SampleOutcome;
  durationMs: number;
}

/**
 * Renders every sample with a transform in the sandbox, validates each output against
 * libvirt's schema and compares it with the expected XML where one is given. Samples run in
 * parallel across the pool; after the first failure the samples not yet started are dropped.
 * `signal` drops them too (the report then lists only the samples that had finished).
 */
export async function proveTransform(t: SandboxedTransform, samples: readonly ProvingSample[], params: TransformParams = {}, signal?: AbortSignal): Promise<ProofReport> {
  const t0 = performance.now();
  const stop = new AbortController();
  // A caller's abort drops every sample not yet finished, as a failure does.
  if (signal?.aborted) stop.abort(signal.reason);
  else signal?.addEventListener('abort', () => stop.abort(signal.reason), { once: true });
  const outcomes = await Promise.all(
    samples.map(async (s): Promise<SampleOutcome | undefined> => {
      const start = performance.now();
      try {
        const r = await t.prove(s, params, stop.signal);
        if (r.difference) {
          const error = new ExpectedOutputMismatchError(r.difference.message, { file: s.expectedFile, path: r.difference.path, sample: s.name });
          stop.abort();
          return { sample: s.name, file: s.file, ok: false, durationMs: performance.now() - start, error };
        }
        return { sample: s.name, file: s.file, ok: true, durationMs: performance.now() - start };
      } catch (e) {
        if (stop.signal.aborted && e instanceof TransformError && e.cause === stop.signal.reason) return undefined;
        stop.abort();
        const error = e instanceof DomforgeError ? e : new TransformError('TRANSFORM_RUNTIME', String((e as Error)?.message ?? e), { file: t.file, cause: e });
        return { sample: s.name, file: s.file, ok: false, durationMs: performance.now() - start, error };
      }
    }),
  );
  const ran = outcomes.filter((o): o is SampleOutcome => o !== undefined);
  const failure = ran.find((o) => !o.ok);
  return { ok: !failure, hash: t.hash, samples: ran, failure, durationMs: performance.now() - t0 };
}
