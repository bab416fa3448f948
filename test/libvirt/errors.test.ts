import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import {
  connect,
  closeConnections,
  loadBinding,
  isLibvirtAvailable,
  libvirtCodeOf,
  LibvirtError,
  LibvirtUnavailableError,
  type BindingLoader,
  type LibvirtConnection,
} from '../../engine/libvirt/index.js';
import { DomforgeError } from '../../engine/errors.js';
import { testDomainXml } from './fixtures.js';

let conn: LibvirtConnection;
test.before(async () => {
  conn = await connect();
});
test.after(() => closeConnections());

test('defining malformed XML is a LibvirtError with libxml2\'s message and VIR_ERR_XML_DETAIL', async () => {
  await assert.rejects(conn.define('<domain type="test"><name>x</name>'), (e: unknown) => {
    assert.ok(e instanceof LibvirtError);
    assert.ok(e instanceof DomforgeError);
    assert.equal(e.code, 'LIBVIRT_ERROR');
    assert.equal(e.operation, 'define');
    assert.equal(e.uri, 'test:///default');
    assert.equal(e.libvirtCode, 35);
    assert.equal(e.libvirtCodeName, 'VIR_ERR_XML_DETAIL');
    assert.match(e.libvirtMessage, /^\(domain_definition\):1: /);
    assert.match(e.message, /^libvirt define on test:\/\/\/default failed: \(domain_definition\):1: .+$/);
    assert.ok(e.details.length >= 1, 'the source line and caret go to details');
    return true;
  });
});

test('defining a domain libvirt rejects is VIR_ERR_XML_ERROR with libvirt\'s reason', async () => {
  await assert.rejects(conn.define('<domain type="test"><name>no-os</name><memory>1024</memory></domain>'), (e: unknown) => {
    assert.ok(e instanceof LibvirtError);
    assert.equal(e.libvirtCodeName, 'VIR_ERR_XML_ERROR');
    assert.equal(e.libvirtMessage, 'XML error: an os <type> must be specified');
    return true;
  });
});

test('looking up a missing domain names the operation and the domain (VIR_ERR_NO_DOMAIN)', async () => {
  for (const id of ['no-such-domain', '00000000-0000-0000-0000-000000000000']) {
    await assert.rejects(conn.lookup(id), (e: unknown) => {
      assert.ok(e instanceof LibvirtError);
      assert.equal(e.domain, id);
      assert.equal(e.libvirtCode, 42);
      assert.equal(e.message, `libvirt lookup of domain '${id}' on test:///default failed: Domain not found`);
      return true;
    });
  }
  await assert.rejects(conn.start('no-such-domain'), { libvirtCodeName: 'VIR_ERR_NO_DOMAIN', operation: 'lookup' });
});

test('state errors carry libvirt\'s message: starting a running domain', async () => {
  const { name, xml } = testDomainXml();
  await conn.define(xml);
  await conn.start(name);
  await assert.rejects(conn.start(name), (e: unknown) => {
    assert.ok(e instanceof LibvirtError);
    assert.equal(e.operation, 'start');
    assert.equal(e.domain, name);
    assert.equal(e.libvirtCodeName, 'VIR_ERR_INTERNAL_ERROR');
    assert.match(e.libvirtMessage, /already running/);
    return true;
  });
  await conn.destroy(name);
  await assert.rejects(conn.destroy(name), { libvirtCodeName: 'VIR_ERR_OPERATION_INVALID' });
  await conn.undefine(name);
});

test('a refused connection is a LibvirtError for `connect`, and is not cached', async () => {
  await assert.rejects(connect({ uri: 'qemu+unix:///system?socket=/nonexistent/domforge.sock' }), (e: unknown) => {
    assert.ok(e instanceof LibvirtError);
    assert.equal(e.operation, 'connect');
    assert.equal(e.libvirtCodeName, 'VIR_ERR_SYSTEM_ERROR');
    assert.match(e.message, /^libvirt connect on qemu\+unix:\/\/\/system\?socket=\/nonexistent\/domforge.sock failed: .*No such file or directory/);
    return true;
  });
});

test('a refused connection says what to do: no daemon at the socket, or a socket no daemon accepts on', async () => {
  await assert.rejects(connect({ uri: 'qemu+unix:///system?socket=/nonexistent/domforge.sock' }), (e: unknown) => {
    assert.ok(e instanceof LibvirtError);
    assert.deepEqual(e.details.map((d) => d.split(':')[0]), ['hint']);
    assert.match(e.details[0]!, /^hint: no libvirt daemon listens at \/nonexistent\/domforge\.sock: start it \(systemctl start libvirtd, or virtqemud/);
    assert.match(e.fullMessage, /\n  hint: no libvirt daemon listens/);
    return true;
  });
  // A socket file nobody accepts on: bound, never listened (a daemon that died without removing it).
  const dir = mkdtempSync(join(tmpdir(), 'domforge-sock-'));
  try {
    const sock = join(dir, 'stale.sock');
    execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', sock]);
    await assert.rejects(connect({ uri: `qemu+unix:///system?socket=${sock}` }), (e: unknown) => {
      assert.ok(e instanceof LibvirtError);
      assert.match(e.libvirtMessage, /Connection refused/);
      assert.equal(e.details[0], `hint: ${sock} is there but no daemon accepts on it (a daemon that stopped without removing it): restart the daemon (systemctl restart libvirtd)`);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // Other failures get no hint: libvirt's message says it all.
  await assert.rejects(connect({ uri: 'test:///nonexistent/domforge.xml' }), (e: unknown) => e instanceof LibvirtError && e.details.every((d) => !d.startsWith('hint:')));
});

test('libvirtCodeOf recognises libvirt\'s message prefixes', () => {
  const cases: [string, string | undefined][] = [
    ['Domain not found: no domain with matching name \'x\'', 'VIR_ERR_NO_DOMAIN'],
    ['this function is not supported by the connection driver: virDomainAttachDeviceFlags', 'VIR_ERR_NO_SUPPORT'],
    ['Requested operation is not valid: domain is not running', 'VIR_ERR_OPERATION_INVALID'],
    ['operation failed: domain \'x\' already exists with uuid 1234', 'VIR_ERR_OPERATION_FAILED'],
    ['unsupported configuration: hugepages are disabled', 'VIR_ERR_CONFIG_UNSUPPORTED'],
    ['device not found: no target device vdb', 'VIR_ERR_DEVICE_MISSING'],
    ["Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory", 'VIR_ERR_SYSTEM_ERROR'],
    ['something new', undefined],
  ];
  for (const [msg, name] of cases) assert.equal(libvirtCodeOf(msg)?.name, name, msg);
});

test('a missing binding is LibvirtUnavailableError with the install hint (injected loader)', async () => {
  const missing: BindingLoader = async () => {
    const e = new Error("Cannot find package '@unraid/libvirt' imported from /work/main/dist/engine/libvirt/binding.js") as NodeJS.ErrnoException;
    e.code = 'ERR_MODULE_NOT_FOUND';
    throw e;
  };
  await assert.rejects(connect({ loader: missing }), (e: unknown) => {
    assert.ok(e instanceof LibvirtUnavailableError);
    assert.equal(e.code, 'LIBVIRT_UNAVAILABLE');
    assert.match(e.message, /install the optional dependency @unraid\/libvirt \(needs libvirt-dev/);
    assert.match(e.message, /Rendering and validation work without it/);
    assert.match(e.details[0]!, /^cause: Cannot find package '@unraid\/libvirt'/);
    assert.equal((e.cause as NodeJS.ErrnoException).code, 'ERR_MODULE_NOT_FOUND');
    return true;
  });
  assert.equal(await isLibvirtAvailable(missing), false);
  assert.equal(await isLibvirtAvailable(), true);
});

test('a failed load is not cached: the same loader works once the binding is there', async () => {
  let installed = false;
  const real = await loadBinding();
  const flaky: BindingLoader = async () => {
    if (!installed) throw new Error('libvirt.so.0: cannot open shared object file: No such file or directory');
    return real;
  };
  await assert.rejects(connect({ loader: flaky }), LibvirtUnavailableError);
  installed = true;
  const c = await connect({ loader: flaky });
  assert.ok((await c.list()).some((d) => d.name === 'test'));
  await closeConnections(flaky);
  assert.equal(c.closed, true);
});

test('no module imports @unraid/libvirt statically (rendering must work without it)', async () => {
  const { readdir, readFile } = await import('node:fs/promises');
  const { dirname, join, resolve } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const engine = resolve(dirname(fileURLToPath(import.meta.url)), '../../../engine');
  const files = (await readdir(engine, { recursive: true })).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length > 10);
  for (const f of files) {
    const text = await readFile(join(engine, f), 'utf8');
    assert.doesNotMatch(text, /(from|import|require\()\s*['"]@unraid\/libvirt['"]/, `${f} must load @unraid/libvirt through engine/libvirt/binding.ts`);
  }
});
