/** Hyper-V KVP data exchange: pool files, limits, chunking, CIM-XML items, WS-Man calls. */
export * from './constants.js';
export {
  KvpLimitError,
  KvpCharacterError,
  KvpKeyError,
  KvpDuplicateKeyError,
  KvpTooManyItemsError,
  KvpTruncatedPoolError,
  WsmanResponseError,
  type KvpLimitName,
  type KvpCharacterProblem,
} from './errors.js';
export { validateRecord, findLoneSurrogate, utf8Length } from './limits.js';
export { encodeRecord, encodePool, decodePool, toMap, type DecodePoolOptions, type DecodedPool } from './pool-file.js';
export { readPoolFile, writePoolFile, updatePoolPayload, type WritePoolOptions } from './pool-io.js';
export {
  splitValue,
  chunkKeys,
  reassemble,
  payloadKeys,
  planPayloadUpdate,
  applyPayloadUpdate,
  assertBaseName,
  ENCODING_SUFFIX,
  type SplitOptions,
  type ChunkOptions,
  type KvpSource,
  type PayloadUpdate,
} from './chunking.js';
export { renderKvpItem, parseKvpItem, escapeCimText, kvpItemsDocument, KVP_ITEM_CLASS, type KvpItem } from './cim-xml.js';
export {
  renderInvokeEnvelope,
  eprToUri,
  WSMAN_NS,
  ANONYMOUS_ADDRESS,
  type Selector,
  type EndpointReference,
  type WsmanInvoke,
  type WsmanParam,
  type WsmanValue,
  type CdataText,
} from './wsman-envelope.js';
export {
  renderKvpItemsEnvelope,
  renderAddKvpItemsEnvelope,
  renderModifyKvpItemsEnvelope,
  renderRemoveKvpItemsEnvelope,
  renderGetSummaryInformationEnvelope,
  batchItems,
  hypervResourceUri,
  vmmsSelectors,
  computerSystemRef,
  settingDataRef,
  SUMMARY_INFORMATION,
  HYPERV_WMI_BASE,
  type HypervNamespace,
  type HypervCallOptions,
  type KvpItemsCallOptions,
  type KvpItemsMethod,
  type SummaryInformationCallOptions,
} from './hyperv-calls.js';
export {
  parseMethodResponse,
  summaryInformationOf,
  describeReturnValue,
  readEpr,
  RETURN_VALUES,
  type WsmanMethodOutput,
  type WsmanObject,
  type WsmanOutputValue,
} from './wsman-response.js';
export {
  kvpItemsFromInput,
  kvpItemsFromInstance,
  kvpPoolFromInput,
  kvpInputFromInstance,
  kvpBaseNames,
  userDataText,
  CLOUDSTACK_KEY,
  IGNITION_BASE,
  type KvpInput,
  type KvpItemsOptions,
} from './from-instance.js';
