import type { BindingDomain, BindingHypervisor, LibvirtBinding } from '../../engine/libvirt/binding.js';

/** A domain of the fake hypervisor. */
export interface FakeDomain {
  name: string;
  uuid: string;
  id: number | null;
  persistent: boolean;
}

/**
 * A stand-in for @unraid/libvirt that knows a fixed set of domains, to exercise code
 * paths that need a daemon URI (`qemu:///system`) without a daemon. It rejects the way
 * the real binding does: with libvirt's message only.
 */
export function fakeBinding(domains: FakeDomain[]): LibvirtBinding {
  const wrap = (d: FakeDomain): BindingDomain => ({
    create: async () => void (d.id = 7),
    destroy: async () => void (d.id = null),
    undefine: async () => void (d.persistent = false),
    shutdown: async () => void (d.id = null),
    getXMLDesc: async () => `<domain type="kvm"><name>${d.name}</name><uuid>${d.uuid}</uuid></domain>`,
    getInfo: async () => ({ state: d.id === null ? 5 : 1, maxMem: 1024, memory: 1024, nrVirtCpu: 1, cpuTime: 0 }),
    getID: async () => d.id ?? undefined,
    getName: async () => d.name,
    getUUIDString: async () => d.uuid,
  });
  const find = async (f: (d: FakeDomain) => boolean) => {
    const d = domains.find(f);
    if (!d) throw new Error('Domain not found');
    return wrap(d);
  };
  class Hypervisor implements BindingHypervisor {
    constructor(readonly options: { uri: string }) {}
    async connectOpen() {}
    async connectClose() {}
    async connectListAllDomains(flags = 3) {
      return domains.filter((d) => !(flags & 4) || d.persistent).map(wrap);
    }
    async domainDefineXML(): Promise<BindingDomain> {
      throw new Error('this function is not supported by the connection driver: fake');
    }
    async domainCreateXML(): Promise<BindingDomain> {
      throw new Error('this function is not supported by the connection driver: fake');
    }
    domainLookupByName(name: string) {
      return find((d) => d.name === name);
    }
    domainLookupByUUIDString(uuid: string) {
      return find((d) => d.uuid === uuid);
    }
    async nodeGetInfo() {
      return { model: 'x86_64', memory: 8388608, cpus: 4, mhz: 2000, nodes: 1, sockets: 1, cores: 4, threads: 1 };
    }
  }
  return { Hypervisor };
}
