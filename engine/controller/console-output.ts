import { constants as bufferConstants } from 'node:buffer';
import { lstat } from 'node:fs/promises';
import { InstanceError, IoError, UsageError, type DomforgeErrorOptions } from '../errors.js';
import { placeInFolder } from '../fs/inside-folder.js';
import { readRegularFileTail } from '../fs/regular-file.js';
import type { Instance } from '../instance/model.js';
import { placeOf, sourceOf } from '../instance/source.js';
import { isTestDriverUri } from '../libvirt/uri.js';
import { expectPositiveInteger } from '../option-checks.js';
import { consoleHint, readConsoleDevice, type ConsoleDevice } from './console-device.js';
import { StateConflictError } from './errors.js';
import { checkInstanceId } from './layout.js';
import type { ControllerContext } from './options.js';
import { readRecord } from './record.js';
import { findDomain } from './summary.js';

/** What Eucalyptus's NC returns of a console log for ncGetConsoleOutput: its last 64 KiB. */
export const DEFAULT_CONSOLE_BYTES = 64 * 1024;
/** The most `maxBytes` may be: the largest Buffer (`buffer.constants.MAX_LENGTH`). */
export const MAX_CONSOLE_BYTES = bufferConstants.MAX_LENGTH;

export interface ConsoleOutputOptions {
  /** How many bytes from the end of the console log, a positive integer. Default 65536 (64 KiB), as Eucalyptus. */
  maxBytes?: number;
}

export interface ConsoleOutput {
  id: string;
  /** The console log read: the record's consoleLogPath. */
  path: string;
  /**
   * The log's last `maxBytes` bytes (all of it when shorter), as the guest wrote them: not
   * decoded. Across virtlogd's roll-overs: the newest bytes of `PATH.0` (then `.1`, …)
   * followed by `PATH`.
   */
  bytes: Buffer;
  /** True when the log holds more than `bytes`: what came before them was left out. */
  truncated: boolean;
  /** The log's size in bytes when it was read, its rolled-over files included. */
  size: number;
  /** The files `bytes` came from, oldest first: `path` alone unless virtlogd has rolled it over. */
  files: string[];
}

/**
 * virtlogd (which libvirt's QEMU driver gives a `<serial type="file">` to) rolls a console
 * log over at its `max_size` (2 MiB by default): the file is renamed `PATH.0` (an older
 * `.0` to `.1`, and so on, `max_backups` of them) and the guest's output goes on in a new
 * `PATH`. The most rolled-over files looked for.
 */
const MAX_ROLLED_OVER = 100;

/** Why an instance's console cannot be read as a file: it is not one, or nothing is there yet. */
export type ConsoleUnavailableReason = 'not-a-file' | 'no-console' | 'not-written';

/**
 * STATE_CONFLICT: the instance has no console log to read. `not-a-file`: libvirt.xml sends
 * the serial console to a pty or a pipe (`device` says which, and the message where to read
 * it); `no-console`: the domain has none; `not-written`: the log is not there yet.
 */
export class ConsoleUnavailableError extends StateConflictError {
  readonly reason: ConsoleUnavailableReason;
  readonly device?: ConsoleDevice;
  constructor(message: string, o: DomforgeErrorOptions & { instanceId: string; reason: ConsoleUnavailableReason; device?: ConsoleDevice }) {
    super(message, o);
    this.reason = o.reason;
    this.device = o.device;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), reason: this.reason };
  }
}

/**
 * ncGetConsoleOutput: the tail of an instance's serial console log, the file its record's
 * consoleLogPath names, where domforge's transforms send the serial console.
 *
 * The record is editable, so the path is held to the instance folder, links resolved, and
 * only a regular file is read (a FIFO would block the read, a device never end it). Only
 * the tail is read, by position: a console log can be gigabytes. No lock is taken: the read
 * changes nothing, and a console must stay readable while a long operation runs.
 */
export async function consoleOutput(ctx: ControllerContext, id: string, o: ConsoleOutputOptions = {}): Promise<ConsoleOutput> {
  checkInstanceId(id);
  const maxBytes = checkMaxBytes(o.maxBytes);
  const record = await readRecord(ctx.layout, id);
  const device = await readConsoleDevice(ctx.layout.libvirtXml(id));
  if (device === null) {
    const file = ctx.layout.libvirtXml(id);
    throw new ConsoleUnavailableError(`the domain of ${id} has no serial port or console, so it has no console log`, { instanceId: id, file, reason: 'no-console' });
  }
  if (device && device.type !== 'file') {
    throw new ConsoleUnavailableError(`the serial console of ${id} is ${consoleHint(device, id, ctx.uri)}`, {
      instanceId: id,
      file: device.file,
      line: device.line,
      column: device.column,
      path: device.xmlPath,
      reason: 'not-a-file',
      device,
    });
  }
  const path = record.consoleLogPath;
  const tail = await readConsoleTail(ctx, record, maxBytes, device);
  return { id, path, ...tail };
}

function checkMaxBytes(value: unknown): number {
  expectPositiveInteger('maxBytes', value);
  const n = (value as number | undefined) ?? DEFAULT_CONSOLE_BYTES;
  if (n > MAX_CONSOLE_BYTES) throw new UsageError(`Expected \`maxBytes\` to be at most ${MAX_CONSOLE_BYTES} (the largest Buffer), got \`${n}\` (number)`);
  return n;
}

type ConsoleTail = Omit<ConsoleOutput, 'id' | 'path'>;

/** The record's consoleLogPath, checked to be in the instance folder, and its tail (see readRolledTail). */
async function readConsoleTail(ctx: ControllerContext, record: Instance, maxBytes: number, device: ConsoleDevice | undefined): Promise<ConsoleTail> {
  const id = record.name;
  const path = record.consoleLogPath;
  const dir = ctx.layout.dir(id);
  const place = placeOf(sourceOf(record), '/instance/consoleLogPath');
  if (path === '') throw new InstanceError(`the record has no consoleLogPath: where the console of ${id} is written is not known`, place);
  const where = await placeInFolder(dir, path).catch((e: Error) => {
    throw new IoError(`cannot find where the console log of ${id} is: ${e.message}`, { file: path, cause: e });
  });
  if (where.kind === 'outside') {
    throw new InstanceError(
      `consoleLogPath ${JSON.stringify(path)} ${where.how ?? 'is outside'} the instance folder ${dir}: domforge reads a console log only from the instance's own folder`,
      place,
    );
  }
  if (where.kind === 'missing') throw await notWritten(ctx, record, device);
  try {
    const tail = await readRolledTail(where.real, maxBytes);
    // Named as the record names them (the folder's links resolved only to check where they lead).
    return { ...tail, files: tail.files.map((f) => path + f.slice(where.real.length)) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw await notWritten(ctx, record, device);
    // A FIFO, a socket or a device (NotRegularFileError) is refused before any read, so it cannot block one.
    // A rolled-over file at fault is named, as the record names the log.
    const at = (e as { file?: string }).file;
    throw new IoError(`cannot read the console log of ${id}: ${(e as Error).message}`, { file: at === undefined ? path : path + at.slice(where.real.length), cause: e });
  }
}

/**
 * The last `maxBytes` of a console log and of the files virtlogd rolled it over into
 * (`file.0` the newest of them): the tail of `file`, then, while bytes are still wanted, of
 * `file.0`, `file.1`… Only regular files are read (a link or a FIFO among the rolled-over
 * names is refused, naming it). A roll-over while the files are read would give the bytes
 * read from `file` twice (they are in `file.0` by then): `file`'s inode is checked after the
 * reads, and they are made again when it changed.
 */
async function readRolledTail(file: string, maxBytes: number): Promise<ConsoleTail> {
  for (let attempt = 1; ; attempt++) {
    const newest = await readRegularFileTail(file, maxBytes);
    const parts = [newest.bytes];
    const files = [file];
    let size = newest.size;
    let truncated = newest.start > 0;
    let wanted = maxBytes - newest.bytes.length;
    for (let i = 0; i < MAX_ROLLED_OVER; i++) {
      const older = `${file}.${i}`;
      const st = await lstat(older).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return undefined;
        throw Object.assign(e, { file: older });
      });
      if (!st) break;
      if (wanted === 0) {
        size += st.size;
        truncated ||= st.size > 0;
        continue;
      }
      const tail = await readRegularFileTail(older, wanted).catch((e: Error) => {
        throw Object.assign(e, { file: older });
      });
      size += tail.size;
      parts.unshift(tail.bytes);
      files.unshift(older);
      wanted -= tail.bytes.length;
      truncated = tail.start > 0;
    }
    const now = await lstat(file).catch(() => undefined);
    if (now?.ino === newest.ino || attempt === 3) return { bytes: parts.length === 1 ? newest.bytes : Buffer.concat(parts), truncated, size, files };
  }
}

/**
 * The console log is not there: say why, as far as libvirt tells. A hypervisor creates a
 * `<serial type="file">`'s file when it starts the domain, so with no domain, or one that
 * is shut off, the guest has not run from this folder; with a running one, it has written
 * nothing yet (or the file was removed since).
 */
async function notWritten(ctx: ControllerContext, record: Instance, device: ConsoleDevice | undefined): Promise<ConsoleUnavailableError> {
  const id = record.name;
  const path = record.consoleLogPath;
  const domain = await findDomain(ctx.connection, id).catch(() => undefined);
  let why: string;
  if (device === undefined) why = `the launch of ${id} did not get as far as writing libvirt.xml, so no domain was started from this folder`;
  else if (!domain) why = `libvirt has no domain ${id}, so the guest has not run${isTestDriverUri(ctx.uri) ? ` (on ${ctx.uri} a domain lives only as long as the process that defined it)` : ''}`;
  else if (!domain.active) why = `domain ${id} is ${domain.state}: it has not started since it was defined (a start creates the file)`;
  else why = `domain ${id} is ${domain.state} but its guest has written nothing to the serial console yet (or the file was removed)`;
  const details = device?.path && device.path !== path ? [`libvirt.xml sends the serial console to ${device.path}, not to the record's consoleLogPath`] : [];
  return new ConsoleUnavailableError(`the console log of ${id} is not there: ${why}`, { instanceId: id, file: path, reason: 'not-written', device, details });
}
