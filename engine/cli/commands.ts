import type { Command } from 'commander';
import type { CliIo } from './io.js';
import { registerRender } from './render.js';
import { registerValidate } from './validate.js';
import { registerConfigDrive } from './configdrive.js';
import { registerKvp } from './kvp.js';
import { registerXslt } from './xslt.js';
import { registerLifecycle } from './lifecycle.js';
import { registerConsoleOutput } from './console-output.js';
import { registerResources } from './resources.js';
import { registerStats } from './stats.js';
import { registerCheck } from './check.js';
import { registerTransforms } from './transforms.js';

/** A CLI command module registers itself on the program. */
export type RegisterCommand = (program: Command, io: CliIo) => void;

/** Every command of the CLI, in the order `--help` lists them. */
export const commands: RegisterCommand[] = [registerRender, registerValidate, registerLifecycle, registerConsoleOutput, registerStats, registerResources, registerCheck, registerConfigDrive, registerKvp, registerXslt, registerTransforms];
