import { ConfigDriveError } from '../errors.js';
import type { Instance } from '../instance/model.js';
import { duplicateMetadataKey, duplicateMetadataMessage, metadataKeyPath } from '../instance/metadata.js';
import { placeOf, sourceOf, type InstanceSource } from '../instance/source.js';
import { decodeBase64 } from '../instance/user-data.js';
import { buildConfigDrive, type BuiltConfigDrive, type ConfigDriveOptions } from './build.js';
import type { ConfigDriveInput, NetworkInterface } from './input.js';
import { hostNameOf, instancePathOf, largestFieldOf, type FieldSize } from './instance-path.js';
import { ImageCapError } from './iso9660.js';

/**
 * Maps an instance to what its config drive says (pure). Where each field comes from:
 * - `uuid`, `name` (instance id), `launchIndex`, `availabilityZone`, `password`, `metadata` → same-named fields;
 * - hostname: `privateDnsName`, else `dnsName`, else the instance id, without the whitespace around it (hostNameOf);
 * - user data: `/instance/userData` base64-decoded to the exact bytes (empty = none);
 * - the ssh key: `/instance/key/@sshKey`, named `key` (CloudStack's default key name);
 * - NICs (`nics` then `extraNics`): MAC, private IP and bridge; no netmask is known, so guests use DHCP;
 * - EC2/CloudStack extras: `VmType` (instance type, service offering), `imageId`, `account` (project id),
 *   the primary NIC's public and private IPs, `dnsName` (public host name);
 * - `timestamp`: `/instance/timestamps/launchTime` (0 when absent), so rebuilding gives the same bytes.
 * A metadata key given twice is refused (the parsers refuse it; an Instance built in code may have it):
 * `meta` holds one value a key, and the other would be lost.
 */
export function configDriveInputFromInstance(instance: Instance): ConfigDriveInput {
  const launchIndex = instance.launchIndex === '' ? 0 : Number(instance.launchIndex);
  if (!Number.isInteger(launchIndex) || launchIndex < 0) {
    throw new ConfigDriveError(`launchIndex ${JSON.stringify(instance.launchIndex)} is not a non-negative integer`, { path: '/instance/launchIndex' });
  }
  const launch = instance.timestamps.find(([k]) => k === 'launchTime')?.[1];
  // Decimal digits only (spaces around them are the XML's): Number() would also take "0x10", "1e3" or "0b1".
  const digits = launch?.trim() ?? '';
  const timestamp = digits === '' ? 0 : /^\d+$/.test(digits) ? Number(digits) : NaN;
  if (!Number.isInteger(timestamp) || timestamp < 0) {
    throw new ConfigDriveError(`launchTime ${JSON.stringify(launch)} is not whole seconds since 1970`, { path: '/instance/timestamps/launchTime' });
  }
  const networks: NetworkInterface[] = [
    ...instance.nics.map((n) => nic(n.mac, n.privateIp, n.bridgeDeviceName)),
    ...instance.extraNics.map((n) => nic(n.mac, n.privateIp, n.bridgeDeviceName)),
  ];
  const primary = instance.nics.find((n) => (n.device ?? 0) === 0) ?? instance.nics[0];
  const sshKey = instance.key.sshKey.trim();
  const dup = duplicateMetadataKey(instance.metadata);
  if (dup) throw new ConfigDriveError(duplicateMetadataMessage(dup), { path: metadataKeyPath(dup.second) });
  return {
    uuid: instance.uuid,
    name: instance.name,
    hostname: hostNameOf(instance).value,
    availabilityZone: instance.availabilityZone || undefined,
    launchIndex,
    userData: decodeUserData(instance.userData),
    publicKeys: sshKey ? [{ name: 'key', type: 'ssh', data: sshKey }] : [],
    password: instance.password || undefined,
    meta: Object.fromEntries(instance.metadata),
    projectId: instance.account || undefined,
    instanceType: instance.VmType || undefined,
    imageId: instance.imageId || undefined,
    networks,
    cloudstack: {
      serviceOffering: instance.VmType || undefined,
      publicIp: usableIp(primary?.publicIp),
      localIp: usableIp(primary?.privateIp),
      publicHostname: instance.dnsName.trim() || undefined,
    },
    timestamp,
  };
}

/**
 * Builds an instance's config drive in memory (pure): {@link configDriveInputFromInstance},
 * then buildConfigDrive with `options` over the instance's own ({@link configDriveOptionsFromInstance}:
 * an option given wins). A refusal that comes from one of the instance's fields names that
 * field where it is written: a ConfigDriveError with the file, the line and column of the
 * element (`<userData>`, `<launchIndex>`, the metadata item, `<timestamps><launchTime>`, the
 * NIC, …) and its instance path (`/instance/userData`), with the drive input's error as its
 * `cause`. The place is the instance.xml or JSON description it was read from (`source`, by
 * default the instance's own: see sourceOf); an Instance built or copied in code has none, and
 * the error names the path alone. An image over its cap (`maxImageBytes`) names the field
 * that holds the most bytes on the drive ({@link largestFieldOf}: the user data, the ssh key,
 * the metadata…) the same way. Any other refusal (of an option, such as a label given as an
 * option) is thrown as it is.
 */
export function buildConfigDriveFromInstance(instance: Instance, options: ConfigDriveOptions = {}, source: InstanceSource | undefined = sourceOf(instance)): BuiltConfigDrive {
  let input: ConfigDriveInput | undefined;
  try {
    input = configDriveInputFromInstance(instance);
    return buildConfigDrive(input, { ...configDriveOptionsFromInstance(instance), ...options });
  } catch (e) {
    if (e instanceof ImageCapError) throw imageCapError(e, largestFieldOf(instance, input?.userData?.length ?? 0), source);
    const path = e instanceof ConfigDriveError ? instancePathOf(e.path, instance, options) : undefined;
    if (path === undefined) throw e;
    const err = e as ConfigDriveError;
    throw new ConfigDriveError(err.shortMessage, { ...placeOf(source, path), cause: err, details: err.details });
  }
}

/** The image cap's refusal, at the field that holds the most bytes on the drive. */
function imageCapError(err: ImageCapError, field: FieldSize, source: InstanceSource | undefined): ConfigDriveError {
  const what = field.items === undefined ? `${field.bytes} bytes` : `the metadata, ${field.bytes} bytes in ${field.items} items`;
  return new ConfigDriveError(`config drive would be ${err.imageBytes} bytes, over the ${err.maxImageBytes}-byte image cap (maxImageBytes, or --max-image on the CLI); its largest field is ${what}`, {
    ...placeOf(source, field.path),
    cause: err,
  });
}

/** Label and layouts from `/instance/configDrive`, when the instance says. */
export function configDriveOptionsFromInstance(instance: Instance): ConfigDriveOptions {
  const cd = instance.configDrive;
  if (!cd) return {};
  return { label: cd.label || undefined, layouts: cd.layouts.length ? cd.layouts : undefined };
}

function nic(mac: string, ip: string | undefined, bridge: string): NetworkInterface {
  return { mac, ip: usableIp(ip), bridge: bridge || undefined };
}

/** Eucalyptus writes `0.0.0.0` for "no address". */
function usableIp(ip: string | undefined): string | undefined {
  return ip && ip !== '0.0.0.0' ? ip : undefined;
}

/** The user data's bytes, or none when it is empty (whitespace allowed, as XML pretty-printing adds; see compactBase64). */
export function decodeUserData(base64: string): Uint8Array | undefined {
  const bytes = decodeBase64(base64);
  if (bytes === undefined) {
    throw new ConfigDriveError('userData is not valid base64; instance.xml carries user data base64-encoded', { path: '/instance/userData' });
  }
  return bytes.length ? bytes : undefined;
}
