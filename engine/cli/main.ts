import { Command, CommanderError } from 'commander';
import { EXIT, processIo, reportError, type CliIo } from './io.js';
import { commands } from './commands.js';

/**
 * Builds the `domforge` program. Each command lives in its own module under engine/cli/
 * and is listed in commands.ts; an action throws a DomforgeError on failure and the
 * runner turns it into `file:line:col: message` on stderr and exit code 1 (2 for usage).
 */
export function buildProgram(io: CliIo = processIo): Command {
  const program = new Command('domforge');
  program
    .description('Turn a cloud instance description into a libvirt domain: render, validate, build config drives, run hooks, define and start.')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
  for (const register of commands) register(program, io);
  for (const c of program.commands) c.exitOverride().showHelpAfterError().configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
  return program;
}

/** Runs the CLI with a full argv (node, script, ...args) and returns the exit code. */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return EXIT.OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version') return EXIT.OK;
      return EXIT.USAGE;
    }
    return reportError(io, e, argv.includes('--json'));
  }
}
