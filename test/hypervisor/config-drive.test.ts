/**
 * Issue 10, scenario 1: a real guest reads the config drive domforge built and attached,
 * on the pc machine (IDE CDROM, hdd) and on q35 (SATA CDROM, first free sdX).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { firstChild, parseXml } from '../../engine/xml/parse.js';
import { parseConsole } from './console.js';
import { tierOptions } from './env.js';
import { openTier, TEST_TIMEOUT_MS, type Tier } from './harness.js';

let tier: Tier | undefined;
before(async () => {
  if (!tierOptions().skip) tier = await openTier();
});
after(async () => tier?.cleanup());

for (const machine of ['pc', 'q35'] as const) {
  const bus = machine === 'pc' ? 'ide' : 'sata';
  test(`config drive on ${machine} (${bus} CDROM): the guest reads the uuid, hostname, ssh key and exact user data bytes`, tierOptions({ timeout: TEST_TIMEOUT_MS }), async () => {
    const t = tier!;
    const g = await t.instance({ label: `cd-${machine}`, machine });
    const { launched, report } = await t.launchAndBoot(g);

    // What domforge gave libvirt: the drive it wrote, read-only on the machine's CDROM bus.
    const live = parseXml(launched.domainXml);
    const cdrom = [...live.getElementsByTagName('disk')].find((d) => d.getAttribute('device') === 'cdrom');
    assert.ok(cdrom, 'the live domain has a CDROM');
    assert.equal(firstChild(cdrom, 'source')?.getAttribute('file'), launched.configDrive?.path);
    assert.equal(firstChild(cdrom, 'target')?.getAttribute('bus'), bus);
    assert.equal(firstChild(cdrom, 'target')?.getAttribute('dev'), machine === 'pc' ? 'hdd' : 'sda');
    assert.ok(firstChild(cdrom, 'readonly'), 'the drive is read-only');
    assert.match(live.documentElement!.getAttribute('type') ?? '', /^qemu$/, 'TCG, as hypervisor/@type asks');

    // What the guest saw.
    assert.equal(report.noConfigDrive, undefined, report.noConfigDrive);
    assert.deepEqual(report.configDrive, { device: '/dev/sr0', label: 'config-2' });
    const meta = JSON.parse(report.files.get('openstack/latest/meta_data.json')!.toString('utf8')) as Record<string, unknown>;
    assert.equal(meta.uuid, g.uuid);
    assert.equal(meta.hostname, g.hostname);
    assert.equal(meta.name, g.name);
    assert.deepEqual(meta.public_keys, { key: g.sshKey });
    const userData = report.files.get('openstack/latest/user_data');
    assert.ok(userData, 'the guest printed user_data');
    assert.equal(userData.length, g.userData.length);
    assert.ok(userData.equals(g.userData), 'user data bytes are exactly those of instance.xml');
    assert.ok(report.blocks[0].includes('sr0'), `the guest lists the CDROM: ${report.blocks[0].join(' ')}`);

    // ncGetConsoleOutput reads the same console, from the record's consoleLogPath: the guest's first line first.
    const out = await t.nc.consoleOutput(g.name, { maxBytes: 64 * 1024 * 1024 });
    assert.equal(out.path, launched.instance.consoleLogPath);
    assert.equal(out.truncated, false);
    assert.ok(report.firstLine, 'the guest printed a first line');
    assert.equal(parseConsole(out.bytes.toString('utf8')).firstLine, report.firstLine);

    const done = await t.nc.terminate(g.name);
    assert.equal(done.domain, 'destroyed');
  });
}
