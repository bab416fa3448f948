/**
 * The check validateInstance makes, for the hot-plug stubs: what the transforms copy from an
 * `eni-XXXX.xml` `<nic>` into its `<interface>` (MAC, bridge, tap name; no `model`), or from a
 * `vol-XXXX.xml` `<volume>` into its `<disk>` (its `<diskPath>`: path, device name, serial),
 * held to the rules the same fields have in instance.xml on the stub's hypervisor (no
 * partition, `vdb1`, on KVM or QEMU), so a value libvirt would refuse is refused at the
 * stub's line and path rather than at a line of the rendered fragment.
 */
import { InstanceError } from '../errors.js';
import { columnOf, firstChild, lineOf, type Document, type Element } from '../xml/parse.js';
import type { Stub } from './stubs.js';
import { diskPathProblem, macProblem, nicModelProblem, nicPlaceProblem, type ValueProblem } from './validate.js';

export interface ValidateStubOptions {
  file?: string;
  /** The stub's parsed document, for the lines of its elements. */
  document?: Document;
}

/** Throws an InstanceError naming the first refused value of `stub`: its file, its element's line and its path (`/nic/@mac`). */
export function validateStub(stub: Stub, options: ValidateStubOptions = {}): void {
  const [element, problem] = stub.kind === 'nic' ? ['/nic', nicStubProblem(stub.data)] : ['/volume/diskPath', diskPathProblem(stub.data.diskPath, stub.data.hypervisor.type)];
  if (!problem) return;
  const el = elementAt(options.document, element);
  throw new InstanceError(problem.message, { file: options.file, line: el && lineOf(el), column: el && columnOf(el), path: `${element}${problem.at}` });
}

function nicStubProblem(nic: Extract<Stub, { kind: 'nic' }>['data']): ValueProblem | undefined {
  return macProblem(nic.mac) ?? nicPlaceProblem(nic) ?? nicModelProblem(nic);
}

/** The element at a path of child names from the root (`/volume/diskPath`). */
function elementAt(doc: Document | undefined, path: string): Element | undefined {
  const [root, ...names] = path.split('/').slice(1);
  let el = doc?.documentElement ?? undefined;
  if (el?.nodeName !== root) return undefined;
  for (const name of names) el = el && firstChild(el, name);
  return el;
}
