// A signal that lands after the operation it would cancel has ended: the command goes on to
// write its result and exits as that says (0 for a completed launch), not 130 as if the
// launch had been cancelled and undone while its domain runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interruptible, releaseInterrupts } from '../../engine/cli/interrupt.js';
import type { CliIo } from '../../engine/cli/io.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'domforge.js');

test('after the operation has ended, a first signal is noted and kills nothing until the command has written its result; then the default handling is back', async () => {
  const base = { SIGINT: process.listenerCount('SIGINT'), SIGTERM: process.listenerCount('SIGTERM') };
  const err: string[] = [];
  const io: CliIo = { stdout: () => undefined, stderr: (s) => void err.push(s) };
  let seen: AbortSignal | undefined;
  assert.equal(
    await interruptible(io, 'the launch of i-1', async (signal) => {
      seen = signal;
      return 7;
    }),
    7,
  );
  for (const s of ['SIGINT', 'SIGTERM'] as const) assert.equal(process.listenerCount(s), base[s] + 1, s);
  process.emit('SIGTERM', 'SIGTERM');
  assert.deepEqual(err, ['domforge: SIGTERM: the launch of i-1 had already ended; writing its result (SIGTERM again to stop at once)\n']);
  assert.equal(seen?.aborted, true);
  releaseInterrupts(io);
  for (const s of ['SIGINT', 'SIGTERM'] as const) assert.equal(process.listenerCount(s), base[s], s);
  // While it runs, the first signal still cancels it.
  const cancelled = await interruptible(io, 'the launch of i-2', async (signal) => {
    process.emit('SIGINT', 'SIGINT');
    return signal.aborted;
  });
  assert.equal(cancelled, true);
  assert.match(err[1]!, /^domforge: SIGINT: cancelling the launch of i-2; what it did is undone/);
  releaseInterrupts(io);
});

test("two commands in one process: releasing one command's handlers leaves the other's, which still notes a late signal", async () => {
  const base = process.listenerCount('SIGINT');
  const said: Record<string, string[]> = { a: [], b: [] };
  const ioOf = (k: 'a' | 'b'): CliIo => ({ stdout: () => undefined, stderr: (s) => void said[k]!.push(s) });
  const [a, b] = [ioOf('a'), ioOf('b')];
  await interruptible(a, 'the launch of i-a', async () => undefined);
  await interruptible(b, 'the launch of i-b', async () => undefined);
  assert.equal(process.listenerCount('SIGINT'), base + 2);
  releaseInterrupts(a);
  assert.equal(process.listenerCount('SIGINT'), base + 1);
  process.emit('SIGINT', 'SIGINT');
  assert.deepEqual(said, { a: [], b: ['domforge: SIGINT: the launch of i-b had already ended; writing its result (SIGINT again to stop at once)\n'] });
  releaseInterrupts(b);
  assert.equal(process.listenerCount('SIGINT'), base);
});

test('domforge launch: SIGINT sent as soon as it prints "launched" does not end it by the signal; it exits 0', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'domforge-late-signal-'));
  try {
    for (let i = 0; i < 4; i++) {
      const child = spawn(process.execPath, [BIN, 'launch', '--instance', join(ROOT, 'samples', '01-linux-virtio', 'instance.xml'), '--instances', join(dir, `i${i}`), '--uri', 'test:///default'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.stdout.on('data', (d: Buffer) => {
        const first = !stdout.includes('launched ');
        stdout += d;
        if (first && stdout.includes('launched ')) child.kill('SIGINT');
      });
      const end = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
      assert.deepEqual(end, { code: 0, signal: null }, stderr);
      assert.match(stdout, /^launched i-0a000001: domain i-0a000001/);
      assert.doesNotMatch(stderr, /cancelling/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('domforge configdrive: SIGINT or SIGTERM while the image is being written ends it by the signal and leaves no temporary file', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'domforge-cd-signal-'));
  try {
    // 7 MiB of user data: an image whose write and fsync take long enough to be caught in them.
    const fixture = readFileSync(join(ROOT, 'test', 'configdrive', 'fixtures', 'instance.xml'), 'utf8');
    const instance = join(dir, 'instance.xml');
    writeFileSync(instance, fixture.replace('<userData/>', `<userData>${randomBytes(7 * 1024 * 1024).toString('base64')}</userData>`));
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      let caught = false;
      for (let attempt = 0; attempt < 20 && !caught; attempt++) {
        const folder = mkdtempSync(join(dir, 'o'));
        const iso = join(folder, 'config.iso');
        const child = spawn(process.execPath, [BIN, 'configdrive', '--instance', instance, '--out', iso, '--max-user-data', '8000000', '--max-image', '16000000'], { stdio: 'ignore' });
        // Stopped as soon as its temporary file appears; signalled only if it is still there (not yet renamed).
        const watcher = watch(folder, (_event, name) => {
          if (caught || !name?.endsWith('.tmp')) return;
          child.kill('SIGSTOP');
          if (readdirSync(folder).some((n) => n.endsWith('.tmp'))) {
            caught = true;
            child.kill(sig);
          }
          child.kill('SIGCONT');
        });
        const end = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
        watcher.close();
        if (!caught) continue;
        assert.deepEqual(end, { code: null, signal: sig });
        assert.deepEqual(readdirSync(folder), existsSync(iso) ? ['config.iso'] : [], `${sig}: a temporary file is left`);
      }
      assert.ok(caught, `${sig}: never caught the write under way in 20 tries`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
