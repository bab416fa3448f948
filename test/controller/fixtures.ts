import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readInstanceFile, type Instance } from '../../engine/instance/index.js';
import { compileXslt } from '../../engine/transform/xslt/compile.js';
import type { CompiledTransform } from '../../engine/transform/types.js';
import type { NodeController, OperationError } from '../../engine/controller/index.js';
import { CONTROLLER_LOG } from '../../engine/controller/layout.js';
import type { DomforgeError } from '../../engine/errors.js';

export const ROOT = new URL('../../../', import.meta.url).pathname;
export const SAMPLES = join(ROOT, 'samples');
export const XSL = join(ROOT, 'transforms', 'libvirt.xsl');

let compiled: CompiledTransform | undefined;
/** The shipped stylesheet, compiled once per test file. */
export function shippedTransform(): CompiledTransform {
  return (compiled ??= compileXslt(XSL));
}

export async function sampleNames(): Promise<string[]> {
  return (await readdir(SAMPLES, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
}

let counter = 0;
/** A sample's instance under a fresh id and uuid, so tests never collide on the shared test:///default. */
export async function sampleInstance(sample = '01-linux-virtio', id?: string): Promise<Instance> {
  const inst = await readInstanceFile(join(SAMPLES, sample, 'instance.xml'));
  const name = id ?? `i-${process.pid.toString(16)}${(counter++).toString(16).padStart(4, '0')}`;
  return { ...inst, name, uuid: randomUUID() };
}

/** A temp folder with `instances/` and `hooks/filters.d/`. */
export interface Sandbox {
  root: string;
  instances: string;
  hooks: string;
  filters: string;
  /** Writes an executable `#!/bin/sh` script. */
  script(dir: string, name: string, body: string): Promise<string>;
  cleanup(): Promise<void>;
}

export async function sandbox(): Promise<Sandbox> {
  const root = await mkdtemp(join(tmpdir(), 'domforge-nc-'));
  const instances = join(root, 'instances');
  const hooks = join(root, 'hooks');
  const filters = join(hooks, 'filters.d');
  await mkdir(filters, { recursive: true });
  return {
    root,
    instances,
    hooks,
    filters,
    async script(dir, name, body) {
      const path = join(dir, name);
      await writeFile(path, `#!/bin/sh\n${body}\n`);
      await chmod(path, 0o755);
      return path;
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** Node processes whose parent is this process (a controller's sandbox workers). */
export function childNodes(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' }).trim();
  return out ? out.split('\n').filter((l) => /node/.test(l)).map((l) => Number(l.trim().split(/\s+/)[0])) : [];
}

/**
 * A sample's instance.xml as a file of its own in `dir` (`NAME.xml`), under a fresh id
 * (`i-PID` + `name`; its NIC's tap `vn_` and the id's last 12 characters) and uuid, then
 * edited by `edit`: for tests that need the file's lines.
 */
export function sampleFileUnderFreshId(dir: string, sample: string, name: string, edit: (text: string) => string = (t) => t): { file: string; text: string; id: string } {
  const id = `i-${process.pid.toString(16)}${name}`;
  const original = readFileSync(join(SAMPLES, sample, 'instance.xml'), 'utf8');
  const sampleId = /<name>([^<]*)<\/name>/.exec(original)![1]!;
  // The tap name Eucalyptus makes of the id (vn_ID) kept to the 15 bytes Linux takes.
  const fresh = original.replaceAll(`"vn_${sampleId}"`, `"vn_${id.slice(-12)}"`).replaceAll(sampleId, id);
  const text = edit(fresh.replace(/<uuid>[^<]*<\/uuid>/, `<uuid>${randomUUID()}</uuid>`));
  const file = join(dir, `${name}.xml`);
  writeFileSync(file, text);
  return { file, text, id };
}

/** The error a launch that must fail rejects with. */
export async function launchFailure(nc: NodeController, instance: Parameters<NodeController['launch']>[0]): Promise<OperationError> {
  return nc.launch(instance).then(
    () => assert.fail('launched'),
    (err: unknown) => err as OperationError,
  );
}

/**
 * The refusal behind an operation an XML filter failed by printing XML the checks refuse:
 * the operation failed at step `filters` with HOOK_FAILED, and the DOMAIN_INVALID behind it
 * names what the filter printed (`output of filters.d/NAME`) and `path`.
 */
export function filterRefusal(e: OperationError, filter: string, path: string): DomforgeError {
  assert.equal(e.step, 'filters', e.message);
  assert.equal(e.code, 'HOOK_FAILED', e.message);
  const why = (e.cause as DomforgeError).cause as DomforgeError;
  assert.deepEqual([why.code, why.file, why.path], ['DOMAIN_INVALID', `output of filters.d/${filter}`, path], why.message);
  return why;
}

/** What the instances folder holds, but the controller's own log (its start hooks' output, written when it opens with hooks). */
export function instancesFolderEntries(dir: string): string[] {
  return readdirSync(dir).filter((f) => f !== CONTROLLER_LOG);
}
