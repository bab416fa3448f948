import { spawnSync } from 'node:child_process';
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
    return { ok: true, result: await engine.render(input.xml, params) };
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

/** Compares one input's results from both engines: undefined when they agree. */
export function compareOutcomes(a: Outcome, b: Outcome, textOutput: boolean, inProcess: string = 'xslt-processor'): Omit<GuardDifference, 'input'> | undefined {
  if (!a.ok && !b.ok) return a.error.code === b.error.code ? undefined : { path: '/', message: `${inProcess} failed with ${a.error.code}, libxslt with ${b.error.code}` };
  if (!a.ok) return { path: '/', message: `${inProcess} failed (${a.error.message}), libxslt rendered` };
  if (!b.ok) return { path: '/', message: `libxslt failed (${b.error.message}), ${inProcess} rendered` };
  if (textOutput) return a.result.output === b.result.output ? undefined : { path: '/', message: 'the text outputs differ' };
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
