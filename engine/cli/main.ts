import { packageVersion } from '../version.js';
import { Command, CommanderError, type Option } from 'commander';
import { UsageError } from '../errors.js';
import { EXIT, processIo, reportError, type CliIo } from './io.js';
import { releaseInterrupts } from './interrupt.js';
import { commands } from './commands.js';

/**
 * Builds the `domforge` program. Each command lives in its own module under engine/cli/
 * and is listed in commands.ts; an action throws a DomforgeError on failure and the
 * runner turns it into `file:line:col: message` on stderr and exit code 1 (2 for usage).
 * With `json`, commander's own usage errors are not printed (runCli prints them as JSON).
 */
export function buildProgram(io: CliIo = processIo, json = false): Command {
  const program = new Command('domforge');
  const output = {
    writeOut: (s: string) => io.stdout(s),
    writeErr: (s: string) => (json ? undefined : io.stderr(s)),
    outputError: (s: string, write: (s: string) => void) => (json ? undefined : write(s)),
  };
  program
    .description('Turn a cloud instance description into a libvirt domain: render, validate, build config drives, run hooks, define and start.')
    .version(`domforge ${packageVersion()}`, '-V, --version', "print domforge's version")
    .showHelpAfterError()
    .exitOverride()
    .configureOutput(output);
  for (const register of commands) register(program, io);
  for (const c of program.commands) c.exitOverride().showHelpAfterError().configureOutput(output).hook('preAction', refuseEmptyValues);
  return program;
}

/**
 * An option or argument given as an empty string (`--instances ""`, `validate ''`, one of
 * several `--proving ''`) is a usage error: never read as "not given", never as a default,
 * never as a file named '' (`stat ''`). Runs before every command's action (a group's
 * subcommands included: commander runs a parent's preAction hook for them).
 */
function refuseEmptyValues(_program: Command, command: Command): void {
  const empty = (v: unknown) => v === '' || (Array.isArray(v) && v.includes(''));
  for (let c: Command | null = command; c; c = c.parent) {
    for (const o of c.options as readonly Option[]) {
      if (empty(c.getOptionValue(o.attributeName()))) throw new UsageError(`${o.long ?? o.short} must not be empty`);
    }
  }
  command.registeredArguments.forEach((a, i) => {
    if (empty(command.processedArgs[i])) throw new UsageError(`argument '${a.name()}' must not be empty`);
  });
}

/** Runs the CLI with a full argv (node, script, ...args) and returns the exit code. */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const json = argv.includes('--json');
  const program = buildProgram(io, json);
  try {
    await program.parseAsync(argv);
    return EXIT.OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version') return EXIT.OK;
      // Under --json, one JSON object as every other error gives (DomforgeError.toJSON's shape).
      if (json) return reportError(io, new UsageError(e.message.replace(/^error:\s*/, '')), true);
      return EXIT.USAGE;
    }
    return reportError(io, e, json);
  } finally {
    // The result (or the error) is written: a signal from now on ends the process as by default.
    releaseInterrupts(io);
  }
}
