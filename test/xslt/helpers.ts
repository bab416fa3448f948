import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
import { PROBES_DIR, EUCA_INPUTS_DIR } from '../fixtures/reference.js';
export const PROBES = PROBES_DIR;
export const EUCA_INPUTS = EUCA_INPUTS_DIR;
export const DEFAULT_XSL = ROOT + 'transforms/libvirt.xsl';

/** `false` when xsltproc is installed, else the reason to skip. */
export function skipWithoutXsltproc(): string | false {
  return spawnSync('xsltproc', ['--version'], { stdio: 'ignore' }).status === 0 ? false : 'xsltproc is not installed';
}
