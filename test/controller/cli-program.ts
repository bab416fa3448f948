/**
 * The `domforge` CLI for the lifecycle tests. Run as a script it is `domforge` itself
 * (`node cli-program.js launch --instance ...`), for tests that need a second process.
 */
import { runCli } from '../../engine/cli/main.js';
import { processIo, type CliIo } from '../../engine/cli/io.js';
import { cli } from '../render/cli.js';

export function runLifecycleCli(args: string[], io: CliIo = processIo): Promise<number> {
  return runCli(['node', 'domforge', ...args], io);
}

/** Runs a lifecycle command on the test's folders with captured output. */
export function lifecycleCli(args: string[], common: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cli([...args, ...common]);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  process.exitCode = await runLifecycleCli(process.argv.slice(2));
}
