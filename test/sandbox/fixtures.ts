import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test/...). */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const DEFAULT_XSL = join(REPO, 'transforms', 'libvirt.xsl');
import { EUCA_INPUTS_DIR } from '../fixtures/reference.js';
export const EUCA_INPUTS = EUCA_INPUTS_DIR;
/** The euca-inputs that render with the default transform (09 terminates by design). */
export const PROVING_INPUTS = ['01-linux-kvm-virtio.xml', '02-linux-kvm-legacy-scsi-ide.xml', '03-windows-kvm.xml', '04-linux-kvm-ebs-volumes.xml', '05-linux-kvm-kernel-ramdisk.xml', '06-linux-qemu-kernel-rootdirective-2nics.xml', '07-volume-attach-kvm-virtio.xml', '08-nic-eni-attach.xml', '10-synthetic-special-chars.xml'];
export const TERMINATING_INPUT = join(EUCA_INPUTS, '09-neg-xen-terminate.xml');

export const readInput = (name: string) => readFile(join(EUCA_INPUTS, name), 'utf8');

/** A stylesheet around a body placed in `<xsl:template match="/">` (plus extra top-level XSLT). */
export function sheet(body: string, topLevel = ''): string {
  return `<?xml version="1.0"?>\n<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">\n${topLevel}\n  <xsl:template match="/">${body}</xsl:template>\n</xsl:stylesheet>\n`;
}

/** A self-recursive named template: never ends (xslt-processor alone fills a 4 GB heap with it). */
export const RECURSIVE = sheet(
  '<domain type="kvm"><xsl:call-template name="loop"/></domain>',
  '<xsl:template name="loop"><xsl:param name="n" select="0"/><x><xsl:call-template name="loop"><xsl:with-param name="n" select="$n + 1"/></xsl:call-template></x></xsl:template>',
);
/**
 * Four nested for-each over every node: about 10^9 iterations on an instance. It writes
 * nothing, so it runs into the time limit rather than the heap limit, whatever the engine's speed.
 */
export const RUNAWAY_FOR_EACH = sheet('<domain type="kvm"><xsl:for-each select="//node()"><xsl:for-each select="//node()"><xsl:for-each select="//node()"><xsl:for-each select="//node()"><xsl:if test="false()"><a/></xsl:if></xsl:for-each></xsl:for-each></xsl:for-each></xsl:for-each></domain>');
/** A string that doubles at every call: fills any heap in a few dozen steps. */
export const ALLOCATION_BOMB = sheet(
  '<domain type="kvm"><xsl:call-template name="grow"/></domain>',
  `<xsl:template name="grow"><xsl:param name="s" select="'xxxxxxxxxxxxxxxx'"/><xsl:call-template name="grow"><xsl:with-param name="s" select="concat($s, $s)"/></xsl:call-template></xsl:template>`,
);

export interface TempDir {
  dir: string;
  write(rel: string, text: string): Promise<string>;
  cleanup(): Promise<void>;
}

export async function tempDir(prefix = 'domforge-sandbox-'): Promise<TempDir> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return {
    dir,
    async write(rel, text) {
      const path = join(dir, rel);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, text);
      return path;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Copies the proving inputs (flat layout) into `dir`. */
export async function copyProvingSet(dir: string, names: readonly string[] = PROVING_INPUTS): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const n of names) await copyFile(join(EUCA_INPUTS, n), join(dir, n));
}

export async function listXml(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.xml')).sort();
}
