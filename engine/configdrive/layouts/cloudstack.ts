import { ConfigDriveError } from '../../errors.js';
import type { ConfigDriveInput } from '../input.js';
import { checkPortableName, utf8, type DriveFile } from '../tree.js';

/**
 * CloudStack's own tree (ConfigDriveBuilder): `cloudstack/metadata/<name>.txt`
 * for every non-empty value, `cloudstack/userdata/user_data.txt` with the
 * decoded user data, `cloudstack/password/vm_password.txt`. Values are written
 * as is, without a trailing newline, as CloudStack does.
 */
export function cloudstackMetadata(input: ConfigDriveInput): [string, string][] {
  const cs = input.cloudstack ?? {};
  const localIp = cs.localIp ?? input.networks?.find((n) => n.ip)?.ip;
  const entries: [string, string | undefined][] = [
    ['availability-zone', input.availabilityZone],
    ['cloud-identifier', cs.cloudIdentifier],
    ['hypervisor-host-name', cs.hypervisorHostName],
    ['instance-id', input.name],
    ['local-hostname', input.hostname],
    ['local-ipv4', localIp],
    ['public-hostname', cs.publicHostname ?? cs.publicIp ?? input.hostname],
    ['public-ipv4', cs.publicIp],
    ['public-keys', (input.publicKeys ?? []).map((k) => k.data).join('\n')],
    ['service-offering', cs.serviceOffering],
    ['vm-id', cs.vmId ?? input.uuid],
  ];
  const known = new Set(entries.map(([k]) => k));
  for (const [k, v] of Object.entries(cs.extra ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (known.has(k)) {
      throw new ConfigDriveError(`CloudStack extra metadata ${JSON.stringify(k)} would overwrite the built-in entry of that name`, {
        path: `/cloudstack/extra/${k}`,
      });
    }
    // A key is one file name: `a/b` must not make a sub-folder.
    checkPortableName(`${k}.txt`, `cloudstack/metadata/${k}.txt`);
    entries.push([k, v]);
  }
  return entries.filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '');
}

export function cloudstackLayout(input: ConfigDriveInput): DriveFile[] {
  const files: DriveFile[] = cloudstackMetadata(input).map(([k, v]) => ({ path: `cloudstack/metadata/${k}.txt`, data: utf8(v) }));
  if (input.userData !== undefined && input.userData.length > 0) files.push({ path: 'cloudstack/userdata/user_data.txt', data: input.userData });
  if (input.password) files.push({ path: 'cloudstack/password/vm_password.txt', data: utf8(input.password) });
  return files;
}
