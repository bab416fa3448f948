import { createHash } from 'node:crypto';
import { ConfigDriveError, UsageError } from '../errors.js';
import type { ConfigDriveOptions } from '../configdrive/build.js';
import { configDriveOptionsFromInstance } from '../configdrive/from-instance.js';
import { LAYOUT_NAMES, parseLayouts } from '../configdrive/layouts/index.js';
import { checkLabel } from '../configdrive/iso9660.js';
import { writeConfigDriveFromInstance } from '../configdrive/write.js';
import { readInstanceFile } from '../instance/parse.js';
import { readInstanceJsonFile } from '../instance/from-json.js';
import { isJsonInstancePath } from '../instance/input.js';
import type { RegisterCommand } from './commands.js';

interface ConfigDriveCliOptions {
  instance: string;
  out?: string;
  layout?: string;
  label?: string;
  maxUserData?: string;
  json?: boolean;
}

/**
 * `domforge configdrive --instance instance.xml --out config.iso [--layout openstack,ec2,cloudstack] [--label config-2]`
 * builds an instance's config drive in-process and writes it atomically with mode 0600.
 * Flags win over `/instance/configDrive`; `--out` defaults to `/instance/configDrive/@path`.
 */
export const registerConfigDrive: RegisterCommand = (program, io) => {
  program
    .command('configdrive')
    .description('Build an instance\'s config drive (ISO 9660 with Rock Ridge and Joliet) for cloud-init, cloudbase-init and CloudStack guests.')
    .requiredOption('--instance <file>', 'instance.xml (or a .json instance description)')
    .option('--out <file>', 'where to write the image (default: /instance/configDrive/@path)')
    .option('--layout <list>', `comma-separated layouts: ${LAYOUT_NAMES.join(', ')} (default: all)`)
    .option('--label <label>', 'volume label (default: config-2; older CloudStack guests want config)')
    .option('--max-user-data <bytes>', 'largest decoded user data accepted (default: 65536)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: ConfigDriveCliOptions) => {
      const instance = isJsonInstancePath(opts.instance) ? await readInstanceJsonFile(opts.instance) : await readInstanceFile(opts.instance);
      const options: ConfigDriveOptions = { ...configDriveOptionsFromInstance(instance) };
      if (opts.layout !== undefined) options.layouts = usage(() => parseLayouts(opts.layout!.split(',')));
      if (opts.label !== undefined) options.label = usage(() => checkLabel(opts.label!));
      if (opts.maxUserData !== undefined) {
        const n = Number(opts.maxUserData);
        if (!Number.isInteger(n) || n < 0) throw new UsageError(`Expected \`--max-user-data\` to be a non-negative integer, got ${JSON.stringify(opts.maxUserData)}`);
        options.maxUserDataBytes = n;
      }
      const out = opts.out ?? instance.configDrive?.path;
      if (!out) throw new UsageError('no output path: give --out, or /instance/configDrive/@path in the instance', { file: opts.instance });
      let drive;
      try {
        // A refusal of one of the instance's fields names its file and line.
        drive = await writeConfigDriveFromInstance(out, instance, options);
      } catch (e) {
        // The rest (an image over its cap) is still about this instance's content: name the file.
        if (e instanceof ConfigDriveError && !e.file) throw new ConfigDriveError(e.shortMessage, { file: opts.instance, path: e.path, cause: e, details: e.details });
        throw e;
      }
      const summary = {
        path: out,
        bytes: drive.image.length,
        sha256: createHash('sha256').update(drive.image).digest('hex'),
        label: drive.label,
        layouts: options.layouts ?? LAYOUT_NAMES,
        files: drive.files.length,
      };
      if (opts.json) io.stdout(JSON.stringify(summary) + '\n');
      else io.stdout(`wrote ${out}: ${summary.bytes} bytes, label ${summary.label}, layouts ${summary.layouts.join(',')}, ${summary.files} files\n`);
    });
};

/** Turns a bad flag value into a usage error (exit code 2). */
function usage<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new UsageError((e as Error).message, { cause: e });
  }
}
