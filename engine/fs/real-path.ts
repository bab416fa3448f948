import { realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * A path's realpath; for one that does not exist (yet), the realpath of its nearest existing
 * folder joined with the rest: where it is, or will be once made, symbolic links above it
 * followed. A missing file under a link out of a transforms folder is so named where it would
 * be (transform/links-out.ts), and an instances folder a launch has not made yet has the host
 * lock scope it will have (controller/options.ts).
 */
export function safeRealpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    const up = dirname(p);
    return up === p ? p : join(safeRealpath(up), basename(p));
  }
}
