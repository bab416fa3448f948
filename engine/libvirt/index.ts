/** The libvirt connection layer over the optional @unraid/libvirt binding (loaded lazily). */
export { LibvirtError, LibvirtUnavailableError, type LibvirtErrorOptions } from './errors.js';
export { libvirtCodeOf, libvirtCodeName, type LibvirtCode } from './error-codes.js';
export { loadBinding, isLibvirtAvailable, defaultBindingLoader, type BindingLoader, type LibvirtBinding } from './binding.js';
export { resolveUri, isTestDriverUri, TEST_URI } from './uri.js';
export { DOMAIN_STATES, domainStateName, stateReasonName, type DomainStateName } from './domain-state.js';
export { readStateReasons, stateReasonsOfDomstats } from './state-reasons.js';
export {
  LibvirtConnection,
  type DomainId,
  type DomainTarget,
  type DomainRef,
  type DomainSummary,
  type DomainInfo,
  type NodeInfo,
  type GetXmlOptions,
  type RebootOptions,
  type PowerOffOutcome,
} from './connection.js';
export { connect, closeConnections, type ConnectOptions } from './pool.js';
export { parseDomstats, parseDomstatsByDomain, devicesOfDomstats, sensorValues, type DomainStats, type DiskStats, type InterfaceStats, type SensorValues } from './domstats.js';
export { type HotplugMethod, type DeviceChangeOptions, type DeviceChangeResult } from './hotplug.js';
export { addDeviceToDomainXml, removeDeviceFromDomainXml, DeviceXmlError } from './device-xml.js';
export { runVirsh, type VirshOptions } from './virsh.js';
