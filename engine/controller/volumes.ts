import { UsageError } from '../errors.js';
import { DETACHING, type Backing, type Hypervisor, type Instance, type Os, type SourceType, type Volume } from '../instance/model.js';
import { withKept } from '../instance/parse.js';
import { emitVolumeStub } from '../instance/stubs.js';
import type { AttachSpec } from './devices.js';
import type { DetachSpec } from './detach.js';
import { stillDetaching } from './unfinished.js';
import { withoutDeclaration } from './domain-xml.js';
import { DEVICE_ID_RULE, checkDeviceId, isDeviceId } from './layout.js';
import { DISK_SERIAL, DISK_SERIAL_RULE, isDiskSource } from '../instance/libvirt-rules.js';

/** An EBS-style volume to attach (what Eucalyptus's ncAttachVolume receives, once the storage is connected on the node). */
export interface VolumeAttachment {
  /** The volume id, `vol-XXXXXXXX`: names the stub files and the record entry. */
  id: string;
  /** The guest device the cloud asked for, e.g. `sdf` (Eucalyptus's `devName`); the transform maps it (`sdf` → `vdf` with virtio). */
  devName: string;
  /** The volume's block device (or file) on this host. */
  path: string;
  /** `block` (default) or `file`. */
  sourceType?: SourceType;
  /** The disk's serial as the guest sees it. Default: `euca-bdm-<id>-dev-<devName>`. */
  serial?: string;
  /** Kept in the record. Default ''. */
  attachmentToken?: string;
  /** Kept in the record. Default ''. */
  connectionString?: string;
}

const DEV_NAME = /^(sd|vd|hd|xvd)[a-z]{1,2}$/;

/** A field of a VolumeAttachment that cannot be attached: which, what it must be, and what it holds. */
export interface VolumeProblem {
  field: keyof VolumeAttachment;
  /** What the field must be, to follow "Expected … to be": `a guest disk name such as sdf or vdf`. */
  expected: string;
  value: unknown;
}

/**
 * The first field of `v` that cannot be attached, or undefined: checkVolumeAttachment's
 * rules, for callers that name the fields their own way (the CLI's flags, the elements and
 * attributes of a `vol-XXX.xml` stub) and so say where the value came from.
 */
export function volumeProblem(v: VolumeAttachment): VolumeProblem | undefined {
  const problem = (field: keyof VolumeAttachment, expected: string): VolumeProblem => ({ field, expected, value: v[field] });
  if (!isDeviceId(v.id)) return problem('id', `a volume id of ${DEVICE_ID_RULE}`);
  if (typeof v.devName !== 'string' || !DEV_NAME.test(v.devName)) return problem('devName', 'a guest disk name such as sdf or vdf');
  if (typeof v.path !== 'string' || !v.path.startsWith('/')) return problem('path', 'an absolute path');
  if (v.sourceType !== undefined && v.sourceType !== 'block' && v.sourceType !== 'file') return problem('sourceType', '`block` or `file`');
  // As libvirt's schema takes the <disk>'s <source>: one line, and for a file, a name after the "/".
  if (!isDiskSource(v.path, v.sourceType ?? 'block')) return problem('path', `an absolute path ${v.sourceType === 'file' ? 'naming a file after its leading "/", ' : ''}on one line (libvirt's schema)`);
  for (const k of ['serial', 'attachmentToken', 'connectionString'] as const) {
    if (v[k] !== undefined && typeof v[k] !== 'string') return problem(k, 'a string');
  }
  // An empty serial is none, as in instance.xml.
  if (v.serial && !DISK_SERIAL.test(v.serial)) return problem('serial', `a disk serial of ${DISK_SERIAL_RULE}`);
  return undefined;
}

export function checkVolumeAttachment(v: VolumeAttachment): VolumeAttachment {
  if (typeof v !== 'object' || v === null) throw new UsageError('Expected the volume to be an object with `id`, `devName` and `path`');
  const p = volumeProblem(v);
  if (p?.field === 'id') checkDeviceId(v.id, 'volume id'); // worded as for every device id
  if (p) throw new UsageError(`Expected \`${p.field}\` to be ${p.expected}, got \`${String(p.value)}\` (${typeof p.value})`);
  return v;
}

/**
 * The `vol-XXX.xml` stub the transform's `/volume` entry point renders into a `<disk>`:
 * `hypervisor`, `id`, `user`, `instancePath`, `os`, `backing/root` from the instance, and
 * one `diskPath` (Eucalyptus's `gen_volume_xml` shape). What the record keeps on its
 * `<hypervisor>`, `<os>` and `<backing>` that domforge does not know (their unknown
 * attributes and elements, those of backing's `<root>`) is written on the stub's, so the
 * stub and the record agree.
 */
export function volumeStubXml(instance: Instance, v: VolumeAttachment): string {
  const h = instance.hypervisor;
  const os = instance.os;
  const b = instance.backing;
  return emitVolumeStub({
    // Eucalyptus's gen_volume_xml writes type, capability and bitness only.
    hypervisor: withKept<Hypervisor>({ type: h.type, capability: h.capability, bitness: h.bitness }, h),
    id: v.id,
    user: instance.user,
    instancePath: instance.instancePath,
    os: withKept<Os>({ platform: os.platform, virtioRoot: os.virtioRoot, virtioDisk: os.virtioDisk, virtioNetwork: os.virtioNetwork }, os),
    backing: withKept<Backing>({ rootType: b.rootType }, b),
    diskPath: {
      path: v.path,
      targetDeviceType: 'disk',
      targetDeviceName: v.devName,
      targetDeviceBus: os.virtioDisk ? 'virtio' : 'scsi',
      sourceType: v.sourceType ?? 'block',
      serial: v.serial ?? `euca-bdm-${v.id}-dev-${v.devName}`,
    },
  });
}

export function attachVolumeSpec(v: VolumeAttachment): AttachSpec {
  checkVolumeAttachment(v);
  return {
    operation: 'attach-volume',
    deviceId: v.id,
    label: `volume ${v.id}`,
    detach: detachVolumeSpec(v.id),
    state: (r) => r.volumes.find((x) => x.id === v.id)?.stateName,
    differs: (r) => {
      const recorded = r.volumes.find((x) => x.id === v.id);
      return recorded && recorded.devName !== v.devName ? `${v.id} is ${recorded.stateName} as ${recorded.devName}, not ${v.devName}` : undefined;
    },
    conflict: (r) => {
      const recorded = r.volumes.find((x) => x.id === v.id);
      if (recorded?.stateName === DETACHING) return `${v.id} ${stillDetaching('detach-volume', r.name, v.id)}`;
      if (recorded) return `${v.id} is already attached`;
      const same = r.volumes.find((x) => x.devName === v.devName);
      if (same) return `device ${v.devName} is already used by ${same.id}`;
      return undefined;
    },
    stub: (r) => volumeStubXml(r, v),
    recorded: (r, xml, stateName) => {
      const entry: Volume = {
        id: v.id,
        attachmentToken: v.attachmentToken ?? '',
        devName: v.devName,
        stateName,
        connectionString: v.connectionString ?? '',
        libvirt: withoutDeclaration(xml),
      };
      return r.volumes.some((x) => x.id === v.id)
        ? { ...r, volumes: r.volumes.map((x) => (x.id === v.id ? entry : x)) }
        : { ...r, volumes: [...r.volumes, entry] };
    },
  };
}

export function detachVolumeSpec(volumeId: string): DetachSpec {
  checkDeviceId(volumeId, 'volume id');
  return {
    operation: 'detach-volume',
    label: `volume ${volumeId}`,
    key: volumeId,
    recorded: (r) => {
      const v = r.volumes.find((x) => x.id === volumeId);
      return v && { deviceId: volumeId, xml: v.libvirt, stateName: v.stateName };
    },
    marked: (r, stateName) => ({ ...r, volumes: r.volumes.map((x) => (x.id === volumeId ? { ...x, stateName } : x)) }),
    detached: (r) => ({ ...r, volumes: r.volumes.filter((x) => x.id !== volumeId) }),
  };
}
