import { Option } from 'commander';
import type { ConfigDriveLimits } from '../configdrive/build.js';
import { DEFAULT_MAX_USER_DATA_BYTES } from '../configdrive/input.js';
import { DEFAULT_MAX_IMAGE_BYTES } from '../configdrive/iso9660.js';
import { integerFlag } from './number-flags.js';

/** The flags of {@link maxUserDataOption} and {@link maxImageOption}, as commander gives them. */
export interface ConfigDriveLimitFlags {
  maxUserData?: string;
  maxImage?: string;
}

/** `--max-user-data <bytes>`: the config drive's `maxUserDataBytes`, the same on `configdrive` and `launch`. */
export const maxUserDataOption = () => new Option('--max-user-data <bytes>', `largest decoded user data accepted (default: ${DEFAULT_MAX_USER_DATA_BYTES}, 64 KiB; 0 refuses any)`);

/** `--max-image <bytes>`: the config drive's `maxImageBytes`, the same on `configdrive` and `launch`. */
export const maxImageOption = () => new Option('--max-image <bytes>', `largest config drive image accepted (default: ${DEFAULT_MAX_IMAGE_BYTES}, 64 MiB)`);

/** The caps given by the flags (those not given are left to the builder's defaults); a bad value is a usage error (exit 2). */
export function configDriveLimits(o: ConfigDriveLimitFlags): ConfigDriveLimits {
  const limits: ConfigDriveLimits = {};
  if (o.maxUserData !== undefined) limits.maxUserDataBytes = integerFlag('--max-user-data', o.maxUserData, 0, 'bytes');
  if (o.maxImage !== undefined) limits.maxImageBytes = integerFlag('--max-image', o.maxImage, 1, 'bytes');
  return limits;
}
