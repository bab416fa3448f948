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
  const samples: ProvingSample[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    const st = await stat(path).catch(() => undefined);
    if (st?.isDirectory()) {
      for (const input of FOLDER_INPUTS) {
        const file = join(path, input);
        const xml = await readOptional(file);
        if (xml === undefined) continue;
        samples.push(await withExpected({ name, file, xml }, join(path, 'libvirt.xml')));
        break;
      }
    } else if (st?.isFile() && name.endsWith('.xml') && !EXPECTED_SUFFIXES.some((s) => name.endsWith(s))) {
      const base = basename(name, '.xml');
      let sample: ProvingSample = { name: base, file: path, xml: await readFile(path, 'utf8') };
      for (const suffix of EXPECTED_SUFFIXES) {
        sample = await withExpected(sample, join(dir, base + suffix));
        if (sample.expected !== undefined) break;
      }
      samples.push(sample);
    }
  }
  return samples;
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
