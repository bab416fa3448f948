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

/**
 * A binding loader whose connections can be broken as a libvirtd restart breaks them: after
 * `restart()`, every connection opened so far (and every domain object it gave) fails each
 * call with libvirt's RPC client's message — "client socket is closed" (the request was not
 * sent) or, with `inFlight`, "Cannot recv data: Connection reset by peer" (it may have been) —
 * while connections opened afterwards work. `down(true)` makes new connections fail to open,
 * as while the daemon is stopped. Whatever URI it is given, it connects to test:///default,
 * so the pool treats it as a daemon URI that can reconnect. Its own pool: close it with
 * `closeConnections(loader)`.
 */
export function breakableLoader(): {
  loader: BindingLoader;
  restart(o?: { inFlight?: boolean }): void;
  down(on: boolean): void;
  opened(): number;
} {
  let serial = 0;
  let brokenBelow = 0;
  let inFlight = false;
  let isDown = false;
  const loader: BindingLoader = async () => {
    const b = await loadBinding();
    const wrap = <T extends object>(obj: T, dead: () => boolean): T =>
      new Proxy(obj, {
        get(target, key) {
          const v = Reflect.get(target, key) as unknown;
          if (typeof v !== 'function') return v;
          return (...args: unknown[]) => {
            if (dead()) return Promise.reject(new Error(inFlight ? 'Cannot recv data: Connection reset by peer' : 'internal error: client socket is closed'));
            return Promise.resolve((v as (...a: unknown[]) => unknown).apply(target, args)).then(function wrapResult(r: unknown): unknown {
              if (Array.isArray(r)) return r.map(wrapResult);
              return r && typeof r === 'object' && 'getUUIDString' in r ? wrap(r as object, dead) : r;
            });
          };
        },
      });
    function Breakable(this: unknown) {
      const mine = serial++;
      const real = new b.Hypervisor({ uri: 'test:///default' });
      const opensDown = isDown;
      const dead = () => mine < brokenBelow;
      const proxy = wrap(real, dead);
      if (!opensDown) return proxy;
      return new Proxy(proxy, {
        get: (t, k) =>
          k === 'connectOpen' ? () => Promise.reject(new Error("Failed to connect socket to '/run/libvirt/libvirt-sock': Connection refused")) : Reflect.get(t, k),
      });
    }
    return { Hypervisor: Breakable as unknown as typeof b.Hypervisor };
  };
  return {
    loader,
    restart(o = {}) {
      inFlight = o.inFlight === true;
      brokenBelow = serial;
    },
    down(on) {
      isDown = on;
    },
    opened: () => serial,
  };
}
