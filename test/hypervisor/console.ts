/**
 * Reads what the test guest (test/guest/init.sh) printed to its serial console, which
 * domforge's transform sends to the instance's consoleLogPath.
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const PREFIX = 'DOMFORGE-GUEST ';

export interface GuestReport {
  /** The guest kernel's release, once /init started. */
  boot?: string;
  /** Guest seconds since its kernel started, when /init started and when it printed the marker. */
  bootUptime?: number;
  doneUptime?: number;
  /** Modules /init loaded, each `ok` or `failed`. */
  modules: Map<string, 'ok' | 'failed'>;
  /** Every `/sys/block` report, oldest first (the first is at boot, later ones after a change). */
  blocks: string[][];
  /** Every `/sys/class/net` report, oldest first. */
  nets: string[][];
  /** The device the config drive was found on and its label. */
  configDrive?: { device: string; label: string };
  /** Why no config drive was found. */
  noConfigDrive?: string;
  /** Files of the config drive, byte for byte. */
  files: Map<string, Buffer>;
  /** Files the guest looked for and the drive does not have. */
  missing: string[];
  /** The config-drive marker was printed: everything above is complete. */
  done: boolean;
  /** The console's first line (the guest kernel's first message), if any. */
  firstLine?: string;
}

/** Parses the console text (kernel messages and `\r` are tolerated between our lines). */
export function parseConsole(text: string): GuestReport {
  const r: GuestReport = { modules: new Map(), blocks: [], nets: [], files: new Map(), missing: [], done: false };
  const lines = text.replace(/\r/g, '').split('\n');
  r.firstLine = lines.find((l) => l.trim() !== '');
  let file: { path: string; chunks: string[] } | undefined;
  for (const line of lines) {
    if (!line.startsWith(PREFIX)) {
      // base64 lines of a file; anything else (a stray kernel message) is not part of it
      if (file && /^[A-Za-z0-9+/=]+$/.test(line)) file.chunks.push(line);
      continue;
    }
    const [word, ...rest] = line.slice(PREFIX.length).split(' ');
    const arg = rest.join(' ');
    switch (word) {
      case 'boot':
        r.boot = rest[0];
        r.bootUptime = Number(rest[1]);
        break;
      case 'module':
        r.modules.set(rest[0], rest[1] === 'ok' ? 'ok' : 'failed');
        break;
      case 'block':
        r.blocks.push(rest.filter(Boolean));
        break;
      case 'net':
        r.nets.push(rest.filter(Boolean));
        break;
      case 'config-drive':
        r.configDrive = { device: rest[0], label: rest[1] };
        break;
      case 'no-config-drive':
        r.noConfigDrive = arg;
        break;
      case 'begin':
        file = { path: arg, chunks: [] };
        break;
      case 'end':
        if (file && file.path === arg) r.files.set(arg, Buffer.from(file.chunks.join(''), 'base64'));
        file = undefined;
        break;
      case 'missing':
        r.missing.push(arg);
        break;
      case 'config-drive-done':
        r.done = true;
        r.doneUptime = Number(rest[0]);
        break;
    }
  }
  return r;
}

export async function readConsole(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
}

/**
 * Polls the console file until `until` holds for its report, and returns the report.
 * On timeout, throws with the console's tail so a failing test shows what the guest said.
 */
export async function waitForConsole(
  path: string,
  until: (r: GuestReport) => boolean,
  o: { timeoutMs?: number; what?: string } = {},
): Promise<GuestReport> {
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  let text = '';
  for (;;) {
    text = await readConsole(path);
    const report = parseConsole(text);
    if (until(report)) return report;
    if (Date.now() > deadline) break;
    await sleep(100);
  }
  const tail = text.replace(/\r/g, '').split('\n').slice(-25).join('\n');
  throw new Error(`timed out after ${o.timeoutMs ?? 60_000} ms waiting for ${o.what ?? 'the guest'} on ${path}; console tail:\n${tail}`);
}

/** The latest `/sys/block` (or `/sys/class/net`) report. */
export const latest = (reports: string[][]): string[] => reports.at(-1) ?? [];
