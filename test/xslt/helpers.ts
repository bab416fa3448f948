import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const PROBES = '/work/shared/reference/xslt-probes';
export const EUCA_INPUTS = '/work/shared/reference/euca-inputs';
export const DEFAULT_XSL = ROOT + 'transforms/libvirt.xsl';

/** `false` when xsltproc is installed, else the reason to skip. */
export function skipWithoutXsltproc(): string | false {
  return spawnSync('xsltproc', ['--version'], { stdio: 'ignore' }).status === 0 ? false : 'xsltproc is not installed';
}
