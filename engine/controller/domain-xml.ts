import { DomainInvalidError } from '../errors.js';
import { firstChild, lineOf, columnOf, parseXml, childElements, type Document } from '../xml/parse.js';
import { validateDomainFragment, type FragmentKind } from '../validate/fragment.js';
import { parseOrThrow, validateDomainXml } from '../validate/validate-domain.js';
import type { ControllerContext } from './options.js';
import type { Instance } from '../instance/model.js';
import type { InstanceSource } from '../instance/source.js';
import { checkDomainCoversInstance, checkFragmentCoversStub } from '../render/covers.js';
import type { Stub } from '../instance/stubs.js';

/**
 * The gate before libvirt: libvirt's schema and domforge's checks (validateDomainXml),
 * then the domain must still be this instance — `<name>` the instance id and `<uuid>`
 * the record's — so that a transform, filter or hook cannot make the controller define,
 * and later destroy, a domain under another name. A missing `<uuid>` is refused like a
 * changed one: libvirt would make up a random one, and terminate would then (rightly)
 * refuse to touch a domain whose uuid is not the record's. Last, it must hold the record's
 * attached volumes and NICs (checkDomainCoversInstance); `source` is where the caller's
 * instance was read, which those errors name.
 * Returns the validator's warnings as text.
 */
export async function checkDomainXml(ctx: ControllerContext, xml: string, file: string, id: string, record: Instance, document?: Document, source?: InstanceSource): Promise<string[]> {
  const uuid = record.uuid;
  const doc = document ?? parseOrThrow(xml, file);
  const v = await validateDomainXml(xml, { file, schema: ctx.schema, checkPaths: ctx.checkPaths, document: doc });
  const root = doc.documentElement!;
  const name = firstChild(root, 'name');
  const got = name?.textContent?.trim() ?? '';
  if (got !== id) {
    throw new DomainInvalidError(`the domain is named ${JSON.stringify(got)}; it must be named after the instance, ${JSON.stringify(id)}`, {
      file,
      line: name ? lineOf(name) : lineOf(root),
      column: name ? columnOf(name) : columnOf(root),
      path: '/domain/name',
    });
  }
  const u = firstChild(root, 'uuid');
  if (!u) {
    throw new DomainInvalidError(`the domain has no <uuid>; it must keep the instance's, ${uuid} (libvirt would make up another, and terminate would not recognise the domain)`, {
      file,
      line: lineOf(root),
      column: columnOf(root),
      path: '/domain/uuid',
    });
  }
  const gotUuid = u.textContent?.trim() ?? '';
  if (normalizeUuid(gotUuid) !== normalizeUuid(uuid)) {
    throw new DomainInvalidError(`the domain's uuid ${gotUuid} is not the instance's ${uuid}`, { file, line: lineOf(u), column: columnOf(u), path: '/domain/uuid' });
  }
  checkDomainCoversInstance(record, doc, { file, source });
  return v.warnings.map((w) => w.message);
}

/** The device a stub renders to. */
const FRAGMENT_OF = { nic: 'interface', volume: 'disk' } as const satisfies Record<Stub['kind'], FragmentKind>;

/**
 * Validates a `<disk>` / `<interface>` for hot-plug, against the running domain's devices,
 * then that it is still the device of the stub it was rendered from (`stub`, `from` naming it
 * in messages): an ENI's `<interface>` keeps the MAC the record lists (checkFragmentCoversStub).
 */
export async function checkDeviceXml(ctx: ControllerContext, xml: string, file: string, o: { stub: Stub; from: string; domainXml: string }): Promise<string[]> {
  const document = parseOrThrow(xml, file);
  const v = await validateDomainFragment(xml, FRAGMENT_OF[o.stub.kind], { file, schema: ctx.schema, checkPaths: ctx.checkPaths, domainXml: o.domainXml, document });
  checkFragmentCoversStub(o.stub, document, { file, from: o.from });
  return v.warnings.map((w) => w.message);
}

function normalizeUuid(u: string): string {
  return u.replace(/-/g, '').toLowerCase();
}

/** Whether a `<disk>` of the domain has `path` as its source file or device (how we know the config drive is used). */
export function domainUsesFile(xml: string, path: string, document?: Document): boolean {
  const devices = firstChild((document ?? parseXml(xml)).documentElement!, 'devices');
  if (!devices) return false;
  return childElements(devices).some((d) => {
    if (d.nodeName !== 'disk') return false;
    const source = firstChild(d, 'source');
    return source?.getAttribute('file') === path || source?.getAttribute('dev') === path;
  });
}

/** The XML without its declaration, to embed it in another document (instance.xml's `volumes/volume/libvirt`). */
export function withoutDeclaration(xml: string): string {
  return xml.replace(/^\s*<\?xml[^?]*\?>\s*/, '').trim();
}
