import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DEFAULT_XSL = join(ROOT, 'transforms', 'libvirt.xsl');

/** The shared reference folder: $DOMFORGE_SHARED, else `<repo>/../shared`, else /work/shared. */
export const SHARED = [process.env.DOMFORGE_SHARED, join(ROOT, '..', 'shared'), '/work/shared'].find((d): d is string => !!d && existsSync(join(d, 'reference')));
export const PROBES = SHARED && join(SHARED, 'reference', 'xslt-probes');
export const EUCA_INPUTS = SHARED && join(SHARED, 'reference', 'euca-inputs');

/** `false` when xsltproc and the shared fixtures are present, else the reason to skip. */
export function skipReason(needShared = true): string | false {
  if (spawnSync('xsltproc', ['--version'], { stdio: 'ignore' }).status !== 0) return 'xsltproc is not installed';
  if (needShared && !SHARED) return 'the shared reference folder is not present (set DOMFORGE_SHARED)';
  return false;
}

/** xsltproc's output and whether it failed, for a stylesheet file and an input file. */
export function xsltproc(style: string, input: string, params: string[] = []): { ok: boolean; stdout: string; stderr: string } {
  const r = spawnSync('xsltproc', ['--nonet', ...params, style, input], { encoding: 'utf8' });
  return { ok: r.status === 0 && !/^(compilation|runtime) error/m.test(r.stderr), stdout: r.stdout, stderr: r.stderr };
}
