import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addDeviceToDomainXml, removeDeviceFromDomainXml, DeviceXmlError } from '../../engine/libvirt/device-xml.js';
import { xmlEqual } from '../../engine/xml/compare.js';
import { ENI_INTERFACE, VOLUME_DISK } from './fixtures.js';

const DOMAIN = `<domain type="kvm"><name>i-1</name><metadata><x:a xmlns:x="urn:x">kept</x:a></metadata><devices><disk type="file" device="disk"><source file="/d"/><target dev="vda" bus="virtio"/></disk><interface type="bridge"><mac address="d0:0d:00:00:00:01"/><source bridge="br0"/></interface><memballoon model="virtio"/></devices></domain>`;

test('add appends the device to <devices> and keeps everything else', () => {
  const out = addDeviceToDomainXml(DOMAIN, VOLUME_DISK);
  assert.ok(xmlEqual(out, DOMAIN.replace('</devices>', `${VOLUME_DISK}</devices>`)), out);
  const noDevices = addDeviceToDomainXml('<domain type="kvm"><name>x</name></domain>', ENI_INTERFACE);
  assert.ok(xmlEqual(noDevices, `<domain type="kvm"><name>x</name><devices>${ENI_INTERFACE}</devices></domain>`));
});

test('add refuses a duplicate disk target or interface MAC', () => {
  assert.throws(() => addDeviceToDomainXml(DOMAIN, '<disk type="file"><target dev="vda"/></disk>'), (e: unknown) => {
    assert.ok(e instanceof DeviceXmlError);
    assert.equal(e.reason, 'conflict');
    assert.equal(e.message, "the domain already has a disk with target dev 'vda'");
    return true;
  });
  assert.throws(() => addDeviceToDomainXml(DOMAIN, '<interface type="network"><mac address="D0:0D:00:00:00:01"/></interface>'), /interface with MAC d0:0d:00:00:00:01/);
  // An interface without a MAC is fine (libvirt generates one).
  assert.doesNotThrow(() => addDeviceToDomainXml(DOMAIN, '<interface type="network"><source network="default"/></interface>'));
});

test('remove matches a disk by target dev, an interface by MAC, other devices by their XML', () => {
  const noDisk = removeDeviceFromDomainXml(DOMAIN, '<disk><target dev="vda"/></disk>');
  assert.doesNotMatch(noDisk, /<disk/);
  assert.match(noDisk, /<interface/);
  const noNic = removeDeviceFromDomainXml(DOMAIN, '<interface><mac address="d0:0d:00:00:00:01"/></interface>');
  assert.doesNotMatch(noNic, /<interface/);
  const noBalloon = removeDeviceFromDomainXml(DOMAIN, '<memballoon model="virtio"/>');
  assert.doesNotMatch(noBalloon, /memballoon/);
  assert.match(noBalloon, /<x:a xmlns:x="urn:x">kept<\/x:a>/);
  assert.throws(() => removeDeviceFromDomainXml(DOMAIN, '<memballoon model="none"/>'), { reason: 'missing' });
  assert.throws(() => removeDeviceFromDomainXml(DOMAIN, '<disk><target dev="vdq"/></disk>'), { reason: 'missing', message: "no disk with target dev 'vdq' in the domain" });
  assert.throws(() => removeDeviceFromDomainXml(DOMAIN, '<disk type="file"/>'), { reason: 'unmatchable' });
});
