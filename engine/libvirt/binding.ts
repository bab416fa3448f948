import { LibvirtUnavailableError } from './errors.js';

/**
 * The part of @unraid/libvirt domforge uses, typed here so that domforge compiles and
 * renders without the optional package installed. Domain objects are the binding's
 * `Domain` wrapper class.
 */
export interface BindingDomain {
  create(): Promise<void>;
  destroy(): Promise<void>;
  undefine(): Promise<void>;
  shutdown(): Promise<void>;
  getXMLDesc(flags?: number): Promise<string>;
  getInfo(): Promise<{ state: number; maxMem: number; memory: number; nrVirtCpu: number; cpuTime: number }>;
  getID(): Promise<number | null | undefined>;
  getName(): Promise<string>;
  getUUIDString(): Promise<string>;
}

export interface BindingHypervisor {
  connectOpen(): Promise<void>;
  connectClose(): Promise<void>;
  connectListAllDomains(flags?: number): Promise<BindingDomain[]>;
  domainDefineXML(xml: string): Promise<BindingDomain>;
  domainCreateXML(xml: string): Promise<BindingDomain>;
  domainLookupByName(name: string): Promise<BindingDomain>;
  domainLookupByUUIDString(uuid: string): Promise<BindingDomain>;
  /** virNodeGetInfo, field for field (`memory` in KiB; `sockets` per NUMA node, `cores` per socket, `threads` per core). */
  nodeGetInfo(): Promise<{ model: string; memory: number; cpus: number; mhz: number; nodes: number; sockets: number; cores: number; threads: number }>;
}

export interface LibvirtBinding {
  Hypervisor: new (options: { uri: string }) => BindingHypervisor;
}

/** Loads the binding; injectable so tests (and embedders) can replace or break it. */
export type BindingLoader = () => Promise<LibvirtBinding>;

const PACKAGE = '@unraid/libvirt';

export const UNAVAILABLE_MESSAGE =
  `the libvirt binding is not available: install the optional dependency ${PACKAGE} ` +
  '(needs libvirt-dev, a C++ compiler and make: `apt-get install libvirt-dev g++ make && npm install @unraid/libvirt`). ' +
  'Rendering and validation work without it; defining and starting domains do not.';

/**
 * The default loader: a dynamic `import()` of @unraid/libvirt (never a static import, so
 * modules that only render never load native code), then one `new Hypervisor()` to make
 * the binding load its native addon (it does so lazily, in the constructor).
 */
export const defaultBindingLoader: BindingLoader = async () => {
  const specifier = PACKAGE; // a variable: TypeScript must not resolve the optional package
  const mod = (await import(specifier)) as LibvirtBinding;
  if (typeof mod?.Hypervisor !== 'function') throw new Error(`${PACKAGE} does not export Hypervisor`);
  new mod.Hypervisor({ uri: 'test:///default' }); // loads build/Release/libvirt.node; does not connect
  return mod;
};

const cache = new WeakMap<BindingLoader, Promise<LibvirtBinding>>();

/**
 * The binding, loaded once per loader. Any failure (package missing, native addon not
 * built, libvirt.so missing) is a LibvirtUnavailableError with the install hint; a failed
 * load is not cached, so installing the package fixes a long-running process.
 */
export function loadBinding(loader: BindingLoader = defaultBindingLoader): Promise<LibvirtBinding> {
  let p = cache.get(loader);
  if (!p) {
    p = Promise.resolve()
      .then(loader)
      .catch((e: unknown) => {
        cache.delete(loader);
        throw e instanceof LibvirtUnavailableError ? e : new LibvirtUnavailableError(UNAVAILABLE_MESSAGE, { cause: e });
      });
    cache.set(loader, p);
  }
  return p;
}

/** True when the binding loads (for `domforge doctor`-style checks and test skips). */
export async function isLibvirtAvailable(loader: BindingLoader = defaultBindingLoader): Promise<boolean> {
  try {
    await loadBinding(loader);
    return true;
  } catch {
    return false;
  }
}
