import { join, resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import { IoError } from '../errors.js';
import type { Command } from 'commander';
import { integerFlag, millisecondsFlag } from './number-flags.js';
import { TransformSandbox } from '../transform/sandbox/pool.js';
import { loadProvingSet } from '../transform/watch/proving-set.js';
import { proveTransform } from '../transform/watch/prove.js';
import { readTransformVersions } from '../transform/watch/version-log.js';
import { DEFAULT_PROVING_SET, checkMainName, watchTransforms } from '../transform/watch/transform-watcher.js';
import type { WatchEvent } from '../transform/watch/events.js';
import type { CliIo } from './io.js';

/**
 * Live transforms from the command line:
 *   watch --transforms DIR [--proving-set DIR] [--json]   keep the last good version live; one line per event
 *   transforms prove --transforms DIR [--proving-set DIR]  prove the version on disk once (exit 1 if it fails)
 *   transforms versions --versions DIR [--json]            the versions activated so far
 */
export interface TransformsCommandOptions {
  /** Resolves when `watch` should stop (default: SIGINT or SIGTERM). */
  stop?: () => Promise<void>;
}

interface SandboxFlags {
  transforms: string;
  main: string;
  provingSet?: string;
  timeout?: string;
  heap?: string;
  json?: boolean;
}

function integer(flag: string, v: string | undefined): number | undefined {
  return v === undefined ? undefined : integerFlag(flag, v, 1);
}

function milliseconds(flag: string, v: string | undefined): number | undefined {
  return v === undefined ? undefined : millisecondsFlag(flag, v, 1);
}

function sandboxOptions(o: SandboxFlags) {
  return { timeoutMs: milliseconds('--timeout', o.timeout), maxHeapMb: integer('--heap', o.heap), prewarm: true };
}

function untilSignal(): Promise<void> {
  return new Promise((r) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      r();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

/** The human form of an event: one line, plus detail lines for a rejection. */
export function formatEvent(e: WatchEvent): string {
  const short = (h?: string) => (h ? h.slice(0, 12) : 'none');
  switch (e.type) {
    case 'activated':
      return `${e.restored ? 'restored' : 'activated'} ${short(e.hash)} ${e.file} (${e.samples} samples, ${e.durationMs} ms)\n`;
    case 'rejected': {
      const lines = [`rejected ${e.hash ? short(e.hash) : ''}`.trimEnd() + `: ${e.message.split('\n')[0]}`];
      if (e.sample) lines.push(`  sample ${e.sample} (${e.sampleFile})`);
      lines.push(...e.message.split('\n').slice(1));
      lines.push(`  still active: ${short(e.activeHash)}`);
      return lines.join('\n') + '\n';
    }
    case 'error':
      return `error: ${e.message}\n`;
  }
}

export function registerTransforms(program: Command, io: CliIo, options: TransformsCommandOptions = {}): void {
  const addCommon = (c: Command) =>
    c
      .requiredOption('--transforms <dir>', 'the transforms folder (main transform, includes, partials)')
      .option('--main <file>', 'main transform inside the folder', 'libvirt.xsl')
      .option('--proving-set <dir>', `instances every version must render (default: domforge's samples, ${DEFAULT_PROVING_SET})`)
      .option('--timeout <ms>', 'wall-clock limit of one render (default 2000)')
      .option('--heap <mb>', 'heap limit of a sandbox worker (default 256)')
      .option('--json', 'one JSON object per line');

  addCommon(program.command('watch'))
    .description('watch a transforms folder; prove every saved version on the proving set in the sandbox and keep the last good one live')
    .option('--versions <dir>', 'keep the version log and a copy of each version here (default: a temporary folder)')
    .option('--debounce <ms>', 'quiet time after the last write before a check (default 50)')
    .action(async (o: SandboxFlags & { versions?: string; debounce?: string }) => {
      const print = (e: WatchEvent) => io.stdout(o.json ? JSON.stringify(e) + '\n' : formatEvent(e));
      const debounce = milliseconds('--debounce', o.debounce);
      const watcher = await watchTransforms(
        {
          dir: o.transforms,
          main: checkMainName(o.main, '`--main`'),
          provingSet: o.provingSet,
          versionsDir: o.versions,
          debounceMs: debounce,
          sandbox: sandboxOptions(o),
        },
        print,
      );
      if (!o.json) io.stdout(`watching ${resolve(o.transforms)} (Ctrl-C to stop)\n`);
      await (options.stop ?? untilSignal)();
      await watcher.close();
    });

  const group = program.command('transforms').description('admin transforms: prove a version, list the versions activated');

  addCommon(group.command('prove'))
    .description('compile the transform in the sandbox and render, validate and compare every sample of the proving set')
    .action(async (o: SandboxFlags) => {
      const sandbox = new TransformSandbox(sandboxOptions(o));
      try {
        const t = await sandbox.load(join(o.transforms, checkMainName(o.main, '`--main`')), { root: o.transforms });
        const samples = await loadProvingSet(o.provingSet ?? DEFAULT_PROVING_SET);
        const report = await proveTransform(t, o.provingSet ? samples : samples.map(({ expected: _e, expectedFile: _f, ...s }) => s));
        if (o.json) io.stdout(JSON.stringify({ ok: report.ok, hash: report.hash, durationMs: Math.round(report.durationMs), samples: report.samples.map((s) => ({ ...s, error: s.error?.toJSON() })) }) + '\n');
        else for (const s of report.samples) io.stdout(`${s.ok ? 'ok  ' : 'FAIL'} ${s.sample} (${Math.round(s.durationMs)} ms)\n`);
        if (report.failure) throw report.failure.error;
        if (!o.json) io.stdout(`version ${report.hash.slice(0, 12)} passes ${report.samples.length} samples\n`);
      } finally {
        await sandbox.close();
      }
    });

  group
    .command('versions')
    .description('the transform versions activated so far (hash, time, files), oldest first')
    .requiredOption('--versions <dir>', 'the folder given to watch --versions')
    .option('--json', 'one JSON object per line')
    .action(async (o: { versions: string; json?: boolean }) => {
      // A folder that is not there is a mistyped --versions, not an empty history.
      const st = await stat(o.versions).catch(() => undefined);
      if (!st?.isDirectory()) throw new IoError('no such folder: --versions takes the folder given to `watch --versions`', { file: o.versions });
      const versions = await readTransformVersions(o.versions, { onDamaged: (d) => io.stderr(`domforge: warning: ${d.file}:${d.line}: ${d.reason}; skipped\n`) });
      if (versions.length === 0 && !o.json) io.stderr(`domforge: note: no transform version has been activated with ${o.versions} yet\n`);
      for (const v of versions) {
        io.stdout(o.json ? JSON.stringify(v) + '\n' : `${v.activatedAt}  ${v.hash.slice(0, 12)}  ${v.main}  ${v.files.length} files${v.restored ? '  (restored)' : ''}\n`);
      }
    });
}
