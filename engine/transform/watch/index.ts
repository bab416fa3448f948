export { TransformWatcher, watchTransforms, DEFAULT_PROVING_SET, HALF_WRITTEN_MS, type TransformWatcherOptions, type ActiveTransform } from './transform-watcher.js';
export { WatchEventHub, type WatchEvents, type WatchEvent, type ActivatedEvent, type RejectedEvent, type WatchErrorEvent, type WatchListener } from './events.js';
export { proveTransform, ExpectedOutputMismatchError, type ProofReport, type SampleOutcome } from './prove.js';
export { loadProvingSet } from './proving-set.js';
export { snapshotFolder, isEditorNoise, type Snapshot, type SnapshotLimits, type SnapshotOptions } from './snapshot.js';
export { readTransformVersions, recordVersion, versionAt, VERSION_LOG, type TransformVersion, type DamagedVersionLine, type ReadVersionsOptions } from './version-log.js';
export { stampTransformVersion, readTransformVersion, DOMFORGE_TRANSFORM_NS, type TransformStamp } from './domain-metadata.js';
