import { MAX_ITEMS_PER_CALL, type KvpRecord } from './constants.js';
import { renderKvpItem } from './cim-xml.js';
import { KvpTooManyItemsError } from './errors.js';
import { assertUniqueKeys } from './limits.js';
import { renderInvokeEnvelope, type EndpointReference, type Selector, type WsmanInvoke, type WsmanValue } from './wsman-envelope.js';
import { KvpError } from '../errors.js';

/**
 * The Hyper-V WMI calls domforge makes over WS-Management: `AddKvpItems`, `ModifyKvpItems`,
 * `RemoveKvpItems` and `GetSummaryInformation` of `Msvm_VirtualSystemManagementService`
 * (Microsoft's "Msvm_VirtualSystemManagementService class" reference, namespace
 * `root\virtualization\v2`). Pure: returns the envelope text; sending it is the caller's job.
 */

/** WinRM's resource URI prefix for Hyper-V's WMI namespace. */
export const HYPERV_WMI_BASE = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization';

/** `v2` = `root\virtualization\v2` (Windows Server 2012 and later), `v1` = `root\virtualization`. */
export type HypervNamespace = 'v1' | 'v2';

/** Resource URI of a Hyper-V WMI class, e.g. `…/root/virtualization/v2/Msvm_ComputerSystem`. */
export function hypervResourceUri(className: string, namespace: HypervNamespace = 'v2'): string {
  return `${HYPERV_WMI_BASE}${namespace === 'v2' ? '/v2' : ''}/${className}`;
}

/** Key selectors of the host's single `Msvm_VirtualSystemManagementService` instance. */
export function vmmsSelectors(hostName: string): Selector[] {
  return [
    { name: 'CreationClassName', value: 'Msvm_VirtualSystemManagementService' },
    { name: 'Name', value: 'vmms' },
    { name: 'SystemCreationClassName', value: 'Msvm_ComputerSystem' },
    { name: 'SystemName', value: hostName },
  ];
}

/**
 * Reference to a VM. `vmName` is the `Name` key of `Msvm_ComputerSystem`, which Hyper-V sets
 * to the VM's GUID (`Get-VM | Select Id`); the display name is `ElementName` and cannot be
 * used in a reference, which carries key properties only.
 */
export function computerSystemRef(vmName: string, namespace: HypervNamespace = 'v2'): EndpointReference {
  return {
    resourceUri: hypervResourceUri('Msvm_ComputerSystem', namespace),
    selectors: [
      { name: 'CreationClassName', value: 'Msvm_ComputerSystem' },
      { name: 'Name', value: vmName },
    ],
  };
}

/** Reference to a VM's (or snapshot's) settings, keyed by `InstanceID` (`Microsoft:GUID`). */
export function settingDataRef(instanceId: string, namespace: HypervNamespace = 'v2'): EndpointReference {
  return { resourceUri: hypervResourceUri('Msvm_VirtualSystemSettingData', namespace), selectors: [{ name: 'InstanceID', value: instanceId }] };
}

export interface HypervCallOptions {
  /** Computer name of the Hyper-V host: the service's `SystemName` and the default endpoint's host. */
  host: string;
  /** WinRM endpoint (default `http://HOST:5985/wsman`). */
  endpoint?: string;
  /** WMI namespace (default `v2`). */
  namespace?: HypervNamespace;
  /** `a:MessageID` (default a random `uuid:`). */
  messageId?: string;
  /** `w:OperationTimeout` in seconds (default 60). */
  operationTimeoutSeconds?: number;
  /** `w:MaxEnvelopeSize` in bytes (default 153600). */
  maxEnvelopeSize?: number;
}

export interface KvpItemsCallOptions extends HypervCallOptions {
  /** `Name` key of the target `Msvm_ComputerSystem`: the VM's GUID (see `computerSystemRef`). */
  vmName: string;
  /** The items, 1 to 128; for `RemoveKvpItems` the values may be empty. */
  items: readonly KvpRecord[];
  /** `Source` of every item (default 0: host to guest, the guest's pool 0). */
  source?: number;
  /** How each embedded instance is written: `text` (XML-escaped, default) or `cdata` (libvirt's style). */
  embedding?: 'text' | 'cdata';
}

export type KvpItemsMethod = 'AddKvpItems' | 'ModifyKvpItems' | 'RemoveKvpItems';

function requireNonEmpty(value: unknown, name: string): void {
  if (typeof value !== 'string' || value.trim() === '') throw new KvpError(`Expected \`${name}\` to be a non-empty string, got ${JSON.stringify(value)}`);
}

function common(o: HypervCallOptions, className: string, method: string): { namespace: HypervNamespace; invoke: Omit<WsmanInvoke, 'params'> } {
  requireNonEmpty(o.host, 'host');
  const namespace = o.namespace ?? 'v2';
  if (namespace !== 'v1' && namespace !== 'v2') throw new KvpError(`Expected \`namespace\` to be v1 or v2, got ${JSON.stringify(namespace)}`);
  const invoke = {
    to: o.endpoint ?? `http://${o.host}:5985/wsman`,
    resourceUri: hypervResourceUri(className, namespace),
    method,
    selectors: vmmsSelectors(o.host),
    messageId: o.messageId,
    operationTimeoutSeconds: o.operationTimeoutSeconds,
    maxEnvelopeSize: o.maxEnvelopeSize,
  };
  return { namespace, invoke };
}

/**
 * Envelope for `AddKvpItems` / `ModifyKvpItems` / `RemoveKvpItems(TargetSystem, DataItems[])`.
 * Every item is validated (host profile, XML 1.0 characters) and the call refused with
 * KvpTooManyItemsError above 128 items or KvpDuplicateKeyError on a repeated key.
 */
export function renderKvpItemsEnvelope(method: KvpItemsMethod, o: KvpItemsCallOptions): string {
  const c = common(o, 'Msvm_VirtualSystemManagementService', method);
  requireNonEmpty(o.vmName, 'vmName');
  if (!Array.isArray(o.items) || o.items.length === 0) throw new KvpError(`${method} needs at least one item`);
  if (o.items.length > MAX_ITEMS_PER_CALL) throw new KvpTooManyItemsError(o.items.length, MAX_ITEMS_PER_CALL, method);
  assertUniqueKeys(o.items, `in one ${method} call`);
  const dataItems: WsmanValue[] = o.items.map((r) => {
    const xml = renderKvpItem(r.key, r.value, o.source ?? 0);
    return o.embedding === 'cdata' ? { cdata: xml } : xml;
  });
  return renderInvokeEnvelope({
    ...c.invoke,
    params: [
      { name: 'TargetSystem', value: computerSystemRef(o.vmName, c.namespace) },
      { name: 'DataItems', value: dataItems },
    ],
  });
}

/** Splits records into groups of at most 128, one group per method call. */
export function batchItems<T>(items: readonly T[], size: number = MAX_ITEMS_PER_CALL): T[][] {
  if (!Number.isInteger(size) || size < 1 || size > MAX_ITEMS_PER_CALL) {
    throw new KvpError(`Expected \`size\` to be an integer from 1 to ${MAX_ITEMS_PER_CALL}, got \`${size}\` (${typeof size})`);
  }
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** `AddKvpItems`: adds host→guest items (fails with 32773 when a key already exists). */
export function renderAddKvpItemsEnvelope(o: KvpItemsCallOptions): string {
  return renderKvpItemsEnvelope('AddKvpItems', o);
}
/** `ModifyKvpItems`: replaces the values of existing items. */
export function renderModifyKvpItemsEnvelope(o: KvpItemsCallOptions): string {
  return renderKvpItemsEnvelope('ModifyKvpItems', o);
}
/** `RemoveKvpItems`: deletes items by name (values are ignored and may be empty). */
export function renderRemoveKvpItemsEnvelope(o: KvpItemsCallOptions): string {
  return renderKvpItemsEnvelope('RemoveKvpItems', o);
}

/**
 * Values of `RequestedInformation` (Microsoft's GetSummaryInformation reference): 0–99 apply
 * to VMs and snapshots, 100–199 to VMs only. Note EnabledState is 100 and ProcessorLoad 101.
 */
export const SUMMARY_INFORMATION = {
  Name: 0,
  ElementName: 1,
  CreationTime: 2,
  Notes: 3,
  NumberOfProcessors: 4,
  EnabledState: 100,
  ProcessorLoad: 101,
  ProcessorLoadHistory: 102,
  MemoryUsage: 103,
  Heartbeat: 104,
  UpTime: 105,
  GuestOperatingSystem: 106,
  Snapshots: 107,
  AsynchronousTasks: 108,
  HealthState: 109,
  OperationalStatus: 110,
  StatusDescriptions: 111,
  MemoryAvailable: 112,
  AvailableMemoryBuffer: 113,
} as const;

export interface SummaryInformationCallOptions extends HypervCallOptions {
  /** `InstanceID`s of the settings to ask about (`Microsoft:GUID`); empty = every VM. */
  settingData: readonly string[];
  /** Field numbers wanted (see `SUMMARY_INFORMATION`), each a uint32. */
  requestedInformation: readonly number[];
}

/** Envelope for `GetSummaryInformation(SettingData REF[], RequestedInformation uint32[])`. */
export function renderGetSummaryInformationEnvelope(o: SummaryInformationCallOptions): string {
  const c = common(o, 'Msvm_VirtualSystemManagementService', 'GetSummaryInformation');
  for (const n of o.requestedInformation) {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new KvpError(`Expected every \`requestedInformation\` value to be a uint32, got \`${n}\` (${typeof n})`);
  }
  return renderInvokeEnvelope({
    ...c.invoke,
    params: [
      { name: 'SettingData', value: o.settingData.map((id) => settingDataRef(id, c.namespace)) },
      { name: 'RequestedInformation', value: [...o.requestedInformation] },
    ],
  });
}
