/**
 * A controller killed with SIGKILL in the middle of an attach, on the real hypervisor, where
 * the domain outlives the process and hot-plug is real (attach-faults.test.ts shows the same
 * on the test driver, whose domains die with the process): killed after `mark-attaching`,
 * (a) before libvirt's attach — the record lists the device `attaching`, the domain lacks it —
 * or (b) before `record` — libvirt holds it live and in the persistent configuration, the
 * record still says `attaching`. A controller in the test's process then finds the attach
 * unfinished (`describe`); the same attach finishes it (`resumed`, and in (b) libvirt is not
 * asked again: the domain holds the device once, live and persistent, and the guest sees one
 * more device); a detach removes it from libvirt, the guest and the record.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runUntilKilled } from '../fixtures/processes.js';
import type { AttachResult, DetachResult, NodeController } from '../../engine/controller/index.js';
import { parseInstance } from '../../engine/instance/index.js';
import { firstChild, parseXml, type Element } from '../../engine/xml/parse.js';
import { latest, waitForConsole } from './console.js';
import { tierOptions } from './env.js';
import { BOOT_TIMEOUT_MS, eventually, noopHooksFolder, openTier, TEST_TIMEOUT_MS, type Tier } from './harness.js';
import { randomMac } from './instance.js';

const CHILD = new URL('./crash-child.js', import.meta.url).pathname;

let tier: Tier | undefined;
let hooks = '';
let nc: NodeController;
before(async () => {
  if (tierOptions().skip) return;
  tier = await openTier();
  // So that the attach runs its filters and pre-attach steps.
  hooks = await noopHooksFolder(tier.root);
  nc = await tier.controller({ hooksDir: hooks });
});
after(async () => {
  await nc?.close();
  await tier?.cleanup();
});

/** Runs crash-child.js's attach of `device` to `id`; resolves once it has killed itself just before `step`. */
async function crash(operation: 'attach-volume' | 'attach-interface', step: string, id: string, device: object): Promise<void> {
  const t = tier!;
  await runUntilKilled(CHILD, [t.env.uri, t.instancesDir, hooks, operation, step, id, JSON.stringify(device)], `die before ${operation} step ${step}`);
}

const elements = (xml: string, tag: string): Element[] => [...parseXml(xml).getElementsByTagName(tag)];

/** What each kind of device needs from the test; `n` tells the two crashes' devices apart. */
interface Kind {
  operation: 'attach-volume' | 'attach-interface';
  /** The device element in the domain XML, and in the guest's report (`/sys/block` or `/sys/class/net`). */
  tag: 'disk' | 'interface';
  guest: 'blocks' | 'nets';
  device(t: Tier, n: string): Promise<{ spec: object; key: string; listed: string; files: string; matches: (e: Element) => boolean }>;
  attach(id: string, spec: object): Promise<AttachResult>;
  detach(id: string, key: string): Promise<DetachResult>;
  stateName(record: string, key: string): string | undefined;
}

const KINDS: Kind[] = [
  {
    operation: 'attach-volume',
    tag: 'disk',
    guest: 'blocks',
    async device(t, n) {
      // A small raw file as the volume, as hotplug.test.ts attaches one.
      const id = `vol-dfhvc${n}`;
      const path = join(t.root, 'disks', `${id}.img`);
      await writeFile(path, '');
      await truncate(path, 16 * 1024 * 1024);
      return {
        spec: { id, devName: 'sdf', path, sourceType: 'file' },
        key: id,
        listed: `volume ${id}`,
        files: id,
        matches: (d) => firstChild(d, 'target')?.getAttribute('dev') === 'vdf' && firstChild(d, 'source')?.getAttribute('file') === path,
      };
    },
    attach: (id, spec) => nc.attachVolume(id, spec as Parameters<NodeController['attachVolume']>[1]),
    detach: (id, key) => nc.detachVolume(id, key),
    stateName: (record, key) => parseInstance(record).volumes.find((v) => v.id === key)?.stateName,
  },
  {
    operation: 'attach-interface',
    tag: 'interface',
    guest: 'nets',
    async device(t, n) {
      const mac = randomMac();
      const attachmentId = `eni-attach-dfhvc${n}`;
      return {
        spec: { interfaceId: `eni-dfhvc${n}`, attachmentId, mac, device: 1, bridgeDeviceName: t.env.bridge },
        key: attachmentId,
        listed: `interface attachment ${attachmentId}`,
        files: `eni-dfhvc${n}`,
        matches: (i) => firstChild(i, 'mac')?.getAttribute('address') === mac,
      };
    },
    attach: (id, spec) => nc.attachInterface(id, spec as Parameters<NodeController['attachInterface']>[1]),
    detach: (id, key) => nc.detachInterface(id, key),
    stateName: (record, key) => parseInstance(record).nics.find((x) => x.attachmentId === key)?.stateName,
  },
];

const detachOf = (k: Kind) => (k.operation === 'attach-volume' ? 'detach-volume' : 'detach-interface');
const noun = (k: Kind) => (k.operation === 'attach-volume' ? 'volume' : 'interface');

for (const kind of KINDS) {
  test(`${kind.operation}: a controller killed before step 'attach' or 'record' leaves the device "attaching"; the same attach finishes it, once, live and persistent; a detach removes it`, tierOptions({ timeout: TEST_TIMEOUT_MS }), async () => {
    const t = tier!;
    const g = await t.instance({ label: `attach-crash-${kind.tag}` });
    const { report: booted } = await t.launchAndBoot(g);
    const id = g.name;
    const dir = t.nc.layout.dir(id);
    const consoleLog = t.consoleOf(id);
    const bootDevices = latest(booted[kind.guest]);
    /** [live, persistent]: how many devices of the kind the domain has, and how many of them are this one. */
    const held = async (matches: (e: Element) => boolean) => {
      const live = elements(await t.conn.getXML(id), kind.tag);
      const config = elements(await t.conn.getXML(id, { inactive: true }), kind.tag);
      return { all: [live.length, config.length], this: [live.filter(matches).length, config.filter(matches).length] };
    };
    const before = await held(() => false);
    const record = () => readFile(t.nc.layout.instanceXml(id), 'utf8');

    for (const [n, step] of [['a0', 'attach'], ['b0', 'record']] as const) {
      const d = await kind.device(t, n);
      const attached = step === 'record';
      await crash(kind.operation, step, id, d.spec);

      assert.equal(kind.stateName(await record(), d.key), 'attaching', `killed before ${step}: the record lists ${d.listed} "attaching"`);
      assert.ok(existsSync(join(dir, `${d.files}.xml`)) && existsSync(join(dir, `${d.files}-libvirt.xml`)), 'its stub and device XML are in the folder');
      const one = attached ? 1 : 0;
      assert.deepEqual(await held(d.matches), { all: before.all.map((c) => c + one), this: [one, one] }, `killed before ${step}: libvirt ${attached ? 'holds the device live and persistent' : 'does not hold the device'}`);
      assert.deepEqual(
        (await nc.describe(id)).unfinished,
        [`${d.listed} is still attaching (an attach that did not finish): ${kind.operation} ${id} with the same ${noun(kind)} finishes the attach, ${detachOf(kind)} ${id} ${d.key} removes it`],
      );

      const r = await kind.attach(id, d.spec);
      assert.equal(r.resumed, true);
      assert.deepEqual([r.change.method, r.change.live, r.change.config], [attached ? 'none' : 'virsh', true, true], 'libvirt is given only what the domain lacked');
      assert.equal(kind.stateName(await record(), d.key), 'attached');
      assert.deepEqual(await held(d.matches), { all: before.all.map((c) => c + 1), this: [1, 1] }, 'the domain holds the device once, live and persistent');
      assert.deepEqual((await nc.describe(id)).unfinished, []);
      const seen = await waitForConsole(consoleLog, (rep) => latest(rep[kind.guest]).length === bootDevices.length + 1, { timeoutMs: BOOT_TIMEOUT_MS, what: `the guest to see the ${noun(kind)}` });
      assert.equal(latest(seen[kind.guest]).filter((x) => !bootDevices.includes(x)).length, 1, `the guest sees one more device: ${latest(seen[kind.guest]).join(' ')}`);

      // Out again: libvirt completes the detach once the guest has released the device.
      const out = await kind.detach(id, d.key);
      assert.equal(out.detachedFromDomain, true);
      assert.equal(kind.stateName(await record(), d.key), undefined, 'the record no longer lists it');
      assert.equal(existsSync(join(dir, `${d.files}.xml`)) || existsSync(join(dir, `${d.files}-libvirt.xml`)), false, 'its files are removed');
      await eventually(async () => ((await held(d.matches)).this[0] === 0 ? true : undefined), `the ${noun(kind)} to leave the live XML`);
      assert.deepEqual(await held(d.matches), { all: before.all, this: [0, 0] }, 'the domain no longer holds it, live or persistent');
      await waitForConsole(consoleLog, (rep) => latest(rep[kind.guest]).length === bootDevices.length, { timeoutMs: BOOT_TIMEOUT_MS, what: `the guest to lose the ${noun(kind)}` });
    }
    await nc.terminate(id);
  });
}
