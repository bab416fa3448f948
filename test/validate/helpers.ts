/** Shared bits of the validation tests: fixture paths, the virt-xml-validate oracle, and libvirt's define as the other. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LibvirtConnection } from '../../engine/libvirt/index.js';

/** test/validate/fixtures, from the compiled test in dist/test/validate. */
export const FIXTURES = fileURLToPath(new URL('../../../test/validate/fixtures/', import.meta.url));

export function fixture(rel: string): string {
  return readFileSync(FIXTURES + rel, 'utf8');
}

/** libvirt's own verdict: `virt-xml-validate FILE domain` exits 0. */
export function oracleAccepts(path: string): boolean {
  const r = spawnSync('virt-xml-validate', [path, 'domain'], { encoding: 'utf8' });
  if (r.error) throw r.error;
  return r.status === 0;
}

/** The same for a fragment, wrapped as the only device of a minimal domain. */
export function oracleAcceptsFragment(xml: string): boolean {
  const body = xml.replace(/<\?xml[^>]*\?>/, '');
  const doc = `<domain type="kvm"><name>x</name><memory>1024</memory><os><type>hvm</type></os><devices>${body}</devices></domain>`;
  const r = spawnSync('virt-xml-validate', ['-', 'domain'], { input: doc, encoding: 'utf8' });
  if (r.error) throw r.error;
  return r.status === 0;
}

/** What libvirt's `define` says of `xml` on `c`: undefined when it takes the domain (it is undefined again). */
export async function defineError(c: LibvirtConnection, xml: string): Promise<string | undefined> {
  try {
    const ref = await c.define(xml);
    await c.undefine(ref.name);
    return undefined;
  } catch (e) {
    return String((e as Error).message);
  }
}
