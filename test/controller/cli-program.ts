/**
 * The lifecycle commands on a program built the way engine/cli/main.ts builds `domforge`
 * (exitOverride, errors through reportError), for tests to run before and independently of
 * the command list in engine/cli/commands.ts. Run as a script, it is a `domforge` with only
 * these commands: `node cli-program.js launch --instance ...`.
 */
import { Command, CommanderError } from 'commander';
import { registerLifecycle } from '../../engine/cli/lifecycle.js';
import { EXIT, processIo, reportError, type CliIo } from '../../engine/cli/io.js';

export async function runLifecycleCli(args: string[], io: CliIo = processIo): Promise<number> {
  const program = new Command('domforge').exitOverride().configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
  registerLifecycle(program, io);
  for (const c of program.commands) c.exitOverride().configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
  try {
    await program.parseAsync(['node', 'domforge', ...args]);
    return EXIT.OK;
  } catch (e) {
    if (e instanceof CommanderError) return e.code === 'commander.helpDisplayed' || e.code === 'commander.help' ? EXIT.OK : EXIT.USAGE;
    return reportError(io, e, args.includes('--json'));
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  process.exitCode = await runLifecycleCli(process.argv.slice(2));
}
