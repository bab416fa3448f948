// A node controller given its transform as a file compiles and renders it in a sandbox of
// its own: an admin's stylesheet that never finishes fails that launch, and the
// controller goes on launching once the file is fixed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { NodeController, OperationError } from '../../engine/controller/index.js';
import { DomforgeError } from '../../engine/errors.js';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { childNodes, sampleInstance, sandbox, XSL, type Sandbox, instancesFolderEntries } from './fixtures.js';

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

/** The shipped stylesheet whose /instance template first calls a template that calls itself twice per level: 2^40 calls. */
function exponential(): string {
  return readFileSync(XSL, 'utf8')
    .replace(
      '<xsl:template match="/instance">',
      '<xsl:template match="/instance"><xsl:call-template name="r"><xsl:with-param name="n" select="40"/></xsl:call-template>',
    )
    .replace(
      '</xsl:stylesheet>',
      '<xsl:template name="r"><xsl:param name="n"/><xsl:if test="$n &gt; 0"><xsl:call-template name="r"><xsl:with-param name="n" select="$n - 1"/></xsl:call-template><xsl:call-template name="r"><xsl:with-param name="n" select="$n - 1"/></xsl:call-template></xsl:if></xsl:template>\n</xsl:stylesheet>',
    );
}

/** childNodes() once it equals `want` (a killed worker takes a moment to exit), else its last value. */
async function settledChildren(want: number[]): Promise<number[]> {
  let now = childNodes();
  for (let i = 0; i < 100 && JSON.stringify(now) !== JSON.stringify(want); i++) {
    await new Promise((r) => setTimeout(r, 20));
    now = childNodes();
  }
  return now;
}

test('a transform file that never finishes fails the launch with TRANSFORM_TIMEOUT; the controller goes on', { timeout: 60_000 }, async () => {
  const file = join(sb.root, 'libvirt.xsl');
  writeFileSync(file, exponential());
  const before = childNodes();
  // The compiled engine, so the render is not handed to xsltproc by the differential guard.
  const nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: file, transformOptions: { engine: 'compiled' }, sandbox: { timeoutMs: 1500 } });
  assert.deepEqual(childNodes(), before, 'no worker until a launch needs the transform');
  try {
    const bad = await sampleInstance();
    const t0 = performance.now();
    await assert.rejects(nc.launch(bad), (e: unknown) => {
      assert.ok(e instanceof OperationError, String(e));
      assert.equal(e.step, 'render');
      const cause = e.cause as DomforgeError;
      assert.equal(cause.code, 'TRANSFORM_TIMEOUT', cause.message);
      assert.match(cause.message, /libvirt\.xsl/);
      return true;
    });
    assert.ok(performance.now() - t0 < 20_000, 'stopped by the time limit, not left to run');
    assert.equal(existsSync(join(sb.instances, bad.name)), false, 'the failed launch left no folder');
    assert.equal((await conn.find(bad.name)), undefined, 'and no domain');
    // The admin fixes the file: the next launch compiles the new content and succeeds.
    writeFileSync(file, readFileSync(XSL, 'utf8'));
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const good = await sampleInstance();
    const r = await nc.launch(good);
    assert.equal(r.domain.state, 'running');
    // One worker, with the small nursery a one-render-at-a-time worker needs.
    const workers = childNodes().filter((p) => !before.includes(p));
    assert.equal(workers.length, 1);
    assert.match(readFileSync(`/proc/${workers[0]}/cmdline`, 'utf8'), /--max-semi-space-size=1\0/);
    await nc.terminate(good.name);
  } finally {
    await nc.close();
  }
  assert.deepEqual(await settledChildren(before), before, 'close() stops the sandbox the controller started');
  assert.deepEqual(instancesFolderEntries(sb.instances), []);
});

test('sandbox: false renders in the controller thread (no worker process)', async () => {
  const before = await settledChildren([]);
  const nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: XSL, sandbox: false });
  try {
    const inst = await sampleInstance();
    await nc.launch(inst);
    assert.deepEqual(childNodes(), before);
    await nc.terminate(inst.name);
  } finally {
    await nc.close();
  }
});
