import { UsageError } from '../errors.js';
import { runProcess, succeeded, type ProcessResult } from '../hooks/run-process.js';
import { LibvirtError, LibvirtUnavailableError } from './errors.js';

export interface VirshOptions {
  uri: string;
  /** The virsh program (default `virsh` on PATH). */
  virsh?: string;
  /** Default 60000 ms; the process group is killed after it. */
  timeoutMs?: number;
  /** For the error: what was being done, and to which domain. */
  operation: string;
  domain?: string;
}

/**
 * Runs `virsh -c URI ARGS...` as a child process (with LC_ALL=C, so libvirt's messages
 * are in English and their error codes can be recognised) and returns its stdout.
 * A failure is a LibvirtError whose libvirt message is virsh's last `error:` line;
 * a missing virsh is a LibvirtUnavailableError.
 */
export async function runVirsh(args: string[], o: VirshOptions): Promise<ProcessResult> {
  if (!o.uri) throw new UsageError('Expected `uri` for virsh');
  const virsh = o.virsh ?? 'virsh';
  const r = await runProcess(virsh, {
    args: ['-q', '-c', o.uri, ...args],
    env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
    timeoutMs: o.timeoutMs ?? 60_000,
    killGraceMs: 2_000,
    maxBuffer: 1024 * 1024,
  });
  if (succeeded(r)) return r;
  if ((r.spawnError as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new LibvirtUnavailableError(`virsh (${virsh}) is needed to ${o.operation} on ${o.uri}: install libvirt-clients`, { cause: r.spawnError });
  }
  const errors = r.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('error:'))
    .map((l) => l.replace(/^error:\s*/, ''));
  const message = r.timedOut
    ? `virsh timed out after ${r.timeoutMs} ms`
    : (errors.at(-1) ?? (r.stderr.trim().split('\n').at(-1) || `virsh exited with code ${r.exitCode ?? r.signal}`));
  throw new LibvirtError({
    operation: o.operation,
    domain: o.domain,
    uri: o.uri,
    libvirtMessage: message,
    details: [`command: ${r.command}`, ...errors.slice(0, -1)],
  });
}
