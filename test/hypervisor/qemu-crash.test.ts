/**
 * A guest's QEMU process killed (the host's OOM killer, an admin's kill -9): libvirt marks the
 * domain shut off because it crashed. domforge says why a domain is in its state where
 * libvirt tells it (describe, list, start's refusal), then brings the guest back with reboot;
 * a stop by domforge reads `destroyed`, a new boot `booted`. The test driver has no process
 * to kill and no reasons to read.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DomforgeError } from '../../engine/errors.js';
import { lifecycleCli } from '../controller/cli-program.js';
import { tierOptions } from './env.js';
import { eventually, openTier, TEST_TIMEOUT_MS, type Tier } from './harness.js';

let tier: Tier | undefined;
before(async () => {
  if (!tierOptions().skip) tier = await openTier();
});
after(async () => tier?.cleanup());

/** The QEMU process running the guest (libvirt passes `-name guest=ID`). */
const qemuPid = (id: string) => Number(execFileSync('pgrep', ['-f', `guest=${id}(,|\\s)`], { encoding: 'utf8' }).trim());

test('a QEMU process killed: describe, list and adopt say the domain is shut off because it crashed, start refuses saying so, reboot brings the guest back', tierOptions({ timeout: TEST_TIMEOUT_MS }), async () => {
  const t = tier!;
  const nc = t.nc;
  const g = await t.instance({ label: 'qemucrash' });
  await t.launchAndBoot(g);
  const running = await nc.describe(g.name);
  assert.deepEqual([running.domain?.state, running.domain?.reason], ['running', 'booted']);

  process.kill(qemuPid(g.name), 'SIGKILL');
  const crashed = await eventually(async () => {
    const d = await nc.describe(g.name);
    return d.domain?.state === 'shutoff' ? d : undefined;
  }, 'the domain shut off after its QEMU process was killed');
  assert.equal(crashed.domain?.reason, 'crashed');
  assert.equal(crashed.state, 'Extant', 'the record is untouched');
  const listed = (await nc.list()).find((x) => x.id === g.name);
  assert.deepEqual([listed?.domain?.state, listed?.domain?.reason], ['shutoff', 'crashed']);

  const adopted = (await nc.adopt()).adopted.find((a) => a.id === g.name);
  assert.deepEqual([adopted?.domain.state, adopted?.domain.reason, adopted?.resumed], ['shutoff', 'crashed', undefined], 'adopt (without --resume) reports the crash and starts nothing');

  const common = ['--instances', t.instancesDir, '--uri', t.env.uri];
  const cliAdopt = await lifecycleCli(['adopt'], common);
  assert.match(cliAdopt.stdout, new RegExp(`^adopted ${g.name}: domain shutoff \\(crashed\\)$`, 'm'));
  const cliList = await lifecycleCli(['list'], common);
  assert.match(cliList.stdout, new RegExp(`^${g.name}\\s+Extant\\s+shutoff \\(crashed\\)\\s`, 'm'));
  const cliDescribe = await lifecycleCli(['describe', g.name], common);
  assert.match(cliDescribe.stdout, /state shutoff \(crashed\)/);

  await assert.rejects(nc.start(g.name), (e: DomforgeError) => e.code === 'STATE_CONFLICT' && /shut off \(crashed: its hypervisor process ended unexpectedly/.test(e.message) && /reboot/.test(e.message));

  await nc.reboot(g.name, { graceMs: 0 });
  const back = await nc.describe(g.name);
  assert.deepEqual([back.domain?.state, back.domain?.reason], ['running', 'booted']);

  await nc.stop(g.name, { graceMs: 0 });
  await sleep(200);
  const stopped = await nc.describe(g.name);
  assert.deepEqual([stopped.domain?.state, stopped.domain?.reason, stopped.stopped], ['shutoff', 'destroyed', true]);
  await nc.terminate(g.name);
});
