import type { ConfigDriveInput } from '../input.js';
import type { DriveFile } from '../tree.js';
import { jsonFile } from './layout.js';

/** EC2 versions Nova writes with its default `config_drive_skip_versions`. */
export const EC2_VERSIONS = ['2009-04-04', 'latest'] as const;

/**
 * `meta-data.json` (hyphen, unlike OpenStack's underscore) with the EC2 keys
 * Nova's `get_ec2_metadata` produces that domforge knows; `public-keys` uses
 * Nova's `{"0": {"_name": "0=<name>", "openssh-key": ...}}` shape.
 */
export function ec2MetaData(input: ConfigDriveInput): Record<string, unknown> {
  const md: Record<string, unknown> = {};
  if (input.imageId !== undefined) md['ami-id'] = input.imageId;
  md['ami-launch-index'] = input.launchIndex ?? 0;
  md.hostname = input.hostname;
  md['instance-id'] = input.name;
  if (input.instanceType !== undefined) md['instance-type'] = input.instanceType;
  md['local-hostname'] = input.hostname;
  const localIp = input.cloudstack?.localIp ?? input.networks?.find((n) => n.ip)?.ip;
  if (localIp) md['local-ipv4'] = localIp;
  md.placement = { 'availability-zone': input.availabilityZone ?? 'nova' };
  if (input.cloudstack?.publicHostname) md['public-hostname'] = input.cloudstack.publicHostname;
  if (input.cloudstack?.publicIp) md['public-ipv4'] = input.cloudstack.publicIp;
  const keys = input.publicKeys ?? [];
  if (keys.length) {
    md['public-keys'] = Object.fromEntries(keys.map((k, i) => [String(i), { _name: `${i}=${k.name}`, 'openssh-key': k.data }]));
  }
  return md;
}

/** `ec2/2009-04-04/` and `ec2/latest/`: meta-data.json, and user-data when present. */
export function ec2Layout(input: ConfigDriveInput): DriveFile[] {
  const files: DriveFile[] = [];
  const md = jsonFile('meta-data.json', ec2MetaData(input)).data;
  for (const version of EC2_VERSIONS) {
    files.push({ path: `ec2/${version}/meta-data.json`, data: md });
    if (input.userData !== undefined && input.userData.length > 0) files.push({ path: `ec2/${version}/user-data`, data: input.userData });
  }
  return files;
}
