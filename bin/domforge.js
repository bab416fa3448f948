#!/usr/bin/env node
// Entry point of the `domforge` command: the compiled CLI lives in dist/ (built by `npm ci` / `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/engine/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('domforge: the compiled CLI is missing (dist/engine/cli/main.js); run `npm run build` first\n');
  process.exit(2);
}
const { runCli } = await import(main.href);
process.exitCode = await runCli(process.argv);
// The result is written: a signal from here to the exit (handles still closing) ends the
// process with the command's own exit code, not as killed by the signal (130, "cancelled").
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(process.exitCode));
