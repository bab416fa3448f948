import type { ConfigDriveInput } from '../input.js';
import type { DriveFile } from '../tree.js';

/** The layouts domforge can put on a drive. */
export type LayoutName = 'openstack' | 'ec2' | 'cloudstack';

/** Every layout, in the order they are listed in help and documentation; all on by default. */
export const LAYOUT_NAMES: readonly LayoutName[] = ['openstack', 'ec2', 'cloudstack'];

/** A layout is a pure function from the input to the files it contributes. */
export type Layout = (input: ConfigDriveInput) => DriveFile[];

/** Deterministic JSON: keys in the order the layout builds them, no spacing. */
export function jsonFile(path: string, value: unknown): DriveFile {
  return { path, data: new TextEncoder().encode(JSON.stringify(value)) };
}
