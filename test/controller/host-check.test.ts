import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHost, type HostCheck } from '../../engine/controller/host-check.js';
import { HookFailedError } from '../../engine/hooks/errors.js';
import { runFilters } from '../../engine/hooks/run-filters.js';
import { runProcess } from '../../engine/hooks/run-process.js';
import { closeConnections } from '../../engine/libvirt/index.js';
import { breakableLoader } from '../libvirt/fixtures.js';
import { lifecycleCli } from './cli-program.js';
import { ROOT, XSL } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'domforge-check-'));
test.after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await closeConnections();
});

const byName = (checks: HostCheck[]) => new Map(checks.map((c) => [c.name, c]));
const NAMES = ['node', 'libvirt binding', 'libvirt connection', 'domain schema', 'virsh', 'xsltproc', 'transform', 'instances folder', 'host locks', 'hooks', 'filters', 'node status', 'huge pages'];

test('checkHost is part of the library, as the README says', async () => {
  const lib = await import('../../engine/index.js');
  assert.equal(lib.checkHost, checkHost);
});

test('a host set up by scripts/setup.sh passes every check; the test driver is a warning, with what to use instead', async () => {
  const checks = await checkHost({ instancesDir: join(dir, 'not-yet'), hooksDir: join(ROOT, 'hooks'), uri: 'test:///default' });
  assert.deepEqual(
    checks.map((c) => c.name),
    NAMES,
  );
  const c = byName(checks);
  assert.deepEqual(
    checks.filter((x) => x.status !== 'ok').map((x) => x.name),
    ['libvirt connection'],
    JSON.stringify(checks, null, 1),
  );
  assert.match(c.get('libvirt connection')!.hint!, /test driver: its domains live in this process only .* --uri qemu:\/\/\/system/);
  assert.match(c.get('transform')!.detail, /libvirt\.xsl \(xslt\) renders .*01-linux-virtio\/instance\.xml into a valid domain$/);
  assert.match(c.get('instances folder')!.detail, /not-yet does not exist yet: the first launch creates it/);
  // The shipped hooks folder runs its two example hooks; its package.json is no hook and not named.
  assert.equal(c.get('hooks')!.detail, `${join(ROOT, 'hooks')}: runs 00-log-event, 10-memballoon`);
  assert.equal(c.get('filters')!.detail, `${join(ROOT, 'hooks', 'filters.d')}: runs 50-no-hpet.fail-open`);
  assert.equal(c.get('node status')!.detail, 'enabled (no nc_state.xml)');
  assert.match(c.get('host locks')!.detail, /one operation at a time per instance across the host's processes/);
  assert.match(c.get('xsltproc')!.detail, /each xsltproc ends with the thread that starts it \(setpriv --pdeathsig\)$/);
});

test('check warns when xsltproc is there but setpriv cannot tie it to the thread that starts it', async () => {
  // A PATH holding xsltproc and nothing else: no setpriv.
  const bin = join(dir, 'only-xsltproc');
  mkdirSync(bin);
  symlinkSync(execFileSync('sh', ['-c', 'command -v xsltproc'], { encoding: 'utf8' }).trim(), join(bin, 'xsltproc'));
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'domforge.js'), 'check', '--json', '--uri', 'test:///default', '--instances', join(dir, 'x-instances')], { encoding: 'utf8', env: { ...process.env, PATH: bin } });
  const row = (JSON.parse(r.stdout) as HostCheck[]).find((c) => c.name === 'xsltproc')!;
  assert.equal(row.status, 'warn', r.stdout);
  assert.equal(row.detail, 'installed, but setpriv cannot tie it to the thread that starts it');
  assert.match(row.hint!, /outlives a controller killed mid-render: install util-linux's setpriv/);
});

test('failures and warnings say what is wrong and what to do: a broken transform, a forgotten chmod, a disabled node, a file for a folder, a missing schema', { timeout: 60_000 }, async () => {
  const bad = join(dir, 'bad.xsl');
  writeFileSync(bad, '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">\n<xsl:template match="/">\n</xsl:stylesheet>\n');
  const hooks = join(dir, 'hooks');
  mkdirSync(hooks);
  writeFileSync(join(hooks, '20-forgotten'), '#!/bin/sh\nexit 0\n');
  writeFileSync(join(hooks, '30-ready'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(hooks, '30-ready'), 0o755);
  writeFileSync(join(hooks, 'README'), 'notes, not a hook\n');
  // A FIFO, and a link to one, are not hooks; looking at them must not wait for a writer.
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  symlinkSync(join(dir, 'fifo'), join(hooks, '40-fifo-link'));
  const instances = join(dir, 'instances');
  mkdirSync(instances);
  writeFileSync(join(instances, 'nc_state.xml'), '<nc><enabled>false</enabled></nc>');

  let c = byName(await checkHost({ instancesDir: instances, hooksDir: hooks, transform: bad, uri: 'test:///default' }));
  assert.equal(c.get('transform')!.status, 'fail');
  assert.match(c.get('transform')!.detail, new RegExp(`^${bad.replace(/[.]/g, '\\.')}:\\d+(:\\d+)?: `));
  assert.equal(c.get('hooks')!.status, 'warn');
  assert.equal(c.get('hooks')!.detail, `${hooks}: runs 30-ready; not run, not executable: 20-forgotten`);
  assert.match(c.get('hooks')!.hint!, /chmod \+x/);
  assert.equal(c.get('node status')!.status, 'warn');
  assert.match(c.get('node status')!.hint!, /domforge node enable/);
  assert.equal(c.get('instances folder')!.status, 'ok');

  c = byName(await checkHost({ instancesDir: bad, uri: 'test:///default', hooksDir: join(dir, 'no-hooks') }));
  assert.deepEqual([c.get('instances folder')!.status, c.get('instances folder')!.detail], ['fail', `${bad} is not a folder`]);
  assert.equal(c.get('hooks')!.status, 'warn');
  assert.match(c.get('hooks')!.detail, /no-hooks does not exist: no hooks run/);

  const saved = process.env.DOMFORGE_LIBVIRT_SCHEMAS;
  process.env.DOMFORGE_LIBVIRT_SCHEMAS = join(dir, 'no-schemas');
  try {
    c = byName(await checkHost({ instancesDir: instances, uri: 'test:///default' }));
  } finally {
    if (saved === undefined) delete process.env.DOMFORGE_LIBVIRT_SCHEMAS;
    else process.env.DOMFORGE_LIBVIRT_SCHEMAS = saved;
  }
  assert.equal(c.get('domain schema')!.status, 'fail');
  assert.match(c.get('domain schema')!.detail, /no-schemas\/domain\.rng: libvirt's RelaxNG domain schema .* was not found/);
  assert.match(c.get('transform')!.detail, /^not tried: without libvirt's schema/);
});

test('a missing binding fails the binding and the connection, and says what still works; KVM is checked for a qemu URI', async () => {
  const missing = async () => {
    throw new Error('Cannot find module @unraid/libvirt');
  };
  let c = byName(await checkHost({ instancesDir: dir, uri: 'test:///default', loader: missing }));
  assert.equal(c.get('libvirt binding')!.status, 'fail');
  assert.match(c.get('libvirt binding')!.hint!, /render and validate do not/);
  assert.deepEqual([c.get('libvirt connection')!.status, c.get('libvirt connection')!.detail], ['fail', 'not tried: the binding does not load (test:///default)']);
  assert.equal(c.get('kvm'), undefined, 'no KVM check for the test driver');

  // A qemu URI (the breakable loader serves it from the test driver): libvirt's capabilities
  // say whether it offers type kvm (a stand-in virsh prints them); without virsh, /dev/kvm is looked at.
  const b = breakableLoader();
  const fakeVirsh = (name: string, caps: string) => {
    const f = join(dir, name);
    writeFileSync(f, `#!/bin/sh\ncase "$*" in *capabilities*) printf '%s\\n' "${caps}";; *--version*) echo 9.0.0;; esac\n`);
    chmodSync(f, 0o755);
    return f;
  };
  try {
    const withKvm = fakeVirsh('virsh-kvm', "<capabilities><guest><arch name='x86_64'><domain type='qemu'/><domain type='kvm'/></arch></guest></capabilities>");
    c = byName(await checkHost({ instancesDir: dir, uri: 'qemu:///system', loader: b.loader, virsh: withKvm }));
    assert.equal(c.get('libvirt connection')!.status, 'ok');
    assert.deepEqual([c.get('kvm')!.status, c.get('kvm')!.detail], ['ok', 'libvirt offers domain type kvm on qemu:///system (virsh capabilities): hardware acceleration']);
    const tcgOnly = fakeVirsh('virsh-tcg', "<capabilities><guest><arch name='x86_64'><domain type='qemu'/></arch></guest></capabilities>");
    c = byName(await checkHost({ instancesDir: dir, uri: 'qemu:///system', loader: b.loader, virsh: tcgOnly }));
    assert.equal(c.get('kvm')!.status, 'warn');
    assert.match(c.get('kvm')!.hint!, /type kvm will fail to start; type qemu runs under software emulation/);

    const noVirsh = join(dir, 'no-such-virsh');
    c = byName(await checkHost({ instancesDir: dir, uri: 'qemu:///system', loader: b.loader, virsh: noVirsh, kvmDevice: join(dir, 'no-kvm') }));
    assert.deepEqual([c.get('kvm')!.status, c.get('kvm')!.detail], ['warn', `${join(dir, 'no-kvm')} does not exist (no virsh to ask libvirt; this machine only)`]);
    assert.deepEqual([c.get('virsh')!.status, c.get('virsh')!.detail], ['warn', 'not installed']);
    const device = join(dir, 'kvm-device');
    writeFileSync(device, '');
    c = byName(await checkHost({ instancesDir: dir, uri: 'qemu:///system', loader: b.loader, virsh: noVirsh, kvmDevice: device }));
    assert.equal(c.get('kvm')!.status, 'ok');
  } finally {
    await closeConnections(b.loader);
  }
});

test('CLI check (doctor): the table and the hints, exit 1 naming the failed checks, --json', async () => {
  const cli = (...args: string[]) => lifecycleCli(args, ['--instances', join(dir, 'cli-instances'), '--uri', 'test:///default']);
  const ok = await cli('check', '--transform', XSL);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^STATUS +CHECK +DETAIL\nok +node +Node\.js /);
  assert.match(ok.stdout, /\n\nlibvirt connection: test:\/\/\/default is libvirt's test driver/);
  const bad = join(dir, 'cli-bad.xsl');
  writeFileSync(bad, 'not xml');
  const f = await cli('doctor', '--transform', bad, '--json');
  assert.equal(f.code, 1);
  const checks = JSON.parse(f.stdout) as HostCheck[];
  assert.deepEqual(
    checks.filter((x) => x.status === 'fail').map((x) => x.name),
    ['transform'],
  );
  assert.equal(JSON.parse(f.stderr).error.code, 'HOST_CHECK_FAILED');
  assert.match(JSON.parse(f.stderr).error.message, /^1 of 13 checks failed: transform$/);
});

test('check --help names every check the command runs, host locks included', async () => {
  const help = (await lifecycleCli(['check', '--help'], [])).stdout.replace(/\s+/g, ' ');
  const checks = JSON.parse((await lifecycleCli(['check', '--json', '--transform', XSL], ['--instances', join(dir, 'help-instances'), '--uri', 'test:///default'])).stdout) as HostCheck[];
  assert.deepEqual(checks.map((x) => x.name), NAMES);
  // The Node.js row is named "node"; the others by their own names.
  for (const name of NAMES.filter((n) => n !== 'node')) assert.ok(help.includes(name), `${name} not in: ${help}`);
  assert.ok(help.includes('Node.js'));
});

test('CLI check fails a hook that cannot start (a missing #! interpreter, a CRLF #! line) with the words the hook runner uses when it runs it, exit 1', async () => {
  const hooks = join(dir, 'unstartable-hooks');
  mkdirSync(hooks);
  const hook = (name: string, text: string) => {
    writeFileSync(join(hooks, name), text);
    chmodSync(join(hooks, name), 0o755);
  };
  hook('10-fine', '#!/bin/sh\nexit 0\n');
  hook('20-bad', '#!/usr/bin/pyhton3\nprint(1)\n');
  hook('30-crlf', '#!/bin/sh\r\nexit 0\r\n');
  // What a launch's pre-boot says of each: runProcess's spawn error, less the kernel's own words in brackets.
  const atRun = async (name: string) => {
    const r = await runProcess(join(hooks, name), { timeoutMs: 5000, killGraceMs: 100, maxBuffer: 1024 });
    return `hook ${name} could not be started: ${r.spawnError!.message.replace(/ \(spawn [^)]*\)$/, '')}`;
  };
  const f = await lifecycleCli(['check', '--hooks', hooks, '--json'], ['--instances', join(dir, 'cli-instances'), '--uri', 'test:///default']);
  assert.equal(f.code, 1, f.stderr);
  const row = (JSON.parse(f.stdout) as HostCheck[]).find((x) => x.name === 'hooks')!;
  assert.equal(row.status, 'fail');
  assert.equal(row.detail, `${hooks}: runs 10-fine, 20-bad, 30-crlf; ${await atRun('20-bad')}; ${await atRun('30-crlf')}`);
  assert.match(row.detail, /hook 20-bad could not be started: its interpreter \/usr\/bin\/pyhton3 \(from the #! line\) does not exist;/);
  assert.match(row.detail, /hook 30-crlf could not be started: its #! line ends with a carriage return/);
  assert.match(row.hint!, /Windows line endings/);
  assert.match(JSON.parse(f.stderr).error.message, /checks failed: hooks$/);
});

test('a hook that cannot start does not hide a #! script left without its execute bit: the failing row names both', { timeout: 60_000 }, async () => {
  const hooks = join(dir, 'hooks-both');
  mkdirSync(hooks);
  writeFileSync(join(hooks, '10-bad'), '#!/usr/bin/pyhton3\nprint(1)\n');
  chmodSync(join(hooks, '10-bad'), 0o755);
  writeFileSync(join(hooks, '20-forgotten'), '#!/bin/sh\nexit 0\n');
  const row = byName(await checkHost({ instancesDir: join(dir, 'instances-both'), hooksDir: hooks, uri: 'test:///default' })).get('hooks')!;
  assert.equal(row.status, 'fail');
  assert.match(row.detail, /^\S+: runs 10-bad; hook 10-bad could not be started: its interpreter \/usr\/bin\/pyhton3 \(from the #! line\) does not exist/);
  assert.match(row.detail, /; not run, not executable: 20-forgotten$/);
  assert.match(row.hint!, /fix the #! line/);
  assert.match(row.hint!, /chmod \+x/);
});

test('a filters.d that cannot be read is named the filters folder, as the filter runner names it, not the hooks folder', { timeout: 60_000 }, async () => {
  const hooks = join(dir, 'filters-not-a-folder');
  mkdirSync(hooks);
  writeFileSync(join(hooks, 'filters.d'), 'not a folder\n');
  const c = byName(await checkHost({ instancesDir: join(dir, 'instances-filters-file'), hooksDir: hooks, uri: 'test:///default' }));
  const row = c.get('filters')!;
  assert.equal(row.status, 'fail');
  assert.match(row.detail, /cannot read filters folder \S+\/filters\.d: ENOTDIR$/);
  assert.doesNotMatch(row.detail, /hooks folder/);
  assert.equal(c.get('hooks')!.detail, `${hooks}: no executable hooks`);
});

test('a fail-open filter that cannot start does not hide a filter script left without its execute bit: the warning names both, and its hint says both fixes', { timeout: 60_000 }, async () => {
  const filters = join(dir, 'filters-both', 'filters.d');
  mkdirSync(filters, { recursive: true });
  writeFileSync(join(filters, '10-crlf.fail-open'), '#!/bin/sh\r\ncat\r\n');
  chmodSync(join(filters, '10-crlf.fail-open'), 0o755);
  writeFileSync(join(filters, '20-forgotten'), '#!/bin/sh\ncat\n');
  const row = byName(await checkHost({ instancesDir: join(dir, 'instances-filters-both'), hooksDir: join(dir, 'filters-both'), uri: 'test:///default' })).get('filters')!;
  assert.equal(row.status, 'warn');
  assert.match(row.detail, /XML filter 10-crlf\.fail-open could not be started: .*; not run, not executable: 20-forgotten$/);
  assert.match(row.hint!, /fix the #! line/);
  assert.match(row.hint!, /chmod \+x the filters that should$/);
});

test('CLI check fails an XML filter of filters.d that cannot start with the words the filter runner uses at a launch, exit 1; a fail-open one is a warning', async () => {
  const hooks = join(dir, 'unstartable-filters');
  const filters = join(hooks, 'filters.d');
  mkdirSync(filters, { recursive: true });
  const filter = (name: string, text: string) => {
    writeFileSync(join(filters, name), text);
    chmodSync(join(filters, name), 0o755);
  };
  filter('10-fine', '#!/bin/sh\ncat\n');
  filter('20-bad', '#!/usr/bin/pyhton3\nprint(1)\n');
  filter('30-crlf.fail-open', '#!/bin/sh\r\ncat\r\n');
  // What a launch's filters step says of each: runFilters's error, less its outcome and the kernel's own words in brackets.
  const atRun = async (only: string) => {
    const one = join(dir, `filters-of-${only}`);
    mkdirSync(one);
    symlinkSync(join(filters, only), join(one, only));
    const r = await runFilters('<domain/>', { dir: one, instanceId: 'i-1', event: 'euca-nc-pre-boot' }).catch((e: HookFailedError) => e);
    const message = r instanceof HookFailedError ? r.shortMessage : r.skipped[0]!.shortMessage;
    return message.replace(/ \(spawn [^)]*\); .*$/s, '');
  };
  const cli = (h: string) => lifecycleCli(['check', '--hooks', h, '--json'], ['--instances', join(dir, 'cli-instances'), '--uri', 'test:///default']);
  let f = await cli(hooks);
  assert.equal(f.code, 1, f.stderr);
  let row = (JSON.parse(f.stdout) as HostCheck[]).find((x) => x.name === 'filters')!;
  assert.equal(row.status, 'fail');
  assert.equal(row.detail, `${filters}: runs 10-fine, 20-bad, 30-crlf.fail-open; ${await atRun('20-bad')}; ${await atRun('30-crlf.fail-open')}`);
  assert.match(row.detail, /XML filter 20-bad could not be started: its interpreter \/usr\/bin\/pyhton3 \(from the #! line\) does not exist;/);
  assert.match(row.detail, /XML filter 30-crlf\.fail-open could not be started: its #! line ends with a carriage return/);
  assert.match(row.hint!, /^every launch and attachment would fail at its filters: .*Windows line endings/);
  assert.match(JSON.parse(f.stderr).error.message, /checks failed: filters$/);
  // The hooks row is about the hooks only.
  assert.equal((JSON.parse(f.stdout) as HostCheck[]).find((x) => x.name === 'hooks')!.detail, `${hooks}: no executable hooks`);

  // Only the fail-open filter cannot start: each launch skips it, which is a warning, not a failure.
  rmSync(join(filters, '20-bad'));
  f = await cli(hooks);
  assert.equal(f.code, 0, f.stderr);
  row = (JSON.parse(f.stdout) as HostCheck[]).find((x) => x.name === 'filters')!;
  assert.equal(row.status, 'warn');
  assert.match(row.hint!, /^a fail-open filter that cannot start is skipped at every launch and attachment/);

  // A hooks folder without filters.d has no filters: nothing to say.
  f = await cli(join(dir, 'unstartable-hooks'));
  row = (JSON.parse(f.stdout) as HostCheck[]).find((x) => x.name === 'filters')!;
  assert.deepEqual([row.status, row.detail], ['ok', `${join(dir, 'unstartable-hooks', 'filters.d')} does not exist: no filters run`]);
});
