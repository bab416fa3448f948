/** The node controller: the whole life of an instance on one host (engine/controller/). */
export { NodeController } from './node-controller.js';
export type { NodeControllerOptions, TransformSource } from './options.js';
export { OperationError, StateConflictError, InstanceNotFoundError, RecordMissingError, type Operation, type RollbackAction } from './errors.js';
export { LAUNCH_STEPS, type LaunchStep, type LaunchResult } from './launch.js';
export type { TerminateOptions, TerminateResult } from './terminate.js';
export type { InstanceSummary, InstanceDetails, DescribeOptions, RebootOptions as InstanceRebootOptions } from './inspect.js';
export type { AdoptReport, AdoptedInstance } from './adopt.js';
export { ConsoleUnavailableError, DEFAULT_CONSOLE_BYTES, type ConsoleOutput, type ConsoleOutputOptions, type ConsoleUnavailableReason } from './console-output.js';
export type { ConsoleDevice } from './console-device.js';
export type { AttachResult, DetachResult, AttachSpec, DetachSpec, RecordedDevice } from './devices.js';
export { volumeStubXml, type VolumeAttachment } from './volumes.js';
export type { InterfaceAttachment } from './interfaces.js';
export { InstanceLayout, isInstanceId, checkInstanceId } from './layout.js';
export type { StepEvent, StepObserver, StepTiming } from './steps.js';
export type { ControllerLogEntry, ControllerLogSink } from './instance-log.js';
export type { RecordState } from './record.js';
export type { ResourceReport, CommittedInstance, DescribeResourceOptions } from './resources.js';
export { readHugepagePools, fileSystemSpace, HUGEPAGES_SYSFS_DIR, type HugepagePool, type FileSystemSpace } from './host-resources.js';
