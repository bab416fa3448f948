/**
 * `npm run bench`: where domforge stands against the tools a node would otherwise use,
 * every figure measured in this run next to its reference, as a ratio.
 *
 *   node dist/bench/run.js [--quick] [--json] [--only NAME[,NAME…]]
 *
 * --quick runs a few iterations of each (the test suite uses it so the benchmark does
 * not rot); --json prints one JSON object per figure. A figure whose part of domforge is
 * not built yet prints `n/a (not built)`. Nothing here fails: targets are printed with
 * ✓ or ✗ beside the figures.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { quantile, round, type Figure } from './lib.js';

/** The Node flag the README recommends for a long-lived node controller process. */
const RECOMMENDED_NODE_FLAG = '--max-semi-space-size=4';
/**
 * glibc's malloc thresholds pinned at their documented defaults: setting one turns off the
 * dynamic mmap threshold, which otherwise rises (up to 32 MiB) each time a large block is
 * freed, after which blocks of that size come from the heaps and arenas and their freed
 * pages stay resident (mallopt(3)). The README recommends it for a controller process.
 */
const RECOMMENDED_MALLOC_ENV: NodeJS.ProcessEnv = { MALLOC_TRIM_THRESHOLD_: '131072' };

/** The environment without glibc's malloc tunables, so "defaults" means glibc's defaults whatever the shell set. */
function withoutMallocTuning(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !/^MALLOC_|^GLIBC_TUNABLES$/.test(k)));
}

export interface Target {
  /** Printed beside the figure, e.g. `≤ 0.3 ms`. */
  text: string;
  met(f: Figure): boolean;
}

export interface Group {
  key: string;
  title: string;
  /** Runs the measurements; resolves to `undefined` when that part of domforge is not built, or to the reason it was not measured now. */
  run(quick: boolean): Promise<Figure[] | string | undefined>;
  /** The target for each figure of the group, by index. */
  targets?: (Target | undefined)[];
  /** The one target applies to every figure of the group (one figure per sample, say). */
  targetForEach?: Target;
}

const atMost = (limit: number, unit: string): Target => ({ text: `≤ ${limit} ${unit}`, met: (f) => f.domforge <= limit });
const RSS_TARGET: Target = { text: '≤ 150 MB (143.05 MiB) peak', met: (f) => f.domforge <= 150e6 / 2 ** 20 };
const fasterBy = (factor: number): Target => ({ text: `≥ ${factor}× faster`, met: (f) => f.ratio <= 1 / factor });

/** Imports a benchmark module, or undefined when it does not exist in this build. */
async function optional<T>(path: string): Promise<T | undefined> {
  try {
    return (await import(path)) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(path.replace(/^\.\//, ''))) return undefined;
    throw e;
  }
}

export const groups: Group[] = [
  {
    key: 'xslt',
    title: '1. XSLT render of the default stylesheet, per instance',
    run: async (quick) => {
      const m = await optional<typeof import('./xslt.js')>('./xslt.js');
      return m?.benchXslt({ samples: quick ? 5 : undefined, jitWarmup: quick ? 5 : undefined });
    },
    targets: [atMost(0.3, 'ms median')],
  },
  {
    key: 'handlebars',
    title: '2. Handlebars render of the default template, per instance',
    run: async (quick) => {
      const m = await optional<typeof import('./handlebars.js')>('./handlebars.js');
      if (!m) return undefined;
      const rows = await m.benchHandlebars(quick ? 10 : 200, quick ? 500 : undefined);
      const figures: Figure[] = rows.map((r) => ({
        name: `Handlebars render, ${r.sample}, median (vs the XSLT render, ${r.xslt.engine}, same run)`,
        unit: 'ms/render',
        domforge: round(r.handlebars.medianUs / 1000, 4),
        reference: round(r.xslt.medianUs / 1000, 4),
        ratio: round(r.handlebars.medianUs / r.xslt.medianUs, 4),
        samples: r.rounds,
      }));
      // Not a target: the same render once per round right after other work (see bench/handlebars.ts).
      const cold = quantile(rows.map((r) => r.cold.medianUs), 0.5);
      const warm = quantile(rows.map((r) => r.handlebars.medianUs), 0.5);
      figures.push({
        name: 'Handlebars render right after XSLT renders and parses (caches cold), median over samples (vs the same render in a block, median over samples)',
        unit: 'ms/render',
        domforge: round(cold / 1000, 4),
        reference: round(warm / 1000, 4),
        ratio: round(cold / warm, 4),
        samples: rows.reduce((n, r) => n + r.coldRounds, 0),
        info: true,
      });
      return figures;
    },
    targetForEach: atMost(0.02, 'ms median'),
  },
  {
    key: 'validate',
    title: '3. Validation per document (schema + semantic)',
    run: async (quick) => {
      const m = await optional<typeof import('./validate.js')>('./validate.js');
      return m?.benchValidate({ samples: quick ? 3 : undefined });
    },
    targets: [fasterBy(1), undefined, undefined],
  },
  {
    key: 'configdrive',
    title: '4. Config-drive ISO build, typical drive',
    run: async (quick) => {
      const m = await optional<typeof import('./configdrive.js')>('./configdrive.js');
      return m?.benchConfigDrive(quick ? { samples: 3, warmup: 1, jitWarmup: 5 } : {});
    },
    targets: [fasterBy(10), undefined, fasterBy(10)],
  },
  {
    key: 'launch',
    title: '5. Launch + terminate on test:///default',
    run: async (quick) => {
      const m = await optional<{ benchLaunch(o: { quick: boolean }): Promise<Figure[]> }>('./launch.js');
      return m?.benchLaunch({ quick });
    },
    // "≥ 20× the shell pipeline's throughput": one instance at a time (median), and with several in flight.
    targets: [fasterBy(20), undefined, undefined, undefined, undefined, undefined, fasterBy(20)],
  },
  {
    key: 'daemon',
    title: '5. Launch + terminate through libvirtd (test+unix:///default), vs the issue\'s pipeline as written (one process per command)',
    run: async (quick) => {
      const m = await optional<typeof import('./launch-daemon.js')>('./launch-daemon.js');
      return m?.benchLaunchDaemon({ quick });
    },
    // The same target, like for like: both sides through the daemon. The in-process row is for comparison.
    targets: [fasterBy(20), undefined, undefined, fasterBy(20)],
  },
  {
    key: 'edit',
    title: '6. Sandboxed renders and transform edit → active, 10-sample proving set',
    run: async (quick) => {
      const m = await optional<typeof import('./sandbox.js')>('./sandbox.js');
      return m?.benchSandbox(quick ? 10 : 200, quick ? 2 : 20);
    },
    // The measure: "≤ 100 ms to active after the write settles" (the from-save figures include the 50 ms debounce).
    targets: [undefined, undefined, undefined, undefined, undefined, undefined, atMost(100, 'ms'), undefined],
  },
  {
    key: 'rss',
    title: '7. Memory over 10,000 launch/terminate cycles',
    // In a process of its own: the figure is a controller's footprint (its RSS plus the
    // private memory of its sandbox worker), not that of this process, which has run every
    // other benchmark (and xslt-processor) before.
    // Three times: with Node's and glibc's defaults (the controller then holds V8's young
    // generation from its open: NodeControllerOptions.holdYoungGeneration); with
    // `holdYoungGeneration: false`, Node's young generation as it is (by default V8 grows it
    // to 2 × 16 MiB under a launch loop's allocation rate, a fifth of the process's RSS); and
    // with the README's two recommendations for a node controller's process, the young
    // generation capped by a Node flag and glibc's malloc thresholds pinned
    // (`MALLOC_TRIM_THRESHOLD_`, see RECOMMENDED_MALLOC_ENV).
    run: async (quick) => {
      const script = fileURLToPath(new URL('./memory.js', import.meta.url));
      if (!existsSync(script)) return undefined;
      const figures: Figure[] = [];
      const malloc = Object.entries(RECOMMENDED_MALLOC_ENV).map(([k, v]) => `${k}=${v}`).join(' ');
      const variants: [string[], string[], NodeJS.ProcessEnv, string][] = [
        [[], [], {}, 'Node defaults'],
        [[], ['--no-hold'], {}, 'Node defaults, holdYoungGeneration: false'],
        [[RECOMMENDED_NODE_FLAG], [], RECOMMENDED_MALLOC_ENV, `${RECOMMENDED_NODE_FLAG} and ${malloc}`],
      ];
      for (const [flags, args, env, label] of variants) {
        const r = spawnSync(process.execPath, [...flags, script, ...args, ...(quick ? ['--quick'] : [])], { encoding: 'utf8', maxBuffer: 1 << 24, env: { ...withoutMallocTuning(process.env), ...env } });
        if (r.status !== 0) throw new Error(`bench/memory.js (${label}) failed: ${(r.stderr || '').trim().split('\n').at(-1) ?? r.status}`);
        for (const l of r.stdout.trim().split('\n').filter(Boolean)) {
          const f = JSON.parse(l) as Figure;
          figures.push({ ...f, name: `${f.name}, ${label}` });
        }
      }
      return figures;
    },
    // The "RSS ≤ 150 MB": 150 × 10⁶ bytes, 143.05 MiB (the figures are in MiB).
    targets: [0, 1, 2].flatMap(() => [RSS_TARGET, { text: 'growth < 10 %', met: (f: Figure) => f.ratio < 1.1 }, undefined]),
  },
  {
    key: 'scale',
    title: '8. Scale: XSLT render time with 1, 10, 100, 1,000 disks',
    run: async (quick) => {
      const m = await optional<typeof import('./scale.js')>('./scale.js');
      return m?.benchScale({ quick });
    },
  },
  {
    key: 'hypervisor',
    title: '9. Real hypervisor (qemu:///system, TCG): launch → first console line, → config-drive marker',
    // Boots real guests: only in a full run, with the tier up (npm run bench:hypervisor brings it up).
    run: async (quick) => {
      if (quick) return 'not measured in --quick mode (boots real guests)';
      const m = await optional<{ benchHypervisor(o: { runs: number }): Promise<Figure[] | undefined> }>('./hypervisor.js');
      if (!m) return undefined;
      return (await m.benchHypervisor({ runs: 3 })) ?? 'not measured: the hypervisor tier is not up (npm run bench:hypervisor brings it up)';
    },
  },
];

function targetFor(g: Group, i: number, f: Figure): Target | undefined {
  if (f.info) return undefined;
  return g.targetForEach ?? g.targets?.[i];
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && Math.abs(x) < 0.01) return x.toPrecision(2);
  return String(round(x, 3));
}

export async function runBench(argv: string[], out: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<void> {
  const quick = argv.includes('--quick');
  const json = argv.includes('--json');
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? new Set((argv[onlyAt + 1] ?? '').split(',')) : undefined;
  for (const g of groups) {
    if (only && !only.has(g.key)) continue;
    let figures: Figure[] | string | undefined;
    let error: string | undefined;
    try {
      figures = await g.run(quick);
    } catch (e) {
      error = (e as Error).message.split('\n')[0];
    }
    if (json) {
      if (error) out(JSON.stringify({ group: g.key, name: g.title, error }));
      else if (!figures) out(JSON.stringify({ group: g.key, name: g.title, status: 'n/a (not built)' }));
      else if (typeof figures === 'string') out(JSON.stringify({ group: g.key, name: g.title, status: figures }));
      else figures.forEach((f, i) => out(JSON.stringify({ ...f, group: g.key, target: targetFor(g, i, f)?.text, met: targetFor(g, i, f)?.met(f) })));
      continue;
    }
    out(`\n${g.title}`);
    if (error) {
      out(`  error: ${error}`);
      continue;
    }
    if (!figures) {
      out('  n/a (not built)');
      continue;
    }
    if (typeof figures === 'string') {
      out(`  ${figures}`);
      continue;
    }
    figures.forEach((f, i) => {
      const t = targetFor(g, i, f);
      const mark = t ? `  target ${t.text} ${t.met(f) ? '✓' : '✗'}` : '';
      out(`  ${f.name}`);
      out(`    domforge ${fmt(f.domforge)} ${f.unit}   reference ${fmt(f.reference)} ${f.unit}   ratio ${fmt(f.ratio)}   n=${f.samples}${mark}`);
    });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runBench(process.argv.slice(2));
}
