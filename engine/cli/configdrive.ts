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
import { configDriveLimits, maxImageOption, maxUserDataOption, type ConfigDriveLimitFlags } from './config-drive-limits.js';
import { refuseOutOverInput, refuseStdoutImage } from './io.js';

interface ConfigDriveCliOptions extends ConfigDriveLimitFlags {
  instance: string;
  out?: string;
  layout?: string;
  label?: string;
  json?: boolean;
}

/**
 * `domforge configdrive --instance instance.xml --out config.iso [--layout openstack,ec2,cloudstack] [--label config-2] [--max-user-data BYTES] [--max-image BYTES]`
 * builds an instance's config drive in-process and writes it atomically with mode 0600.
 * Flags win over `/instance/configDrive`; `--out` defaults to `/instance/configDrive/@path`.
 */
export const registerConfigDrive: RegisterCommand = (program, io) => {
  program
    .command('configdrive')
    .description('Build an instance\'s config drive (ISO 9660 with Rock Ridge and Joliet) for cloud-init, cloudbase-init and CloudStack guests.')
    .requiredOption('--instance <file>', 'instance.xml (or a .json instance description)')
    .option('--out <file>', 'where to write the image (default: /instance/configDrive/@path)')
    .option('--layout <list>', `comma-separated layouts: ${LAYOUT_NAMES.join(', ')} (default: /instance/configDrive/@layouts, else all)`)
    .option('--label <label>', 'volume label (default: /instance/configDrive/@label, else config-2; older CloudStack guests want config)')
    .addOption(maxUserDataOption())
    .addOption(maxImageOption())
    .option('--json', 'print the result as JSON')
    .action(async (opts: ConfigDriveCliOptions) => {
      refuseStdoutImage(opts.out, 'the config drive');
      const limits = configDriveLimits(opts);
      const instance = isJsonInstancePath(opts.instance) ? await readInstanceJsonFile(opts.instance) : await readInstanceFile(opts.instance);
      const options: ConfigDriveOptions = { ...configDriveOptionsFromInstance(instance), ...limits };
      if (opts.layout !== undefined) options.layouts = usage(() => parseLayouts(opts.layout!.split(',')));
      if (opts.label !== undefined) options.label = usage(() => checkLabel(opts.label!));
      const out = opts.out ?? instance.configDrive?.path;
      if (!out) throw new UsageError('no output path: give --out, or /instance/configDrive/@path in the instance', { file: opts.instance });
      await refuseOutOverInput(out, opts.instance, 'the config drive', opts.out === undefined ? `the config drive path ${out} (/instance/configDrive/@path)` : undefined);
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
