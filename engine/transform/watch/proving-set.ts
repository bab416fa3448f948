import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { IoError } from '../../errors.js';
import type { ProvingSample } from '../sandbox/protocol.js';

/** Names of the expected output next to an input, in the order they are looked for. */
const EXPECTED_SUFFIXES = ['.libvirt.xml', '.expected.xml'];
/** Input file names inside a sample folder. */
const FOLDER_INPUTS = ['instance.xml', 'nic.xml', 'volume.xml'];

/**
 * Reads a proving set: every instance a new transform version must render before it goes
 * live. Two layouts, mixable in one folder:
 *
 * - a folder per sample, as in `samples/`: `NAME/instance.xml` (or `nic.xml`, `volume.xml`)
 *   with an optional `NAME/libvirt.xml`, the reviewed expected output;
 * - flat files: `NAME.xml` with an optional `NAME.libvirt.xml` (or `NAME.expected.xml`).
 *
 * Samples come back sorted by name.
 */
export async function loadProvingSet(dir: string): Promise<ProvingSample[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (e) {
    throw new IoError(`cannot read the proving set: ${(e as Error).message}`, { file: dir, cause: e });
  }
  // Read in parallel: one sample after another costs a check ~40 file-system round trips.
  const read = await Promise.all(names.map((name) => (name.startsWith('.') ? undefined : readSample(dir, name))));
  return read.filter((s): s is ProvingSample => s !== undefined);
}

/** One entry of the proving-set folder as a sample, or undefined when it is not one. */
async function readSample(dir: string, name: string): Promise<ProvingSample | undefined> {
  const path = join(dir, name);
  const st = await stat(path).catch(() => undefined);
  if (st?.isDirectory()) {
    const found = await Promise.all(FOLDER_INPUTS.map((input) => readOptional(join(path, input))));
    const i = found.findIndex((xml) => xml !== undefined);
    if (i < 0) return undefined;
    return withExpected({ name, file: join(path, FOLDER_INPUTS[i]!), xml: found[i]! }, join(path, 'libvirt.xml'));
  }
  if (!st?.isFile() || !name.endsWith('.xml') || EXPECTED_SUFFIXES.some((s) => name.endsWith(s))) return undefined;
  const base = basename(name, '.xml');
  const [xml, ...expected] = await Promise.all([readFile(path, 'utf8'), ...EXPECTED_SUFFIXES.map((s) => readOptional(join(dir, base + s)))]);
  const i = expected.findIndex((x) => x !== undefined);
  return i < 0 ? { name: base, file: path, xml } : { name: base, file: path, xml, expected: expected[i], expectedFile: join(dir, base + EXPECTED_SUFFIXES[i]!) };
}

async function withExpected(sample: ProvingSample, expectedFile: string): Promise<ProvingSample> {
  const expected = await readOptional(expectedFile);
  return expected === undefined ? sample : { ...sample, expected, expectedFile };
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw new IoError(`cannot read ${file}: ${(e as Error).message}`, { file, cause: e });
  }
}
