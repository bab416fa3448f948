import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { parseXml } from '../../engine/xml/parse.js';
import { lifecycleCli } from './cli-program.js';
import { SAMPLES, XSL, childNodes, sandbox, type Sandbox } from './fixtures.js';

let conn: LibvirtConnection;
let sb: Sandbox;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
  sb = await sandbox();
});
test.after(async () => {
  await sb.cleanup();
  await closeConnections();
});

function cli(...args: string[]) {
  return lifecycleCli(args, ['--instances', sb.instances, '--uri', 'test:///default', '--transform', XSL]);
}

const SAMPLE = join(SAMPLES, '09-q35-config-drive', 'instance.xml');
const ID = 'i-0a000009';

test('launch prints the domain (name, uuid, state) and its XML as libvirt holds it; list, describe and terminate follow it', async () => {
  const r = await cli('launch', '--instance', SAMPLE);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^launched ${ID}: domain ${ID} uuid 5a3e9c1d-7b2f-4c8a-9d1e-000000000009 state running$`, 'm'));
  assert.match(r.stdout, /^config drive: .*config\.iso \(\d+ bytes\)$/m);
  const xml = r.stdout.slice(r.stdout.indexOf('<domain'));
  assert.equal(xml.trim(), (await conn.getXML(ID)).trim());
  assert.match(r.stderr, /note: test:\/\/\/default keeps domains inside this process only/);

  const l = await cli('list');
  assert.equal(l.code, 0, l.stderr);
  assert.match(l.stdout, /^ID\s+RECORD\s+DOMAIN\s+UUID$/m);
  assert.match(l.stdout, new RegExp(`^${ID}\\s+Extant\\s+running\\s+5a3e9c1d`, 'm'));

  const d = await cli('describe', ID, '--json');
  assert.equal(d.code, 0, d.stderr);
  const described = JSON.parse(d.stdout);
  assert.equal(described.domain.state, 'running');
  assert.equal(described.state, 'Extant');
  assert.equal(described.instance.name, ID);

  const again = await cli('launch', '--instance', SAMPLE);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /launch of i-0a000009 failed at step 'check'/);

  const t = await cli('terminate', ID);
  assert.equal(t.code, 0, t.stderr);
  assert.equal(t.stdout, `terminated ${ID}: domain destroyed, files removed\n`);
  assert.equal(await conn.find(ID), undefined);
  assert.equal(existsSync(join(sb.instances, ID)), false);
});

test('errors: a bad instance names file:line; unknown ids and bad flags are clear; --json errors are JSON', async () => {
  const bad = join(sb.root, 'bad-instance.xml');
  writeFileSync(bad, readFileSync(SAMPLE, 'utf8').replace('<memoryKB>2097152</memoryKB>', '<memoryKB>lots</memoryKB>'));
  const r = await cli('launch', '--instance', bad);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^domforge: ${bad.replace(/[.]/g, '\\.')}:\\d+:\\d+: .*memoryKB`));
  const t = await cli('terminate', 'i-missing');
  assert.equal(t.code, 1);
  assert.match(t.stderr, /no instance i-missing under/);
  const j = await cli('terminate', 'i-missing', '--json');
  assert.equal(JSON.parse(j.stderr).error.code, 'STATE_CONFLICT');
  const u = await cli('terminate', 'i-x', '--grace', 'soon');
  assert.equal(u.code, 2);
  assert.match(u.stderr, /--grace/);
  const m = await cli('launch');
  assert.equal(m.code, 2);
  assert.match(m.stderr, /--instance/);
});

test('whole-number flags take decimal digits only: 1e3, 0x10, 5.0 and " 5" are usage errors naming the flag', async () => {
  for (const [flag, min, unit] of [
    ['--hook-timeout', 'a non-negative', ' (ms)'],
    ['--max-user-data', 'a non-negative', ' (bytes)'],
    ['--max-image', 'a positive', ' (bytes)'],
  ] as const) {
    for (const value of ['1e3', '0x10', '5.0', ' 5']) {
      const r = await cli('launch', '--instance', SAMPLE, flag, value);
      assert.equal(r.code, 2, `${flag} ${value}: ${r.stderr}`);
      assert.equal(r.stderr.trim(), `domforge: Expected \`${flag}\` to be ${min} integer${unit}, got ${JSON.stringify(value)}`);
    }
  }
  const never = join(sb.root, 'never-created');
  for (const value of ['1e3', '0x10']) {
    for (const instances of [sb.instances, never]) {
      const r = await lifecycleCli(['terminate', 'i-x', '--grace', value], ['--instances', instances, '--uri', 'test:///default', '--transform', XSL]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim(), `domforge: Expected \`--grace\` to be a non-negative integer (ms), got ${JSON.stringify(value)}`);
    }
  }
  // Refused before the controller opens: a bad flag does not create the instances folder.
  assert.equal(existsSync(never), false);
});

test('launch reads X.JSON as JSON (the extension in any case, as render does) and refuses a FIFO at once', async () => {
  const desc = join(sb.root, 'I-0C0000AA.JSON');
  writeFileSync(desc, JSON.stringify({
    name: 'i-0c0000aa', uuid: '5a3e9c1d-7b2f-4c8a-9d1e-0000000000aa', cores: 1, memoryKB: 1048576,
    hypervisor: { type: 'kvm' }, os: { platform: 'linux', virtioRoot: true, virtioDisk: true, virtioNetwork: true },
    disks: { diskPaths: [{ path: '/var/lib/x/root.img', targetDeviceName: 'vda', targetDeviceBus: 'virtio' }] },
  }, null, 2));
  const r = await cli('launch', '--instance', desc);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^launched i-0c0000aa: /m);
  assert.equal((await cli('terminate', 'i-0c0000aa')).code, 0);
  const fifo = join(sb.root, 'fifo-instance.xml');
  spawnSync('mkfifo', [fifo]);
  const f = await cli('launch', '--instance', fifo);
  assert.equal(f.code, 1);
  assert.match(f.stderr, /cannot read instance file: a FIFO, not a regular file \(reading it could wait forever; give a pipe as - or \/dev\/stdin\)/);
});

test('adopt reports folders without domains (a launch from an earlier process on test:///default)', async () => {
  const child = new URL('./cli-program.js', import.meta.url).pathname;
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [child, ...args, '--instances', sb.instances, '--uri', 'test:///default', '--transform', XSL], { encoding: 'utf8', timeout: 60_000 });
  // A separate process: its test:///default domain ends with it, and the process exits on its own.
  const l = run('launch', '--instance', join(SAMPLES, '01-linux-virtio', 'instance.xml'));
  assert.equal(l.status, 0, l.stderr);
  assert.match(l.stdout, /^launched i-0a000001: domain i-0a000001 uuid [0-9a-f-]{36} state running$/m);
  assert.equal(parseXml(l.stdout.slice(l.stdout.indexOf('<domain'))).documentElement?.nodeName, 'domain');

  const a = await cli('adopt');
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /^no domain i-0a000001: the record says Extant but libvirt has no such domain$/m);
  assert.match(a.stdout, /^untracked domain test: running, no instance folder$/m);
  assert.match(a.stdout, /0 adopted, 0 refused, 1 without domain/);
  const t = await cli('terminate', 'i-0a000001');
  assert.equal(t.stdout, 'terminated i-0a000001: domain absent, files removed\n');
});

test('launch renders in a sandbox worker by default, and in its own process with --no-sandbox', async () => {
  const before = childNodes().length;
  const hook = await sb.script(sb.hooks, '10-count', `test "$1" = euca-nc-pre-boot && ps -o comm= --ppid ${process.pid} | grep -c node > "$3/workers"\nexit 0`);
  try {
    for (const [flags, workers] of [[[], before + 1], [['--no-sandbox'], before]] as const) {
      const r = await cli('launch', '--instance', SAMPLE, '--hooks', sb.hooks, ...flags);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(Number(readFileSync(join(sb.instances, ID, 'workers'), 'utf8')), workers, `${flags.join(' ') || 'default'}: node children during the launch`);
      assert.equal((await cli('terminate', ID)).code, 0);
    }
  } finally {
    const { rm } = await import('node:fs/promises');
    await rm(hook);
  }
});

test('reboot ID [--grace MS]: the domain runs again, started anew; the record changes only in bootTime', async () => {
  assert.equal((await cli('launch', '--instance', SAMPLE)).code, 0);
  const recordFile = join(sb.instances, ID, 'instance.xml');
  // An old bootTime, so the reboot's own is seen even within the launch's second.
  const before = readFileSync(recordFile, 'utf8').replace(/<bootTime>\d+<\/bootTime>/, '<bootTime>1000000000</bootTime>');
  assert.match(before, /<bootTime>1000000000<\/bootTime>/);
  writeFileSync(recordFile, before);
  const started = (await conn.lookup(ID)).id;

  const r = await cli('reboot', ID);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `rebooted ${ID}: domain ${ID} uuid 5a3e9c1d-7b2f-4c8a-9d1e-000000000009 state running\n`);
  assert.equal(r.stderr, '');
  assert.equal(await conn.getState(ID), 'running');
  const restarted = (await conn.lookup(ID)).id;
  assert.notEqual(restarted, started, 'a new run of the domain, not the same one');
  const after = readFileSync(recordFile, 'utf8');
  const bootTime = Number(/<bootTime>(\d+)<\/bootTime>/.exec(after)?.[1]);
  assert.ok(Math.abs(bootTime - Date.now() / 1000) < 60, `bootTime ${bootTime} is now`);
  assert.equal(after.replace(/<bootTime>\d+<\/bootTime>/, ''), before.replace(/<bootTime>\d+<\/bootTime>/, ''));

  const j = await cli('reboot', ID, '--grace', '200', '--json');
  assert.equal(j.code, 0, j.stderr);
  const domain = JSON.parse(j.stdout);
  assert.deepEqual([domain.name, domain.state, domain.active, domain.persistent], [ID, 'running', true, true]);
  assert.notEqual(domain.id, restarted);

  // Usage errors (exit 2) and failures (exit 1) change nothing.
  const noId = await cli('reboot');
  assert.equal(noId.code, 2);
  assert.match(noId.stderr, /missing required argument 'id'/);
  const grace = await cli('reboot', ID, '--grace', '1e3');
  assert.equal(grace.code, 2);
  assert.equal(grace.stderr.trim(), 'domforge: Expected `--grace` to be a non-negative integer (ms), got "1e3"');
  const unknown = await cli('reboot', 'i-missing', '--json');
  assert.equal(unknown.code, 1);
  assert.match(JSON.parse(unknown.stderr).error.message, /no instance i-missing under/);
  await conn.destroy(ID);
  await conn.undefine(ID);
  const gone = await cli('reboot', ID);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /reboot of i-0a000009 failed at step 'reboot': libvirt has no domain i-0a000009 to reboot/);
  assert.equal((await cli('terminate', ID)).stdout, `terminated ${ID}: domain absent, files removed\n`);
});

test('only launch creates the instances folder, at its folder step: every other command, and a launch refused before (its input unread, its check, a usage error), leaves a missing one missing', async () => {
  const missing = join(sb.root, 'no-such-instances');
  const nic = join(sb.root, 'eni-0f0f0f0f.xml');
  writeFileSync(nic, '<nic xml-version="2" mac="d0:0d:0f:0f:0f:0f" bridgeDeviceName="br0" device="1" attachmentId="eni-attach-0f0f0f0f"/>\n');
  // An instance refused at the launch's check step: libvirt already has a domain with its uuid (the test driver's own "test").
  const taken = join(sb.root, 'uuid-taken.xml');
  const testDomain = (await conn.find('test'))!;
  writeFileSync(taken, readFileSync(SAMPLE, 'utf8').replace(/<uuid>[^<]*<\/uuid>/, `<uuid>${testDomain.uuid}</uuid>`));
  const run = (...args: string[]) => lifecycleCli(args, ['--instances', missing, '--uri', 'test:///default', '--transform', XSL]);
  const cases: [string[], number, RegExp][] = [
    [['list'], 0, /^$/],
    [['adopt'], 0, /^$/],
    [['describe', 'i-0a0000ff'], 1, /no instance i-0a0000ff under /],
    [['terminate', 'i-0a0000ff'], 1, /no instance i-0a0000ff under /],
    [['reboot', 'i-0a0000ff'], 1, /no instance i-0a0000ff under /],
    [['attach-interface', 'i-0a0000ff', '--nic', nic], 1, /no instance i-0a0000ff under /],
    [['detach-interface', 'i-0a0000ff', 'eni-attach-0f0f0f0f'], 1, /no instance i-0a0000ff under /],
    [['attach-volume', 'i-0a0000ff', '--volume-id', 'vol-0f', '--dev', 'sdf', '--path', '/dev/v'], 1, /no instance i-0a0000ff under /],
    [['detach-volume', 'i-0a0000ff', 'vol-0f'], 1, /no instance i-0a0000ff under /],
    [['launch', '--instance', join(sb.root, 'nothere.xml')], 1, /cannot read instance file: ENOENT/],
    [['launch', '--instance', taken], 1, new RegExp(`launch of i-0a000009 failed at step 'check': libvirt already has a domain test \\(uuid ${testDomain.uuid}\\) with this instance's uuid`)],
    [['launch', '--instance', SAMPLE, '--max-image', '0'], 2, /Expected `--max-image` to be a positive integer/],
  ];
  for (const [args, code, stderr] of cases) {
    const r = await run(...args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, stderr, args.join(' '));
    assert.equal(existsSync(missing), false, `${args.join(' ')} created the instances folder`);
  }
  assert.match((await run('list')).stdout, /^ID +RECORD +DOMAIN +UUID\n$/);
  // A launch makes it, as it makes the instance's own folder in it.
  const l = await run('launch', '--instance', SAMPLE);
  assert.equal(l.code, 0, l.stderr);
  assert.equal(existsSync(join(missing, 'i-0a000009', 'instance.xml')), true);
  assert.equal((await run('terminate', 'i-0a000009')).code, 0);
});

test('an id of the wrong shape is refused with its article right: "an attachment id", "a volume id"', async () => {
  const a = await cli('detach-interface', 'i-x', 'bad/id');
  assert.equal(a.code, 2);
  assert.match(a.stderr, /^domforge: Expected an attachment id of letters/);
  const v = await cli('detach-volume', 'i-x', 'bad/id');
  assert.match(v.stderr, /^domforge: Expected a volume id of letters/);
});

test('a --hooks folder that does not exist is a note on the commands that run hooks (no hooks run, as in Eucalyptus), and nothing on those that do not', async () => {
  const nowhere = join(sb.root, 'hooks-typo');
  const run = (...args: string[]) => lifecycleCli(args, ['--instances', sb.instances, '--uri', 'test:///default', '--transform', XSL, '--hooks', nowhere]);
  const note = `domforge: note: the hooks folder ${nowhere} does not exist: no hooks or filters run\n`;
  const l = await run('launch', '--instance', SAMPLE);
  assert.equal(l.code, 0, l.stderr);
  assert.ok(l.stderr.startsWith(note), l.stderr);
  assert.equal((await run('list')).stderr, '');
  assert.equal((await run('describe', 'i-0a000009')).stderr, '');
  const t = await run('terminate', 'i-0a000009');
  assert.equal(t.code, 0, t.stderr);
  assert.equal(t.stderr, note);
  // An existing folder, empty or not, gives no note.
  const l2 = await lifecycleCli(['launch', '--instance', SAMPLE], ['--instances', sb.instances, '--uri', 'test:///default', '--transform', XSL, '--hooks', sb.hooks]);
  assert.equal(l2.code, 0, l2.stderr);
  assert.doesNotMatch(l2.stderr, /hooks folder/);
  assert.equal((await cli('terminate', 'i-0a000009')).code, 0);
});
