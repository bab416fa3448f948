/** Config drives: the public surface of engine/configdrive/. */
export {
  type ConfigDriveInput,
  type PublicKey,
  type NetworkInterface,
  type CloudStackFields,
  DEFAULT_MAX_USER_DATA_BYTES,
  validateConfigDriveInput,
} from './input.js';
export { buildConfigDrive, buildConfigDriveFiles, type BuiltConfigDrive, type ConfigDriveOptions } from './build.js';
export { writeConfigDrive, writeConfigDriveFromInstance, CONFIG_DRIVE_MODE } from './write.js';
export { buildIsoImage, DEFAULT_LABEL, DEFAULT_MAX_IMAGE_BYTES, type IsoOptions } from './iso9660.js';
export { toDirectoryTree, checkPortableName, type DriveFile } from './tree.js';
export { LAYOUT_NAMES, parseLayouts, buildLayoutFiles, type LayoutName } from './layouts/index.js';
export { OPENSTACK_VERSIONS } from './layouts/openstack.js';
export { EC2_VERSIONS } from './layouts/ec2.js';
export { buildNetworkData, type NetworkData } from './network-data.js';
export { buildConfigDriveFromInstance, configDriveInputFromInstance, configDriveOptionsFromInstance } from './from-instance.js';
