/**
 * The instance as domforge and an admin's transform see it: every field of the
 * Eucalyptus 4.3+ `instance.xml` (names kept as Eucalyptus spells them, so a reader can
 * check us against its schema), then domforge's own extension elements.
 *
 * This module only declares shapes and enumerations; parsing, emitting and
 * validation live beside it.
 */

export const HYPERVISOR_TYPES = ['kvm', 'qemu', 'xen', 'hyperv'] as const;
export type HypervisorType = (typeof HYPERVISOR_TYPES)[number];

export const PLATFORMS = ['linux', 'windows'] as const;
export type Platform = (typeof PLATFORMS)[number];

export const DISK_BUSES = ['ide', 'scsi', 'virtio', 'xen', 'sata', 'usb', 'fdc'] as const;
export type DiskBus = (typeof DISK_BUSES)[number];

export const DEVICE_TYPES = ['disk', 'floppy', 'cdrom'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

export const SOURCE_TYPES = ['file', 'block'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];

/**
 * The `NicType`s Eucalyptus writes (its libvirtNicType names), the ones the shipped
 * transforms know: `none` writes no NIC, `e1000` and `rtl8139` are the model of a NIC
 * without virtio networking, `virtio` leaves it to `os/@virtioNetwork` (e1000 without).
 */
export const NIC_TYPES = ['virtio', 'e1000', 'rtl8139', 'none'] as const;

export const CONFIG_DRIVE_LAYOUTS = ['openstack', 'ec2', 'cloudstack'] as const;
export type ConfigDriveLayout = (typeof CONFIG_DRIVE_LAYOUTS)[number];

export const LEGACY_DISK_BUSES = ['ide', 'scsi'] as const;
export type LegacyDiskBus = (typeof LEGACY_DISK_BUSES)[number];

export interface Hypervisor {
  type: HypervisorType;
  /** `unknown` | `xen` | `hw` | `xen+hw`. */
  capability: string;
  bitness: 32 | 64;
  requiresDisk?: boolean;
  /** Attributes of `<hypervisor>` domforge does not know, written back after its own (see {@link UnknownAttribute}); left out when none. */
  unknownAttributes?: UnknownAttribute[];
  /** Elements inside `<hypervisor>` (which domforge reads the attributes of), written back in it (see {@link UnknownElement}); left out when none. */
  unknown?: UnknownElement[];
}

/** `/instance/disks/diskPath`: one guest-visible disk (EBS volumes are in `volumes`). */
export interface DiskPath {
  /** The backing file or block device (the element's text). */
  path: string;
  targetDeviceType: DeviceType;
  targetDeviceName: string;
  targetDeviceNameVirtio?: string;
  targetDeviceBusVirtio?: string;
  targetDeviceBus: DiskBus;
  sourceType: SourceType;
  serial?: string;
  /** Attributes of this `<diskPath>` domforge does not know, written back after its own; left out when none. */
  unknownAttributes?: UnknownAttribute[];
}

export interface DiskRoot {
  device: string;
  uuid?: string;
  /** Attributes of `<disks><root>` domforge does not know, written back after its own; left out when none. */
  unknownAttributes?: UnknownAttribute[];
  /** Elements inside `<root>` (which domforge reads the attributes of), written back in it (see {@link UnknownElement}); left out when none. */
  unknown?: UnknownElement[];
}

export interface Disks {
  /** Always written by Eucalyptus, empty when there is no floppy. */
  floppyPath: string;
  diskPaths: DiskPath[];
  /** Written after the first image disk. */
  root?: DiskRoot;
  /** Attributes of `<disks>` domforge does not know, written back after its own; left out when none. */
  unknownAttributes?: UnknownAttribute[];
  /** Attributes of `<floppyPath>` (key `floppyPath`), see {@link UnknownAttributesOf}; left out when none. */
  unknownAttributesOf?: UnknownAttributesOf;
}

/** `/instance/vbrs/vbr`: a virtual boot record (checkpoint of what the NC prepared). */
export interface Vbr {
  resourceLocation: string;
  guestDeviceName: string;
  sizeBytes: number;
  formatName: string;
  id: string;
  typeName: string;
  type: string;
  locationType: string;
  format: string;
  diskNumber: number;
  partitionNumber: number;
  guestDeviceType: string;
  guestDeviceBus: string;
  backingType: string;
  backingPath: string;
  preparedResourceLocation: string;
  guestDeviceSerialId: string;
  /** Elements of this `<vbr>` domforge does not model, written back after its fields (see {@link UnknownElement}); left out when none. */
  unknown?: UnknownElement[];
  /** Attributes of this `<vbr>` domforge does not know; left out when none. */
  unknownAttributes?: UnknownAttribute[];
  /** Attributes of its fields (`id`, `sizeBytes`, ...), by field name (see {@link UnknownAttributesOf}); left out when none. */
  unknownAttributesOf?: UnknownAttributesOf;
}

/**
 * The `stateName` of a volume or NIC whose detach has begun and not finished (Eucalyptus's
 * `detaching`): libvirt may have removed it already, so the domain need not hold it.
 */
export const DETACHING = 'detaching';

/**
 * The `stateName` of a volume or NIC whose attach has begun and not finished (Eucalyptus's
 * `attaching`): written before libvirt is asked to attach it, so libvirt may or may not hold
 * it yet. An attach that finishes makes it `attached`; one rolled back removes the entry.
 */
export const ATTACHING = 'attaching';

/** `/instance/volumes/volume`: an attached (or attaching) EBS volume. */
export interface Volume {
  id: string;
  attachmentToken: string;
  devName: string;
  stateName: string;
  connectionString: string;
  /** The volume's libvirt `<disk>` element as XML text (Eucalyptus 4.1+), kept verbatim. */
  libvirt?: string;
  /** Eucalyptus 3.4–4.0 forms, read and written back when present. */
  localDev?: string;
  localDevReal?: string;
  /** Elements of this `<volume>` domforge does not model, written back after `libvirt` (see {@link UnknownElement}); left out when none. */
  unknown?: UnknownElement[];
  /** Attributes of this `<volume>` domforge does not know; left out when none. */
  unknownAttributes?: UnknownAttribute[];
  /** Attributes of its fields (`id`, `devName`, `libvirt`, ...), by field name (see {@link UnknownAttributesOf}); left out when none. */
  unknownAttributesOf?: UnknownAttributesOf;
  /**
   * The elements of `<libvirt>` after its first (which is `libvirt`), written back after it, in
   * document order (see {@link UnknownElement}): a transform copies `libvirt/*`, every one of
   * them. Left out when none.
   */
  unknownChildren?: { libvirt?: UnknownElement[] };
}

/** `/instance/backing`: what the instance boots from. */
export interface Backing {
  /** `root/@type`: `image`, `ebs`, ... or `unknown`. */
  rootType: string;
  /** Elements of `<backing>` besides `<root>`, written back after it (see {@link UnknownElement}); left out when none. */
  unknown?: UnknownElement[];
  /** Attributes of `<backing>` domforge does not know; left out when none. */
  unknownAttributes?: UnknownAttribute[];
  /** Attributes of `<root>` other than `type` (key `root`, see {@link UnknownAttributesOf}); left out when none. */
  unknownAttributesOf?: UnknownAttributesOf;
  /** Elements inside `<root>` (which domforge reads the `type` of), written back in it (see {@link UnknownElement}); left out when none. */
  unknownChildren?: { root?: UnknownElement[] };
}

/** `/instance/nics/nic` and the `eni-XXXX.xml` stub's root attributes. */
export interface Nic {
  vlan: number;
  networkIndex: number;
  mac: string;
  publicIp: string;
  privateIp: string;
  bridgeDeviceName: string;
  guestDeviceName?: string;
  /** 0 = primary. */
  device?: number;
  stateName?: string;
  hypervisorType?: string;
  osPlatform?: string;
  osVirtioNetwork?: boolean;
  attachmentId?: string;
  /** Attributes of this `<nic>` domforge does not know, written back after its own (see {@link UnknownAttribute}); left out when none. */
  unknownAttributes?: UnknownAttribute[];
  /** Elements inside `<nic>` (which domforge reads the attributes of), written back in it (see {@link UnknownElement}); left out when none. */
  unknown?: UnknownElement[];
}

/** domforge extension: an extra NIC with its own device model (`/instance/extraNics/nic`). */
export interface ExtraNic {
  mac: string;
  bridgeDeviceName: string;
  /** libvirt `<model type>`: `virtio`, `e1000`, `rtl8139`, `e1000e`, ... */
  model: string;
  privateIp?: string;
}

/** domforge extension `/instance/features/hugepages`. */
export interface Hugepages {
  enabled: boolean;
  /** Page size in KiB (2048 for 2 MiB pages, 1048576 for 1 GiB); absent = the host's default. */
  pageSizeKiB?: number;
  /** Host NUMA nodes to take the pages from, libvirt's nodeset syntax (`0`, `0-1`, `0,2`). */
  nodeset?: string;
}

/** domforge extension `/instance/features`. */
export interface Features {
  hugepages?: Hugepages;
  /** Bus for disks when virtio is off: `ide` (Eucalyptus's legacy `sd` → `hd` rename) or `scsi` (virtio-scsi controller). */
  legacyDiskBus?: LegacyDiskBus;
}

/** domforge extension `/instance/machine`. */
export interface Machine {
  /** QEMU machine type: `pc` (i440fx) or `q35`, optionally versioned (`pc-q35-7.2`). */
  type: string;
  /** Guest architecture, e.g. `x86_64`, `i686`, `aarch64`. */
  arch: string;
}

/** domforge extension `/instance/configDrive`. */
export interface ConfigDrive {
  /** Where the ISO image is (or will be) written. */
  path: string;
  /** ISO volume label; `config-2` unless an old CloudStack guest wants `config`. */
  label: string;
  layouts: ConfigDriveLayout[];
}

/**
 * An element domforge does not know, kept verbatim (XML text, without whitespace-only text)
 * and written back inside the same parent, after the children domforge reads there: a child
 * of `<instance>` (Instance.unknown), of a list container (Instance.unknownChildren), of a
 * `<vbr>`, a `<volume>` or `<backing>` (their `unknown`), of an element of Eucalyptus's schema
 * domforge reads the attributes of (`unknown` of the hypervisor, key, os, disks' root, a nic;
 * Backing.unknownChildren.root for backing's `<root>`). Each list is in document order.
 * domforge's own elements (`<features>`, `<hugepages>`, `<machine>`, `<configDrive>`,
 * `<metadata>`, `<extraNics>` and its `<nic>`s, ...) keep none: nobody else writes them, so an
 * unknown element in one is a misspelling (`<Nic>` in `<extraNics>`), refused.
 */
export interface UnknownElement {
  name: string;
  xml: string;
}

/**
 * An attribute domforge does not know on an element of Eucalyptus's schema it reads
 * (`<nic futureAttr="x" …/>`), kept as written (its name with any prefix, and its value) and
 * written back on the same element, after the attributes domforge writes there. Each list is
 * in document order, and left out of its object when empty. Namespace declarations are not
 * kept (domforge reads elements by name and writes its own in no namespace, as a transform
 * expects them). domforge's own elements (its extensions: `<features>`, `<hugepages>`,
 * `<machine>`, `<configDrive>`, `<password>`, `<metadata>`, an extra `<nic>`, ...) keep none:
 * nobody else writes attributes on them, so an unknown one is a misspelling, refused.
 */
export interface UnknownAttribute {
  name: string;
  value: string;
  /** A prefixed attribute's namespace name: emitInstance declares its prefix (`xmlns:p`) on the element. Absent for one without a prefix. */
  namespace?: string;
}

/**
 * Unknown attributes of the elements inside an element that domforge reads into a plain
 * value or a list, not an object of their own (`<cores>`, `<nics>`, an entry of `<states>`,
 * a vbr's `<id>`), kept on the nearest object, by the element's path below that object's
 * element: `cores`, `nics`, `states/stateName`, `groupNames/name[1]` on the Instance; `id` on
 * a Vbr; `libvirt` on a Volume; `floppyPath` on Disks; `root` on Backing. Left out when none.
 * None for domforge's own elements (`password`, `metadata`, `extraNics`, ...: see UnknownAttribute).
 */
export type UnknownAttributesOf = Record<string, UnknownAttribute[]>;

/** `/instance/key`. */
export interface Key {
  doInjectKey: boolean;
  sshKey: string;
  /** Attributes of `<key>` domforge does not know; left out when none. */
  unknownAttributes?: UnknownAttribute[];
  /** Elements inside `<key>` (which domforge reads the attributes of), written back in it (see {@link UnknownElement}); left out when none. */
  unknown?: UnknownElement[];
}

/** `/instance/os`. */
export interface Os {
  platform: Platform;
  virtioRoot: boolean;
  virtioDisk: boolean;
  virtioNetwork: boolean;
  /** Attributes of `<os>` domforge does not know; left out when none. */
  unknownAttributes?: UnknownAttribute[];
  /** Elements inside `<os>` (which domforge reads the attributes of), written back in it (see {@link UnknownElement}); left out when none. */
  unknown?: UnknownElement[];
}

/**
 * The list containers of Eucalyptus's schema in `<instance>`, whose children domforge reads by
 * name (`states` and `timestamps` hold any field). domforge's own `<extraNics>` is not one: it
 * keeps no unknown children.
 */
export const LIST_CONTAINERS = ['groupNames', 'disks', 'vbrs', 'volumes', 'nics'] as const;
export type ListContainer = (typeof LIST_CONTAINERS)[number];

/** Unknown children of the list containers, by container: a container holding none has no key. */
export type UnknownChildren = Partial<Record<ListContainer, UnknownElement[]>>;

export interface Instance {
  xmlVersion?: string;
  /** Attributes of `<instance>` besides `xml-version`, written back after it (see {@link UnknownAttribute}); left out when none. */
  unknownAttributes?: UnknownAttribute[];
  hypervisor: Hypervisor;
  backing: Backing;
  name: string;
  uuid: string;
  reservation: string;
  user: string;
  owner: string;
  account: string;
  imageId: string;
  kernelId: string;
  ramdiskId: string;
  dnsName: string;
  privateDnsName: string;
  instancePath: string;
  kernel?: string;
  ramdisk?: string;
  xmlFilePath: string;
  libvirtFilePath: string;
  consoleLogPath: string;
  /** EC2 user data, base64 as received. */
  userData: string;
  launchIndex: string;
  hasFloppy: boolean;
  cpuPassthrough: boolean;
  cores: number;
  memoryKB: number;
  diskGB: number;
  VmType: string;
  NicType: string;
  NicDevice: string;
  rootDirective: string;
  key: Key;
  os: Os;
  groupNames: string[];
  disks: Disks;
  vbrs: Vbr[];
  volumes: Volume[];
  nics: Nic[];
  /** `/instance/states/*`, in document order. */
  states: [string, string][];
  /** `/instance/timestamps/*` (epoch seconds), in document order. */
  timestamps: [string, string][];

  // domforge extensions (own elements, after Eucalyptus's)
  features: Features;
  machine?: Machine;
  configDrive?: ConfigDrive;
  /** Admin password for the guest (config drive `admin_pass`, CloudStack `vm_password`). */
  password?: string;
  availabilityZone?: string;
  /** Free-form instance metadata (`meta` on the config drive), each key once (validateInstance refuses a key given twice). */
  metadata: [string, string][];
  extraNics: ExtraNic[];
  /** Elements of `<instance>` domforge does not model, kept and written back after the known ones. */
  unknown: UnknownElement[];
  /**
   * Elements domforge does not model inside a list container (`<disks><x-future/></disks>`),
   * kept and written back inside the same container after its known children, each
   * container's in document order. Left out when there are none (an instance described in
   * JSON has none), so an Instance built in code need not name it.
   */
  unknownChildren?: UnknownChildren;
  /**
   * Attributes domforge does not know of the elements of Eucalyptus's schema it reads into a
   * plain value or a list (text fields, list containers, entries of `states` and `timestamps`,
   * group names, ...), by path (see {@link UnknownAttributesOf}). Left out when none.
   */
  unknownAttributesOf?: UnknownAttributesOf;
}
