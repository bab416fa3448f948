/**
 * A guest that writes a lot to its serial console: libvirt's QEMU driver hands the console
 * file to virtlogd, which rolls it over at its max_size (2 MiB by default) into
 * `console.log.0` and goes on in a new `console.log`. consoleOutput gives the tail of the
 * console as the guest wrote it, across that roll-over: the newest bytes of the old file
 * followed by the new file, nothing left out and nothing twice.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NodeController } from '../../engine/controller/index.js';
import { tierOptions } from './env.js';
import { BOOT_TIMEOUT_MS, openTier, TEST_TIMEOUT_MS, type Tier } from './harness.js';

/** virtlogd's default max_size: the tier starts it without a configuration file. */
const VIRTLOGD_MAX_SIZE = 2 * 1024 * 1024;

let tier: Tier | undefined;
let nc: NodeController;
before(async () => {
  if (tierOptions().skip) return;
  tier = await openTier();
  // A filter adds domforge.flood to the guest's kernel command line: the test guest then
  // prints about that many bytes of numbered lines (test/guest/init.sh), the boot's ~25 KB
  // before them, so that the console goes a few tens of KB past virtlogd's roll-over.
  const hooks = join(tier.root, 'hooks');
  await mkdir(join(hooks, 'filters.d'), { recursive: true });
  const filter = join(hooks, 'filters.d', '10-flood');
  await writeFile(filter, `#!/bin/sh\nsed 's/console=ttyS0/console=ttyS0 domforge.flood=${VIRTLOGD_MAX_SIZE}/'\n`);
  await chmod(filter, 0o755);
  nc = await tier.controller({ hooksDir: hooks });
});
after(async () => {
  await nc?.close();
  await tier?.cleanup();
});

/** The flood's line numbers in `text`, in order. */
const floodLines = (text: string) => [...text.matchAll(/DOMFORGE-FLOOD (\d{8}) 0{80}\r?\n/g)].map((m) => Number(m[1]));

test('consoleOutput reads across virtlogd’s roll-over of the console log: the tail of console.log.0, then console.log', tierOptions({ timeout: TEST_TIMEOUT_MS }), async () => {
  const t = tier!;
  const g = await t.instance({ label: 'rotation' });
  await nc.launch(g.instance);
  const dir = nc.layout.dir(g.name);
  const current = join(dir, 'console.log');
  const rotated = join(dir, 'console.log.0');
  const deadline = Date.now() + BOOT_TIMEOUT_MS;
  while (!(await readFile(current, 'utf8').catch(() => '')).includes('DOMFORGE-GUEST flood-done')) {
    assert.ok(Date.now() < deadline, 'the guest finished its flood');
    await sleep(250);
  }
  const [old, now] = await Promise.all([readFile(rotated), readFile(current)]);
  // virtlogd fills a file up to its 2 MiB, but ends it early at a newline among the last 80
  // bytes it would write, so as not to split a line across files (virRotatingFileWriterAppend).
  assert.ok(old.length <= VIRTLOGD_MAX_SIZE && old.length > VIRTLOGD_MAX_SIZE - 80, `virtlogd rolled the console over at 2 MiB (${old.length} bytes)`);
  assert.ok(old.length === VIRTLOGD_MAX_SIZE || old.at(-1) === 0x0a, 'a file ended early ends at a newline');
  assert.ok(now.length < 64 * 1024, `console.log holds less than Eucalyptus's 64 KiB after the roll-over (${now.length} bytes)`);
  const whole = Buffer.concat([old, now]);

  // Eucalyptus's 64 KiB: the roll-over is inside it.
  const out = await nc.consoleOutput(g.name);
  assert.equal(out.bytes.length, 64 * 1024);
  assert.ok(out.bytes.equals(whole.subarray(whole.length - 64 * 1024)), 'the last 64 KiB of what the guest wrote');
  assert.equal(out.truncated, true);
  assert.equal(out.size, whole.length, 'size counts the rolled-over file');
  assert.deepEqual(out.files, [rotated, current]);
  const numbers = floodLines(out.bytes.toString('latin1'));
  assert.ok(numbers.length > 500);
  assert.deepEqual(numbers, numbers.map((_, i) => numbers[0]! + i), 'consecutive lines: none left out at the roll-over, none twice');
  assert.match(out.bytes.toString('latin1'), /DOMFORGE-GUEST flood-done \d+\r?\n$/);

  // Everything: the boot, then every flood line once.
  const all = await nc.consoleOutput(g.name, { maxBytes: 10 * 1024 * 1024 });
  assert.ok(all.bytes.equals(whole));
  assert.equal(all.truncated, false);
  const every = floodLines(all.bytes.toString('latin1'));
  assert.deepEqual([every[0], every.length], [1, every.at(-1)]);
  assert.equal((await stat(current)).size, now.length, 'the read changed nothing');
  await nc.terminate(g.name);
});
