import { ConfigDriveError } from '../../errors.js';
import type { ConfigDriveInput } from '../input.js';
import type { DriveFile } from '../tree.js';
import { cloudstackLayout } from './cloudstack.js';
import { ec2Layout } from './ec2.js';
import { LAYOUT_NAMES, type Layout, type LayoutName } from './layout.js';
import { openstackLayout } from './openstack.js';

const LAYOUTS: Record<LayoutName, Layout> = { openstack: openstackLayout, ec2: ec2Layout, cloudstack: cloudstackLayout };

/** Checks a layout list such as the CLI's `--layout openstack,ec2` (duplicates are ignored). */
export function parseLayouts(names: readonly string[]): LayoutName[] {
  const out: LayoutName[] = [];
  for (const raw of names) {
    const name = raw.trim();
    if (!(LAYOUT_NAMES as readonly string[]).includes(name)) {
      throw new ConfigDriveError(`unknown config drive layout ${JSON.stringify(name)}; choose from ${LAYOUT_NAMES.join(', ')}`);
    }
    if (!out.includes(name as LayoutName)) out.push(name as LayoutName);
  }
  if (out.length === 0) throw new ConfigDriveError(`choose at least one config drive layout from ${LAYOUT_NAMES.join(', ')}`);
  return out;
}

/** The drive's files for the chosen layouts (pure; the input is assumed validated). */
export function buildLayoutFiles(input: ConfigDriveInput, layouts: readonly LayoutName[] = LAYOUT_NAMES): DriveFile[] {
  return parseLayouts(layouts).flatMap((name) => LAYOUTS[name](input));
}

export { LAYOUT_NAMES, type LayoutName } from './layout.js';
