/**
 * Validation of hot-plug fragments — one `<disk>` or `<interface>` for libvirt's
 * attach-device call (Eucalyptus volume and ENI attach). The fragment is validated
 * as the only device of a minimal domain against libvirt's schema, with lines and
 * paths reported in the fragment's own terms (`/interface/mac/@address`), then
 * checked like a domain's devices — against the domain's existing devices when its
 * XML is given, so a duplicate target dev or MAC is refused before libvirt is called.
 */
import { DomainInvalidError, type DomforgeError } from '../errors.js';
import { childElements, type Document } from '../xml/parse.js';
import { loadDomainSchema } from './schema.js';
import { runVirtXmlValidate } from './virt-xml-validate.js';
import { fragmentSchemaProblems, placeRawProblems } from './domain-schema.js';
import { Findings } from './findings.js';
import { checkDisks, checkInterfaces, machineOf } from './device-checks.js';
import { checkAliases, checkDevicePaths, pathChecker } from './semantic.js';
import { parseOrThrow, refuseTooDeep, settle, type DomainValidation, type ValidateDomainOptions } from './validate-domain.js';
import { existsSync } from 'node:fs';

/** The device kinds domforge hot-plugs, as a list for callers that tell a fragment by its root element. */
export const FRAGMENT_KINDS = ['disk', 'interface'] as const;
export type FragmentKind = (typeof FRAGMENT_KINDS)[number];

/** Whether an element name is one of the {@link FRAGMENT_KINDS}. */
export function isFragmentKind(name: string): name is FragmentKind {
  return (FRAGMENT_KINDS as readonly string[]).includes(name);
}

export interface ValidateFragmentOptions extends ValidateDomainOptions {
  /**
   * The current domain XML (e.g. from virDomainGetXMLDesc). When given, the fragment's
   * target dev, MAC and alias must not clash with its devices, and IDE limits follow its
   * machine type. Default: none (the fragment is checked alone).
   */
  domainXml?: string;
}

/**
 * Validates a `<disk>` or `<interface>` fragment. Resolves with warnings, or rejects
 * with DomainInvalidError whose problems carry the fragment's lines and paths.
 */
export async function validateDomainFragment(xml: string, kind: FragmentKind, options: ValidateFragmentOptions = {}): Promise<DomainValidation> {
  const file = options.file;
  // A caller that parsed the fragment to learn its kind passes the parse on (as to validateDomainXml).
  const doc = options.document ?? parseOrThrow(xml, file);
  const root = doc.documentElement!;
  if (root.nodeName !== kind) {
    throw new DomainInvalidError(`expected a <${kind}> fragment, found <${root.nodeName}>`, { file, line: 1, path: `/${root.nodeName}` });
  }
  // Checked as the only device of a minimal domain: two levels down.
  refuseTooDeep(doc, options, 2);
  const schemaProblems = await runSchema(doc, xml, options);

  const f = new Findings(file);
  const domain = options.domainXml ? parseOrThrow(options.domainXml).documentElement! : undefined;
  const existing = domain ? childElements(domain, 'devices').flatMap((d) => childElements(d)) : [];
  // The fragment goes last, so a clash is reported on it, not on the existing device.
  const devices = [...existing, root];
  if (kind === 'disk') checkDisks(devices, domain ? machineOf(domain) : 'other', f, domain?.getAttribute('type') ?? undefined);
  else checkInterfaces(devices.filter((d) => d.nodeName === 'interface'), f);
  checkAliases(devices, f);
  if (options.checkPaths) checkDevicePaths(root, pathChecker(f, options.exists ?? existsSync));
  const mine = new Findings(file);
  mine.all.push(...f.all.filter((x) => (x.node.ownerDocument ?? x.node) === doc));
  return settle(schemaProblems, mine, file);
}

async function runSchema(doc: Document, xml: string, o: ValidateFragmentOptions): Promise<DomforgeError[]> {
  const engine = o.schema ?? 'wasm';
  if (engine === false) return [];
  if (engine === 'virt-xml-validate') {
    // Same line as the fragment's first, so libxml2's line numbers are the fragment's.
    const body = xml.replace(/^\s*<\?xml[^?]*\?>/, (d) => ' '.repeat(d.length));
    const wrapped = `<domain type="kvm"><name>domforge-check</name><memory>1048576</memory><os><type>hvm</type></os><devices>${body}</devices></domain>`;
    const r = await runVirtXmlValidate(wrapped);
    if (r.valid) return [];
    // libxml2 blames the wrapper (<domain>, <devices>) for a bad device, by the line of the
    // element or, with no line, by name ("Extra element devices in interleave"): point at the fragment.
    const root = doc.documentElement!.nodeName;
    const wrapper = (name: string | undefined) => name === 'domain' || name === 'devices';
    const onFragment = r.errors.map((e) => {
      const extra = /^Extra element (\S+) in interleave$/.exec(e.message)?.[1];
      return {
        ...e,
        element: wrapper(e.element) ? root : e.element,
        message: wrapper(extra) ? `Extra element ${root} in interleave` : e.message,
      };
    });
    return placeRawProblems(doc, onFragment, o.file);
  }
  const schema = await loadDomainSchema({ schemaPath: o.schemaPath });
  return fragmentSchemaProblems(doc, schema, { file: o.file });
}
