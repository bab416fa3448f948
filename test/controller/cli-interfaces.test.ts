import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { firstChild, parseXml } from '../../engine/xml/parse.js';
import { lifecycleCli } from './cli-program.js';
import { SAMPLES, XSL, sandbox, type Sandbox } from './fixtures.js';

let conn: LibvirtConnection;
let sb: Sandbox;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
  sb = await sandbox();
});
test.after(async () => {
  await sb.cleanup();
  await closeConnections();
});

function cli(...args: string[]) {
  return lifecycleCli(args, ['--instances', sb.instances, '--uri', 'test:///default', '--transform', XSL, '--hooks', sb.hooks]);
}

const ID = 'i-0a000001'; // samples/01-linux-virtio
const macs = async () => [...parseXml(await conn.getXML(ID)).getElementsByTagName('interface')].map((i) => firstChild(i, 'mac')!.getAttribute('address')).sort();

test('attach-interface --nic eni.xml and detach-interface ATTACHMENT_ID, with describe showing the interfaces', async () => {
  const trace = join(sb.root, 'trace');
  await sb.script(sb.hooks, '10-trace', `echo "$1 $3" >> ${trace}`);
  assert.equal((await cli('launch', '--instance', join(SAMPLES, '01-linux-virtio', 'instance.xml'))).code, 0);
  const stub = join(sb.root, 'eni-0c0c0c0c.xml');
  writeFileSync(stub, '<nic xml-version="2" vlan="-1" networkIndex="-1" mac="d0:0d:0c:0c:0c:0c" publicIp="0.0.0.0" privateIp="172.31.2.12" bridgeDeviceName="br0" device="1" attachmentId="eni-attach-0c0c0c0c"/>\n');

  const a = await cli('attach-interface', ID, '--nic', stub);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /^attached eni-0c0c0c0c to i-0a000001 \(mac d0:0d:0c:0c:0c:0c\): live and persistent \(redefine-restart, domain restarted\)$/m);
  assert.match(a.stdout, /<interface type="bridge">/);
  assert.deepEqual(await macs(), ['d0:0d:0c:0c:0c:0c', 'd0:0d:5a:3e:00:01']);
  assert.ok(existsSync(join(sb.instances, ID, 'eni-0c0c0c0c-libvirt.xml')));

  const d = await cli('describe', ID);
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /^ {2}interface: device 0 mac D0:0D:5A:3E:00:01 on br0 private 172\.31\.0\.11 public 10\.111\.5\.11 \(attached\)$/m);
  assert.match(d.stdout, /^ {2}interface: device 1 mac d0:0d:0c:0c:0c:0c on br0 private 172\.31\.2\.12 attachment eni-attach-0c0c0c0c \(attached\)$/m);

  // The same stub again: refused before libvirt, exit 1 with the reason; --json gives the code.
  const again = await cli('attach-interface', ID, '--nic', stub, '--interface-id', 'eni-0d0d0d0d', '--json');
  assert.equal(again.code, 1);
  const err = JSON.parse(again.stderr).error;
  assert.equal(err.code, 'STATE_CONFLICT');
  assert.match(err.message, /attachment eni-attach-0c0c0c0c is already attached/);

  const t = await cli('detach-interface', ID, 'eni-attach-0c0c0c0c');
  assert.equal(t.code, 0, t.stderr);
  assert.equal(t.stdout, 'detached eni-0c0c0c0c (eni-attach-0c0c0c0c) from i-0a000001\n');
  assert.deepEqual(await macs(), ['d0:0d:5a:3e:00:01']);
  assert.equal(existsSync(join(sb.instances, ID, 'eni-0c0c0c0c.xml')), false);
  assert.equal(existsSync(join(sb.instances, ID, 'eni-0c0c0c0c-libvirt.xml')), false);
  const xmlPath = join(sb.instances, ID, 'eni-0c0c0c0c-libvirt.xml');
  assert.deepEqual(readFileSync(trace, 'utf8').trim().split('\n').filter((l) => l.includes('eni-')), [`euca-nc-pre-attach ${xmlPath}`, `euca-nc-post-detach ${xmlPath}`]);

  assert.equal((await cli('terminate', ID)).code, 0);
});

test('attach-interface refusals: no --nic (usage), a stub without attachmentId or bridge (at its <nic>), a <volume> stub, a missing file', async () => {
  assert.equal((await cli('attach-interface', 'i-x')).code, 2);
  const noAttachment = join(sb.root, 'eni-0e0e0e0e.xml');
  writeFileSync(noAttachment, '<nic mac="d0:0d:0e:0e:0e:0e" bridgeDeviceName="br0" device="1"/>');
  const r = await cli('attach-interface', 'i-x', '--nic', noAttachment);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr, `domforge: ${noAttachment}:1:1: the <nic> stub has no attachmentId: it is what detach-interface names the interface by (at /nic/@attachmentId)\n`);
  // Nor a bridge: the attribute the interface cannot do without, at the same place.
  const noBridge = join(sb.root, 'eni-0f0f0f0f.xml');
  writeFileSync(noBridge, '<?xml version="1.0"?>\n<nic mac="d0:0d:0f:0f:0f:0f" device="1" attachmentId="eni-attach-0f0f0f0f"/>');
  const b = await cli('attach-interface', 'i-x', '--nic', noBridge);
  assert.equal(b.code, 1, b.stderr);
  assert.equal(b.stderr, `domforge: ${noBridge}:2:1: the <nic> stub has no bridgeDeviceName: the bridge the interface joins (at /nic/@bridgeDeviceName)\n`);
  const volume = join(sb.root, 'vol-1.xml');
  writeFileSync(volume, '<volume><hypervisor type="kvm"/><diskPath targetDeviceName="sdf" targetDeviceBus="scsi">/dev/x</diskPath></volume>');
  const v = await cli('attach-interface', 'i-x', '--nic', volume);
  assert.equal(v.code, 1);
  assert.match(v.stderr, /expected a <nic> stub/);
  const m = await cli('attach-interface', 'i-x', '--nic', join(sb.root, 'nothere.xml'));
  assert.equal(m.code, 1);
  assert.match(m.stderr, /cannot read the interface stub/);
  // A FIFO as --nic is refused at once, not waited on for a writer.
  const fifo = join(sb.root, 'eni-0d0d0d0d.xml');
  spawnSync('mkfifo', [fifo]);
  const f = await cli('attach-interface', 'i-x', '--nic', fifo);
  assert.equal(f.code, 1);
  assert.match(f.stderr, /cannot read the interface stub: a FIFO, not a regular file/);
  const u = await cli('detach-interface', 'i-x');
  assert.equal(u.code, 2);
});

test("attach-interface --nic refuses a bad attachmentId or device at the stub's file, line and path (exit 1), and any <volume> as not a <nic> stub", async () => {
  const stub = join(sb.root, 'eni-0f0f0f0f.xml');
  for (const [attrs, message] of [
    ['device="2" attachmentId="../../etc"', `attachmentId must be an attachment id of letters, digits, '.', '_' and '-' (e.g. vol-1a2b3c4d), got "../../etc" (at /nic/@attachmentId)`],
    ['device="-2" attachmentId="eni-attach-0f0f0f0f"', 'device must be a non-negative integer (the device index; 0 is the primary interface), got -2 (at /nic/@device)'],
  ]) {
    writeFileSync(stub, `<?xml version="1.0"?>\n<nic mac="d0:0d:1a:2b:3c:4e" ${attrs} bridgeDeviceName="br0"/>\n`);
    const r = await cli('attach-interface', 'i-x', '--nic', stub);
    assert.deepEqual([r.code, r.stderr], [1, `domforge: ${stub}:2:1: ${message}\n`]);
  }
  // An empty <volume/> is not a <nic> stub either, rather than a volume stub missing its <hypervisor>.
  const volume = join(sb.root, 'vol-2.xml');
  writeFileSync(volume, '<volume/>\n');
  const v = await cli('attach-interface', 'i-x', '--nic', volume);
  assert.deepEqual([v.code, v.stderr], [1, `domforge: ${volume}:1:1: expected a <nic> stub (an eni-XXX.xml), found <volume> (at /volume)\n`]);
});

test("attach-interface --nic names the stub's file, line and path of a value libvirt's schema refuses, before anything is read or written", async () => {
  const stub = join(sb.root, 'eni-0f0f0f0f.xml');
  for (const [attrs, message] of [
    ['mac="d1:0d:0f:0f:0f:0f" bridgeDeviceName="br0"', 'MAC address d1:0d:0f:0f:0f:0f is a multicast address (at /nic/@mac)'],
    ['mac="d0:0d:0f:0f:0f:0f" bridgeDeviceName="br0;"', `the bridge name "br0;" may hold only letters, digits, '_', '.', '-', '\\', ':', '/' and spaces (libvirt's schema) (at /nic/@bridgeDeviceName)`],
  ]) {
    writeFileSync(stub, `<nic xml-version="2" ${attrs} device="1" attachmentId="eni-attach-0f0f0f0f"/>\n`);
    const r = await cli('attach-interface', 'i-x', '--nic', stub);
    assert.deepEqual([r.code, r.stderr], [1, `domforge: ${stub}:1:1: ${message}\n`]);
  }
});
