import type { Instance } from '../instance/model.js';
import type { ConfigDriveOptions } from './build.js';
import { isUnwritable, pathSegment } from './input.js';

/**
 * The instance field a config drive refusal is about, by the path it names: a path of the
 * drive input (`/userData`, `/meta/role`, `/networks/1/mac`: see ConfigDriveInput) is
 * mapped back to the field configDriveInputFromInstance made it from (`/instance/userData`,
 * `/instance/metadata/item[2]`, `/instance/nics/nic[2]/@mac`); an instance path is kept.
 * Undefined for what no instance field gives: an option (`maxImageBytes`, a label given as
 * an option) or the drive's own files.
 */
export function instancePathOf(path: string | undefined, instance: Instance, options: ConfigDriveOptions): string | undefined {
  if (path === undefined) return undefined;
  if (path.startsWith('/instance/')) return path;
  // The label is the instance's unless the caller gave another (`--label`).
  if (path === 'label') return instance.configDrive && (options.label === undefined || options.label === instance.configDrive.label) ? '/instance/configDrive/@label' : undefined;
  const [field, ...rest] = path.split('/').slice(1);
  switch (field) {
    case 'uuid':
    case 'name':
    case 'availabilityZone':
    case 'launchIndex':
    case 'userData':
    case 'password':
    case 'imageId':
      return `/instance/${field}`;
    case 'hostname':
      return hostNameOf(instance).path;
    case 'timestamp':
      return '/instance/timestamps/launchTime';
    case 'projectId':
      return '/instance/account';
    case 'instanceType':
      return '/instance/VmType';
    case 'publicKeys':
      return '/instance/key/@sshKey';
    case 'meta':
      return metadataPath(path, instance);
    case 'networks':
      return networkPath(Number(rest[0]), rest[1], instance);
    case 'cloudstack':
      return cloudstackPath(rest[0], instance);
    default:
      return undefined;
  }
}

/**
 * The guest's host name and the field it comes from: `privateDnsName`, else `dnsName`, else the
 * instance id. A host name holds no whitespace, so spaces and line breaks around one (an
 * instance.xml written indented, `<privateDnsName>\n  host\n</privateDnsName>`) are the
 * XML's, not the name's: they are left out, and a name of whitespace only is no name.
 */
export function hostNameOf(instance: Instance): { value: string; path: string } {
  const privateDns = instance.privateDnsName.trim();
  if (privateDns) return { value: privateDns, path: '/instance/privateDnsName' };
  const publicDns = instance.dnsName.trim();
  if (publicDns) return { value: publicDns, path: '/instance/dnsName' };
  return { value: instance.name, path: '/instance/name' };
}

/** `/meta/KEY`: the item whose key (`…/@key`) or value (the item) cannot be written. */
function metadataPath(path: string, instance: Instance): string {
  const i = instance.metadata.findIndex(([k, v]) => `/meta/${pathSegment(k)}` === path && (isUnwritable(k) || isUnwritable(v)));
  if (i < 0) return '/instance/metadata';
  return isUnwritable(instance.metadata[i]![0]) ? `/instance/metadata/item[${i + 1}]/@key` : `/instance/metadata/item[${i + 1}]`;
}

const NIC_ATTRIBUTES: Record<string, string> = { mac: 'mac', ip: 'privateIp', bridge: 'bridgeDeviceName' };

/** `/networks/N/FIELD`: networks are `nics` then `extraNics`, named as validateInstance names them. */
function networkPath(n: number, field: string | undefined, instance: Instance): string | undefined {
  const nics = instance.nics.length;
  const path = n < nics ? nicPath('nics', n, nics) : n - nics < instance.extraNics.length ? nicPath('extraNics', n - nics, instance.extraNics.length) : undefined;
  if (path === undefined) return undefined;
  const attribute = field === undefined ? undefined : NIC_ATTRIBUTES[field];
  return attribute ? `${path}/@${attribute}` : path;
}

const nicPath = (list: 'nics' | 'extraNics', i: number, count: number) => (count > 1 ? `/instance/${list}/nic[${i + 1}]` : `/instance/${list}/nic`);

/** `/cloudstack/FIELD`: the instance type, the public host name, or an address of the primary NIC. */
function cloudstackPath(field: string | undefined, instance: Instance): string | undefined {
  if (field === 'serviceOffering') return '/instance/VmType';
  if (field === 'publicHostname') return '/instance/dnsName';
  if (field !== 'publicIp' && field !== 'localIp') return undefined;
  const primary = instance.nics.findIndex((n) => (n.device ?? 0) === 0);
  const i = primary < 0 ? 0 : primary;
  if (i >= instance.nics.length) return undefined;
  return `${nicPath('nics', i, instance.nics.length)}/@${field === 'publicIp' ? 'publicIp' : 'privateIp'}`;
}

/** An instance field and the bytes it puts on a config drive (the metadata counted as one when no item holds most of it). */
export interface FieldSize {
  path: string;
  bytes: number;
  /** The metadata as a whole: its number of items. */
  items?: number;
}

/**
 * The field of `instance` that holds the most bytes on its config drive, for a refusal that
 * no single value gives, the image cap: the decoded user data (`userDataBytes`), the ssh key,
 * the password, a host name, a NIC's address or bridge, the metadata... Many metadata items
 * of which none holds most of their bytes count as one field, `/instance/metadata`.
 */
export function largestFieldOf(instance: Instance, userDataBytes: number): FieldSize {
  const text = (path: string, value: string | undefined): FieldSize => ({ path, bytes: Buffer.byteLength(value ?? '', 'utf8') });
  const fields: FieldSize[] = [
    { path: '/instance/userData', bytes: userDataBytes },
    text('/instance/key/@sshKey', instance.key.sshKey.trim()),
    text('/instance/password', instance.password),
    ...(['name', 'uuid', 'privateDnsName', 'dnsName', 'availabilityZone', 'account', 'VmType', 'imageId'] as const).map((f) => text(`/instance/${f}`, instance[f])),
    ...instance.nics.flatMap((n, i) => {
      const at = nicPath('nics', i, instance.nics.length);
      return [text(`${at}/@privateIp`, n.privateIp), text(`${at}/@publicIp`, n.publicIp), text(`${at}/@bridgeDeviceName`, n.bridgeDeviceName)];
    }),
    ...instance.extraNics.flatMap((n, i) => {
      const at = nicPath('extraNics', i, instance.extraNics.length);
      return [text(`${at}/@privateIp`, n.privateIp), text(`${at}/@bridgeDeviceName`, n.bridgeDeviceName)];
    }),
  ];
  const items = instance.metadata.map(([k, v], i) => ({ path: `/instance/metadata/item[${i + 1}]`, bytes: Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8') }));
  const total = items.reduce((sum, item) => sum + item.bytes, 0);
  const top = items.reduce<FieldSize | undefined>((a, b) => (a && a.bytes >= b.bytes ? a : b), undefined);
  if (top) fields.push(top.bytes * 2 > total ? top : { path: '/instance/metadata', bytes: total, items: items.length });
  return fields.reduce((a, b) => (b.bytes > a.bytes ? b : a));
}
