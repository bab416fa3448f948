import type { ConfigDriveInput } from '../input.js';
import { buildNetworkData } from '../network-data.js';
import type { DriveFile } from '../tree.js';
import { jsonFile } from './layout.js';

/**
 * The dated metadata versions written besides `latest`, from Nova's
 * `OPENSTACK_VERSIONS` (nova/api/metadata/base.py). cloud-init reads the newest
 * one it knows (2018-08-27 for current releases), falling back to `latest`, so
 * every folder carries the same user data.
 */
export const OPENSTACK_VERSIONS = [
  '2012-08-10',
  '2013-04-04',
  '2013-10-17',
  '2015-10-15',
  '2016-06-30',
  '2016-10-06',
  '2017-02-22',
  '2018-08-27',
] as const;

/** Versions from which Nova writes each optional file (Havana, Liberty, Newton). */
const VENDOR_DATA_SINCE = '2013-10-17';
const NETWORK_DATA_SINCE = '2015-10-15';
const VENDOR_DATA2_SINCE = '2016-10-06';

/** `meta_data.json`: Nova's keys, in Nova's order (`_metadata_as_json`), without its random seed so the drive stays reproducible. */
export function openstackMetaData(input: ConfigDriveInput, version: string): Record<string, unknown> {
  const md: Record<string, unknown> = { uuid: input.uuid, meta: sortedRecord(input.meta ?? {}) };
  if (input.password) md.admin_pass = input.password;
  const keys = input.publicKeys ?? [];
  md.public_keys = Object.fromEntries(keys.map((k) => [k.name, k.data]));
  md.keys = keys.map((k) => ({ name: k.name, type: k.type ?? 'ssh', data: k.data }));
  md.hostname = input.hostname;
  md.name = input.name;
  md.launch_index = input.launchIndex ?? 0;
  md.availability_zone = input.availabilityZone ?? 'nova';
  if (input.projectId !== undefined && atLeast(version, NETWORK_DATA_SINCE)) md.project_id = input.projectId;
  return md;
}

/**
 * `openstack/<version>/` for `latest` and every dated version: meta_data.json
 * always, user_data when the instance has user data, vendor_data.json from
 * 2013-10-17, network_data.json from 2015-10-15 and vendor_data2.json from
 * 2016-10-06, as Nova writes them.
 */
export function openstackLayout(input: ConfigDriveInput): DriveFile[] {
  const files: DriveFile[] = [];
  // Identical files across versions share one byte array (the ISO writer then stores them once).
  const encoded = new Map<string, Uint8Array>();
  const json = (path: string, value: unknown) => {
    const text = JSON.stringify(value);
    let data = encoded.get(text);
    if (!data) encoded.set(text, (data = jsonFile(path, value).data));
    files.push({ path, data });
  };
  const network = buildNetworkData(input);
  for (const version of [...OPENSTACK_VERSIONS, 'latest']) {
    const dir = `openstack/${version}`;
    json(`${dir}/meta_data.json`, openstackMetaData(input, version));
    if (input.userData !== undefined && input.userData.length > 0) files.push({ path: `${dir}/user_data`, data: input.userData });
    if (atLeast(version, VENDOR_DATA_SINCE)) json(`${dir}/vendor_data.json`, input.vendorData ?? {});
    if (atLeast(version, NETWORK_DATA_SINCE)) json(`${dir}/network_data.json`, network);
    if (atLeast(version, VENDOR_DATA2_SINCE)) json(`${dir}/vendor_data2.json`, {});
  }
  return files;
}

/** `latest` is newer than every dated version; dated versions compare as strings. */
function atLeast(version: string, since: string): boolean {
  return version === 'latest' || version >= since;
}

function sortedRecord(r: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
