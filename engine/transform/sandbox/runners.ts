import { fork, type ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerConfig } from './protocol.js';

const WORKER_URL = new URL('./worker.js', import.meta.url);

/**
 * Where sandboxed transforms run:
 * - `process`: a child Node process per worker (`--max-old-space-size`). A heap overflow,
 *   however it happens, ends that process only.
 * - `thread`: a worker thread per worker (`resourceLimits`). Cheaper to start, but a single
 *   large allocation past the limit aborts the whole process (nodejs/node#47224; Node's
 *   documentation: "the process may still abort if it encounters a global out-of-memory
 *   situation"), which a string-doubling template triggers about half of the time.
 */
export type SandboxIsolation = 'process' | 'thread';

/** How a runner ended, as the pool needs to know it. */
export interface RunnerEnd {
  /** The heap limit was reached. */
  outOfMemory: boolean;
  /** A short description (`exit code 1`, `signal SIGKILL`, an error message). */
  reason: string;
}

/** One worker, whatever hosts it. */
export interface Runner {
  post(m: ToWorker): void;
  terminate(): void;
  ref(): void;
  unref(): void;
}

export interface RunnerHandlers {
  message(m: FromWorker): void;
  /** Called once when the runner is gone. */
  end(e: RunnerEnd): void;
}

/**
 * Semi-space of each worker's young generation, in MB. V8 sizes the young generation from
 * the old generation's limit, which gives a 256 MB worker a 1–2 MB nursery: parsing and
 * validating a few instances then spends more time in scavenges than in the work (measured:
 * a third of a proof). 16 MB is V8's own default for a large heap; it adds at most 48 MB
 * (three semi-spaces) per worker and does not change the old-generation limit.
 */
const SEMI_SPACE_MB = 16;

export function startRunner(isolation: SandboxIsolation, config: WorkerConfig, maxHeapMb: number, on: RunnerHandlers): Runner {
  return isolation === 'thread' ? startThread(config, maxHeapMb, on) : startProcess(config, maxHeapMb, on);
}

function startThread(config: WorkerConfig, maxHeapMb: number, on: RunnerHandlers): Runner {
  const worker = new Worker(WORKER_URL, {
    workerData: config,
    resourceLimits: { maxOldGenerationSizeMb: maxHeapMb, maxYoungGenerationSizeMb: 3 * SEMI_SPACE_MB },
    stdout: true, // an engine's console output must not reach the controller's stdout
    stderr: true,
  });
  worker.stdout.resume();
  worker.stderr.resume();
  let ended = false;
  const end = (e: RunnerEnd) => {
    if (ended) return;
    ended = true;
    on.end(e);
  };
  worker.on('message', (m: FromWorker) => on.message(m));
  worker.on('error', (e: Error & { code?: string }) => end({ outOfMemory: e.code === 'ERR_WORKER_OUT_OF_MEMORY', reason: e.message }));
  worker.on('exit', (code) => end({ outOfMemory: false, reason: `exit code ${code}` }));
  return {
    post: (m) => worker.postMessage(m),
    terminate: () => void worker.terminate(),
    ref: () => worker.ref(),
    unref: () => worker.unref(),
  };
}

function startProcess(config: WorkerConfig, maxHeapMb: number, on: RunnerHandlers): Runner {
  const child: ChildProcess = fork(WORKER_URL, [JSON.stringify(config)], {
    execArgv: [`--max-old-space-size=${maxHeapMb}`, `--max-semi-space-size=${SEMI_SPACE_MB}`],
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderrTail = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderrTail = (stderrTail + d.toString('utf8')).slice(-4096);
  });
  let ended = false;
  const end = (e: RunnerEnd) => {
    if (ended) return;
    ended = true;
    on.end(e);
  };
  child.on('message', (m) => on.message(m as FromWorker));
  child.on('error', (e) => end({ outOfMemory: false, reason: e.message }));
  child.on('exit', (code, signal) => {
    // V8 prints "FATAL ERROR: ... JavaScript heap out of memory" and aborts.
    const oom = /heap out of memory|Reached heap limit|Allocation failed/i.test(stderrTail);
    end({ outOfMemory: oom, reason: signal ? `signal ${signal}` : `exit code ${code}` });
  });
  const channel = () => (child as unknown as { channel?: { ref(): void; unref(): void } }).channel;
  return {
    post: (m) => void child.send(m),
    terminate: () => void child.kill('SIGKILL'),
    ref: () => {
      child.ref();
      channel()?.ref();
    },
    unref: () => {
      child.unref();
      channel()?.unref();
      (child.stderr as unknown as { unref?(): void })?.unref?.();
    },
  };
}
