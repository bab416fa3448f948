import { ConfigDriveError } from '../errors.js';
import { findLoneSurrogate } from '../xml/serialize.js';
import { shownValue } from '../option-checks.js';

/**
 * Everything a config drive says about one instance, in domforge's own shape.
 * Pure data: no file names, no layout decisions (those live in `layouts/`).
 * Build it by hand, or from an instance with `configDriveInputFromInstance`.
 */
export interface ConfigDriveInput {
  /** The instance's UUID. Becomes `uuid` in meta_data.json, which cloud-init reports as instance-id. Required. */
  uuid: string;
  /** The instance id (e.g. Eucalyptus `i-0a1b2c3d`). Becomes `name` in meta_data.json and the EC2/CloudStack instance-id. Required. */
  name: string;
  /** Guest host name (`hostname` / `local-hostname`). Required. */
  hostname: string;
  /** Availability zone. Default: `nova`, as Nova reports when no zone is set. */
  availabilityZone?: string;
  /** Position of the instance in its reservation. Default 0. */
  launchIndex?: number;
  /** User data, already decoded, written byte for byte. Default: none (no user_data file at all). */
  userData?: Uint8Array;
  /** Public keys for the guest's default user. Default: none. */
  publicKeys?: PublicKey[];
  /** Administrator password (OpenStack `admin_pass`, CloudStack `vm_password`). Default: none. */
  password?: string;
  /** Free-form instance metadata (OpenStack `meta`). Written with keys sorted. Default `{}`. */
  meta?: Record<string, string>;
  /** Any JSON value for vendor_data.json: null, booleans, finite numbers, strings, arrays and plain objects (anything else is refused at its path). Default `{}`. */
  vendorData?: unknown;
  /** Project (tenant/account) id, OpenStack `project_id`. Default: omitted. */
  projectId?: string;
  /** Instance type, EC2 `instance-type` (e.g. `m1.small`). Default: omitted. */
  instanceType?: string;
  /** Image id, EC2 `ami-id` (e.g. `emi-12345678`). Default: omitted. */
  imageId?: string;
  /** The instance's NICs in device order; they become network_data.json. Default: none. */
  networks?: NetworkInterface[];
  /** DNS servers, network_data.json `services`. Default: none. */
  dnsServers?: string[];
  /** Fields only the CloudStack layout carries. Default: none. */
  cloudstack?: CloudStackFields;
  /**
   * Seconds since the Unix epoch, used for every date in the image (volume
   * descriptors, directory records, Rock Ridge TF), so the same input gives the
   * same bytes. Use the instance's launch time. Required.
   */
  timestamp: number;
}

export interface PublicKey {
  /** Key name (`mykey`). */
  name: string;
  /** Key type; `ssh` for OpenSSH keys. Default `ssh`. */
  type?: string;
  /** The key itself, e.g. `ssh-ed25519 AAAA... user@host`. */
  data: string;
}

export interface NetworkInterface {
  /** MAC address, `52:54:00:12:34:56`. */
  mac: string;
  /** IPv4 or IPv6 address. Without `ip` and `netmask` the network is `ipv4_dhcp`. */
  ip?: string;
  /** Netmask (`255.255.255.0`) or IPv6 prefix length. */
  netmask?: string;
  /** Default gateway; gives a default route. */
  gateway?: string;
  /** Host bridge the NIC is attached to; used as the network id. */
  bridge?: string;
  /** MTU. Default: omitted (`null`), the guest keeps its own. */
  mtu?: number;
}

/** CloudStack metadata entries (`cloudstack/metadata/<name>.txt`); each one is written only when non-empty. */
export interface CloudStackFields {
  /** `service-offering`. */
  serviceOffering?: string;
  /** `public-ipv4`. */
  publicIp?: string;
  /** `local-ipv4`. Default: the first NIC's IP. */
  localIp?: string;
  /** `public-hostname`. Default: the public IP, else the host name. */
  publicHostname?: string;
  /** `hypervisor-host-name`. */
  hypervisorHostName?: string;
  /** `cloud-identifier`, e.g. `CloudStack-{<uuid>}`. */
  cloudIdentifier?: string;
  /** `vm-id`. Default: the instance UUID. */
  vmId?: string;
  /** Custom entries (CloudStack's user-data "details"), one file `<key>.txt` each. Keys must be portable file names. */
  extra?: Record<string, string>;
}

/**
 * Default cap on decoded user data: 64 KiB. It takes what Nova's API takes (65535 bytes of
 * base64, about 48 KiB decoded) and EC2's (16 KB), with room for a larger cloud-config.
 */
export const DEFAULT_MAX_USER_DATA_BYTES = 64 * 1024;

/** Checks an input before any tree is built: required fields, NUL bytes, the user-data cap, MACs and numbers. */
export function validateConfigDriveInput(input: ConfigDriveInput, maxUserDataBytes = DEFAULT_MAX_USER_DATA_BYTES): void {
  for (const key of ['uuid', 'name', 'hostname'] as const) {
    if (typeof input[key] !== 'string' || input[key].trim() === '') {
      throw new ConfigDriveError(`config drive input needs a non-empty \`${key}\`, got ${JSON.stringify(input[key])}`, { path: `/${key}` });
    }
  }
  if (!Number.isInteger(input.timestamp) || input.timestamp < 0 || input.timestamp >= MAX_TIMESTAMP) {
    throw new ConfigDriveError(
      `\`timestamp\` must be whole seconds since 1970 before the year 2100, got ${shownValue(input.timestamp)}`,
      { path: '/timestamp' },
    );
  }
  if (input.launchIndex !== undefined && (!Number.isInteger(input.launchIndex) || input.launchIndex < 0)) {
    throw new ConfigDriveError(`\`launchIndex\` must be a non-negative integer, got ${shownValue(input.launchIndex)}`, {
      path: '/launchIndex',
    });
  }
  if (input.userData !== undefined) {
    if (!(input.userData instanceof Uint8Array)) throw new ConfigDriveError('`userData` must be bytes (Uint8Array)', { path: '/userData' });
    if (input.userData.length > maxUserDataBytes) {
      throw new ConfigDriveError(
        `user data is ${input.userData.length} bytes once decoded, over the ${maxUserDataBytes}-byte cap (raise maxUserDataBytes, or --max-user-data on the CLI, to allow it)`,
        { path: '/userData' },
      );
    }
  }
  for (const [i, nic] of (input.networks ?? []).entries()) {
    if (typeof nic !== 'object' || nic === null) {
      throw new ConfigDriveError(`NIC ${i} is ${JSON.stringify(nic) ?? typeof nic}; expected an object with a \`mac\``, { path: `/networks/${i}` });
    }
    if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(nic.mac ?? '')) {
      throw new ConfigDriveError(`NIC ${i} has MAC address ${JSON.stringify(nic.mac)}; expected six hex pairs like 52:54:00:12:34:56`, {
        path: `/networks/${i}/mac`,
      });
    }
    if (nic.mtu !== undefined && (!Number.isInteger(nic.mtu) || nic.mtu < 68 || nic.mtu > 65535)) {
      throw new ConfigDriveError(`NIC ${i} has MTU ${shownValue(nic.mtu)}; expected an integer from 68 to 65535`, {
        path: `/networks/${i}/mtu`,
      });
    }
  }
  const keyNames = new Map<string, number>();
  for (const [i, k] of (input.publicKeys ?? []).entries()) {
    if (typeof k !== 'object' || k === null || typeof k.name !== 'string' || k.name === '' || typeof k.data !== 'string' || k.data === '') {
      throw new ConfigDriveError(`public key ${i} needs a non-empty name and data`, { path: `/publicKeys/${i}` });
    }
    // OpenStack's public_keys maps name → key: a second key of the same name would replace the first.
    const first = keyNames.get(k.name);
    if (first !== undefined) {
      throw new ConfigDriveError(`public keys ${first} and ${i} are both named ${JSON.stringify(k.name)}; give each key its own name`, { path: `/publicKeys/${i}/name` });
    }
    keyNames.set(k.name, i);
  }
  if (input.vendorData !== undefined) rejectNonJson(input.vendorData, '/vendorData', []);
  const { userData: _bytes, ...textual } = input;
  rejectUnwritable(textual, '');
}

/**
 * `vendorData` is written with JSON.stringify, which throws on a BigInt or a cycle (a bare
 * TypeError or RangeError), writes nothing at all for a function or a symbol (an empty
 * vendor_data.json, for which cloud-init refuses the whole drive: BrokenMetadata), and
 * quietly turns NaN into null, a Date into a string and a Map into `{}`. So only JSON data
 * is taken: null, booleans, finite numbers, strings, arrays and plain objects (a member
 * that is undefined is left out, as JSON.stringify leaves it).
 */
function rejectNonJson(value: unknown, path: string, open: object[]): void {
  const refuse = (what: string) => {
    throw new ConfigDriveError(`vendorData must be JSON data (null, booleans, finite numbers, strings, arrays and plain objects), but at ${path} it is ${what}`, { path });
  };
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) refuse(`${value}, which JSON cannot write`);
    return;
  }
  if (typeof value !== 'object') refuse(value === undefined ? 'undefined, which JSON writes as null in a list' : `a ${typeof value}`);
  const object = value as object;
  if (open.includes(object)) refuse('the object that holds it (a cycle)');
  const proto = Object.getPrototypeOf(object) as object | null;
  if (Array.isArray(object)) {
    open.push(object);
    object.forEach((v: unknown, i) => rejectNonJson(v, `${path}/${i}`, open));
  } else if (proto === Object.prototype || proto === null) {
    open.push(object);
    for (const [k, v] of Object.entries(object)) if (v !== undefined) rejectNonJson(v, `${path}/${pathSegment(k)}`, open);
  } else {
    refuse(`a ${(object.constructor as { name?: string } | undefined)?.name || 'non-plain'} object`);
  }
  open.pop();
}

/** 2100-01-01T00:00:00Z: keeps every date representable in the 7-byte ISO 9660 form and sane. */
const MAX_TIMESTAMP = 4102444800;

/**
 * Text that cannot be written the same on every layout is refused wherever it appears: NUL
 * (C strings of JSON consumers, CloudStack's text files) and lone surrogates (no UTF-8 form).
 */
function rejectUnwritable(value: unknown, path: string): void {
  if (typeof value === 'string') {
    if (value.includes('\0')) {
      throw new ConfigDriveError(`metadata value at ${path || '/'} contains a NUL byte (offset ${value.indexOf('\0')}); remove it`, {
        path: path || '/',
      });
    }
    const lone = findLoneSurrogate(value);
    if (lone >= 0) {
      throw new ConfigDriveError(
        `metadata value at ${path || '/'} contains a lone UTF-16 surrogate (U+${value.charCodeAt(lone).toString(16).toUpperCase()} at offset ${lone}), which has no UTF-8 form`,
        { path: path || '/' },
      );
    }
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => rejectUnwritable(v, `${path}/${i}`));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const at = `${path}/${pathSegment(k)}`;
      rejectUnwritable(k, at);
      rejectUnwritable(v, at);
    }
  }
}

/** Text {@link validateConfigDriveInput} refuses wherever it appears: a NUL or a lone UTF-16 surrogate. */
export function isUnwritable(text: string): boolean {
  return text.includes('\0') || findLoneSurrogate(text) >= 0;
}

/** A key as an error path shows it (`/meta/KEY`): as written out, a lone surrogate as U+FFFD, a NUL as `\0`. */
export function pathSegment(key: string): string {
  return Buffer.from(key, 'utf8').toString('utf8').replace(/\0/g, '\\0');
}
