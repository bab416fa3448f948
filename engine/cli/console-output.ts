import type { RegisterCommand } from './commands.js';
import { checkInstanceId } from '../controller/layout.js';
import { DEFAULT_CONSOLE_BYTES, MAX_CONSOLE_BYTES } from '../controller/console-output.js';
import { common, withController, type CommonOptions } from './lifecycle.js';
import { integerFlag } from './number-flags.js';

/**
 * `domforge console-output ID [--bytes N]`: Eucalyptus's ncGetConsoleOutput, the tail of an
 * instance's serial console log. The bytes go to stdout as the guest wrote them (its text,
 * in whatever encoding, escape sequences and all); `--json` gives them in base64, as
 * Eucalyptus's API does, with `{id, path, size, truncated, files}`.
 */
export const registerConsoleOutput: RegisterCommand = (program, io) => {
  common(
    program
      .command('console-output')
      .description("Print the tail of an instance's serial console log (Eucalyptus's GetConsoleOutput), as the guest wrote it.")
      .argument('<id>', 'instance id')
      .option('--bytes <n>', `how many bytes from the end of the log (default ${DEFAULT_CONSOLE_BYTES}, as Eucalyptus)`),
  ).action(async (id: string, o: CommonOptions & { bytes?: string }) => {
    // Checked before the controller opens: a usage error needs no libvirt.
    checkInstanceId(id);
    const maxBytes = o.bytes === undefined ? undefined : integerFlag('--bytes', o.bytes, 1, 'bytes', { value: MAX_CONSOLE_BYTES, why: 'the largest Buffer' });
    const r = await withController(io, o, (nc) => nc.consoleOutput(id, { maxBytes }));
    if (o.json) {
      io.stdout(JSON.stringify({ id: r.id, path: r.path, size: r.size, truncated: r.truncated, files: r.files, output: r.bytes.toString('base64') }) + '\n');
      return;
    }
    io.stdout(r.bytes);
    // virtlogd rolls a console log over at 2 MiB: the bytes may come from PATH.0 (…) too.
    const rolled = r.files.length > 1 ? ` and its rolled-over ${r.files.slice(0, -1).join(', ')}` : '';
    if (r.truncated) io.stderr(`domforge: note: the last ${r.bytes.length} of ${r.size} bytes of ${r.path}${rolled} (--bytes N for more)\n`);
    else if (rolled) io.stderr(`domforge: note: all ${r.size} bytes of ${r.path}${rolled}\n`);
  });
};
