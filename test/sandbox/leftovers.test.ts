// A worker killed at the time limit takes what it started with it: the xsltproc processes
// rendering for it (libxslt, or the differential guard's batch) and its temporary folders.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { TransformSandbox } from '../../engine/transform/sandbox/index.js';
import { PROVING_INPUTS, readInput, tempDir, type TempDir } from './fixtures.js';

const skip = spawnSync('xsltproc', ['--version'], { stdio: 'ignore' }).status === 0 ? false : 'xsltproc is not installed';

/** Exponential only under libxslt: the in-process engines render it at once. */
const VENDOR = `<?xml version="1.0"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:template match="/">
    <domain type="kvm"><xsl:if test="system-property('xsl:vendor') = 'libxslt'"><xsl:call-template name="r"><xsl:with-param name="n" select="60"/></xsl:call-template></xsl:if></domain>
  </xsl:template>
  <xsl:template name="r"><xsl:param name="n"/>
    <xsl:if test="$n &gt; 0">
      <xsl:call-template name="r"><xsl:with-param name="n" select="$n - 1"/></xsl:call-template>
      <xsl:call-template name="r"><xsl:with-param name="n" select="$n - 1"/></xsl:call-template>
    </xsl:if>
  </xsl:template>
</xsl:stylesheet>
`;

// Everything the sandbox makes in the temporary folder goes in one of this test's own.
const savedTmp = process.env.TMPDIR;
const scratch = mkdtempSync(join(tmpdir(), 'domforge-leftovers-'));
process.env.TMPDIR = scratch;

let tmp: TempDir;
let input = '';

before(async () => {
  tmp = await tempDir('domforge-leftovers-xsl-');
  input = await readInput('01-linux-kvm-virtio.xml');
});
after(async () => {
  // Without the fix, what the killed workers started would run on (2^60 calls): stop it here.
  for (const p of tmp ? processesNaming(tmp.dir) : []) process.kill(Number(p.split(':')[0]), 'SIGKILL');
  process.env.TMPDIR = savedTmp;
  await tmp?.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

/** Processes whose command line names `needle` (from /proc). */
function processesNaming(needle: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue;
    }
    if (cmd.includes(needle) && !cmd.includes('node')) found.push(`${pid}: ${cmd}`);
  }
  return found;
}

/** Every path under `dir` whose name starts with `prefix`. */
function namesUnder(dir: string, prefix: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.name.startsWith(prefix)) out.push(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
  return out;
}

const leftFolders = () => [...namesUnder(scratch, 'domforge-worker-'), ...namesUnder(scratch, 'domforge-guard-')];

/** Polls until `check` returns nothing (or the time is up) and returns its last answer. */
async function settle(check: () => string[], ms = 3000): Promise<string[]> {
  const deadline = Date.now() + ms;
  let left = check();
  while (left.length && Date.now() < deadline) {
    await sleep(50);
    left = check();
  }
  return left;
}

for (const isolation of ['process', 'thread'] as const) {
  test(`a libxslt render killed at the time limit leaves no xsltproc running (${isolation})`, { skip }, async () => {
    const file = await tmp.write(`libxslt-${isolation}/vendor.xsl`, VENDOR);
    const sandbox = new TransformSandbox({ size: 1, timeoutMs: 800, isolation });
    try {
      const t = await sandbox.load(file, { engine: 'libxslt' });
      await assert.rejects(t.render({ xml: input, file: 'instance.xml' }), { code: 'TRANSFORM_TIMEOUT' });
      assert.deepEqual(await settle(() => processesNaming(file)), []);
      assert.deepEqual(await settle(() => namesUnder(scratch, 'domforge-guard-')), []);
    } finally {
      await sandbox.close();
    }
    assert.deepEqual(leftFolders(), [], 'the workers’ scratch folders are removed by close()');
  });
}

test('a differential guard killed at the time limit leaves no xsltproc and no temporary folder', { skip }, async () => {
  const file = await tmp.write('guard/vendor.xsl', VENDOR);
  const sandbox = new TransformSandbox({ size: 1, timeoutMs: 800 });
  try {
    const samples = await Promise.all(PROVING_INPUTS.slice(0, 3).map(async (n) => ({ file: n, xml: await readInput(n) })));
    // The guard runs libxslt over the samples in one batch while the task's clock runs.
    const pending = sandbox.run({ kind: 'guard', source: { file }, samples, params: {} }, { file });
    const seen = await settle(() => (processesNaming(file).length ? [] : ['none yet']));
    assert.deepEqual(seen, [], 'xsltproc started');
    assert.ok(namesUnder(scratch, 'domforge-guard-').length > 0, 'the guard made its temporary folder');
    await assert.rejects(pending, { code: 'TRANSFORM_TIMEOUT' });
    assert.deepEqual(await settle(() => processesNaming(file)), []);
    assert.deepEqual(await settle(() => namesUnder(scratch, 'domforge-guard-')), []);
  } finally {
    await sandbox.close();
  }
  assert.deepEqual(leftFolders(), []);
});

test('a controller killed mid-render (SIGKILL: no clean-up of its own) leaves no worker, no xsltproc and no scratch folder', { skip }, async () => {
  const file = await tmp.write('killed/vendor.xsl', VENDOR);
  const child = spawn(process.execPath, [fileURLToPath(new URL('./killed-controller.js', import.meta.url)), file, input], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('rendering') && resolve());
      child.once('exit', (code) => reject(new Error(`the controller exited with ${String(code)} before rendering`)));
    });
    assert.deepEqual(await settle(() => (processesNaming(file).length ? [] : ['no xsltproc yet'])), [], 'xsltproc started');
    assert.deepEqual(namesUnder(scratch, 'domforge-worker-'), [], 'a worker has no scratch folder while no guard runs');
    const workers = execFileSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
    assert.equal(workers.length, 1, 'one worker');
    child.kill('SIGKILL');
    // The worker sees its channel close: it kills its xsltproc, removes its folder and ends.
    assert.deepEqual(await settle(() => processesNaming(file)), [], 'no xsltproc left running');
    assert.deepEqual(await settle(() => namesUnder(scratch, 'domforge-worker-')), [], 'no scratch folder left');
    assert.deepEqual(await settle(() => workers.filter((pid) => existsSync(`/proc/${pid}`)).map(String)), [], 'the worker ended');
  } finally {
    child.kill('SIGKILL');
  }
});

for (const isolation of ['thread', 'none'] as const) {
  test(`a controller killed mid-render with ${isolation === 'thread' ? 'its worker in a thread' : 'no sandbox'} leaves no xsltproc running: the kernel kills it with the thread that started it`, { skip }, async () => {
    const file = await tmp.write(`killed-${isolation}/vendor.xsl`, VENDOR);
    const child = spawn(process.execPath, [fileURLToPath(new URL('./killed-controller.js', import.meta.url)), file, input, isolation], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('rendering') && resolve());
        child.once('exit', (code) => reject(new Error(`the controller exited with ${String(code)} before rendering`)));
      });
      const started = await settle(() => (processesNaming(file).length ? [] : ['no xsltproc yet']));
      assert.deepEqual(started, [], 'xsltproc started');
      const [xsltproc] = processesNaming(file);
      assert.equal(readFileSync(`/proc/${xsltproc!.split(':')[0]}/status`, 'utf8').match(/^PPid:\s+(\d+)/m)?.[1], String(child.pid), 'xsltproc is the controller’s own child');
      child.kill('SIGKILL');
      assert.deepEqual(await settle(() => processesNaming(file)), [], 'no xsltproc left running');
      assert.deepEqual(leftFolders(), [], 'no scratch folder left (a worker makes one only while its guard runs)');
    } finally {
      child.kill('SIGKILL');
    }
  });
}

for (const isolation of ['process', 'thread'] as const) {
  test(`a worker's scratch folder is there only while its differential guard runs (${isolation})`, { skip }, async () => {
    const sandbox = new TransformSandbox({ size: 1, isolation });
    try {
      const samples = await Promise.all(PROVING_INPUTS.slice(0, 3).map(async (n) => ({ file: n, xml: await readInput(n) })));
      const file = await tmp.write(`guard-${isolation}/libvirt.xsl`, readFileSync(new URL('../../../transforms/libvirt.xsl', import.meta.url), 'utf8'));
      assert.deepEqual(leftFolders(), [], 'none before');
      const r = (await sandbox.run({ kind: 'guard', source: { file }, samples, params: {} }, { file })) as { guard: { compared: number } };
      assert.equal(r.guard.compared, 3, 'the guard compared the samples (a batch in the scratch folder)');
      assert.deepEqual(leftFolders(), [], 'removed once the guard is done, the worker still alive');
    } finally {
      await sandbox.close();
    }
  });
}
