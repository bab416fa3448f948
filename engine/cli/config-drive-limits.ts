import { Option } from 'commander';
import type { ConfigDriveLimits } from '../configdrive/build.js';
import { DEFAULT_MAX_USER_DATA_BYTES } from '../configdrive/input.js';
import { DEFAULT_MAX_IMAGE_BYTES } from '../configdrive/iso9660.js';
import { UsageError } from '../errors.js';

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
  if (o.maxUserData !== undefined) limits.maxUserDataBytes = bytes('--max-user-data', o.maxUserData, 0);
  if (o.maxImage !== undefined) limits.maxImageBytes = bytes('--max-image', o.maxImage, 1);
  return limits;
}

/** Decimal digits only: `Number` would take `1e3`, `0x400` or ` 5` as numbers of bytes. */
function bytes(flag: string, value: string, min: 0 | 1): number {
  const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`Expected \`${flag}\` to be ${min ? 'a positive' : 'a non-negative'} integer (bytes), got ${JSON.stringify(value)}`);
  }
  return n;
}
