import { expectNonNegativeInteger, expectPositiveInteger } from '../option-checks.js';
import { DEFAULT_MAX_USER_DATA_BYTES, validateConfigDriveInput, type ConfigDriveInput } from './input.js';
import { buildIsoImage, DEFAULT_LABEL, DEFAULT_MAX_IMAGE_BYTES } from './iso9660.js';
import { buildLayoutFiles, LAYOUT_NAMES, type LayoutName } from './layouts/index.js';
import type { DriveFile } from './tree.js';

/** Options of a config drive build. */
export interface ConfigDriveOptions {
  /** Layouts on the drive. Default: all of `openstack`, `ec2`, `cloudstack`. */
  layouts?: readonly LayoutName[];
  /** Volume label. Default `config-2` (older CloudStack guests look for `config`). */
  label?: string;
  /** Largest decoded user data accepted, in bytes. Default 65536 (64 KiB). */
  maxUserDataBytes?: number;
  /** Largest image accepted, in bytes. Default 67108864 (64 MiB). */
  maxImageBytes?: number;
}

/** The caps of a build, which a node controller (`maxUserDataBytes`, `maxImageBytes`) and the CLI (`--max-user-data`, `--max-image`) set. */
export type ConfigDriveLimits = Pick<ConfigDriveOptions, 'maxUserDataBytes' | 'maxImageBytes'>;

/** A built drive: its files (for inspection and tests) and the image bytes. */
export interface BuiltConfigDrive {
  files: DriveFile[];
  image: Uint8Array;
  label: string;
}

/** The files of a drive, validated, for the chosen layouts. Pure. */
export function buildConfigDriveFiles(input: ConfigDriveInput, options: ConfigDriveOptions = {}): DriveFile[] {
  // NaN or Infinity would let any size through: every comparison with them is false.
  expectNonNegativeInteger('maxUserDataBytes', options.maxUserDataBytes);
  validateConfigDriveInput(input, options.maxUserDataBytes ?? DEFAULT_MAX_USER_DATA_BYTES);
  return buildLayoutFiles(input, options.layouts ?? LAYOUT_NAMES);
}

/**
 * Builds a config drive in memory: validates the input, lays out the files and
 * writes the ISO 9660 image. Pure and deterministic; throws ConfigDriveError
 * on bad input, before anything is written anywhere.
 */
export function buildConfigDrive(input: ConfigDriveInput, options: ConfigDriveOptions = {}): BuiltConfigDrive {
  expectPositiveInteger('maxImageBytes', options.maxImageBytes);
  const files = buildConfigDriveFiles(input, options);
  const label = options.label ?? DEFAULT_LABEL;
  const image = buildIsoImage(files, { label, timestamp: input.timestamp, maxImageBytes: options.maxImageBytes ?? DEFAULT_MAX_IMAGE_BYTES });
  return { files, image, label };
}
