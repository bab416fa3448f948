import { writeFileAtomic } from '../fs/atomic-write.js';
import type { Instance } from '../instance/model.js';
import { sourceOf, type InstanceSource } from '../instance/source.js';
import { buildConfigDrive, type BuiltConfigDrive, type ConfigDriveOptions } from './build.js';
import { buildConfigDriveFromInstance } from './from-instance.js';
import type { ConfigDriveInput } from './input.js';

/** The drive holds the admin password: only the owner (the node's user) may read it. */
export const CONFIG_DRIVE_MODE = 0o600;

/**
 * Builds the drive and writes it to `path` atomically (temporary file in the
 * same folder, fsync, rename) with mode 0600. Everything that can fail on the
 * input fails before the file system is touched; a failed write leaves no
 * partial image (IoError, e.g. when the folder does not exist).
 */
export async function writeConfigDrive(path: string, input: ConfigDriveInput, options: ConfigDriveOptions = {}): Promise<BuiltConfigDrive> {
  return written(path, buildConfigDrive(input, options));
}

/**
 * An instance's drive (buildConfigDriveFromInstance: a refusal of one of its fields names the
 * file and line it was read from, `source`), written to `path` as writeConfigDrive writes.
 */
export async function writeConfigDriveFromInstance(
  path: string,
  instance: Instance,
  options: ConfigDriveOptions = {},
  source: InstanceSource | undefined = sourceOf(instance),
): Promise<BuiltConfigDrive> {
  return written(path, buildConfigDriveFromInstance(instance, options, source));
}

async function written(path: string, drive: BuiltConfigDrive): Promise<BuiltConfigDrive> {
  await writeFileAtomic(path, drive.image, { mode: CONFIG_DRIVE_MODE });
  return drive;
}
