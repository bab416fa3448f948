/** The n-th volume and interface the attach tests hot-plug, the same in the test and in attach-crash-child.ts (an attach is resumed only by the same attach). */
import type { InterfaceAttachment, VolumeAttachment } from '../../engine/controller/index.js';

export const hex = (n: number) => n.toString(16).padStart(8, '0');
export const macOf = (n: number) => `d0:0d:00:00:02:${n.toString(16).padStart(2, '0')}`;

export const volumeOf = (n: number, devName = 'sdf'): VolumeAttachment => ({ id: `vol-${hex(n)}`, devName, path: `/dev/mapper/vol-${hex(n)}` });

export const interfaceOf = (n: number): InterfaceAttachment => ({ interfaceId: `eni-${hex(n)}`, attachmentId: `eni-attach-${hex(n)}`, mac: macOf(n), device: n, bridgeDeviceName: 'br0' });
