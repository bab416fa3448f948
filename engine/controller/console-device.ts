import { readRegularText } from '../fs/regular-file.js';
import { childElements, columnOf, firstChild, lineOf, parseXml, pathOf, type Element } from '../xml/parse.js';

/**
 * Where a domain's serial console goes, as the domain XML domforge gave libvirt says: the
 * first `<serial>` (the guest's ttyS0 / COM1), else a `<console>` (a Xen PV guest's hvc0).
 * libvirt's character devices (https://libvirt.org/formatdomain.html#consoles-serial-parallel-channel-devices)
 * have a `type` (`file`, `pty`, `pipe`, `unix`, `tcp`, …) and most a `<source path>`.
 */
export interface ConsoleDevice {
  /** The element: `serial` or `console`. */
  element: 'serial' | 'console';
  /** Its `type`: `file` is the only one a controller can read back; `pty`, `pipe`, `tcp`, … are not files. */
  type: string;
  /** `<source path>` when it has one (the file, the Hyper-V pipe, a pty libvirt allocated). */
  path?: string;
  /** Where the element is: libvirt.xml, its line and column, `/domain/devices/serial[1]`. */
  file: string;
  line?: number;
  column?: number;
  xmlPath: string;
}

/**
 * The console device of an instance's libvirt.xml, `null` when the domain has neither a
 * `<serial>` nor a `<console>`, or `undefined` when the file is missing or does not parse:
 * then nothing is known of it, and the caller goes by the record alone. A libvirt.xml that
 * does not parse is not this operation's error to report (launch checked what it defined;
 * whatever changed it since is not what libvirt runs).
 */
export async function readConsoleDevice(file: string): Promise<ConsoleDevice | null | undefined> {
  let text: string;
  try {
    text = await readRegularText(file); // a FIFO put in its place must not block the read
  } catch {
    return undefined;
  }
  let root: Element;
  try {
    root = parseXml(text, { file }).documentElement!;
  } catch {
    return undefined;
  }
  const devices = root && firstChild(root, 'devices');
  if (!devices) return null;
  const el = childElements(devices, 'serial')[0] ?? childElements(devices, 'console')[0];
  if (!el) return null;
  return {
    element: el.nodeName === 'console' ? 'console' : 'serial',
    type: el.getAttribute('type') || 'pty', // libvirt's default for a character device without one
    path: firstChild(el, 'source')?.getAttribute('path') || undefined,
    file,
    line: lineOf(el),
    column: columnOf(el),
    xmlPath: pathOf(el),
  };
}

/**
 * Where to read a console that is not a file, for a message: `virsh console` for a pty
 * (libvirt relays it; only one reader at a time), the host's pipe for Hyper-V.
 */
export function consoleHint(device: ConsoleDevice, id: string, uri: string): string {
  const virsh = `read it with \`virsh -c ${uri} console ${id}\``;
  switch (device.type) {
    case 'pty':
      return `a pty${device.path ? ` (${device.path})` : ''}, not a file: ${virsh}`;
    case 'pipe':
      return `a named pipe${device.path ? ` (${device.path})` : ''}, not a file: on Hyper-V it is on the host, read it there`;
    default:
      return `of type ${device.type}${device.path ? ` (${device.path})` : ''}, not a file: connect to it as libvirt's character device says, or ${virsh}`;
  }
}
