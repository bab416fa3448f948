/**
 * @unraid/libvirt rejects with libvirt's message only (its native worker passes
 * `virGetLastError()->message` and drops `code`), so domforge recovers the error number
 * from the message: libvirt builds every message from a fixed per-code prefix
 * (`virErrorMsg()` in src/util/virerror.c) followed by the detail. The numbers are
 * `virErrorNumber` from <libvirt/virterror.h>.
 */
export interface LibvirtCode {
  /** `virErrorNumber`, e.g. 42. */
  code: number;
  /** Its name, e.g. `VIR_ERR_NO_DOMAIN`. */
  name: string;
}

const PREFIXES: [RegExp, number, string][] = [
  [/^internal error\b/, 1, 'VIR_ERR_INTERNAL_ERROR'],
  [/^out of memory/, 2, 'VIR_ERR_NO_MEMORY'],
  [/^this function is not supported by the connection driver/, 3, 'VIR_ERR_NO_SUPPORT'],
  [/^no connection driver available/, 5, 'VIR_ERR_NO_CONNECT'],
  [/^invalid connection pointer/, 6, 'VIR_ERR_INVALID_CONN'],
  [/^invalid domain pointer/, 7, 'VIR_ERR_INVALID_DOMAIN'],
  [/^invalid argument\b/, 8, 'VIR_ERR_INVALID_ARG'],
  [/^operation failed\b/, 9, 'VIR_ERR_OPERATION_FAILED'],
  [/^(XML error\b|XML description is invalid)/, 27, 'VIR_ERR_XML_ERROR'],
  [/^(this domain exists already|domain .* exists already)/, 28, 'VIR_ERR_DOM_EXIST'],
  [/^operation (.* )?forbidden\b/, 29, 'VIR_ERR_OPERATION_DENIED'],
  // libxml2's own parse errors, reported as "(domain_definition):1: message".
  [/^\([\w ]+\):\d+: /, 35, 'VIR_ERR_XML_DETAIL'],
  [/^Domain not found\b/, 42, 'VIR_ERR_NO_DOMAIN'],
  [/^Network not found\b/, 43, 'VIR_ERR_NO_NETWORK'],
  [/^invalid MAC address\b/, 44, 'VIR_ERR_INVALID_MAC'],
  [/^authentication failed\b/, 45, 'VIR_ERR_AUTH_FAILED'],
  [/^Storage pool not found\b/, 49, 'VIR_ERR_NO_STORAGE_POOL'],
  [/^Storage volume not found\b/, 50, 'VIR_ERR_NO_STORAGE_VOL'],
  [/^Requested operation is not valid\b/, 55, 'VIR_ERR_OPERATION_INVALID'],
  [/^unsupported configuration\b/, 67, 'VIR_ERR_CONFIG_UNSUPPORTED'],
  [/^Timed out during operation\b/, 68, 'VIR_ERR_OPERATION_TIMEOUT'],
  [/^Hook script execution failed\b/, 70, 'VIR_ERR_HOOK_SCRIPT_FAILED'],
  [/^argument unsupported\b/, 74, 'VIR_ERR_ARGUMENT_UNSUPPORTED'],
  [/^operation aborted\b/, 78, 'VIR_ERR_OPERATION_ABORTED'],
  [/^Operation not supported\b/, 84, 'VIR_ERR_OPERATION_UNSUPPORTED'],
  [/^Guest agent is not responding\b/, 86, 'VIR_ERR_AGENT_UNRESPONSIVE'],
  [/^(Requested operation|resource) is busy\b|^resource busy\b/, 87, 'VIR_ERR_RESOURCE_BUSY'],
  [/^access denied\b/, 88, 'VIR_ERR_ACCESS_DENIED'],
  [/^the CPU is incompatible with host CPU\b/, 91, 'VIR_ERR_CPU_INCOMPATIBLE'],
  [/^device not found\b/, 99, 'VIR_ERR_DEVICE_MISSING'],
  // System errors are "<what>: <strerror>" with no fixed prefix.
  [/: (No such file or directory|Permission denied|Connection refused|Operation not permitted|No space left on device|Input\/output error|Device or resource busy)$/, 38, 'VIR_ERR_SYSTEM_ERROR'],
];

const BY_NAME = new Map(PREFIXES.map(([, code, name]) => [code, name]));

/** The `virErrorNumber` a libvirt message was built from, when it can be told. */
export function libvirtCodeOf(message: string): LibvirtCode | undefined {
  for (const [re, code, name] of PREFIXES) if (re.test(message)) return { code, name };
  return undefined;
}

/** `VIR_ERR_NO_DOMAIN` for 42, when known. */
export function libvirtCodeName(code: number): string | undefined {
  return BY_NAME.get(code);
}

export const VIR_ERR_NO_SUPPORT = 3;
export const VIR_ERR_NO_DOMAIN = 42;
export const VIR_ERR_OPERATION_INVALID = 55;
export const VIR_ERR_DEVICE_MISSING = 99;
