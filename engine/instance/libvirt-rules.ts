/**
 * What libvirt takes in the places the shipped transforms copy instance and stub values
 * into: one rule for validateInstance, the stub check and the attachment checks, so a value
 * libvirt would refuse is refused where it is given (its file, line and path), not by the
 * schema at a line of the rendered domain.
 *
 * Each rule mirrors a define of libvirt's RelaxNG schema (`/usr/share/libvirt/schemas`,
 * libvirt 9.0: `basictypes.rng`, `domaincommon.rng`) or, where it says so, what libvirt's
 * domain parser refuses at define time; none is stricter, so whatever libvirt takes there
 * passes. A schema pattern matches the whole value, and its `.` is any character but a line
 * feed or a carriage return (XML Schema's, which libxml2 implements); JavaScript's `.` also
 * stops at U+2028 and U+2029, so the rules below spell it `[^\n\r]`.
 */
import type { SourceType } from './model.js';

// Paths and device names (basictypes.rng).

/** `absFilePath`: `/` or a drive (`C:\`), then at least one more character, all on one line (`<kernel>`, `<initrd>`, a disk's `<source file>`). */
const ABS_FILE_PATH = /^(\/|[a-zA-Z]:\\)[^\n\r]+$/;
/** `vmwarePath`: `[datastore] path`, the other form a file disk's `<source file>` takes. */
const VMWARE_PATH = /^\[[^\]]+\] [^\n\r]+$/;
/** `deviceName`: a host device name (an interface's `<target dev>`; a block disk's `<source dev>`, besides an absolute path). */
const DEVICE_NAME = /^[a-zA-Z0-9_.\-\\:/]+$/;
/** What {@link DEVICE_NAME} allows, as messages say it. */
export const DEVICE_NAME_RULE = "letters, digits, '_', '.', '-', '\\', ':' and '/' (libvirt's schema)";

export const isAbsFilePath = (p: string): boolean => ABS_FILE_PATH.test(p);
export const isDeviceName = (name: string): boolean => DEVICE_NAME.test(name);

/**
 * The longest name Linux gives a network interface: IFNAMSIZ (16) less its NUL. A NIC's tap
 * (`guestDeviceName`, the `<interface>`'s `<target dev>`) is created under that name when the
 * domain starts or the interface is hot-plugged, and the kernel refuses a longer one there:
 * libvirt's schema takes any length. Eucalyptus keeps to it by truncating the interface id in
 * `vn_<interface id>`.
 */
export const TAP_NAME_MAX_BYTES = 15;
/** What {@link TAP_NAME_MAX_BYTES} says, as messages say it. */
export const TAP_NAME_LIMIT = `at most ${TAP_NAME_MAX_BYTES} bytes (Linux's IFNAMSIZ, 16, less its NUL)`;
/** A tap name's length in bytes (UTF-8, as the kernel counts it; a {@link isDeviceName} one is ASCII, a byte a character). */
export const tapNameBytes = (name: string): number => Buffer.byteLength(name, 'utf8');

/**
 * What else Linux refuses in a network interface's name (dev_valid_name(), net/core/dev.c):
 * `.` and `..` (they would name folders in /sys/class/net), and a `/`, a `:` or whitespace
 * (isspace: space, tab, LF, VT, FF, CR). The kernel refuses such a tap at the domain's start
 * or the interface's hot-plug (TUNSETIFF: Invalid argument), though libvirt's schema
 * (`deviceName`) takes `.`, `/` and `:`. The empty name is not refused here: a tap name left
 * empty is none (no `<target dev>` is written; libvirt names the tap).
 */
export const TAP_NAME_CHARS_RULE = "other than '.' and '..', with no '/', ':' or whitespace (the kernel's dev_valid_name)";
/** What of {@link TAP_NAME_CHARS_RULE} the tap name `name` breaks (`holds ':'`), or undefined. */
export function tapNameCharsProblem(name: string): string | undefined {
  if (name === '.' || name === '..') return 'is reserved (\'.\' and \'..\' name folders in /sys/class/net)';
  const bad = /[/: \t\n\v\f\r]/.exec(name)?.[0];
  return bad === undefined ? undefined : `holds ${JSON.stringify(bad)}`;
}

// A disk (`<disk>`: its `<source>`, `<target dev>` and `<serial>`).

/**
 * Whether `path` can be a disk's `<source>`: of a `file` disk (`diskSourceFile`), an absolute
 * path or a VMware one; of a `block` disk (`diskSourceBlock`), an absolute path or a device name.
 */
export function isDiskSource(path: string, sourceType: SourceType): boolean {
  return ABS_FILE_PATH.test(path) || (sourceType === 'file' ? VMWARE_PATH : DEVICE_NAME).test(path);
}

/** What {@link isDiskSource} allows, by source type, as messages say it. */
export const DISK_SOURCE_RULE: Readonly<Record<SourceType, string>> = {
  file: "an absolute path (/… or C:\\…) naming a file after its first '/' or '\\', or a VMware one ([datastore] path), on one line (libvirt's schema)",
  block: "an absolute path (/… or C:\\…) on one line, or a device name of letters, digits, '_', '.', '-', '\\', ':' and '/' (libvirt's schema)",
};

/**
 * The drive part of a guest disk name as the shipped transforms carry it over: what follows
 * the name's own prefix (its first two letters, three for `xvd…`), written after the bus's
 * prefix (`sdb` on virtio is `vdb`, `xvdc` on SCSI `sdc`).
 */
export function driveOf(name: string): string {
  return name.slice(name.startsWith('xvd') ? 3 : 2);
}

/**
 * Whether the disk name the transforms make of `name` has a drive letter after its prefix.
 * libvirt names a disk by a prefix, letters a–z and an optional partition number
 * (virDiskNameParse): `vd` alone is refused by the schema (`diskTargetDev`), `vd1` at define
 * time (`Unknown disk name 'vd1' and no address specified`).
 */
export const hasDriveLetter = (name: string): boolean => /^[a-z]/.test(driveOf(name));

/**
 * The partition a guest disk name names (`vdb1` → 1; 0 for none, as virDiskNameParse reads
 * `vda` and `vda0`). libvirt's QEMU driver attaches whole disks only and refuses a target
 * with a partition ("partitions can't appear in disk targets"); Xen takes one.
 */
export const partitionOf = (name: string): number => Number(/\d*$/.exec(name)![0] || 0);

/** The domain types libvirt's QEMU driver runs, whose own define-time rules domforge checks for them alone. */
export const QEMU_DRIVER_TYPES: readonly string[] = ['kvm', 'qemu'];

/** The hypervisor types libvirt's QEMU driver runs, which refuse a partition in a disk target. */
export const WHOLE_DISKS_ONLY: readonly string[] = QEMU_DRIVER_TYPES;

/**
 * The largest memory size libvirt takes, in KiB: 2^53 − 1 KiB, 1 KiB short of 8 EiB.
 * libvirt reads every memory size with virDomainParseMemory. On a 64-bit host its limit
 * (virMemoryMaxValue) is LLONG_MAX bytes: a value whose bytes pass it is refused as
 * "numerical overflow: value too large: 8EiB" (virScaleInteger), and the size in KiB, rounded
 * up, must stay below LLONG_MAX / 1024 rounded up, 2^53 ("numerical overflow: size value too
 * large"). Together: at most 2^53 − 1 KiB, which is 2^63 − 1024 bytes (`virsh define` of
 * libvirt 9.0 takes 9007199254740991 KiB and 9223372036854774784 b, refuses one more of each).
 * A 32-bit host caps `<memory>` and `<currentMemory>` lower (ULONG_MAX KiB); domforge checks
 * for the 64-bit hosts libvirt's QEMU driver runs on.
 */
export const MAX_MEMORY_KIB = 2n ** 53n - 1n;

/** What is said of a memory size (`what`: `memoryKB 9007199254740992`, `8 EiB`) past {@link MAX_MEMORY_KIB}. */
export function memoryTooLargeMessage(what: string): string {
  return `${what} is too large: libvirt takes memory sizes up to ${MAX_MEMORY_KIB} KiB (just under 8 EiB) and refuses more as a numerical overflow`;
}

/** `diskSerial`: the serial a disk shows its guest (`<serial>`). */
export const DISK_SERIAL = /^[A-Za-z0-9_.+\- ]+$/;
/** What {@link DISK_SERIAL} allows, as messages say it. */
export const DISK_SERIAL_RULE = "letters, digits, '_', '.', '+', '-' and spaces (libvirt's schema)";

// An interface (`<interface type="bridge">`: its `<source bridge>` and `<model type>`; its `<target dev>` is a deviceName).

/** `interface-bridge-attributes`: an interface's `<source bridge>`, which may be empty. */
const BRIDGE_NAME = /^[a-zA-Z0-9_.\-\\:/ ]*$/;
/** What {@link BRIDGE_NAME} allows, as messages say it. */
export const BRIDGE_NAME_RULE = "letters, digits, '_', '.', '-', '\\', ':', '/' and spaces (libvirt's schema)";
/** `interface-options`: an interface's `<model type>`. */
const NIC_MODEL = /^[a-zA-Z0-9_-]+$/;
/** What {@link NIC_MODEL} allows, as messages say it. */
export const NIC_MODEL_RULE = "letters, digits, '_' and '-' (libvirt's schema)";

export const isBridgeName = (name: string): boolean => BRIDGE_NAME.test(name);
export const isNicModel = (model: string): boolean => NIC_MODEL.test(model);

// The machine and its NUMA placement.

/** `archnames`: the architectures `<type arch>` takes. */
export const ARCH_NAMES: readonly string[] = [
  'aarch64', 'alpha', 'armv6l', 'armv7l', 'cris', 'i686', 'ia64', 'lm32', 'm68k', 'microblaze', 'microblazeel', 'mips',
  'mipsel', 'mips64', 'mips64el', 'openrisc', 'parisc', 'parisc64', 'ppc', 'ppc64', 'ppc64le', 'ppcemb', 'riscv32',
  'riscv64', 's390', 's390x', 'sh4', 'sh4eb', 'sparc', 'sparc64', 'unicore32', 'x86_64', 'xtensa', 'xtensaeb',
];

/** `cpuset`: node numbers and `low-high` ranges, or `^N` to leave a node out, separated by commas. */
const CPUSET = /^([0-9]+(-[0-9]+)?|\^[0-9]+)(,([0-9]+(-[0-9]+)?|\^[0-9]+))*$/;
/**
 * The last node a nodeset may name: libvirt reads `<numatune><memory nodeset>` into a bitmap
 * of VIR_DOMAIN_CPUMASK_LEN (16384) bits, and refuses a number past it at define time.
 */
export const MAX_NODESET_NODE = 16383;

/**
 * What libvirt refuses in a NUMA nodeset (`<numatune><memory nodeset>`), or undefined: the
 * schema's `cpuset` syntax, then what libvirt's bitmap parser (virBitmapParse) and its numatune
 * check refuse at define time: a range that ends before it starts (`Failed to parse bitmap
 * '3-1'`), a node past {@link MAX_NODESET_NODE}, and a set left empty once each item is applied
 * in order, a `^N` taking out a node named before it (`Invalid value of 'nodeset': 0,^0`).
 */
export function nodesetProblem(nodeset: string): string | undefined {
  const r = readNodeset(nodeset);
  return typeof r === 'string' ? r : undefined;
}

/** The nodes a nodeset names, in increasing order, or undefined when {@link nodesetProblem} finds a problem in it. */
export function nodesetNodes(nodeset: string): number[] | undefined {
  const r = readNodeset(nodeset);
  return typeof r === 'string' ? undefined : [...r].sort((a, b) => a - b);
}

/** The nodes of a nodeset, or what is wrong with it (see {@link nodesetProblem}). */
function readNodeset(nodeset: string): Set<number> | string {
  const shown = JSON.stringify(nodeset);
  if (!CPUSET.test(nodeset)) {
    return `not a NUMA nodeset: ${shown} (expected node numbers and low-high ranges separated by commas, ^N leaving node N out, e.g. 0, 0-1, 0,2, 0-3,^2: libvirt's schema)`;
  }
  const nodes = new Set<number>();
  for (const item of nodeset.split(',')) {
    const out = item.startsWith('^');
    const [low, high = low] = item.slice(out ? 1 : 0).split('-').map(Number) as [number, number?];
    if (high < low) return `the range ${item} in the nodeset ${shown} ends before it starts, which libvirt refuses (write it ${high}-${low})`;
    if (high > MAX_NODESET_NODE) return `node ${item.replace(/^.*\D/, '')} in the nodeset ${shown} is past ${MAX_NODESET_NODE}, the last node libvirt takes`;
    for (let n = low; n <= high; n++) {
      if (out) nodes.delete(n);
      else nodes.add(n);
    }
  }
  if (nodes.size === 0) return `the nodeset ${shown} leaves no node (each ^N takes out a node named before it), which libvirt refuses`;
  return nodes;
}
