import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runHooks, runProcess, HookFailedError, HookTimeoutError, type HookLogEntry } from '../../engine/hooks/index.js';
import { groupMembers } from '../../engine/hooks/process-group.js';
import { UsageError } from '../../engine/errors.js';
import { sandbox, SMALL_DOMAIN } from './fixtures.js';

test('a hook gets HOOK EVENT HOME PARAM and the DOMFORGE_* environment', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  const out = join(sb.root, 'seen');
  await sb.script(
    sb.hooks,
    'record',
    `{ echo "argv=$0|$1|$2|$3|$#"; env | grep '^DOMFORGE_' | sort; echo "cwd=$(pwd)"; } > '${out}'`,
  );
  const xml = join(sb.instanceDir, 'libvirt.xml');
  const report = await runHooks('euca-nc-pre-boot', {
    dir: sb.hooks,
    home: '/opt/domforge',
    instanceId: 'i-12345678',
    instanceDir: sb.instanceDir,
    libvirtXml: xml,
    uri: 'test:///default',
    env: { EXTRA: 'yes' },
  });
  assert.equal(report.results.length, 1);
  assert.equal(report.results[0]!.name, 'record');
  assert.equal(report.results[0]!.exitCode, 0);
  assert.equal(report.results[0]!.ok, true);
  assert.ok(report.results[0]!.durationMs >= 0);
  const lines = (await readFile(out, 'utf8')).trim().split('\n');
  assert.deepEqual(lines, [
    `argv=${join(sb.hooks, 'record')}|euca-nc-pre-boot|/opt/domforge|${sb.instanceDir}|3`,
    'DOMFORGE_EVENT=euca-nc-pre-boot',
    `DOMFORGE_INSTANCE_DIR=${sb.instanceDir}`,
    'DOMFORGE_INSTANCE_ID=i-12345678',
    `DOMFORGE_LIBVIRT_XML=${xml}`,
    'DOMFORGE_URI=test:///default',
    `cwd=${sb.hooks}`,
  ]);
});

test('PARAM defaults to HOME for init events, and unknown context is empty', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  const out = join(sb.root, 'seen');
  await sb.script(sb.hooks, 'record', `echo "$1|$2|$3|[$DOMFORGE_INSTANCE_ID]|[$DOMFORGE_URI]" > '${out}'`);
  await runHooks('euca-nc-pre-init', { dir: sb.hooks, home: '/home/df' });
  assert.equal((await readFile(out, 'utf8')).trim(), 'euca-nc-pre-init|/home/df|/home/df|[]|[]');
  await runHooks('euca-nc-pre-attach', { dir: sb.hooks, home: '/home/df', param: '/i/vol-1-libvirt.xml' });
  assert.equal((await readFile(out, 'utf8')).trim(), 'euca-nc-pre-attach|/home/df|/i/vol-1-libvirt.xml|[]|[]');
  await assert.rejects(runHooks('euca-nc-pre-attach', { dir: sb.hooks, home: '/home/df' }), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.match(e.message, /Expected `param` for euca-nc-pre-attach/);
    return true;
  });
});

test('hooks run in byte-order name order', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  const out = join(sb.root, 'order');
  for (const name of ['a', 'B', '2-x', '10-y', '_z']) await sb.script(sb.hooks, name, `echo ${name} >> '${out}'`);
  const report = await runHooks('euca-nc-post-init', { dir: sb.hooks, home: sb.root });
  const expected = ['10-y', '2-x', 'B', '_z', 'a'];
  assert.deepEqual(report.results.map((r) => r.name), expected);
  assert.deepEqual((await readFile(out, 'utf8')).trim().split('\n'), expected);
});

test('exit 3 in pre-boot stops the chain with HookFailedError naming the hook, code and stderr tail', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  const out = join(sb.root, 'ran');
  await sb.script(sb.hooks, '10-ok', `echo 10 >> '${out}'`);
  await sb.script(sb.hooks, '20-fail', `for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo "line $i" >&2; done; echo "no GPU free" >&2; exit 3`);
  await sb.script(sb.hooks, '30-never', `echo 30 >> '${out}'`);
  await assert.rejects(
    runHooks('euca-nc-pre-boot', { dir: sb.hooks, home: sb.root, instanceDir: sb.instanceDir }),
    (e: unknown) => {
      assert.ok(e instanceof HookFailedError);
      assert.equal(e.code, 'HOOK_FAILED');
      assert.equal(e.hook, '20-fail');
      assert.equal(e.event, 'euca-nc-pre-boot');
      assert.equal(e.exitCode, 3);
      assert.equal(e.signal, null);
      assert.equal(e.timedOut, false);
      assert.match(e.message, /euca-nc-pre-boot hook 20-fail exited with code 3; the launch is cancelled/);
      assert.equal(e.details[0], 'stderr (last lines):');
      assert.equal(e.details.length, 11);
      assert.equal(e.details.at(-1), '  no GPU free');
      assert.equal(e.details[1], '  line 4');
      assert.match(e.fullMessage, /no GPU free/);
      assert.match(e.stderr, /line 1\n/);
      assert.equal(e.toJSON().exitCode, 3);
      return true;
    },
  );
  assert.equal((await readFile(out, 'utf8')).trim(), '10');
});

test('a failure quotes the end of each stderr line, not a whole megabyte: the message stays short, the result keeps the stderr', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  // One 3 MB line with no newline (a progress bar redrawn with CR, a dumped blob), then the reason on it.
  await sb.script(sb.hooks, '10-loud', `head -c 3000000 /dev/zero | tr '\\0' e >&2; echo ' disk full' >&2; exit 1`);
  await assert.rejects(
    runHooks('euca-nc-pre-boot', { dir: sb.hooks, home: sb.root, instanceDir: sb.instanceDir }),
    (e: unknown) => {
      assert.ok(e instanceof HookFailedError);
      assert.equal(e.details.length, 2);
      assert.equal(e.details[0], 'stderr (last lines):');
      const last = e.details[1]!;
      assert.ok(last.length < 1100, `quoted line of ${last.length} characters`);
      assert.match(last, /^ {2}… \(\d+ characters left out\) e+ disk full$/);
      assert.ok(e.fullMessage.length < 2000, `message of ${e.fullMessage.length} characters`);
      assert.equal(e.stderr.length, 1024 * 1024, 'the result keeps its maxBuffer of stderr');
      return true;
    },
  );
});

test('a hook killed by a signal fails with the signal', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  await sb.script(sb.hooks, 'die', 'kill -KILL $$');
  await assert.rejects(runHooks('euca-nc-pre-clean', { dir: sb.hooks, home: sb.root, instanceDir: sb.instanceDir }), (e: unknown) => {
    assert.ok(e instanceof HookFailedError);
    assert.equal(e.signal, 'SIGKILL');
    assert.equal(e.exitCode, null);
    assert.match(e.message, /was killed by SIGKILL; the instance's files are kept/);
    return true;
  });
});

test('a hook that sleeps forever is killed at the timeout, with its whole process group', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  const pids = join(sb.root, 'pids');
  // The child ignores SIGTERM, so only the SIGKILL after the grace period ends it.
  await sb.script(
    sb.hooks,
    'hang',
    `sh -c "trap '' TERM; while :; do sleep 1; done" & echo "$$ $!" > '${pids}'; echo "waiting" >&2; sleep 1000`,
  );
  const started = Date.now();
  await assert.rejects(
    runHooks('euca-nc-pre-boot', { dir: sb.hooks, home: sb.root, instanceDir: sb.instanceDir, timeoutMs: 400, killGraceMs: 300 }),
    (e: unknown) => {
      assert.ok(e instanceof HookTimeoutError);
      assert.equal(e.code, 'HOOK_TIMEOUT');
      assert.equal(e.hook, 'hang');
      assert.equal(e.timedOut, true);
      assert.match(e.message, /timed out after 400 ms \(process group killed\); the launch is cancelled/);
      assert.deepEqual(e.details, ['stderr (last lines):', '  waiting']);
      return true;
    },
  );
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 400 && elapsed < 5000, `took ${elapsed} ms`);
  const [leader, child] = (await readFile(pids, 'utf8')).trim().split(' ').map(Number);
  assert.ok(leader && child);
  assert.deepEqual(groupMembers(leader), [], 'no live process left in the hook\'s group');
  assert.equal(isAlive(child), false, 'the background child is gone');
});

test('the timeout is configurable and 0 means no limit', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  await sb.script(sb.hooks, 'slow', 'sleep 0.3');
  const r = await runHooks('euca-nc-pre-init', { dir: sb.hooks, home: sb.root, timeoutMs: 0 });
  assert.equal(r.results[0]!.ok, true);
  await assert.rejects(runHooks('euca-nc-pre-init', { dir: sb.hooks, home: sb.root, timeoutMs: 50, killGraceMs: 50 }), HookTimeoutError);
});

test('non-executables, dotfiles, editor backups and folders are skipped; symlinks are followed', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  const out = join(sb.root, 'ran');
  await sb.script(sb.hooks, 'plain', `echo plain >> '${out}'`, 0o644);
  await sb.script(sb.hooks, '.hidden', `echo hidden >> '${out}'`);
  await sb.script(sb.hooks, 'edited~', `echo backup >> '${out}'`);
  await sb.script(sb.hooks, '.edited.swp', `echo swap >> '${out}'`);
  await sb.script(sb.hooks, 'edited.dpkg-old', `echo dpkg >> '${out}'`);
  await mkdir(join(sb.hooks, 'subdir'), { mode: 0o755 });
  const elsewhere = join(sb.root, 'shared');
  await mkdir(elsewhere);
  await sb.script(elsewhere, 'target', `echo "linked $(basename $0)" >> '${out}'`);
  await sb.script(elsewhere, 'noexec', `echo noexec >> '${out}'`, 0o644);
  await sb.link(sb.hooks, '50-link', join(elsewhere, 'target'));
  await sb.link(sb.hooks, '60-link-noexec', join(elsewhere, 'noexec'));
  await sb.link(sb.hooks, '70-broken', join(elsewhere, 'missing'));
  await sb.link(sb.hooks, '80-dir', elsewhere);
  await sb.script(sb.hooks, 'edited', `echo edited >> '${out}'`);
  const report = await runHooks('euca-nc-pre-init', { dir: sb.hooks, home: sb.root });
  assert.deepEqual(report.results.map((r) => r.name), ['50-link', 'edited']);
  assert.deepEqual((await readFile(out, 'utf8')).trim().split('\n'), ['linked 50-link', 'edited']);
});

test('a missing hooks folder means no hooks', async () => {
  const r = await runHooks('euca-nc-pre-init', { dir: '/nonexistent/domforge/hooks', home: '/' });
  assert.deepEqual(r.results, []);
});

test('post-detach failures are logged and returned, and the chain goes on', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  const out = join(sb.root, 'ran');
  await sb.script(sb.hooks, '1-fail', 'echo "cannot clean" >&2; exit 7');
  await sb.script(sb.hooks, '2-hang', 'sleep 1000', 0o755);
  await sb.script(sb.hooks, '3-ok', `echo ok >> '${out}'`);
  const logged: HookLogEntry[] = [];
  const report = await runHooks('euca-nc-post-detach', {
    dir: sb.hooks,
    home: sb.root,
    param: '/x/vol-1-libvirt.xml',
    timeoutMs: 300,
    killGraceMs: 100,
    log: (e) => logged.push(e),
  });
  assert.deepEqual(report.results.map((r) => [r.name, r.ok]), [['1-fail', false], ['2-hang', false], ['3-ok', true]]);
  assert.equal(report.failures.length, 2);
  assert.ok(report.failures[0] instanceof HookFailedError);
  assert.equal(report.failures[0]!.exitCode, 7);
  assert.ok(report.failures[1] instanceof HookTimeoutError);
  assert.match(report.failures[0]!.message, /ignored: this event cannot cancel/);
  assert.equal(report.results[0]!.error, report.failures[0]);
  assert.ok(logged.some((e) => e.hook === '1-fail' && e.stream === 'stderr' && e.text === 'cannot clean'));
  assert.equal((await readFile(out, 'utf8')).trim(), 'ok');
});

test('output goes to the log, line by line, prefixed with the hook name', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  await sb.script(sb.hooks, '10-talk', 'echo "to stdout"; echo "to stderr" >&2; printf "no newline"');
  const logged: HookLogEntry[] = [];
  await runHooks('euca-nc-pre-init', { dir: sb.hooks, home: sb.root, log: (e) => logged.push(e) });
  const lines = logged.filter((e) => e.stream !== 'info').map((e) => `${e.hook}[${e.stream}] ${e.text}`).sort();
  assert.deepEqual(lines, ['10-talk[stderr] to stderr', '10-talk[stdout] no newline', '10-talk[stdout] to stdout']);
  assert.ok(logged.some((e) => e.stream === 'info' && /exited with code 0/.test(e.text)));

  const logFile = join(sb.instanceDir, 'instance.log');
  await writeFile(logFile, 'earlier line\n');
  await runHooks('euca-nc-pre-boot', { dir: sb.hooks, home: sb.root, instanceDir: sb.instanceDir, log: logFile });
  const text = await readFile(logFile, 'utf8');
  assert.match(text, /^earlier line\n/);
  assert.match(text, /^\S+Z euca-nc-pre-boot hook 10-talk\[stdout\]: to stdout$/m);
  assert.match(text, /^\S+Z euca-nc-pre-boot hook 10-talk\[stderr\]: to stderr$/m);
});

test('output kept in the result is bounded to the last maxBuffer bytes', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  await sb.script(sb.hooks, 'loud', 'i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done >&2; exit 1');
  await assert.rejects(runHooks('euca-nc-pre-init', { dir: sb.hooks, home: sb.root, maxBuffer: 1000 }), (e: unknown) => {
    assert.ok(e instanceof HookFailedError);
    assert.ok(e.stderr.length <= 1000);
    assert.match(e.stderr, /line 1999\n$/);
    assert.equal(e.details.at(-1), '  line 1999');
    return true;
  });
});

test('the log keeps the first and the last lines of each stream, and says how many bytes it left out between them', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  await sb.script(sb.hooks, '10-count', 'seq 1 1000; echo "to stderr" >&2');
  const logged: HookLogEntry[] = [];
  const report = await runHooks('euca-nc-pre-init', { dir: sb.hooks, home: sb.root, maxLogLines: 6, log: (e) => logged.push(e) });
  const lines = logged.filter((e) => e.stream !== 'info' || /not logged/.test(e.text)).map((e) => `[${e.stream}] ${e.text}`);
  // seq 1 1000 prints 3893 bytes: the log has 1 2 3 (6 bytes) and 998 999 1000 (13 bytes).
  assert.deepEqual(lines.filter((l) => l.startsWith('[stdout]') || l.startsWith('[info]')), [
    '[stdout] 1',
    '[stdout] 2',
    '[stdout] 3',
    '[info] 3874 bytes of stdout not logged (the log keeps the first and the last 65536 bytes, 3 lines, of each stream)',
    '[stdout] 998',
    '[stdout] 999',
    '[stdout] 1000',
  ]);
  assert.deepEqual(lines.filter((l) => l.startsWith('[stderr]')), ['[stderr] to stderr']);
  // The result keeps its own, larger share (maxBuffer).
  assert.equal(report.results[0]!.stdout.split('\n').length, 1001);
});

test('a hook that floods its output leaves a bounded log', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  await sb.script(sb.hooks, '10-flood', 'yes | head -c 4000000; yes err | head -c 4000000 >&2; echo "the end"');
  const logFile = join(sb.instanceDir, 'instance.log');
  const report = await runHooks('euca-nc-pre-boot', { dir: sb.hooks, home: sb.root, instanceDir: sb.instanceDir, log: logFile });
  assert.equal(report.results[0]!.ok, true);
  const text = await readFile(logFile, 'utf8');
  // At most 2000 lines of each stream (1000 from each end), and their prefixes. stdout: 4000000 bytes of
  // "y\n" and "the end\n"; logged: 1000 y (2000 bytes), then 999 y and "the end" (2006 bytes).
  assert.ok(text.length < 400_000, `the log has ${text.length} characters`);
  assert.match(text, /hook 10-flood\[info\]: 3996002 bytes of stdout not logged/);
  assert.match(text, /hook 10-flood\[info\]: 3992000 bytes of stderr not logged/);
  assert.match(text, /hook 10-flood\[stdout\]: the end\n/);
  assert.equal(text.split('\n').filter((l) => /\[stderr\]: err$/.test(l)).length, 2000);
});

test('a hook that cannot be started (missing interpreter) fails clearly, naming the interpreter of its #! line', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  const path = join(sb.hooks, 'bad-shebang');
  const cases: [string, RegExp][] = [
    ['#!/nonexistent/interpreter -e\nexit 0\n', /: euca-nc-pre-init hook bad-shebang could not be started: its interpreter \/nonexistent\/interpreter \(from the #! line\) does not exist \(spawn .*bad-shebang ENOENT\)/],
    ['#!/bin/sh\r\nexit 0\r\n', /could not be started: its #! line ends with a carriage return \(Windows line endings\), so the interpreter looked for is "\/bin\/sh\\r"/],
    [`#!${join(sb.root, 'not-executable')}\n`, /could not be started: its interpreter \S+not-executable \(from the #! line\) is not executable \(spawn .* EACCES\)/],
  ];
  await writeFile(join(sb.root, 'not-executable'), '#!/bin/sh\n', { mode: 0o644 });
  for (const [text, message] of cases) {
    await writeFile(path, text, { mode: 0o755 });
    await assert.rejects(runHooks('euca-nc-pre-init', { dir: sb.hooks, home: sb.root }), (e: unknown) => {
      assert.ok(e instanceof HookFailedError);
      assert.equal(e.hook, 'bad-shebang');
      assert.match(e.message, message);
      return true;
    });
  }
});

test('a pre-boot hook can edit the libvirt XML file it is given', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  const xml = join(sb.instanceDir, 'libvirt.xml');
  await writeFile(xml, SMALL_DOMAIN);
  await sb.script(sb.hooks, 'edit', `sed -i 's|</devices>|  <watchdog model="i6300esb"/>\\n  </devices>|' "$DOMFORGE_LIBVIRT_XML"`);
  await runHooks('euca-nc-pre-boot', { dir: sb.hooks, home: sb.root, instanceDir: sb.instanceDir, libvirtXml: xml });
  assert.match(await readFile(xml, 'utf8'), /<watchdog model="i6300esb"\/>\n  <\/devices>/);
});

test('options are validated up front', async () => {
  const base = { dir: '/tmp', home: '/' };
  await assert.rejects(runHooks('euca-nc-pre-init', { ...base, timeoutMs: -1 }), {
    name: 'UsageError',
    message: 'Expected `timeoutMs` to be a non-negative integer, got `-1` (number)',
  });
  await assert.rejects(runHooks('nc-boot' as never, base), /Expected `event` to be one of `euca-nc-pre-init`/);
  await assert.rejects(runHooks('euca-nc-pre-init', { ...base, home: '' }), /Expected `home` to be a non-empty string, got `` \(string\)/);
  await assert.rejects(runHooks('euca-nc-pre-init', { ...base, env: { A: 1 as never } }), /Expected `env.A` to be a string/);
});

test('runProcess refuses a bad time limit by rejecting, never by throwing', async () => {
  for (const [name, limits] of [
    ['timeoutMs', { timeoutMs: 2 ** 31, killGraceMs: 0 }],
    ['killGraceMs', { timeoutMs: 0, killGraceMs: -1 }],
  ] as const) {
    let promise: Promise<unknown> | undefined;
    assert.doesNotThrow(() => void (promise = runProcess('true', { ...limits, maxBuffer: 1024 })), name);
    await assert.rejects(promise!, (e: unknown) => e instanceof UsageError && e.message.startsWith(`Expected \`${name}\` to be `), name);
  }
  const r = await runProcess('true', { timeoutMs: 2 ** 31 - 1, killGraceMs: 0, maxBuffer: 1024 });
  assert.deepEqual([r.exitCode, r.timedOut], [0, false], 'the longest timer Node holds is taken');
});

test('aborting kills the running hook and cancels the chain', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  await sb.script(sb.hooks, 'long', 'sleep 1000');
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  await assert.rejects(runHooks('euca-nc-post-detach', { dir: sb.hooks, home: sb.root, param: 'x', signal: ac.signal, killGraceMs: 100 }), (e: unknown) => {
    assert.ok(e instanceof HookFailedError);
    assert.equal(e.signal, 'SIGTERM');
    return true;
  });
});

/** The process exists and is not a zombie (Linux /proc). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}

test('a hook that exits while a background child holds its output finishes promptly', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.cleanup());
  const pidFile = join(sb.root, 'bg');
  await sb.script(sb.hooks, 'bg', `sleep 30 & echo $! > '${pidFile}'; echo started`);
  const started = Date.now();
  const r = await runHooks('euca-nc-pre-init', { dir: sb.hooks, home: sb.root });
  const bg = Number((await readFile(pidFile, 'utf8')).trim());
  t.after(() => {
    try {
      process.kill(bg, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  assert.ok(Date.now() - started < 3000, 'did not wait for the background child');
  assert.equal(r.results[0]!.ok, true);
  assert.equal(r.results[0]!.stdout, 'started\n');
});
