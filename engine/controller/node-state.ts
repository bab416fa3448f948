/**
 * Whether this node takes new instances: Eucalyptus's ncModifyNode (`enabled` / `disabled`),
 * which an admin uses to drain a node before maintenance. Eucalyptus keeps it in
 * `nc_state.xml` (`<nc><version/><enabled/></nc>`) and, while disabled, refuses to run
 * instances; what runs keeps running, and terminate, reboot, attach and detach still work.
 *
 * domforge keeps the same file in the instances folder (`INSTANCES/nc_state.xml`; a plain
 * file there is never an instance, and no instance id may take its name) and reads it at every launch and start, so a node
 * disabled from the CLI is disabled for a controller process already running on the same
 * folder. No file means enabled. A launch that passed its check before the node was
 * disabled finishes.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DomforgeError, InstanceError, IoError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { readRegularText } from '../fs/regular-file.js';
import { ElementReader } from '../instance/reader.js';
import { lineOf, parseXml, type Element } from '../xml/parse.js';
import { escapeText } from '../xml/serialize.js';
import { StateConflictError } from './errors.js';
import { NODE_STATE_FILE, type InstanceLayout } from './layout.js';

export interface NodeState {
  enabled: boolean;
  /** `INSTANCES/nc_state.xml`. */
  file: string;
  /** The file exists (else the node is enabled by default). */
  recorded: boolean;
  /** What wrote the file (`<version>`), when it says. */
  version?: string;
}

export const nodeStateFile = (layout: InstanceLayout) => join(layout.root, NODE_STATE_FILE);

/**
 * The node's state as the file says. A file that is not well-formed XML is an XML_SYNTAX
 * error, and an `<enabled>` that is not `true`/`false` (or `1`/`0`) a NODE_STATE_INVALID
 * error, both naming the file and line: a node whose state cannot be read launches nothing.
 */
export async function readNodeState(layout: InstanceLayout): Promise<NodeState> {
  const file = nodeStateFile(layout);
  let text: string;
  try {
    text = await readRegularText(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { enabled: true, file, recorded: false };
    throw new IoError(`cannot read the node's state: ${(e as Error).message}`, { file, cause: e });
  }
  const root = parseXml(text, { file }).documentElement;
  if (root?.nodeName !== 'nc') {
    throw new DomforgeError('NODE_STATE_INVALID', `the root element must be <nc>, not <${root?.nodeName ?? ''}>`, { file, line: root ? lineOf(root) : undefined, path: '/' });
  }
  const enabled = onlyChild(root, 'enabled', file);
  const value = enabled?.textContent?.trim().toLowerCase();
  if (value !== 'true' && value !== 'false' && value !== '1' && value !== '0') {
    throw new DomforgeError(
      'NODE_STATE_INVALID',
      enabled ? `<enabled> must be true or false, got ${JSON.stringify(enabled.textContent ?? '')}` : 'no <enabled> element: the file does not say whether the node is enabled',
      { file, line: lineOf(enabled ?? root), path: '/nc/enabled' },
    );
  }
  const version = onlyChild(root, 'version', file)?.textContent?.trim();
  return { enabled: value === 'true' || value === '1', file, recorded: true, ...(version ? { version } : {}) };
}

/**
 * The one `<name>` of `<nc>`: a second is refused at its line (`<enabled> is given twice
 * (first at line 2)`, at /nc/enabled[2]), as instance.xml's single-valued fields are, rather
 * than one of the two read and the other ignored.
 */
function onlyChild(root: Element, name: string, file: string): Element | undefined {
  try {
    return new ElementReader(root, '/nc', file).child(name)?.el;
  } catch (e) {
    if (!(e instanceof InstanceError)) throw e;
    throw new DomforgeError('NODE_STATE_INVALID', e.shortMessage, { file, line: e.line, column: e.column, path: e.path, cause: e });
  }
}

/** Records the node's state (atomically, fsynced), creating the instances folder if needed. */
export async function writeNodeState(layout: InstanceLayout, enabled: boolean, version: string): Promise<NodeState & { createdFolder: boolean }> {
  const file = nodeStateFile(layout);
  let createdFolder: boolean;
  try {
    createdFolder = (await mkdir(layout.root, { recursive: true, mode: 0o755 })) !== undefined;
  } catch (e) {
    throw new IoError(`cannot create the instances folder: ${(e as Error).message}`, { file: layout.root, cause: e });
  }
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n<nc>\n  <version>${escapeText(version)}</version>\n  <enabled>${enabled}</enabled>\n</nc>\n`;
  try {
    await writeFileAtomic(file, text, { mode: 0o644 });
  } catch (e) {
    if (e instanceof DomforgeError) throw e;
    throw new IoError(`cannot write the node's state: ${(e as Error).message}`, { file, cause: e });
  }
  return { enabled, file, recorded: true, version, createdFolder };
}

/** Refuses `doing` (a launch, a start) on a disabled node (STATE_CONFLICT naming the state file). */
export async function checkNodeEnabled(layout: InstanceLayout, doing: string): Promise<void> {
  const state = await readNodeState(layout);
  if (state.enabled) return;
  throw new StateConflictError(`the node is disabled: no ${doing} until it is enabled again (domforge node enable)`, { file: state.file, path: '/nc/enabled' });
}
