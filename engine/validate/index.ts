/** Validation of rendered libvirt domain XML: the public surface of engine/validate. */
export { validateDomainXml, type ValidateDomainOptions, type DomainValidation, type SchemaEngine } from './validate-domain.js';
export { validateDomainFragment, FRAGMENT_KINDS, isFragmentKind, type FragmentKind, type ValidateFragmentOptions } from './fragment.js';
export {
  loadDomainSchema,
  releaseDomainSchemas,
  resolveDomainSchemaPath,
  LIBVIRT_SCHEMA_DIR,
  type CompiledSchema,
  type RawSchemaError,
  type SchemaLocationOptions,
} from './schema.js';
export { runVirtXmlValidate, type VirtXmlValidateOptions, type VirtXmlValidateResult } from './virt-xml-validate.js';
export { checkDomainSemantics, type SemanticOptions } from './semantic.js';
export type { Finding, Findings, Severity } from './findings.js';
