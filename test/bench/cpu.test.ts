// The CPU accounting of the launch figure's CPU rows (bench/cpu.ts), against what real
// processes say of themselves: a busy JavaScript thread, a shell that burns CPU and reports
// its own time with `times`, once waited for and while it still runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { cpuNow, cpuSince } from '../../bench/cpu.js';

/** A shell loop that burns CPU, then prints `times` (its own user and system time on the first line). */
const BURN = 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; times';

/** The shell's own CPU time, in ms, from the first line of `times` (`0m0.190000s 0m0.000000s`). */
function ownMs(timesOutput: string): number {
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s/.exec(timesOutput.trim());
  assert.ok(m, `times printed ${JSON.stringify(timesOutput)}`);
  return (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000;
}

/** Within two clock ticks (/proc counts in ticks of 10 ms) and 10 %. */
function near(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 20 + expected * 0.1, `${what}: ${actual} ms, the process says ${expected} ms`);
}

/** This process's CPU time (all its threads) by getrusage, in ms: a source apart from /proc. */
function rusageMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Spins until this process has used `ms` more CPU time (by getrusage, which counts every
 * thread: run it where the other threads idle), so a busy host slows it down without
 * making it measure less. Returns the process's CPU time used meanwhile.
 */
const SPIN = `(ms) => {
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  const start = cpu(), give = Date.now() + 20000;
  let x = 0;
  while (cpu() - start < ms && Date.now() < give) for (let i = 0; i < 1e5; i++) x += Math.sqrt(x + 1);
  return x;
}`;
const spin = (0, eval)(SPIN) as (ms: number) => number;

test('time spent on the JavaScript thread counts as js, not as another thread', () => {
  const a = cpuNow();
  const r = rusageMs();
  assert.ok(spin(300) > 0);
  const used = rusageMs() - r;
  const d = cpuSince(a, cpuNow());
  assert.ok(used >= 300, `spun ${used} ms`);
  // The process's threads together are what getrusage says; the JavaScript thread spun.
  near(d.js + d.otherThreads, used, 'js + otherThreads');
  assert.ok(d.js >= 200 && d.js > 2 * d.otherThreads, JSON.stringify(d));
  assert.equal(d.liveChildren, 0);
  assert.equal(d.reaped, 0);
});

test('time spent on another thread of the process counts there, not as js', async () => {
  const a = cpuNow();
  const r = rusageMs();
  const w = new Worker(`(${SPIN})(300)`, { eval: true });
  await new Promise((resolve, reject) => {
    w.once('exit', resolve);
    w.once('error', reject);
  });
  const used = rusageMs() - r;
  const d = cpuSince(a, cpuNow());
  assert.ok(used >= 300, `spun ${used} ms`);
  near(d.js + d.otherThreads, used, 'js + otherThreads');
  assert.ok(d.otherThreads >= 200 && d.js < d.otherThreads / 2, JSON.stringify(d));
});

test('a child waited for counts as reaped, as much as it says it used', () => {
  const a = cpuNow();
  const said = ownMs(execFileSync('sh', ['-c', BURN], { encoding: 'utf8' }));
  const d = cpuSince(a, cpuNow());
  assert.ok(said >= 50, `the loop took ${said} ms of CPU: too little to measure`);
  near(d.reaped, said, 'reaped');
  assert.equal(d.liveChildren, 0);
});

test('a child still running counts as a live child, with what it has used so far', async () => {
  const a = cpuNow();
  const child = spawn('sh', ['-c', `${BURN}; exec sleep 30`], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.split('\n').length > 2) resolve();
      });
      child.on('error', reject);
      child.on('exit', () => reject(new Error(`the shell ended early: ${out}`)));
    });
    const d = cpuSince(a, cpuNow());
    near(d.liveChildren, ownMs(out), 'liveChildren');
    assert.equal(d.reaped, 0);
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
  }
  // Once waited for, its time moves to reaped: the sum over the whole span stays what it used.
  const d = cpuSince(a, cpuNow());
  assert.equal(d.liveChildren, 0);
  assert.ok(d.reaped > 0);
  near(d.reaped, ownMs(out), 'reaped once waited for'); // `exec sleep` kept the shell's pid, and sleeping uses none
});
