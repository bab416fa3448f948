/** The smallest JSON instance description the tests build on: one virtio disk, one NIC, KVM, Linux. */
export function minimalJsonInstance() {
  return {
    name: 'i-0b000001',
    uuid: '5a3e9c1d-7b2f-4c8a-9d1e-000000000002',
    cores: 1,
    memoryKB: 1048576,
    hypervisor: { type: 'kvm' },
    os: { platform: 'linux', virtioRoot: true, virtioDisk: true, virtioNetwork: true },
    disks: { diskPaths: [{ path: '/var/lib/x/root.img', targetDeviceName: 'vda', targetDeviceBus: 'virtio' }] },
    nics: [{ mac: 'd0:0d:00:00:00:01', bridgeDeviceName: 'br0' }] as Record<string, unknown>[],
  };
}

/**
 * An Instance written out with JSON.stringify, less the fields a JSON description does not
 * give (`xmlVersion`, `vbrs`, kept unknown elements), which it refuses when they hold something
 * (a sample's vbrs): the start of a description.
 */
export function jsonOfInstance(inst: object): Record<string, unknown> {
  const { xmlVersion: _x, vbrs: _v, unknown: _u, unknownChildren: _c, ...rest } = JSON.parse(JSON.stringify(inst)) as Record<string, unknown>;
  return rest;
}
