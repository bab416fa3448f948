/**
 * A controller open across a real libvirtd restart (what a package upgrade does): while the
 * daemon is down its calls fail saying the connection could not be reopened; once libvirtd
 * is back the same controller, with the same pooled connection, reconnects on its next call,
 * finds the guest still running in the same QEMU process, and can stop, start and terminate
 * it. Only the libvirtd the tier started is restarted (scripts/hypervisor-up.sh starts it
 * again and records its new pid); a libvirtd that was running before the tier is left alone.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DomforgeError } from '../../engine/errors.js';
import { tierOptions } from './env.js';
import { openTier, TEST_TIMEOUT_MS, type Tier } from './harness.js';
import { processAlive } from '../fixtures/processes.js';

let tier: Tier | undefined;
before(async () => {
  // Exclusive: no other test file uses libvirtd while this one stops it.
  if (!tierOptions().skip) tier = await openTier({ exclusive: true });
});
after(async () => tier?.cleanup());

const REPO = new URL('../../../', import.meta.url).pathname;

/** The libvirtd pid the tier recorded as its own, or why it will not be restarted. */
function ownLibvirtd(stateDir: string): number | string {
  const env = readFileSync(join(stateDir, 'env'), 'utf8');
  if (/^libvirtd_foreign_pid=/m.test(env)) return 'libvirtd was running before the tier started: not restarted by a test';
  const pid = Number(/^libvirtd_pid=(\d+)$/m.exec(env)?.[1]);
  return pid > 0 ? pid : 'the tier recorded no libvirtd pid';
}


test('libvirtd restarts under a running controller: calls fail while it is down, then the same controller reconnects and carries on', tierOptions({ timeout: TEST_TIMEOUT_MS }), async (t) => {
  const tr = tier!;
  const pid = ownLibvirtd(tr.env.stateDir);
  if (typeof pid === 'string') return t.skip(pid);
  const g = await tr.instance({ label: 'restart' });
  const { launched } = await tr.launchAndBoot(g);

  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(processAlive(pid), false, 'libvirtd stopped');
  try {
    const e = await tr.nc.describe(g.name).then(
      () => assert.fail('described with libvirtd down'),
      (x: unknown) => x as DomforgeError,
    );
    assert.equal(e.code, 'LIBVIRT_ERROR');
    assert.match(e.message, /could not be reopened/);
  } finally {
    execFileSync('bash', [join(REPO, 'scripts/hypervisor-up.sh')], { stdio: 'ignore' });
  }

  const reconnectsBefore = tr.conn.reconnects;
  const d = await tr.nc.describe(g.name);
  assert.equal(d.domain?.state, 'running');
  assert.equal(d.domain?.id, launched.domain.id, 'the same QEMU process: the guest did not notice');
  assert.equal(tr.conn.reconnects, reconnectsBefore + 1);
  assert.ok((await tr.nc.stats(g.name)).cpuTimeNs > 0);
  assert.equal((await tr.nc.stop(g.name, { graceMs: 0 })).domain.state, 'shutoff');
  assert.equal((await tr.nc.start(g.name)).domain.state, 'running');
  await tr.nc.terminate(g.name);
  assert.equal(await tr.conn.find(g.name), undefined);
});
