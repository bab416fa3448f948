import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { IoError, UsageError } from '../errors.js';

/**
 * The instance folder layout, one folder per instance under the instances folder:
 *
 *     <instances>/<id>/instance.xml          the record (Eucalyptus instance.xml; rewritten atomically on every change)
 *     <instances>/<id>/libvirt.xml           the domain XML given to libvirt (after filters and pre-boot hooks)
 *     <instances>/<id>/config.iso            the config drive, when the instance has one
 *     <instances>/<id>/kvp-items.xml         Hyper-V: the KVP items for AddKvpItems (instead of a config drive)
 *     <instances>/<id>/kvp_pool_0            Hyper-V: the pool-0 file the guest sees once they are delivered
 *     <instances>/<id>/console.log           the guest's serial console (written by the hypervisor)
 *     <instances>/<id>/instance.log          hook and filter output, the controller's steps
 *     <instances>/<id>/vol-XXX.xml           a volume stub; vol-XXX-libvirt.xml its rendered <disk>
 *     <instances>/<id>/eni-XXX.xml           an interface stub; eni-XXX-libvirt.xml its rendered <interface>
 *     <instances>/.kept/<id>-<time>-<why>/   folders kept by `terminate --keep`, a failed pre-clean hook, or keepFailed
 *     <instances>/nc_state.xml               the node's state (enabled or disabled: node-state.ts)
 *     <instances>/controller.log             the output of the controller's start hooks
 *
 * Names starting with a dot are never instances, so `.kept` and editors' or
 * writeFileAtomic's temporary files are never mistaken for one; nor are the names of the
 * instances folder's own files (RESERVED_NAMES), so no instance folder can take their place.
 */
export class InstanceLayout {
  constructor(
    /** The instances folder. */
    readonly root: string,
    /** Where kept folders go (default `<root>/.kept`). */
    readonly keepDir: string = join(root, '.kept'),
  ) {}

  dir(id: string): string {
    return join(this.root, checkInstanceId(id));
  }
  instanceXml(id: string): string {
    return join(this.dir(id), 'instance.xml');
  }
  libvirtXml(id: string): string {
    return join(this.dir(id), 'libvirt.xml');
  }
  configDrive(id: string): string {
    return join(this.dir(id), 'config.iso');
  }
  /** Hyper-V: the CIM-XML `DataItems` of AddKvpItems. */
  kvpItems(id: string): string {
    return join(this.dir(id), 'kvp-items.xml');
  }
  /** Hyper-V: the guest's pool-0 file as it will read it. */
  kvpPool(id: string): string {
    return join(this.dir(id), 'kvp_pool_0');
  }
  consoleLog(id: string): string {
    return join(this.dir(id), 'console.log');
  }
  log(id: string): string {
    return join(this.dir(id), 'instance.log');
  }
  /** `vol-XXX.xml` / `eni-XXX.xml`: the stub of a hot-plugged device. */
  deviceStub(id: string, deviceId: string): string {
    return join(this.dir(id), `${checkDeviceId(deviceId)}.xml`);
  }
  /** `vol-XXX-libvirt.xml` / `eni-XXX-libvirt.xml`: the stub's rendered `<disk>` / `<interface>`. */
  deviceXml(id: string, deviceId: string): string {
    return join(this.dir(id), `${checkDeviceId(deviceId)}-libvirt.xml`);
  }
  /** A fresh folder name under keepDir for an instance's kept files. */
  keptDir(id: string, why: string, now = new Date()): string {
    const stamp = now.toISOString().replace(/[:.]/g, '-');
    return join(this.keepDir, `${checkInstanceId(id)}-${stamp}-${why}`);
  }

  /** The ids of every instance folder, sorted (dot-names and plain files are skipped). */
  async ids(): Promise<string[]> {
    let entries;
    try {
      entries = await readdir(this.root, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new IoError(`cannot list the instances folder: ${(e as Error).message}`, { file: this.root, cause: e });
    }
    return entries
      .filter((d) => d.isDirectory() && isInstanceId(d.name))
      .map((d) => d.name)
      .sort();
  }
}

/** `INSTANCES/nc_state.xml`: the node's state, as Eucalyptus's NC keeps it. */
export const NODE_STATE_FILE = 'nc_state.xml';
/** `INSTANCES/controller.log`: where the output of the controller's start hooks goes (an instance's hooks write its instance.log). */
export const CONTROLLER_LOG = 'controller.log';
/** The instances folder's own files, by name, with what each is: never an instance id. */
export const RESERVED_NAMES: ReadonlyMap<string, string> = new Map([
  [NODE_STATE_FILE, "the node's state file"],
  [CONTROLLER_LOG, "the controller's log"],
]);

/** An instance id usable as a folder name and a libvirt domain name: `i-12345678`, `web-1.a`... */
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/;
/** A device id (`vol-XXX`, `eni-XXX`, an attachment id). */
const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function isInstanceId(id: unknown): id is string {
  return typeof id === 'string' && ID.test(id) && !RESERVED_NAMES.has(id);
}

/** What an instance id may hold, as messages say it. */
const ID_RULE = "letters, digits, '.', '_' and '-' that does not start with '.', '_' or '-' (at most 200 characters)";

/** Why `id`, a well-formed id, cannot name an instance folder (it names one of the instances folder's own files), or undefined. */
function reservedProblem(id: string): string | undefined {
  const reserved = RESERVED_NAMES.get(id);
  return reserved && `${id} is the name of ${reserved}, which domforge keeps in the instances folder: an instance folder cannot take its place`;
}

/** Why `id` cannot name an instance folder, or undefined when it can. */
export function instanceIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string' || !ID.test(id)) return `an instance id is ${ID_RULE}`;
  return reservedProblem(id);
}

/** Refuses an id that cannot be a folder name under the instances folder (`..`, `a/b`, `.x`, control characters, nc_state.xml). */
export function checkInstanceId(id: unknown): string {
  if (typeof id !== 'string' || !ID.test(id)) throw new UsageError(`Expected an instance id of ${ID_RULE}, got \`${String(id)}\` (${typeof id})`);
  const reserved = reservedProblem(id);
  if (reserved) throw new UsageError(`Expected an instance id, got \`${id}\`: ${reserved}`);
  return id;
}

/** What a device id may hold, as messages say it. */
export const DEVICE_ID_RULE = "letters, digits, '.', '_' and '-' (e.g. vol-1a2b3c4d)";

/** A device id that can name its stub files in the instance folder (`-libvirt` would name another's rendered XML). */
export function isDeviceId(id: unknown): id is string {
  return typeof id === 'string' && DEVICE_ID.test(id) && !id.endsWith('-libvirt');
}

export function checkDeviceId(id: unknown, what = 'device id'): string {
  if (!isDeviceId(id)) throw new UsageError(`Expected ${/^[aeiou]/i.test(what) ? 'an' : 'a'} ${what} of ${DEVICE_ID_RULE}, got \`${String(id)}\` (${typeof id})`);
  return id;
}
