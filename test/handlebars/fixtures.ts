/** Shared bits of the Handlebars tests: paths, inputs, and rendering through the real pipeline. */
import { readFileSync, readdirSync, existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { renderText, type Rendered } from '../../engine/render/render.js';
import { loadTransform } from '../../engine/transform/load.js';
import type { CompiledTransform } from '../../engine/transform/types.js';
import { parseInstance } from '../../engine/instance/parse.js';
import { emitInstance } from '../../engine/instance/emit.js';
import type { Instance } from '../../engine/instance/model.js';
import { DomforgeError } from '../../engine/errors.js';

/** The repository root, from the compiled test in dist/test/handlebars. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const XSL = join(ROOT, 'transforms', 'libvirt.xsl');
export const HBS = join(ROOT, 'transforms', 'libvirt.xml.hbs');
import { EUCA_INPUTS_DIR } from '../fixtures/reference.js';
export const EUCA_INPUTS = EUCA_INPUTS_DIR;

/** Every instance.xml under samples/ (a new sample is covered without new test code). */
export function sampleFiles(): string[] {
  const dir = join(ROOT, 'samples');
  return readdirSync(dir)
    .map((d) => join(dir, d, 'instance.xml'))
    .filter((f) => existsSync(f));
}

/** The Eucalyptus reference inputs (instances and hot-plug stubs), when present on this machine. */
export function eucaInputFiles(): string[] {
  if (!existsSync(EUCA_INPUTS)) return [];
  return readdirSync(EUCA_INPUTS)
    .filter((f) => f.endsWith('.xml'))
    .sort()
    .map((f) => join(EUCA_INPUTS, f));
}

export function read(file: string): string {
  return readFileSync(file, 'utf8');
}

/** A base instance to vary: sample 01 (KVM, virtio disks and NIC). */
export function baseInstance(): Instance {
  return parseInstance(read(join(ROOT, 'samples', '01-linux-virtio', 'instance.xml')));
}

/** An instance.xml made from the base instance changed by `edit`. */
export function variant(edit: (i: Instance) => void): string {
  const i = baseInstance();
  edit(i);
  return emitInstance(i);
}

let xsl: Promise<CompiledTransform> | undefined;
let hbs: Promise<CompiledTransform> | undefined;
export const xslTransform = () => (xsl ??= loadTransform(XSL));
export const hbsTransform = () => (hbs ??= loadTransform(HBS));

export type Outcome = { ok: true; rendered: Rendered } | { ok: false; error: DomforgeError };

/** Renders through the whole pipeline: strict parse of the output, then (unless `validate` is false) schema and semantic validation. */
export async function outcome(text: string, transform: CompiledTransform, params: Record<string, string> = {}, validate = true): Promise<Outcome> {
  try {
    return { ok: true, rendered: await renderText(text, { transform, params, file: 'input.xml', validate }) };
  } catch (e) {
    if (e instanceof DomforgeError) return { ok: false, error: e };
    throw e;
  }
}

const tmpFolders: string[] = [];
let removeAtExit = false;

/** A fresh temporary folder, removed when the test process exits (each test file runs in its own). */
export function tmpFolder(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tmpFolders.push(dir);
  if (!removeAtExit) {
    removeAtExit = true;
    process.on('exit', () => {
      for (const d of tmpFolders) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}

/** Writes a template (and partials under partials/) into a fresh temporary folder; returns the template's path. */
export function tmpTemplate(main: string, partials: Record<string, string> = {}, name = 'domain.xml.hbs'): string {
  const dir = tmpFolder('domforge-hbs-');
  writeFileSync(join(dir, name), main);
  for (const [p, text] of Object.entries(partials)) {
    const f = join(dir, 'partials', p);
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, text);
  }
  return join(dir, name);
}
