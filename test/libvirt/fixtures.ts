import { randomUUID } from 'node:crypto';
import { loadBinding, type BindingLoader } from '../../engine/libvirt/index.js';

/** A small domain the test driver accepts, with a unique name. */
export function testDomainXml(name = `df-${randomUUID().slice(0, 8)}`, devices = ''): { name: string; xml: string } {
  return {
    name,
    xml: `<domain type="test">
  <name>${name}</name>
  <memory unit="KiB">131072</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch="x86_64">hvm</type>
  </os>
  <devices>
    <disk type="file" device="disk">
      <source file="/var/lib/domforge/${name}/disk"/>
      <target dev="vda" bus="virtio"/>
    </disk>${devices}
  </devices>
</domain>
`,
  };
}

export const VOLUME_DISK = `<disk type="file" device="disk">
  <source file="/var/lib/domforge/vol-1234abcd"/>
  <target dev="vdb" bus="virtio"/>
  <serial>vol-1234abcd</serial>
</disk>`;

export const ENI_INTERFACE = `<interface type="bridge">
  <mac address="d0:0d:12:34:56:78"/>
  <source bridge="br0"/>
  <model type="virtio"/>
</interface>`;

/**
 * A binding loader whose hypervisor counts its domain lookups (by name and by UUID), for
 * tests that check how many round trips an operation makes. A loader of its own also
 * gives a connection pool of its own: close it with `closeConnections(loader)`.
 */
export function countingLoader(): { loader: BindingLoader; lookups: () => number } {
  let n = 0;
  const loader: BindingLoader = async () => {
    const b = await loadBinding();
    class Counting extends b.Hypervisor {
      override domainLookupByName(name: string) {
        n++;
        return super.domainLookupByName(name);
      }
      override domainLookupByUUIDString(uuid: string) {
        n++;
        return super.domainLookupByUUIDString(uuid);
      }
    }
    return { Hypervisor: Counting };
  };
  return { loader, lookups: () => n };
}
