/**
 * ncGetConsoleOutput: `NodeController.consoleOutput` and `domforge console-output`. On
 * test:///default no guest writes the serial console, so each test writes the console log
 * itself into a launched instance's folder, where the record's consoleLogPath points.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { open, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { ConsoleUnavailableError, InstanceNotFoundError, NodeController, type LaunchResult } from '../../engine/controller/index.js';
import { DomforgeError } from '../../engine/errors.js';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { lifecycleCli } from './cli-program.js';
import { XSL, sampleInstance, sandbox, shippedTransform, type Sandbox } from './fixtures.js';

let conn: LibvirtConnection;
let sb: Sandbox;
let nc: NodeController;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
  sb = await sandbox();
  nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform() });
});
test.after(async () => {
  await sb.cleanup();
  await closeConnections();
});

function cli(...args: string[]) {
  return lifecycleCli(args, ['--instances', sb.instances, '--uri', 'test:///default', '--transform', XSL]);
}

/** A launched sample and its console log's path (the record's consoleLogPath). */
async function launched(sample = '01-linux-virtio', controller = nc): Promise<LaunchResult & { log: string }> {
  const r = await controller.launch(await sampleInstance(sample));
  return { ...r, log: r.instance.consoleLogPath };
}

/** The error `f` rejects with. */
async function failure(f: () => Promise<unknown>): Promise<DomforgeError> {
  return f().then(
    () => assert.fail('expected a failure'),
    (e: unknown) => {
      assert.ok(e instanceof DomforgeError, `a DomforgeError, got ${(e as Error)?.stack ?? String(e)}`);
      return e;
    },
  );
}

/** Points the record's consoleLogPath somewhere else, as an admin's editor would; returns the record's file and that element's line. */
function editConsoleLogPath(dir: string, path: string): { file: string; line: number } {
  const file = join(dir, 'instance.xml');
  const text = readFileSync(file, 'utf8').replace(/<consoleLogPath>[^<]*<\/consoleLogPath>/, `<consoleLogPath>${path}</consoleLogPath>`);
  writeFileSync(file, text);
  return { file, line: text.split('\n').findIndex((l) => l.includes('<consoleLogPath>')) + 1 };
}

test('a small console log is returned whole, byte for byte (not decoded), from the path the record names', async () => {
  const r = await launched();
  assert.equal(r.log, join(r.dir, 'console.log'));
  const bytes = Buffer.concat([Buffer.from('SeaBIOS\r\nLinux version 6.1\n\x1b[0m'), Buffer.from([0xff, 0xfe, 0x00, 0x80]), Buffer.from('login: ')]);
  writeFileSync(r.log, bytes);
  const out = await nc.consoleOutput(r.id);
  assert.deepEqual({ ...out, bytes: out.bytes.toString('hex') }, { id: r.id, path: r.log, bytes: bytes.toString('hex'), truncated: false, size: bytes.length, files: [r.log] });

  // An empty log is the guest having written nothing: no error, no bytes.
  writeFileSync(r.log, '');
  const empty = await nc.consoleOutput(r.id);
  assert.deepEqual([empty.bytes.length, empty.size, empty.truncated], [0, 0, false]);
});

test('a large log gives its last 64 KiB by default (truncated), or the last maxBytes; exactly maxBytes is whole, maxBytes + 1 loses the first byte', async () => {
  const r = await launched();
  const big = randomBytes(5 * 1024 * 1024);
  writeFileSync(r.log, big);
  const tail = await nc.consoleOutput(r.id);
  assert.equal(tail.size, big.length);
  assert.equal(tail.truncated, true);
  assert.equal(tail.bytes.length, 65536);
  assert.ok(tail.bytes.equals(big.subarray(big.length - 65536)), 'the last 64 KiB, in order');

  const some = await nc.consoleOutput(r.id, { maxBytes: 1000 });
  assert.ok(some.bytes.equals(big.subarray(big.length - 1000)));
  const all = await nc.consoleOutput(r.id, { maxBytes: 10 * 1024 * 1024 });
  assert.deepEqual([all.truncated, all.bytes.length], [false, big.length]);
  assert.ok(all.bytes.equals(big));

  const n = 4096;
  writeFileSync(r.log, big.subarray(0, n));
  const exact = await nc.consoleOutput(r.id, { maxBytes: n });
  assert.deepEqual([exact.truncated, exact.size, exact.bytes.length], [false, n, n]);
  assert.ok(exact.bytes.equals(big.subarray(0, n)));
  writeFileSync(r.log, big.subarray(0, n + 1));
  const over = await nc.consoleOutput(r.id, { maxBytes: n });
  assert.deepEqual([over.truncated, over.size, over.bytes.length], [true, n + 1, n]);
  assert.ok(over.bytes.equals(big.subarray(1, n + 1)), 'the first byte is the one left out');
});

test('only the tail is read: a sparse 6 GiB log (more than a Buffer or readFile can hold) gives its last bytes at once', async () => {
  const r = await launched();
  const size = 6 * 1024 ** 3;
  writeFileSync(r.log, '');
  await truncate(r.log, size - 11);
  const handle = await open(r.log, 'a');
  await handle.write('last line\r\n');
  await handle.close();
  const t0 = performance.now();
  const out = await nc.consoleOutput(r.id, { maxBytes: 16 });
  const ms = performance.now() - t0;
  assert.equal(out.size, size);
  assert.equal(out.truncated, true);
  assert.deepEqual(out.bytes, Buffer.concat([Buffer.alloc(5), Buffer.from('last line\r\n')]));
  assert.ok(ms < 2000, `read in ${ms.toFixed(0)} ms: a positioned read, not the whole file`);
  rmSync(r.log);
});

test('a console log not there yet: says whether the guest is running and has written nothing, or its domain never started', async () => {
  const r = await launched();
  const running = await failure(() => nc.consoleOutput(r.id));
  assert.ok(running instanceof ConsoleUnavailableError);
  assert.equal(running.code, 'STATE_CONFLICT');
  assert.equal(running.reason, 'not-written');
  assert.equal(running.file, r.log);
  assert.match(running.message, new RegExp(`the console log of ${r.id} is not there: domain ${r.id} is running but its guest has written nothing to the serial console yet`));

  await conn.destroy(r.id);
  const stopped = await failure(() => nc.consoleOutput(r.id));
  assert.match(stopped.message, new RegExp(`domain ${r.id} is shutoff: it has not started since it was defined`));

  await conn.undefine(r.id);
  const gone = await failure(() => nc.consoleOutput(r.id));
  assert.match(gone.message, new RegExp(`libvirt has no domain ${r.id}, so the guest has not run \\(on test:///default a domain lives only as long as the process that defined it\\)`));
});

test('a console that is not a file is refused saying what it is and where to read it: a pty (consoleType=pty), a Hyper-V pipe', async () => {
  const pty = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), params: { consoleType: 'pty' } });
  try {
    const r = await launched('01-linux-virtio', pty);
    writeFileSync(r.log, 'not the console\n'); // a file there is not what the guest writes to
    const e = await failure(() => nc.consoleOutput(r.id));
    assert.ok(e instanceof ConsoleUnavailableError);
    assert.equal(e.reason, 'not-a-file');
    assert.equal(e.device?.type, 'pty');
    const libvirtXml = join(r.dir, 'libvirt.xml');
    const line = readFileSync(libvirtXml, 'utf8').split('\n').findIndex((l) => l.includes('<serial type="pty"')) + 1;
    assert.deepEqual([e.file, e.line, e.path], [libvirtXml, line, '/domain/devices/serial']);
    assert.match(e.message, new RegExp(`the serial console of ${r.id} is a pty, not a file: read it with \`virsh -c test:///default console ${r.id}\``));
  } finally {
    await pty.close();
  }

  const hv = await launched('13-hyperv-windows');
  const e = await failure(() => nc.consoleOutput(hv.id));
  assert.ok(e instanceof ConsoleUnavailableError);
  assert.equal(e.reason, 'not-a-file');
  assert.match(e.message, new RegExp(`the serial console of ${hv.id} is a named pipe \\(\\\\\\\\\\.\\\\pipe\\\\${hv.id}-com1\\), not a file`));
});

test('a consoleLogPath edited to lead outside the instance folder is refused at the record\'s line: absolute, "..", a link (dangling or not)', async () => {
  const secret = join(sb.root, 'secret.txt');
  writeFileSync(secret, 'root:$6$not-for-guests\n');
  const r = await launched();
  const refused = async (path: string, how: string) => {
    const at = editConsoleLogPath(r.dir, path);
    const e = await failure(() => nc.consoleOutput(r.id));
    assert.equal(e.code, 'INSTANCE_INVALID', e.message);
    assert.deepEqual([e.file, e.line, e.path], [at.file, at.line, '/instance/consoleLogPath'], e.message);
    assert.equal(e.shortMessage, `consoleLogPath ${JSON.stringify(path)} ${how} the instance folder ${r.dir}: domforge reads a console log only from the instance's own folder`);
    assert.doesNotMatch(e.fullMessage, /not-for-guests/);
    return e;
  };
  await refused(secret, 'is outside');
  await refused('/etc/passwd', 'is outside');
  await refused(`${r.dir}/../../secret.txt`, `leads to ${secret}, outside`);
  await refused('console.log', 'is a relative path, not one in');

  symlinkSync(secret, r.log);
  await refused(r.log, `leads to ${secret}, outside`);
  rmSync(r.log);
  symlinkSync(join(sb.root, 'not-yet'), r.log);
  await refused(r.log, `is a link to ${join(sb.root, 'not-yet')}, outside`);
  rmSync(r.log);
  symlinkSync(sb.root, join(r.dir, 'up'));
  await refused(join(r.dir, 'up', 'secret.txt'), `leads to ${secret}, outside`);
  await refused(join(r.dir, 'up', 'none.log'), `lies in ${sb.root}, outside`);

  // The CLI prints the same place.
  const c = await cli('console-output', r.id);
  assert.equal(c.code, 1);
  assert.ok(c.stderr.startsWith(`domforge: ${join(r.dir, 'instance.xml')}:${editConsoleLogPath(r.dir, join(r.dir, 'up', 'none.log')).line}:`), c.stderr);

  // A link that stays in the folder is followed.
  writeFileSync(join(r.dir, 'console.log.0'), 'rotated\n');
  symlinkSync('console.log.0', r.log);
  editConsoleLogPath(r.dir, r.log);
  assert.equal((await nc.consoleOutput(r.id)).bytes.toString(), 'rotated\n');
});

test('a FIFO (or a folder) as the console log is refused at once, without waiting for a writer', { timeout: 10_000 }, async () => {
  const r = await launched();
  const mk = spawnSync('mkfifo', [r.log]);
  assert.equal(mk.status, 0, String(mk.stderr));
  const t0 = performance.now();
  const e = await failure(() => nc.consoleOutput(r.id));
  assert.equal(e.code, 'IO_ERROR');
  assert.equal(e.file, r.log);
  assert.match(e.message, /cannot read the console log of .*: a FIFO, not a regular file/);
  assert.ok(performance.now() - t0 < 2000);
  rmSync(r.log);
  spawnSync('mkdir', [r.log]);
  assert.match((await failure(() => nc.consoleOutput(r.id))).message, /a folder, not a regular file/);

  // A FIFO as libvirt.xml is not read either: the record's consoleLogPath alone then says where the console is.
  rmSync(r.log, { recursive: true });
  writeFileSync(r.log, 'ok\n');
  const libvirtXml = join(r.dir, 'libvirt.xml');
  rmSync(libvirtXml);
  assert.equal(spawnSync('mkfifo', [libvirtXml]).status, 0);
  assert.equal((await nc.consoleOutput(r.id)).bytes.toString(), 'ok\n');
});

test('unknown and malformed ids, and a maxBytes that is not a positive integer, are refused as describe and the option checks refuse them', async () => {
  const e = await failure(() => nc.consoleOutput('i-missing'));
  const d = await failure(() => nc.describe('i-missing'));
  assert.ok(e instanceof InstanceNotFoundError);
  assert.equal(e.message, d.message);
  assert.equal((await failure(() => nc.consoleOutput('../etc'))).code, 'USAGE');
  const r = await launched();
  for (const bad of [0, -1, 1.5, Number.NaN, '10' as unknown as number]) {
    const u = await failure(() => nc.consoleOutput(r.id, { maxBytes: bad }));
    assert.equal(u.code, 'USAGE');
    assert.match(u.message, /^Expected `maxBytes` to be a positive integer, got/);
  }
});

test('a log virtlogd rolled over (PATH.1, PATH.0, PATH): the tail is read across the files, oldest first, nothing twice; size counts them all', async () => {
  const r = await launched();
  // As virtlogd leaves them: the guest's output in order is .1, then .0, then the log itself.
  const [one, zero, current] = [randomBytes(3000), randomBytes(2000), randomBytes(500)];
  writeFileSync(`${r.log}.1`, one);
  writeFileSync(`${r.log}.0`, zero);
  writeFileSync(r.log, current);
  const whole = Buffer.concat([one, zero, current]);

  const small = await nc.consoleOutput(r.id, { maxBytes: 400 });
  assert.deepEqual([small.bytes.equals(current.subarray(100)), small.truncated, small.size, small.files], [true, true, 5500, [r.log]]);
  const across = await nc.consoleOutput(r.id, { maxBytes: 1000 });
  assert.deepEqual([across.bytes.equals(whole.subarray(whole.length - 1000)), across.truncated, across.files], [true, true, [`${r.log}.0`, r.log]]);
  const exact = await nc.consoleOutput(r.id, { maxBytes: 2500 });
  assert.deepEqual([exact.bytes.equals(Buffer.concat([zero, current])), exact.truncated, exact.files], [true, true, [`${r.log}.0`, r.log]], '.1 is left out');
  const three = await nc.consoleOutput(r.id, { maxBytes: 4000 });
  assert.deepEqual([three.bytes.equals(whole.subarray(1500)), three.truncated, three.files], [true, true, [`${r.log}.1`, `${r.log}.0`, r.log]]);
  const all = await nc.consoleOutput(r.id);
  assert.deepEqual([all.bytes.equals(whole), all.truncated, all.size], [true, false, 5500]);

  // The CLI says where the bytes came from.
  const t = await cli('console-output', r.id, '--bytes', '1000');
  assert.equal(t.stderr, `domforge: note: the last 1000 of 5500 bytes of ${r.log} and its rolled-over ${r.log}.0 (--bytes N for more)\n`);
  const j = await cli('console-output', r.id, '--json');
  assert.deepEqual(JSON.parse(j.stdout).files, [`${r.log}.1`, `${r.log}.0`, r.log]);

  // A rolled-over name that is a link (or a FIFO) is refused, named; the log alone still reads when it is enough.
  rmSync(`${r.log}.0`);
  symlinkSync('/etc/passwd', `${r.log}.0`);
  const e = await failure(() => nc.consoleOutput(r.id));
  assert.equal(e.code, 'IO_ERROR');
  assert.equal(e.file, `${r.log}.0`);
  assert.ok((await nc.consoleOutput(r.id, { maxBytes: 500 })).bytes.equals(current));
  await nc.terminate(r.id);
});

test('domforge console-output prints the bytes as they are, --bytes N the last N; --json gives them in base64 with id, path, size, truncated', async () => {
  const r = await launched();
  writeFileSync(r.log, 'Booting...\nhello from the guest\n');
  const t = await cli('console-output', r.id);
  assert.equal(t.code, 0, t.stderr);
  assert.equal(t.stdout, 'Booting...\nhello from the guest\n');
  assert.equal(t.stderr, '');

  const n = await cli('console-output', r.id, '--bytes', '21');
  assert.equal(n.stdout, 'hello from the guest\n');
  assert.equal(n.stderr, `domforge: note: the last 21 of 32 bytes of ${r.log} (--bytes N for more)\n`);

  const bytes = Buffer.from([0x41, 0x0a, 0xff, 0x00, 0xc3, 0x28]);
  writeFileSync(r.log, bytes);
  const j = await cli('console-output', r.id, '--json');
  assert.equal(j.code, 0, j.stderr);
  assert.deepEqual(JSON.parse(j.stdout), { id: r.id, path: r.log, size: 6, truncated: false, files: [r.log], output: bytes.toString('base64') });

  // Through a real stdout, in a process of its own (whose test:///default has no domain: the folder is enough).
  const child = new URL('./cli-program.js', import.meta.url).pathname;
  const p = spawnSync(process.execPath, [child, 'console-output', r.id, '--instances', sb.instances, '--uri', 'test:///default'], { timeout: 60_000 });
  assert.equal(p.status, 0, String(p.stderr));
  assert.deepEqual(p.stdout, bytes, 'stdout holds the bytes, not their UTF-8 decoding');
});

test('domforge console-output: a bad --bytes (0, 1e3, -1, x) is a usage error (exit 2); an unknown id or a missing log is exit 1', async () => {
  const r = await launched();
  for (const bad of ['0', '1e3', '-1', 'x', '0x10']) {
    const u = await cli('console-output', r.id, '--bytes', bad);
    assert.equal(u.code, 2, `--bytes ${bad}: ${u.stderr}`);
    assert.match(u.stderr, /--bytes/);
    assert.equal(u.stdout, '');
  }
  const uj = await cli('console-output', r.id, '--bytes', '0', '--json');
  assert.equal(JSON.parse(uj.stderr).error.code, 'USAGE');

  const m = await cli('console-output', 'i-missing');
  assert.equal(m.code, 1);
  assert.match(m.stderr, /no instance i-missing under/);
  const mj = await cli('console-output', 'i-missing', '--json');
  assert.equal(JSON.parse(mj.stderr).error.code, 'STATE_CONFLICT');

  const w = await cli('console-output', r.id, '--json');
  assert.equal(w.code, 1);
  assert.deepEqual(
    { ...JSON.parse(w.stderr).error, message: undefined },
    { code: 'STATE_CONFLICT', reason: 'not-written', file: r.log, message: undefined },
  );
});
