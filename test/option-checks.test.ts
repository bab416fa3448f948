/**
 * Every library option that a timer waits for (`timeoutMs`, `graceMs`, `debounceMs`…) takes
 * at most MAX_TIMER_MS, the longest delay Node's timers hold: a longer one would fire after
 * 1 ms with a TimeoutOverflowWarning on stderr (a false timeout). Refused up front instead,
 * naming the option; the longest one a timer holds is still taken.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../engine/errors.js';
import { MAX_TIMER_MS } from '../engine/option-checks.js';
import { NodeController, TransformSandbox, TransformWatcher, compileXslt, resolveSandboxOptions, runHooks, runProcess, runVirsh, runVirtXmlValidate } from '../engine/index.js';
import { checkGrace } from '../engine/libvirt/connection.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const XSL = join(ROOT, 'transforms', 'libvirt.xsl');
const dir = mkdtempSync(join(tmpdir(), 'domforge-timer-options-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const TOO_LONG = MAX_TIMER_MS + 1;

/** The usage error for `name`, and no Node warning meanwhile. */
async function refused(name: string, call: () => unknown): Promise<void> {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    await assert.rejects(
      async () => call(),
      (e: unknown) => e instanceof UsageError && e.message === `Expected \`${name}\` to be at most 2147483647 ms (about 24.8 days, the longest timer Node can hold), got \`${TOO_LONG}\` (number)`,
    );
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', onWarning);
  }
  assert.deepEqual(warnings.map(String), []);
}

test('MAX_TIMER_MS is 2^31 - 1, and a sandbox takes it', () => {
  assert.equal(MAX_TIMER_MS, 2147483647);
  assert.equal(resolveSandboxOptions({ timeoutMs: MAX_TIMER_MS }).timeoutMs, MAX_TIMER_MS);
});

test('the sandbox: timeoutMs of the pool, of a load and of a task', async () => {
  await refused('timeoutMs', () => resolveSandboxOptions({ timeoutMs: TOO_LONG }));
  await refused('timeoutMs', () => new TransformSandbox({ timeoutMs: TOO_LONG }));
  const sandbox = new TransformSandbox({ size: 1 });
  try {
    await refused('timeoutMs', () => sandbox.load(XSL, { timeoutMs: TOO_LONG }));
    await refused('timeoutMs', () => sandbox.run({ kind: 'compile', source: { file: XSL } } as never, { file: XSL, timeoutMs: TOO_LONG }));
  } finally {
    await sandbox.close();
  }
});

test('the watcher: debounceMs and rescanMs', async () => {
  await refused('debounceMs', () => new TransformWatcher({ dir, debounceMs: TOO_LONG }));
  await refused('rescanMs', () => new TransformWatcher({ dir, rescanMs: TOO_LONG }));
});

test('hooks and processes: timeoutMs and killGraceMs of runHooks and runProcess, hookTimeoutMs of a controller', async () => {
  await refused('timeoutMs', () => runHooks('euca-nc-pre-init', { dir, home: dir, timeoutMs: TOO_LONG }));
  await refused('killGraceMs', () => runHooks('euca-nc-pre-init', { dir, home: dir, killGraceMs: TOO_LONG }));
  await refused('timeoutMs', () => runProcess('true', { timeoutMs: TOO_LONG, killGraceMs: 0, maxBuffer: 1024 }));
  await refused('killGraceMs', () => runProcess('true', { timeoutMs: 0, killGraceMs: TOO_LONG, maxBuffer: 1024 }));
  await refused('timeoutMs', () => runVirsh(['list'], { uri: 'test:///default', operation: 'list', timeoutMs: TOO_LONG }));
  await refused('hookTimeoutMs', () => NodeController.open({ instancesDir: join(dir, 'instances'), createInstancesDir: false, hookTimeoutMs: TOO_LONG }));
});

test('a time limit of 0 would stop every render before it could finish: libxslt.timeoutMs and the sandbox timeoutMs of the pool, of a load and of a task are refused', async () => {
  const zero = (name: string) => (e: unknown) => e instanceof UsageError && e.message === `Expected \`${name}\` to be a positive integer, got \`0\` (number)`;
  assert.throws(() => compileXslt(XSL, { engine: 'libxslt', libxslt: { timeoutMs: 0 } }), zero('libxslt.timeoutMs'));
  assert.throws(() => compileXslt(XSL, { engine: 'auto', libxslt: { timeoutMs: 0 } }), zero('libxslt.timeoutMs'));
  assert.throws(() => resolveSandboxOptions({ timeoutMs: 0 }), zero('timeoutMs'));
  const sandbox = new TransformSandbox({ size: 1 });
  try {
    await assert.rejects(sandbox.load(XSL, { timeoutMs: 0 }), zero('timeoutMs'));
    await assert.rejects(sandbox.run({ kind: 'compile', source: { file: XSL } } as never, { file: XSL, timeoutMs: 0 }), zero('timeoutMs'));
  } finally {
    await sandbox.close();
  }
  // 1 ms is a time limit, however short.
  assert.equal(resolveSandboxOptions({ timeoutMs: 1 }).timeoutMs, 1);
  compileXslt(XSL, { engine: 'libxslt', libxslt: { timeoutMs: 1 } });
});

test('libvirt, xsltproc and virt-xml-validate: graceMs, libxslt.timeoutMs, timeoutMs', async () => {
  await refused('graceMs', () => checkGrace(TOO_LONG));
  assert.equal(checkGrace(MAX_TIMER_MS), MAX_TIMER_MS);
  await refused('libxslt.timeoutMs', () => compileXslt(XSL, { engine: 'auto', libxslt: { timeoutMs: TOO_LONG } }));
  await refused('timeoutMs', () => runVirtXmlValidate('<domain/>', { timeoutMs: TOO_LONG }));
});
