import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseXml } from '../../xml/parse.js';
import { spawnEngineChild, useScratchDir } from './children.js';
import { xsltprocParamArgs } from './libxslt-engine.js';
import { diffXml, type XmlDifference } from '../../xml/compare.js';
import type { EngineCaveat } from './static-checks.js';
import type { XsltEngine, XsltEngineName } from './engine.js';
import type { RenderResult, TransformInput, TransformParams } from '../types.js';

/** What to do when the two engines disagree on the proving set: use libxslt, or refuse the stylesheet. */
export type DivergencePolicy = 'pin' | 'refuse';

export interface GuardDifference {
  /** The proving input on which the engines differ. */
  input: string;
  /** First differing path (`/domain/devices/disk[2]/boot`), or `/` when one engine failed. */
  path: string;
  message: string;
}

/** The differential guard's verdict on a stylesheet. */
export interface GuardReport {
  /** The engine launches use. */
  engine: XsltEngineName;
  /** True when the stylesheet was moved to libxslt (a caveat or a difference). */
  pinned: boolean;
  /** Constructs found at compile time that xslt-processor does not run exactly (empty when the compiled engine is the candidate). */
  caveats: EngineCaveat[];
  /** The first difference found on the proving set. */
  difference?: GuardDifference;
  /** True when xsltproc is not installed: the in-process engine runs without a check. */
  unguarded: boolean;
  /** Inputs rendered by both engines. */
  compared: number;
  /** Wall time of the guard, in milliseconds. */
  ms: number;
  /** One line for an admin. */
  summary: string;
}

let xsltprocPresent: boolean | undefined;

/** Whether `xsltproc` can be run (checked once per process). */
export function hasXsltproc(binary = 'xsltproc'): boolean {
  if (binary !== 'xsltproc') return spawnSync(binary, ['--version'], { stdio: 'ignore' }).status === 0;
  xsltprocPresent ??= spawnSync('xsltproc', ['--version'], { stdio: 'ignore' }).status === 0;
  return xsltprocPresent;
}

type Outcome = { ok: true; result: RenderResult } | { ok: false; error: Error & { code?: string } };

async function attempt(engine: XsltEngine, input: TransformInput, params: TransformParams): Promise<Outcome> {
  try {
    return { ok: true, result: await engine.render(input.xml, params, input.file) };
  } catch (e) {
    return { ok: false, error: e as Error };
  }
}

/** xsltproc processes the guard runs at once. */
export const GUARD_CONCURRENCY = 6;

/**
 * Starts libxslt on every input, at most GUARD_CONCURRENCY xsltproc processes at a time
 * (a proving set with the node's running instances can be long), and returns each input's
 * outcome as it will settle. Never rejects.
 */
export function startLibxslt(engine: XsltEngine, inputs: readonly TransformInput[], params: TransformParams = {}): Map<TransformInput, Promise<Outcome>> {
  const out = new Map<TransformInput, Promise<Outcome>>();
  let running = 0;
  const waiting: (() => void)[] = [];
  // A free slot spawns at once (synchronously), so the processes run while the caller renders in-process.
  const run = (input: TransformInput): Promise<Outcome> => {
    running++;
    return attempt(engine, input, params).finally(() => {
      running--;
      waiting.shift()?.();
    });
  };
  for (const input of inputs) {
    if (out.has(input)) continue;
    out.set(input, running < GUARD_CONCURRENCY ? run(input) : new Promise<void>((r) => waiting.push(r)).then(() => run(input)));
  }
  return out;
}

/**
 * libxslt on every input in ONE xsltproc process (`xsltproc --nonet --nowrite --nomkdir
 * SHEET 0.xml 1.xml …`): starting a process costs a sandbox worker ~5 ms, ten times the
 * render. xsltproc writes the results one after another on stdout with nothing between
 * them, so the batch is used only when it can be split without doubt: exit 0, nothing on
 * stderr (no error, no xsl:message), and the output (XML declarations removed) is exactly
 * one element per input with only whitespace between. Anything else — a failing input, a
 * message, a text result, a result with no root or two — falls back to one process per
 * input (startLibxslt), so every outcome is then exactly what a single render gives.
 */
export function startLibxsltBatch(engine: XsltEngine, sheetFile: string, inputs: readonly TransformInput[], params: TransformParams = {}, binary = 'xsltproc', timeoutMs = 10_000): Map<TransformInput, Promise<Outcome>> {
  const unique = [...new Set(inputs)];
  if (unique.length < 2) return startLibxslt(engine, unique, params);
  let single: Map<TransformInput, Promise<Outcome>> | undefined;
  const one = (input: TransformInput) => (single ??= startLibxslt(engine, unique, params)).get(input)!;
  const batch = runBatch(sheetFile, unique, params, binary, timeoutMs).catch(() => undefined);
  return new Map(unique.map((input, i) => [input, batch.then((outputs): Promise<Outcome> | Outcome => (outputs ? { ok: true, result: { output: outputs[i]!, warnings: [], engine: 'libxslt' } } : one(input)))]));
}

function runBatch(sheetFile: string, inputs: readonly TransformInput[], params: TransformParams, binary: string, timeoutMs: number): Promise<string[] | undefined> {
  return useScratchDir((scratch) => runBatchIn(scratch, sheetFile, inputs, params, binary, timeoutMs));
}

async function runBatchIn(scratch: string, sheetFile: string, inputs: readonly TransformInput[], params: TransformParams, binary: string, timeoutMs: number): Promise<string[] | undefined> {
  const dir = await mkdtemp(join(scratch, 'domforge-guard-'));
  try {
    const files = inputs.map((_, i) => join(dir, `${i}.xml`));
    await Promise.all(inputs.map((input, i) => writeFile(files[i]!, input.xml)));
    const args = ['--nonet', '--nowrite', '--nomkdir', ...xsltprocParamArgs(params), sheetFile, ...files];
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawnEngineChild(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve({ code: c, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
      });
    });
    if (code !== 0 || stderr.trim() !== '') return undefined;
    const body = stdout.replace(/<\?xml\s[^?]*\?>/g, '');
    const wrapped = `<domforge-guard-batch>${body}</domforge-guard-batch>`;
    const doc = parseXml(wrapped);
    // Each result is cut out of xsltproc's own bytes, from its root's start to the next one's.
    const lineStarts = [0];
    for (let i = wrapped.indexOf('\n'); i >= 0; i = wrapped.indexOf('\n', i + 1)) lineStarts.push(i + 1);
    const starts: number[] = [];
    for (let n = doc.documentElement!.firstChild; n; n = n.nextSibling) {
      const at = n as unknown as { lineNumber?: number; columnNumber?: number };
      if (n.nodeType === 1 && at.lineNumber !== undefined && at.columnNumber !== undefined) starts.push(lineStarts[at.lineNumber - 1]! + at.columnNumber - 1);
      else if (n.nodeType !== 3 || (n.nodeValue ?? '').trim() !== '') return undefined;
    }
    const end = wrapped.length - '</domforge-guard-batch>'.length;
    const outputs = starts.map((s, i) => wrapped.slice(s, starts[i + 1] ?? end));
    if (outputs.some((o, i) => o[0] !== '<' || (i > 0 && !/\s$|>$/.test(outputs[i - 1]!)))) return undefined;
    return outputs.length === inputs.length ? outputs : undefined;
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Compares one input's results from both engines: undefined when they agree. */
export function compareOutcomes(a: Outcome, b: Outcome, textOutput: boolean, inProcess: string = 'xslt-processor'): Omit<GuardDifference, 'input'> | undefined {
  if (!a.ok && !b.ok) return a.error.code === b.error.code ? undefined : { path: '/', message: `${inProcess} failed with ${a.error.code}, libxslt with ${b.error.code}` };
  if (!a.ok) return { path: '/', message: `${inProcess} failed (${a.error.message}), libxslt rendered` };
  if (!b.ok) return { path: '/', message: `libxslt failed (${b.error.message}), ${inProcess} rendered` };
  if (a.result.output === b.result.output) return undefined;
  if (textOutput) return { path: '/', message: 'the text outputs differ' };
  let d: XmlDifference | undefined;
  try {
    d = diffXml(a.result.output, b.result.output, {}, [inProcess, 'libxslt']);
  } catch (e) {
    return { path: '/', message: `an output is not well-formed XML: ${(e as Error).message.split('\n')[0]}` };
  }
  return d;
}

/**
 * Renders every proving input with both engines and compares the trees. The first
 * difference pins the stylesheet to libxslt (or, with `refuse`, is reported so the caller
 * refuses it). A caveat found at compile time pins without rendering anything.
 */
export async function runGuard(o: {
  processor: XsltEngine;
  libxslt: XsltEngine;
  caveats: EngineCaveat[];
  inputs: TransformInput[];
  params?: TransformParams;
  textOutput?: boolean;
  libxsltAvailable: boolean;
  /** Results already computed by xslt-processor for some inputs (the render at hand). */
  known?: Map<TransformInput, Outcome>;
  /** libxslt renders already started for some inputs (see startLibxslt). */
  libxsltKnown?: Map<TransformInput, Promise<Outcome>>;
}): Promise<GuardReport> {
  const t0 = performance.now();
  const done = (r: Omit<GuardReport, 'ms' | 'caveats'>): GuardReport => ({ ...r, caveats: o.caveats, ms: performance.now() - t0 });
  const name = o.processor.name;
  if (o.caveats.length) {
    const c = o.caveats[0]!;
    return done({ engine: 'libxslt', pinned: true, unguarded: false, compared: 0, summary: `pinned to libxslt: ${c.feature} at ${c.file}:${c.line ?? '?'} is not run exactly by xslt-processor` });
  }
  if (!o.libxsltAvailable) {
    return done({ engine: name, pinned: false, unguarded: true, compared: 0, summary: `xsltproc is not installed: rendering with ${name}, UNGUARDED (results are not checked against libxslt)` });
  }
  // Every libxslt render starts first (xsltproc processes, at most GUARD_CONCURRENCY at a
  // time), then the in-process renders run while they do; the first difference in input order counts.
  const params = o.params ?? {};
  const theirs = startLibxslt(o.libxslt, o.inputs.filter((i) => !o.libxsltKnown?.has(i)), params);
  const ours: Outcome[] = [];
  for (const input of o.inputs) ours.push(o.known?.get(input) ?? (await attempt(o.processor, input, params)));
  let compared = 0;
  for (const [i, input] of o.inputs.entries()) {
    const b = await (o.libxsltKnown?.get(input) ?? theirs.get(input)!);
    compared++;
    const d = compareOutcomes(ours[i]!, b, o.textOutput ?? false, name);
    if (d) {
      const difference = { input: input.file ?? `proving input ${compared}`, ...d };
      return done({ engine: 'libxslt', pinned: true, unguarded: false, compared, difference, summary: `pinned to libxslt: the engines differ on ${difference.input} at ${d.path}: ${d.message}` });
    }
  }
  return done({ engine: name, pinned: false, unguarded: false, compared, summary: `${name} and libxslt agree on ${compared} proving input${compared === 1 ? '' : 's'}` });
}

export type { Outcome as GuardOutcome };
