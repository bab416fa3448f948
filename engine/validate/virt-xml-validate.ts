/**
 * The process engine: libvirt's own `virt-xml-validate - domain`, fed the document
 * on stdin. Slower than the in-process engine (a shell script that starts `xmllint`,
 * which compiles the schema every time) but it is exactly what libvirt ships, so it
 * is the reference the tests and the benchmark compare against.
 *
 * It always uses the schemas libvirt was built with; `schemaPath` does not apply.
 */
import { spawn } from 'node:child_process';
import { IoError } from '../errors.js';
import { expectTimerMs } from '../option-checks.js';
import type { RawSchemaError } from './schema.js';

export interface VirtXmlValidateOptions {
  /** The command to run. Default: `virt-xml-validate` on PATH. */
  command?: string;
  /** Kill it after this many ms. Default: 30000. */
  timeoutMs?: number;
}

export interface VirtXmlValidateResult {
  /** True when the exit code is 0. */
  valid: boolean;
  exitCode: number | null;
  /** libxml2's findings parsed from stderr (element names instead of XPaths). */
  errors: (RawSchemaError & { element?: string })[];
  stderr: string;
}

// xmllint's form: "/tmp/virt-xml.AbCd:10: element foo: Relax-NG validity error : Invalid sequence in interleave"
const LOCATED = /^.*?:(\d+): element ([^:]+): Relax-NG validity error : (.*)$/;
const UNLOCATED = /^Relax-NG validity error : (.*)$/;

/** Runs `virt-xml-validate - domain` on `xml` and parses what it reports. */
export function runVirtXmlValidate(xml: string, options: VirtXmlValidateOptions = {}): Promise<VirtXmlValidateResult> {
  const command = options.command ?? 'virt-xml-validate';
  return new Promise((resolve, reject) => {
    expectTimerMs('timeoutMs', options.timeoutMs);
    const child = spawn(command, ['-', 'domain'], { stdio: ['pipe', 'pipe', 'pipe'], timeout: options.timeoutMs ?? 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(
        new IoError(
          e.code === 'ENOENT'
            ? `${command} is not installed (Debian/Ubuntu: apt-get install libvirt-clients)`
            : `cannot run ${command}: ${e.message}`,
          { cause: e },
        ),
      );
    });
    child.stdin.on('error', () => {
      // EPIPE when the script exits early; its exit code tells the story.
    });
    child.stdin.end(xml);
    child.on('close', (code, signal) => {
      if (signal) {
        reject(new IoError(`${command} was killed by ${signal}`, { details: tail(stderr) }));
        return;
      }
      const errors = parseXmllintErrors(stderr);
      if (code !== 0 && errors.length === 0) {
        // Not a validity verdict: a usage problem, a missing schema, a crash. Never swallow stderr.
        reject(new IoError(`${command} exited with code ${code}`, { details: tail(stderr + stdout) }));
        return;
      }
      resolve({ valid: code === 0, exitCode: code, errors, stderr });
    });
  });
}

/** Parses xmllint's RelaxNG messages (one per line) from stderr. */
export function parseXmllintErrors(stderr: string): (RawSchemaError & { element?: string })[] {
  const out: (RawSchemaError & { element?: string })[] = [];
  for (const line of stderr.split('\n')) {
    let m = LOCATED.exec(line);
    if (m) {
      out.push({ line: Number(m[1]), element: m[2]!.trim(), message: m[3]!.trim() });
      continue;
    }
    m = UNLOCATED.exec(line);
    if (m) out.push({ message: m[1]!.trim() });
  }
  return out;
}

function tail(s: string): string[] {
  return s.trim().split('\n').filter(Boolean).slice(-10);
}
