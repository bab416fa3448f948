import { parseXml, childElements, firstChild, type Element } from '../xml/parse.js';
import { serializeXml } from '../xml/serialize.js';
import { xmlEqual } from '../xml/compare.js';

/** Why a device could not be added to or removed from a domain's XML. */
export class DeviceXmlError extends Error {
  constructor(
    readonly reason: 'missing' | 'conflict' | 'unmatchable',
    message: string,
  ) {
    super(message);
    this.name = 'DeviceXmlError';
  }
}

/** How a device is recognised in a domain, the way libvirt matches a device to detach. */
interface DeviceMatcher {
  /** `disk with target dev 'vdb'`. */
  describe: string;
  matches(candidate: Element): boolean;
}

/**
 * libvirt finds the device to detach by a key, not by the whole XML: a `<disk>` by its
 * `<target dev>` (virDomainDiskIndexByName), an `<interface>` by its `<mac address>`
 * (virDomainNetFindIdx). Other devices are matched by their whole XML.
 */
function matcherOf(device: Element): DeviceMatcher | undefined {
  const kind = device.nodeName;
  if (kind === 'disk') {
    const dev = firstChild(device, 'target')?.getAttribute('dev');
    if (!dev) return undefined;
    return {
      describe: `disk with target dev '${dev}'`,
      matches: (c) => c.nodeName === 'disk' && firstChild(c, 'target')?.getAttribute('dev') === dev,
    };
  }
  if (kind === 'interface') {
    const mac = firstChild(device, 'mac')?.getAttribute('address')?.toLowerCase();
    if (!mac) return undefined;
    return {
      describe: `interface with MAC ${mac}`,
      matches: (c) => c.nodeName === 'interface' && firstChild(c, 'mac')?.getAttribute('address')?.toLowerCase() === mac,
    };
  }
  const xml = serializeXml(device);
  return { describe: `<${kind}> device`, matches: (c) => c.nodeName === kind && xmlEqual(serializeXml(c), xml) };
}

/** The single device element of a device XML (`<disk>...</disk>`). */
export function parseDevice(deviceXml: string): Element {
  return parseXml(deviceXml, { file: 'device XML' }).documentElement!;
}

function devicesOf(domainXml: string): { doc: ReturnType<typeof parseXml>; devices: Element } {
  const doc = parseXml(domainXml, { file: 'domain XML' });
  const root = doc.documentElement!;
  let devices = firstChild(root, 'devices');
  if (!devices) {
    devices = doc.createElement('devices');
    root.appendChild(devices);
  }
  return { doc, devices };
}

/**
 * The domain XML with the device appended to `<devices>`. A disk whose target dev or an
 * interface whose MAC is already present is a conflict (libvirt refuses those too).
 */
export function addDeviceToDomainXml(domainXml: string, deviceXml: string): string {
  const device = parseDevice(deviceXml);
  const { doc, devices } = devicesOf(domainXml);
  const m = matcherOf(device);
  if (m && (device.nodeName === 'disk' || device.nodeName === 'interface') && childElements(devices).some(m.matches)) {
    throw new DeviceXmlError('conflict', `the domain already has a ${m.describe}`);
  }
  devices.appendChild(doc.importNode(device, true));
  return serializeXml(doc);
}

/**
 * Whether the domain XML holds the device of `deviceXml`, found as libvirt finds a device to
 * detach (see matcherOf): a `<disk>` by its target dev, an `<interface>` by its MAC.
 */
export function domainHasDevice(domainXml: string, deviceXml: string): boolean {
  const m = matcherOf(parseDevice(deviceXml));
  const devices = firstChild(parseXml(domainXml, { file: 'domain XML' }).documentElement!, 'devices');
  return m !== undefined && devices !== undefined && childElements(devices).some(m.matches);
}

/** Whether two device XMLs name the same device, as libvirt tells devices apart (see matcherOf): two `<disk>`s of one target dev, two `<interface>`s of one MAC. */
export function sameDevice(a: string, b: string): boolean {
  const m = matcherOf(parseDevice(a));
  return m !== undefined && m.matches(parseDevice(b));
}

/** How a device is told apart in messages: `disk with target dev 'vdb'`, `interface with MAC …`, or undefined when it cannot be (see matcherOf). */
export const describeDevice = (deviceXml: string): string | undefined => matcherOf(parseDevice(deviceXml))?.describe;

/** The domain XML without the device that matches `deviceXml` (see matcherOf). */
export function removeDeviceFromDomainXml(domainXml: string, deviceXml: string): string {
  const device = parseDevice(deviceXml);
  const m = matcherOf(device);
  if (!m) {
    throw new DeviceXmlError(
      'unmatchable',
      device.nodeName === 'disk' ? 'a <disk> to detach needs <target dev="...">' : 'an <interface> to detach needs <mac address="...">',
    );
  }
  const { doc, devices } = devicesOf(domainXml);
  const found = childElements(devices).find(m.matches);
  if (!found) throw new DeviceXmlError('missing', `no ${m.describe} in the domain`);
  devices.removeChild(found);
  return serializeXml(doc);
}
