/**
 * attach-volume's two ways to say which volume: a `vol-XXX.xml` stub (`--volume FILE`), or
 * the fields of a VolumeAttachment as flags (`--volume-id`, `--dev`, `--path`, `--file`,
 * `--serial`). Both are read and checked before the controller opens, so a bad one writes
 * nothing.
 */
import { Option } from 'commander';
import { UsageError } from '../errors.js';
import { readVolumeStubFile, type VolumeStubFile } from '../controller/volume-stub-file.js';
import { volumeProblem, type VolumeAttachment } from '../controller/volumes.js';

export interface VolumeFlags {
  volume?: string;
  volumeId?: string;
  dev?: string;
  path?: string;
  file?: boolean;
  serial?: string;
  attachmentToken?: string;
  connectionString?: string;
}

/** The flags that give what a stub gives; `--attachment-token` and `--connection-string` go with either. */
const FIELD_FLAGS: Partial<Record<keyof VolumeAttachment, string>> = {
  id: '--volume-id',
  devName: '--dev',
  path: '--path',
  sourceType: '--file',
  serial: '--serial',
  attachmentToken: '--attachment-token',
  connectionString: '--connection-string',
};

export function volumeOptions(): Option[] {
  return [
    new Option('--volume <file>', 'the <volume> stub (vol-XXX.xml, as render --instance reads it): its <id>, and its <diskPath> with targetDeviceName, sourceType and serial'),
    new Option('--volume-id <vol>', 'without --volume: the volume id, naming the files vol-XXX.xml and vol-XXX-libvirt.xml'),
    new Option('--dev <name>', 'without --volume: the guest device the cloud asked for, e.g. sdf (the shipped transform makes it vdf on virtio)'),
    new Option('--path <path>', "without --volume: the volume's block device (or file) on this host, an absolute path"),
    new Option('--file', 'without --volume: the volume is a file, not a block device'),
    new Option('--serial <serial>', "without --volume: the disk's serial (default euca-bdm-<id>-dev-<dev>)"),
    new Option('--attachment-token <token>', "Eucalyptus's attachment token, kept in instance.xml"),
    new Option('--connection-string <text>', "Eucalyptus's connection string, kept in instance.xml"),
  ];
}

/** The volume to attach, and its stub file when given as one. Usage errors name the flags; a stub's errors, its file and line. */
export async function volumeOf(o: VolumeFlags): Promise<{ volume: VolumeAttachment; stub?: VolumeStubFile }> {
  const fieldFlags: [string, unknown][] = [['--volume-id', o.volumeId], ['--dev', o.dev], ['--path', o.path], ['--file', o.file], ['--serial', o.serial]];
  const given = fieldFlags.filter(([, v]) => v !== undefined).map(([f]) => f);
  const kept = { attachmentToken: o.attachmentToken, connectionString: o.connectionString };
  if (o.volume !== undefined) {
    if (given.length) throw new UsageError(`give the volume as a stub (--volume) or by its flags, not both: --volume with ${given.join(', ')}`);
    const stub = await readVolumeStubFile(o.volume);
    return { volume: { ...stub.volume, ...defined(kept) }, stub };
  }
  const missing = ['--volume-id', '--dev', '--path'].filter((f) => !given.includes(f));
  if (missing.length === 3) throw new UsageError('attach-volume needs --volume FILE (a vol-XXX.xml stub), or --volume-id, --dev and --path');
  if (missing.length) throw new UsageError(`attach-volume without --volume needs --volume-id, --dev and --path; missing ${missing.join(', ')}`);
  const volume = { id: o.volumeId!, devName: o.dev!, path: o.path!, sourceType: o.file ? 'file' : 'block', serial: o.serial, ...kept } as const;
  return { volume: checked(defined(volume) as VolumeAttachment) };
}

/** The attachment, or a usage error naming the flag of its first refused field, as for the other flags: ``Expected `--dev` to be …``. */
function checked(v: VolumeAttachment): VolumeAttachment {
  const p = volumeProblem(v);
  if (p) throw new UsageError(`Expected \`${FIELD_FLAGS[p.field] ?? p.field}\` to be ${p.expected}, got ${JSON.stringify(p.value)}`);
  return v;
}

/** `o` without its undefined fields: a flag not given leaves the library's default. */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
