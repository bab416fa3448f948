/**
 * A sandbox worker: compiles transforms from their files, keeps them warm by hash and
 * renders. It is disposable: the pool terminates it when a render runs past the time
 * limit, and V8 ends it alone when it reaches its heap limit.
 */
import { rmSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { TransformError } from '../../errors.js';
import { parseXml } from '../../xml/parse.js';
import { diffXml } from '../../xml/compare.js';
import { CompiledXslt, compileAndGuardXslt } from '../xslt/compile.js';
import type { GuardReport } from '../xslt/guard.js';
import { reportChildren, setScratchDir } from '../xslt/children.js';
import { parseRenderInput, renderText, type ParsedInput } from '../../render/render.js';
import { validateDomainXml } from '../../validate/index.js';
import { loadTransform, type LoadTransformOptions } from '../load.js';
import type { CompiledTransform, RenderResult } from '../types.js';
import { toWire } from './errors.js';
import type { CompileReply, FromWorker, GuardReply, ProveReply, SandboxTask, ToWorker, TransformSource, WorkerConfig } from './protocol.js';

/** The same code runs as a worker thread or as a child process (see runners.ts). */
const config: WorkerConfig = parentPort ? (workerData as WorkerConfig) : (JSON.parse(process.argv[2] ?? '{}') as WorkerConfig);
const port = parentPort ?? {
  postMessage: (m: FromWorker) => void process.send!(m),
  on: (_: 'message', fn: (m: ToWorker) => void) => void process.on('message', (m) => fn(m as ToWorker)),
};
// The pool kills what this worker leaves running when it kills the worker: it is told of
// every xsltproc, and temporary folders go in the folder it gave (and removes).
setScratchDir(config.scratchDir);
const running = new Set<number>();
reportChildren({
  started: (pid) => {
    running.add(pid);
    port.postMessage({ child: pid, running: true } satisfies FromWorker);
  },
  ended: (pid) => {
    running.delete(pid);
    port.postMessage({ child: pid, running: false } satisfies FromWorker);
  },
});
// The controller gone (killed by a signal, its clean-up never run): this worker clears what
// the pool would have, its xsltproc processes and its scratch folder, then ends.
if (!parentPort) {
  // A Ctrl-C at the controller's terminal reaches this process too (same process group): the
  // controller decides when its worker ends (it may need it to finish a render while it
  // cancels an operation), and its end or its death ends this one.
  process.on('SIGINT', () => undefined);
  process.on('disconnect', () => {
    for (const pid of running) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    if (config.scratchDir) rmSync(config.scratchDir, { recursive: true, force: true });
    process.exit(0);
  });
}

// A transform reads nothing but its input: no engine may reach the network from here.
globalThis.fetch = () => Promise.reject(new TransformError('TRANSFORM_RUNTIME', 'network access is refused inside the transform sandbox'));

/** Puts `value` last in `map` (the most recently used) and drops the oldest entries beyond `max`. */
function keepRecent<K, V>(map: Map<K, V>, key: K, value: V, max: number): V {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) map.delete(map.keys().next().value!);
  return value;
}

/**
 * Compiled transforms by version AND by the files they were compiled from. Two snapshots
 * of one version (a save that changed only a file the transform does not use) hold the same
 * hash, but each copy reads its own folder at render time (libxslt reads the stylesheet
 * from disk, document() its target): a copy must never be served for another folder, which
 * its owner may delete.
 */
const warm = new Map<string, CompiledTransform>();

function warmKey(hash: string, source: TransformSource): string {
  return `${hash}\0${source.root ?? ''}\0${source.file}`;
}

function remember(t: CompiledTransform, source: TransformSource): void {
  keepRecent(warm, warmKey(t.hash, source), t, config.warmTransforms);
}

/** The version's verdict, when the task carries one: this copy renders with it and does not guard. */
function withVerdict(t: CompiledTransform, source: TransformSource): CompiledTransform {
  if (source.verdict && t instanceof CompiledXslt) t.adoptGuard(source.verdict);
  return t;
}

/** The verdict a speculative source renders under: the compiled engine, guarded, not pinned. */
const SPECULATIVE_VERDICT: GuardReport = {
  engine: 'compiled',
  pinned: false,
  caveats: [],
  unguarded: false,
  compared: 0,
  ms: 0,
  summary: 'speculative: rendered as if the guard had chosen the compiled engine',
};

/**
 * A speculative source's view of the warm copy: renders as under SPECULATIVE_VERDICT,
 * while the copy's own verdict, if it has one, stays untouched for other tasks.
 */
function speculativeView(t: CompiledTransform): CompiledTransform {
  if (!(t instanceof CompiledXslt) || t.choice !== 'auto') return t;
  return { kind: t.kind, file: t.file, files: t.files, hash: t.hash, render: (input, params) => t.renderUnder(SPECULATIVE_VERDICT, input, params) };
}

/** How a source's files are compiled (its verdict and speculation apply after). */
function loadOptions(source: TransformSource): LoadTransformOptions {
  return { root: source.root, engine: source.engine, trusted: source.trusted, onDivergence: source.onDivergence, linksOut: source.linksOut, unreadable: source.unreadable };
}

async function compiled(source: TransformSource, hash: string): Promise<CompiledTransform> {
  const hit = warm.get(warmKey(hash, source));
  if (hit) {
    remember(hit, source);
    return source.speculative ? speculativeView(hit) : withVerdict(hit, source);
  }
  const loaded = await loadTransform(source.file, loadOptions(source));
  if (loaded.hash !== hash) {
    throw new TransformError('TRANSFORM_RUNTIME', `the transform's files changed on disk since this version was loaded (expected version ${hash.slice(0, 12)}, found ${loaded.hash.slice(0, 12)}); load it again`, { file: source.file });
  }
  remember(loaded, source);
  return source.speculative ? speculativeView(loaded) : withVerdict(loaded, source);
}

/**
 * Proving samples as read before rendering, by file and text: a proving set is rendered
 * again for every version, and reading an instance (its strict parse and the typed
 * Instance, checked field by field) is about a quarter of a sample's proof. Only instances
 * are kept, without their parse tree and frozen, so no render can change what the next
 * one reads. Least recently used dropped first.
 */
const provingInputs = new Map<string, ParsedInput>();
const MAX_PROVING_INPUTS = 512;

function provingInput(xml: string, file: string | undefined): ParsedInput {
  const key = `${file ?? ''}\0${xml}`;
  const hit = provingInputs.get(key);
  if (hit) return keepRecent(provingInputs, key, hit, MAX_PROVING_INPUTS);
  const parsed = parseRenderInput(xml, file);
  if (parsed.kind !== 'instance' || !parsed.instance) return parsed;
  return keepRecent(provingInputs, key, { kind: parsed.kind, instance: freezeDeep(parsed.instance), canonical: parsed.canonical }, MAX_PROVING_INPUTS);
}

function freezeDeep<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) freezeDeep(v);
  }
  return value;
}

const DOCTYPE = /<!DOCTYPE/i;

/** Whether rendering with `t` parses the input strictly (and refuses a DOCTYPE) on its own. */
function parsesStrictly(t: CompiledTransform): boolean {
  if (t.kind === 'handlebars') return true;
  // Under `auto` the first render also runs libxslt (the guard); after it, engineName is the verdict.
  return t instanceof CompiledXslt && t.engineName === 'compiled' && (t.choice !== 'auto' || t.guard !== undefined);
}

async function run(task: SandboxTask): Promise<CompileReply | GuardReply | RenderResult | ProveReply> {
  switch (task.kind) {
    case 'compile': {
      const t = await loadTransform(task.source.file, loadOptions(task.source));
      remember(t, task.source);
      return { kind: t.kind, file: t.file, files: [...t.files], hash: t.hash };
    }
    case 'guard': {
      const t = await compileAndGuardXslt(task.source.file, task.samples, task.params, { root: task.source.root, onDivergence: task.source.onDivergence, linksOut: task.source.linksOut, unreadable: task.source.unreadable });
      remember(t, task.source);
      return { kind: t.kind, file: t.file, files: [...t.files], hash: t.hash, guard: t.guard! };
    }
    case 'render': {
      const t = await compiled(task.source, task.hash);
      // A DOCTYPE (XXE, entity bombs) never reaches an engine: refused here whoever called.
      if (DOCTYPE.test(task.xml)) parseXml(task.xml, { file: task.file });
      // The input is parsed strictly unless the caller already did (renderText) or what
      // renders it parses strictly itself: a Handlebars template's context is built with
      // the strict parser, and the compiled XSLT engine's parser is strict. Only
      // xslt-processor (which accepts unclosed tags) and libxslt need the parse here.
      const document = task.checked || parsesStrictly(t) ? undefined : parseXml(task.xml, { file: task.file });
      return t.render({ xml: task.xml, file: task.file, document }, task.params);
    }
    case 'prove': {
      const t = await compiled(task.source, task.hash);
      const s = task.sample;
      const r = await renderText(s.xml, { transform: t, file: s.file, params: task.params, schema: task.schema ?? config.schema, parsed: provingInput(s.xml, s.file) });
      let difference: ProveReply['difference'];
      if (s.expected !== undefined) {
        difference = diffXml(r.xml, s.expected, { numeric: true, ignoreComments: true }, ['rendered', s.expectedFile ?? 'expected']);
      }
      return { output: r.xml, warnings: r.warnings, difference };
    }
  }
}

port.on('message', (m: ToWorker) => {
  run(m.task).then(
    (value) => port.postMessage({ id: m.id, ok: true, value } satisfies FromWorker),
    (e: unknown) => port.postMessage({ id: m.id, ok: false, error: toWire(e) } satisfies FromWorker),
  );
});

/** Renders the package's own transform on its first sample a few times; every failure is ignored. */
async function prewarm(): Promise<void> {
  const xsl = fileURLToPath(new URL('../../../../transforms/libvirt.xsl', import.meta.url));
  const samples = fileURLToPath(new URL('../../../../samples/', import.meta.url));
  try {
    const first = (await readdir(samples)).sort()[0];
    const xml = await readFile(join(samples, first ?? '', 'instance.xml'), 'utf8');
    const t = await loadTransform(xsl);
    for (let i = 0; i < 3; i++) await t.render({ xml });
    if (config.schema !== false) await validateDomainXml((await t.render({ xml })).output, { schema: config.schema });
  } catch {
    // A missing or broken bundled sample only means a colder start.
  }
}

if (config.prewarm) await prewarm();
port.postMessage({ ready: true } satisfies FromWorker);
