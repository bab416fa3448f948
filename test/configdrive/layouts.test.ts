import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildConfigDriveFiles } from '../../engine/configdrive/build.js';
import type { ConfigDriveInput } from '../../engine/configdrive/input.js';
import { OPENSTACK_VERSIONS } from '../../engine/configdrive/layouts/openstack.js';
import { parseLayouts } from '../../engine/configdrive/layouts/index.js';
import { ConfigDriveError } from '../../engine/errors.js';
import { sampleInputs } from './helpers.js';

const input: ConfigDriveInput = sampleInputs()[0].input;
const dec = new TextDecoder();
const byPath = (files: { path: string; data: Uint8Array }[]) => new Map(files.map((f) => [f.path, f.data]));
const json = (data: Uint8Array | undefined) => JSON.parse(dec.decode(data));

test('every OpenStack version folder, latest included, carries the same user data', () => {
  const files = byPath(buildConfigDriveFiles(input, { layouts: ['openstack'] }));
  for (const v of [...OPENSTACK_VERSIONS, 'latest']) {
    assert.deepEqual(files.get(`openstack/${v}/user_data`), input.userData, v);
    assert.equal(json(files.get(`openstack/${v}/meta_data.json`)).uuid, input.uuid, v);
  }
  assert.deepEqual(OPENSTACK_VERSIONS, ['2012-08-10', '2013-04-04', '2013-10-17', '2015-10-15', '2016-06-30', '2016-10-06', '2017-02-22', '2018-08-27']);
});

test('optional OpenStack files appear from the version Nova introduced them in', () => {
  const files = byPath(buildConfigDriveFiles(input, { layouts: ['openstack'] }));
  assert.ok(!files.has('openstack/2013-04-04/vendor_data.json'));
  assert.ok(files.has('openstack/2013-10-17/vendor_data.json'));
  assert.ok(!files.has('openstack/2013-10-17/network_data.json'));
  assert.ok(files.has('openstack/2015-10-15/network_data.json'));
  assert.ok(!files.has('openstack/2016-06-30/vendor_data2.json'));
  assert.ok(files.has('openstack/2016-10-06/vendor_data2.json'));
  for (const f of ['meta_data.json', 'user_data', 'vendor_data.json', 'network_data.json', 'vendor_data2.json']) assert.ok(files.has(`openstack/latest/${f}`), f);
});

test('meta_data.json holds the documented keys', () => {
  const md = json(byPath(buildConfigDriveFiles(input, { layouts: ['openstack'] })).get('openstack/latest/meta_data.json'));
  assert.deepEqual(md, {
    uuid: input.uuid,
    meta: { essential: 'false', role: 'web' },
    admin_pass: 's3cr3t',
    public_keys: { mykey: input.publicKeys![0].data },
    keys: [{ name: 'mykey', type: 'ssh', data: input.publicKeys![0].data }],
    hostname: 'web-1.example.com',
    name: 'i-12345678',
    launch_index: 0,
    availability_zone: 'zone-a',
  });
});

test('network_data.json follows the OpenStack format', () => {
  const nd = json(byPath(buildConfigDriveFiles(input, { layouts: ['openstack'] })).get('openstack/latest/network_data.json'));
  assert.deepEqual(nd, {
    links: [{ id: 'eth0', type: 'phy', ethernet_mac_address: '52:54:00:12:34:56', mtu: 1500 }],
    networks: [
      {
        id: 'network0',
        type: 'ipv4',
        link: 'eth0',
        network_id: 'br0',
        ip_address: '10.0.0.5',
        netmask: '255.255.255.0',
        routes: [{ network: '0.0.0.0', netmask: '0.0.0.0', gateway: '10.0.0.1' }],
      },
    ],
    services: [{ type: 'dns', address: '10.0.0.2' }],
  });
  const dhcp = json(byPath(buildConfigDriveFiles(sampleInputs()[3].input)).get('openstack/latest/network_data.json'));
  assert.deepEqual(dhcp.networks, [{ id: 'network0', type: 'ipv4_dhcp', link: 'eth0', network_id: 'br1' }]);
});

test('no user data means no user_data, user-data or user_data.txt anywhere', () => {
  const paths = buildConfigDriveFiles(sampleInputs()[3].input).map((f) => f.path);
  assert.deepEqual(paths.filter((p) => /user[-_]?data/.test(p)), []);
  const emptyBytes = buildConfigDriveFiles({ ...sampleInputs()[3].input, userData: new Uint8Array(0) }).map((f) => f.path);
  assert.deepEqual(emptyBytes, paths);
});

test('EC2 layout: 2009-04-04 and latest, meta-data.json with a hyphen', () => {
  const files = byPath(buildConfigDriveFiles(input, { layouts: ['ec2'] }));
  assert.deepEqual([...files.keys()].sort(), ['ec2/2009-04-04/meta-data.json', 'ec2/2009-04-04/user-data', 'ec2/latest/meta-data.json', 'ec2/latest/user-data']);
  const md = json(files.get('ec2/latest/meta-data.json'));
  assert.equal(md['instance-id'], 'i-12345678');
  assert.equal(md['local-ipv4'], '10.0.0.5');
  assert.equal(md['public-ipv4'], '203.0.113.9');
  assert.deepEqual(md.placement, { 'availability-zone': 'zone-a' });
  assert.deepEqual(md['public-keys'], { '0': { _name: '0=mykey', 'openssh-key': input.publicKeys![0].data } });
});

test('CloudStack layout: one .txt per non-empty value, user data and password', () => {
  const files = byPath(buildConfigDriveFiles(input, { layouts: ['cloudstack'] }));
  const text = (p: string) => dec.decode(files.get(p));
  assert.deepEqual([...files.keys()].sort(), [
    'cloudstack/metadata/availability-zone.txt',
    'cloudstack/metadata/hypervisor-host-name.txt',
    'cloudstack/metadata/instance-id.txt',
    'cloudstack/metadata/local-hostname.txt',
    'cloudstack/metadata/local-ipv4.txt',
    'cloudstack/metadata/public-hostname.txt',
    'cloudstack/metadata/public-ipv4.txt',
    'cloudstack/metadata/public-keys.txt',
    'cloudstack/metadata/service-offering.txt',
    'cloudstack/metadata/vm-id.txt',
    'cloudstack/password/vm_password.txt',
    'cloudstack/userdata/user_data.txt',
  ]);
  assert.equal(text('cloudstack/metadata/vm-id.txt'), input.uuid);
  assert.equal(text('cloudstack/metadata/public-hostname.txt'), '203.0.113.9');
  assert.equal(text('cloudstack/password/vm_password.txt'), 's3cr3t');
  assert.deepEqual(files.get('cloudstack/userdata/user_data.txt'), input.userData);
  const extra = byPath(buildConfigDriveFiles({ ...input, cloudstack: { extra: { 'cloud-name': 'east' } } }, { layouts: ['cloudstack'] }));
  assert.equal(dec.decode(extra.get('cloudstack/metadata/cloud-name.txt')), 'east');
  assert.throws(() => buildConfigDriveFiles({ ...input, cloudstack: { extra: { 'vm-id': 'x' } } }), ConfigDriveError);
});

test('layouts are selectable and checked', () => {
  assert.deepEqual(parseLayouts(['ec2', ' openstack', 'ec2']), ['ec2', 'openstack']);
  assert.throws(() => parseLayouts(['openstack', 'nocloud']), /unknown config drive layout "nocloud"; choose from openstack, ec2, cloudstack/);
  assert.throws(() => parseLayouts([]), /at least one/);
  const tops = new Set(buildConfigDriveFiles(input).map((f) => f.path.split('/')[0]));
  assert.deepEqual([...tops].sort(), ['cloudstack', 'ec2', 'openstack']);
});

test('OpenStack admin_pass and CloudStack vm_password.txt appear only with a password', () => {
  for (const password of [undefined, '']) {
    const files = byPath(buildConfigDriveFiles({ ...input, password }, { layouts: ['openstack', 'cloudstack'] }));
    assert.equal('admin_pass' in json(files.get('openstack/latest/meta_data.json')), false, JSON.stringify(password));
    assert.equal(files.has('cloudstack/password/vm_password.txt'), false, JSON.stringify(password));
  }
  const files = byPath(buildConfigDriveFiles({ ...input, password: 'pw' }, { layouts: ['openstack', 'cloudstack'] }));
  assert.equal(json(files.get('openstack/latest/meta_data.json')).admin_pass, 'pw');
  assert.equal(dec.decode(files.get('cloudstack/password/vm_password.txt')), 'pw');
});
