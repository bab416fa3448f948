import type { Command } from 'commander';
import type { CliIo } from './io.js';

/** A CLI command module registers itself on the program. */
export type RegisterCommand = (program: Command, io: CliIo) => void;

/** Every command of the CLI, in the order `--help` lists them. */
export const commands: RegisterCommand[] = [];
