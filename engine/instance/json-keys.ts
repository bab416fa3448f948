/**
 * The keys each object of a JSON instance description may have. JSON keeps no unknown
 * elements: a key that is not one of these would be dropped and its field take its default
 * (a misspelt `features.hugePages`: a guest without hugepages), so from-json refuses it.
 * `metadata`, `states` and `timestamps` are free maps and have no list here.
 */
export const JSON_KEYS = {
  instance: [
    'name', 'uuid', 'reservation', 'user', 'owner', 'account', 'imageId', 'kernelId', 'ramdiskId', 'dnsName',
    'privateDnsName', 'instancePath', 'kernel', 'ramdisk', 'xmlFilePath', 'libvirtFilePath', 'consoleLogPath',
    'userData', 'userDataText', 'launchIndex', 'hasFloppy', 'cpuPassthrough', 'cores', 'memoryKB', 'diskGB', 'VmType',
    'NicType', 'NicDevice', 'rootDirective', 'hypervisor', 'backing', 'key', 'os', 'groupNames', 'disks', 'volumes',
    'nics', 'states', 'timestamps', 'features', 'machine', 'configDrive', 'password', 'availabilityZone', 'metadata',
    'extraNics',
  ],
  hypervisor: ['type', 'capability', 'bitness', 'requiresDisk'],
  backing: ['rootType'],
  key: ['doInjectKey', 'sshKey'],
  os: ['platform', 'virtioRoot', 'virtioDisk', 'virtioNetwork'],
  disks: ['floppyPath', 'diskPaths', 'root'],
  diskPath: ['path', 'targetDeviceType', 'targetDeviceName', 'targetDeviceNameVirtio', 'targetDeviceBusVirtio', 'targetDeviceBus', 'sourceType', 'serial'],
  root: ['device', 'uuid'],
  volume: ['id', 'attachmentToken', 'devName', 'stateName', 'connectionString', 'libvirt'],
  nic: [
    'vlan', 'networkIndex', 'mac', 'publicIp', 'privateIp', 'bridgeDeviceName', 'guestDeviceName', 'device', 'stateName',
    'hypervisorType', 'osPlatform', 'osVirtioNetwork', 'attachmentId',
  ],
  extraNic: ['mac', 'bridgeDeviceName', 'model', 'privateIp'],
  features: ['hugepages', 'legacyDiskBus'],
  hugepages: ['enabled', 'pageSizeKiB', 'nodeset'],
  machine: ['type', 'arch'],
  configDrive: ['path', 'label', 'layouts'],
} as const satisfies Record<string, readonly string[]>;

/**
 * Fields of an `Instance` (or of its volumes, backing, ...) that a JSON description does not
 * give, with the reason: an Instance written out with JSON.stringify has them. Holding
 * nothing (none, empty, `xmlVersion` "2") they are accepted; holding something, which would
 * be dropped, each is refused saying why rather than as a misspelling.
 */
export const INSTANCE_ONLY: Readonly<Record<string, string>> = {
  xmlVersion: 'an instance from JSON is xml-version 2',
  vbrs: 'vbrs come from instance.xml only',
  localDev: 'a volume\'s localDev comes from instance.xml only',
  localDevReal: 'a volume\'s localDevReal comes from instance.xml only',
  unknown: 'an instance from JSON has no unknown elements',
  unknownChildren: 'an instance from JSON has no unknown elements',
  unknownAttributes: 'an instance from JSON has no unknown attributes',
  unknownAttributesOf: 'an instance from JSON has no unknown attributes',
};

/**
 * The fields of INSTANCE_ONLY the objects of domforge's own elements (`features`,
 * `hugepages`, `machine`, `configDrive`, an extra NIC) have in an Instance: none. They keep
 * no unknown elements or attributes (instance.xml refuses one in or on their elements), so
 * `unknown`, `unknownAttributes` or `unknownAttributesOf` there is an unknown key like any
 * other. Every other object of a description may carry any field of INSTANCE_ONLY.
 */
export const OWN_ELEMENT_FIELDS: readonly string[] = [];
