/**
 * The sandbox's cost and the watcher's edit → active latency.
 *
 * 1. Per render: the same compiled libvirt.xsl rendering the same euca-inputs, in-thread
 *    (`loadTransform` + `render`) against the sandbox (child process and worker thread),
 *    after a warm-up of every side. The overhead is (sandbox − in-thread) per render, and
 *    the ratio sandbox / in-thread. A no-op transform isolates the message round trip from
 *    xslt-processor's own time.
 * 2. Edit → active: a real watcher over a temp copy of libvirt.xsl with a 10-sample proving
 *    set (euca-inputs 01–08 and 10, plus 01 again under another name); each run saves a new
 *    version and waits for `activated`. Reported from the save (sinceChangeMs, includes the
 *    50 ms debounce) and from the end of the debounce (durationMs).
 *
 * Run alone: `node dist/bench/sandbox.js [renders] [edits]`.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { loadTransform } from '../engine/transform/load.js';
import { TransformSandbox, type SandboxIsolation } from '../engine/transform/sandbox/index.js';
import { watchTransforms, type ActivatedEvent } from '../engine/transform/watch/index.js';
import type { CompiledTransform } from '../engine/transform/types.js';
import { round, type Figure } from './lib.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const XSL = join(REPO, 'transforms', 'libvirt.xsl');
const INPUTS = join(REPO, 'test', 'fixtures', 'reference', 'euca-inputs');
const NAMES = ['01-linux-kvm-virtio.xml', '02-linux-kvm-legacy-scsi-ide.xml', '03-windows-kvm.xml', '04-linux-kvm-ebs-volumes.xml', '05-linux-kvm-kernel-ramdisk.xml', '06-linux-qemu-kernel-rootdirective-2nics.xml', '07-volume-attach-kvm-virtio.xml', '08-nic-eni-attach.xml', '10-synthetic-special-chars.xml'];
const NOOP = '<?xml version="1.0"?>\n<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:template match="/"><domain/></xsl:template></xsl:stylesheet>\n';

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const median = (xs: number[]) => pct(xs, 50);

async function perRender(t: CompiledTransform, inputs: string[], n: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const xml = inputs[i % inputs.length]!;
    const t0 = performance.now();
    await t.render({ xml });
    times.push(performance.now() - t0);
  }
  return median(times);
}

export async function benchSandbox(renders = 200, edits = 20, log: (line: string) => void = () => undefined): Promise<Figure[]> {
  const figures: Figure[] = [];
  const inputs = await Promise.all(NAMES.map((n) => readFile(join(INPUTS, n), 'utf8')));
  const tmp = await mkdtemp(join(tmpdir(), 'domforge-bench-sandbox-'));
  const noopFile = join(tmp, 'noop.xsl');
  await writeFile(noopFile, NOOP);
  try {
    const direct = await loadTransform(XSL);
    const directNoop = await loadTransform(noopFile);
    // Interleaved rounds so host load affects every side alike.
    const sides: Record<string, { real: number[]; noop: number[] }> = { 'in-thread': { real: [], noop: [] } };
    const pools: [SandboxIsolation, TransformSandbox, CompiledTransform, CompiledTransform][] = [];
    for (const iso of ['process', 'thread'] as const) {
      const sb = new TransformSandbox({ isolation: iso, size: 1, timeoutMs: 30_000 });
      pools.push([iso, sb, await sb.load(XSL), await sb.load(noopFile)]);
      sides[iso] = { real: [], noop: [] };
    }
    for (let w = 0; w < 40; w++) for (const t of [direct, directNoop, ...pools.flatMap((p) => [p[2], p[3]])]) await t.render({ xml: inputs[w % inputs.length]! });
    const rounds = 5;
    for (let r = 0; r < rounds; r++) {
      sides['in-thread']!.real.push(await perRender(direct, inputs, renders / rounds));
      sides['in-thread']!.noop.push(await perRender(directNoop, inputs, renders / rounds));
      for (const [iso, , real, noop] of pools) {
        sides[iso]!.real.push(await perRender(real, inputs, renders / rounds));
        sides[iso]!.noop.push(await perRender(noop, inputs, renders / rounds));
      }
    }
    for (const p of pools) await p[1].close();
    const base = { real: median(sides['in-thread']!.real), noop: median(sides['in-thread']!.noop) };
    log(`per render (median of ${rounds} rounds × ${renders / rounds} renders, libvirt.xsl on euca-inputs):`);
    log(`  in-thread          libvirt.xsl ${base.real.toFixed(3)} ms   no-op ${base.noop.toFixed(3)} ms`);
    for (const iso of ['process', 'thread'] as const) {
      const s = { real: median(sides[iso]!.real), noop: median(sides[iso]!.noop) };
      log(
        `  sandbox (${iso.padEnd(7)})  libvirt.xsl ${s.real.toFixed(3)} ms   no-op ${s.noop.toFixed(3)} ms   ` +
          `overhead ${(s.noop - base.noop).toFixed(3)} ms/render (no-op), ${(s.real - base.real).toFixed(3)} ms (libvirt.xsl)   ratio ${(s.real / base.real).toFixed(2)}`,
      );
      figures.push({ name: `sandboxed render (${iso}), libvirt.xsl on the Eucalyptus inputs, median (vs the same render in-thread)`, unit: 'ms/render', domforge: round(s.real, 4), reference: round(base.real, 4), ratio: round(s.real / base.real, 4), samples: renders });
      figures.push({ name: `sandbox round trip (${iso}), no-op transform, median (vs in-thread)`, unit: 'ms/render', domforge: round(s.noop, 4), reference: round(base.noop, 4), ratio: round(s.noop / base.noop, 4), samples: renders });
    }

    // Edit → active with a 10-sample proving set.
    const dir = join(tmp, 'transforms');
    const proving = join(tmp, 'proving');
    await mkdir(dir);
    await mkdir(proving);
    for (const n of NAMES) await copyFile(join(INPUTS, n), join(proving, n));
    await copyFile(join(INPUTS, NAMES[0]!), join(proving, '11-copy-of-01.xml'));
    const base0 = await readFile(XSL, 'utf8');
    await writeFile(join(dir, 'libvirt.xsl'), base0);
    let resolveNext: (e: ActivatedEvent) => void = () => undefined;
    const w = await watchTransforms({ dir, provingSet: proving, versionsDir: join(tmp, 'versions'), sandbox: { timeoutMs: 30_000, prewarm: true } }, (e) => {
      if (e.type === 'activated') resolveNext(e);
      else log(`  unexpected event ${e.type} ${'message' in e ? String(e.message) : ''}`);
    });
    const fromSave: number[] = [];
    const fromSettle: number[] = [];
    // The reference: the proving work itself — render and validate the 10 samples directly, in-thread.
    const { renderText } = await import('../engine/render/render.js');
    const provingInputs = [...inputs, inputs[0]!];
    const direct10: number[] = [];
    for (let i = 0; i < 3 + Math.max(1, Math.min(edits, 5)); i++) {
      const t0 = performance.now();
      for (const xml of provingInputs) await renderText(xml, { transform: direct });
      if (i >= 3) direct10.push(performance.now() - t0);
    }
    for (let i = 0; i < edits + 3; i++) {
      const next = new Promise<ActivatedEvent>((r) => (resolveNext = r));
      await writeFile(join(dir, 'libvirt.xsl'), base0.replace('</xsl:stylesheet>', `<!-- edit ${i} --></xsl:stylesheet>`));
      const e = await next;
      if (i >= 3) {
        // the first edits warm the workers' JIT
        fromSave.push(e.sinceChangeMs!);
        fromSettle.push(e.durationMs);
      }
    }
    const guard = w.active()?.transform.guard;
    await w.close();
    log(`edit → active, 10-sample proving set, ${edits} edits, pool of ${w.sandbox.options.size} (${w.sandbox.options.isolation}):`);
    if (guard) log(`  differential guard, once per version: ${guard.summary} (last version: ${guard.ms.toFixed(0)} ms)`);
    log(`  from the save (incl. 50 ms debounce)  p50 ${pct(fromSave, 50).toFixed(0)} ms   p95 ${pct(fromSave, 95).toFixed(0)} ms`);
    log(`  after the write settled               p50 ${pct(fromSettle, 50).toFixed(0)} ms   p95 ${pct(fromSettle, 95).toFixed(0)} ms   (target ≤ 100 ms)`);
    const ref = median(direct10);
    log(`  reference: the same 10 renders + validations in-thread, one after another   median ${ref.toFixed(0)} ms   (after settle / reference p50 ${(pct(fromSettle, 50) / ref).toFixed(2)})`);
    figures.push({ name: 'edit → active, 10-sample proving set, from the save (incl. 50 ms debounce), median (vs rendering and validating the 10 samples in-thread)', unit: 'ms', domforge: round(pct(fromSave, 50), 1), reference: round(ref, 1), ratio: round(pct(fromSave, 50) / ref, 3), samples: edits });
    figures.push({ name: 'edit → active, 10-sample proving set, from the save, p95 (vs the same in-thread work, median)', unit: 'ms', domforge: round(pct(fromSave, 95), 1), reference: round(ref, 1), ratio: round(pct(fromSave, 95) / ref, 3), samples: edits });
    // The target's measure: from the moment the write settled (the end of the debounce) to the swap.
    figures.push({ name: 'edit → active, 10-sample proving set, after the write settled, median (vs the same in-thread work, median)', unit: 'ms', domforge: round(pct(fromSettle, 50), 1), reference: round(ref, 1), ratio: round(pct(fromSettle, 50) / ref, 3), samples: edits });
    figures.push({ name: 'edit → active, 10-sample proving set, after the write settled, p95 (vs the same in-thread work, median)', unit: 'ms', domforge: round(pct(fromSettle, 95), 1), reference: round(ref, 1), ratio: round(pct(fromSettle, 95) / ref, 3), samples: edits });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return figures;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await benchSandbox(Number(process.argv[2] ?? 200), Number(process.argv[3] ?? 20), (l) => console.log(l));
}
