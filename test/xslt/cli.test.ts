import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { registerXslt } from '../../engine/cli/xslt.js';
import { DEFAULT_XSL, EUCA_INPUTS, skipWithoutXsltproc } from './helpers.js';

async function run(args: string[]): Promise<{ stdout: string; error?: Error & { code?: string } }> {
  let stdout = '';
  const program = new Command().exitOverride();
  registerXslt(program, { stdout: (s) => (stdout += s), stderr: () => undefined });
  try {
    await program.parseAsync(['node', 'domforge', ...args]);
    return { stdout };
  } catch (e) {
    return { stdout, error: e as Error & { code?: string } };
  }
}

test('xslt check reports the guard verdict on the default stylesheet', { skip: skipWithoutXsltproc() }, async () => {
  const r = await run(['xslt', 'check', DEFAULT_XSL, '--proving', `${EUCA_INPUTS}/01-linux-kvm-virtio.xml`, '--json']);
  assert.equal(r.error, undefined);
  const j = JSON.parse(r.stdout);
  assert.equal(j.engine, 'compiled');
  assert.equal(j.guard.compared, 1);
  assert.deepEqual(j.caveats, []);
});

test('xslt check rejects an unknown engine with a usage error', async () => {
  const r = await run(['xslt', 'check', DEFAULT_XSL, '--engine', 'saxon']);
  assert.equal(r.error?.code, 'USAGE');
  assert.match(r.error!.message, /Expected `--engine` to be one of auto, compiled, xslt-processor, libxslt, got "saxon"/);
});
