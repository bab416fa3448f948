import { setFlagsFromString } from 'node:v8';

/**
 * Holds V8's young generation at its starting size for the whole process, the controller's
 * default (`NodeControllerOptions.holdYoungGeneration`).
 *
 * Under a launch loop's allocation rate V8 doubles the young generation's two semi-spaces
 * from 1 MiB up to its default cap of 16 MiB each, and keeps them: 30 MiB more resident
 * memory, a fifth of a controller's. Node's `--max-semi-space-size` would cap it, but it is
 * read once, when the heap is set up, so only the process's own command line can give it.
 * V8 reads `--semi-space-growth-factor` each time it grows the young generation instead, so
 * setting it to 1 at run time keeps the semi-spaces where they are. A flag set after start
 * is process-wide and cannot be read back: the process's own young-generation flags win,
 * and then it is left alone.
 */

/** V8 flags that size the young generation, as the process may give them (V8 takes `-` and `_` alike). */
const YOUNG_GENERATION_FLAG = /(?:^|\s)--(?:max|min)[-_]semi[-_]space[-_]size\b|(?:^|\s)--semi[-_]space[-_]growth[-_]factor\b/;

/** What `holdYoungGeneration` did. */
export type YoungGenerationHold = 'held' | 'process-sets-it';

let held = false;

/**
 * Sets `--semi-space-growth-factor=1` once per process, unless the process's command line
 * (`execArgv`) or `NODE_OPTIONS` sizes the young generation itself.
 */
export function holdYoungGeneration(execArgv: readonly string[] = process.execArgv, nodeOptions: string | undefined = process.env.NODE_OPTIONS): YoungGenerationHold {
  if (held) return 'held';
  if ([...execArgv, nodeOptions ?? ''].some((a) => YOUNG_GENERATION_FLAG.test(a))) return 'process-sets-it';
  setFlagsFromString('--semi-space-growth-factor=1');
  held = true;
  return 'held';
}
