import type { ConfigDriveInput } from './input.js';

/**
 * OpenStack's network_data.json (the format Nova documents in
 * `doc/source/user/metadata.rst` and cloud-init reads in
 * `helpers/openstack.py::convert_net_json`): `links` are the guest's NICs,
 * `networks` the addresses on them, `services` the DNS servers.
 */
export interface NetworkData {
  links: { id: string; type: 'phy'; ethernet_mac_address: string; mtu: number | null }[];
  networks: NetworkDataNetwork[];
  services: { type: 'dns'; address: string }[];
}

export type NetworkDataNetwork =
  | { id: string; type: 'ipv4_dhcp'; link: string; network_id: string }
  | {
      id: string;
      type: 'ipv4' | 'ipv6';
      link: string;
      network_id: string;
      ip_address: string;
      netmask: string;
      routes: { network: string; netmask: string; gateway: string }[];
    };

/**
 * Maps the input's NICs in order: NIC n is link `eth<n>` (type `phy`, as
 * CloudStack writes) and network `network<n>`. A NIC with both an address and a
 * netmask gets a static network, with a default route when a gateway is known;
 * otherwise the guest is told to use DHCP (`ipv4_dhcp`), since a static address
 * without a mask would leave it unreachable. The network id is the host bridge
 * when known.
 */
export function buildNetworkData(input: ConfigDriveInput): NetworkData {
  const data: NetworkData = { links: [], networks: [], services: [] };
  for (const [i, nic] of (input.networks ?? []).entries()) {
    const link = `eth${i}`;
    data.links.push({ id: link, type: 'phy', ethernet_mac_address: nic.mac.toLowerCase(), mtu: nic.mtu ?? null });
    const id = `network${i}`;
    const network_id = nic.bridge ?? id;
    if (nic.ip && nic.netmask) {
      const v6 = nic.ip.includes(':');
      data.networks.push({
        id,
        type: v6 ? 'ipv6' : 'ipv4',
        link,
        network_id,
        ip_address: nic.ip,
        netmask: nic.netmask,
        routes: nic.gateway ? [{ network: v6 ? '::' : '0.0.0.0', netmask: v6 ? '::' : '0.0.0.0', gateway: nic.gateway }] : [],
      });
    } else {
      data.networks.push({ id, type: 'ipv4_dhcp', link, network_id });
    }
  }
  for (const address of input.dnsServers ?? []) data.services.push({ type: 'dns', address });
  return data;
}
