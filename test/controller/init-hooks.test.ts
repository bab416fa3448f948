/**
 * The controller's start events, as a Eucalyptus NC raises them when it starts:
 * `euca-nc-pre-init`, `euca-nc-pre-hyp-check` before the hypervisor connection, then
 * `euca-nc-post-init`; a failing hook stops the start. `NodeController.open` raises them
 * (with `hooksDir`, unless `initHooks: false`); the CLI's short commands do not, but `adopt`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NodeController } from '../../engine/controller/index.js';
import type { DomforgeError } from '../../engine/errors.js';
import { loadBinding } from '../../engine/libvirt/binding.js';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { lifecycleCli } from './cli-program.js';
import { sampleInstance, sandbox, shippedTransform, XSL, type Sandbox } from './fixtures.js';

let conn: LibvirtConnection;
let sb: Sandbox;
let trace: string;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
  sb = await sandbox();
  trace = join(sb.root, 'events');
  // Records every event with its HOME and PARAM arguments and the URI it was told; prints a line for the log.
  await sb.script(sb.hooks, '10-trace', `echo "$1 $2 $3 $DOMFORGE_URI" >> ${trace}\necho "saw $1"`);
});
test.after(async () => {
  await sb.cleanup();
  await closeConnections();
});

const events = () => (existsSync(trace) ? readFileSync(trace, 'utf8').trim().split('\n') : []);

test('open raises pre-init, pre-hyp-check and post-init, in that order, with HOME, the URI and their output in controller.log; operations do not raise them again', async () => {
  rmSync(trace, { force: true });
  const home = dirname(sb.instances);
  const nc = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), hooksDir: sb.hooks });
  assert.deepEqual(events(), [
    `euca-nc-pre-init ${home} ${home} test:///default`,
    `euca-nc-pre-hyp-check ${home} ${home} test:///default`,
    `euca-nc-post-init ${home} ${home} test:///default`,
  ]);
  const log = readFileSync(join(sb.instances, 'controller.log'), 'utf8');
  for (const e of ['euca-nc-pre-init', 'euca-nc-pre-hyp-check', 'euca-nc-post-init']) assert.match(log, new RegExp(`${e} hook 10-trace\\[stdout\\]: saw ${e}`));

  const inst = await sampleInstance();
  await nc.launch(inst);
  await nc.terminate(inst.name);
  assert.deepEqual(
    events().slice(3).map((l) => l.split(' ')[0]),
    ['euca-nc-pre-boot', 'euca-nc-pre-clean'],
    'no start event again',
  );
  await nc.close();

  rmSync(trace, { force: true });
  const quiet = await NodeController.open({ instancesDir: sb.instances, connection: conn, transform: shippedTransform(), hooksDir: sb.hooks, initHooks: false });
  assert.deepEqual(events(), [], 'initHooks: false raises none');
  await quiet.close();
  await assert.rejects(
    NodeController.open({ instancesDir: sb.instances, connection: conn, hooksDir: sb.hooks, initHooks: 1 as unknown as boolean }),
    (e: DomforgeError) => e.code === 'USAGE' && /initHooks/.test(e.message),
  );
});

test('a failing start hook stops open: pre-init and pre-hyp-check before any libvirt connection is made, post-init after', async () => {
  for (const failing of ['euca-nc-pre-init', 'euca-nc-pre-hyp-check', 'euca-nc-post-init']) {
    rmSync(trace, { force: true });
    await sb.script(sb.hooks, '20-refuse', `[ "$1" = ${failing} ] && { echo "not on this host" >&2; exit 3; }\nexit 0`);
    let loaded = false;
    const loader = async () => {
      loaded = true;
      return loadBinding();
    };
    await assert.rejects(
      NodeController.open({ instancesDir: sb.instances, uri: 'test:///default', loader, transform: shippedTransform(), hooksDir: sb.hooks }),
      (e: DomforgeError) => {
        assert.equal(e.code, 'HOOK_FAILED');
        assert.match(e.message, new RegExp(`${failing} hook 20-refuse exited with code 3`));
        assert.ok(e.details.some((d) => /not on this host/.test(d)), e.details.join('\n'));
        return true;
      },
    );
    assert.equal(loaded, failing === 'euca-nc-post-init', `the binding was ${loaded ? '' : 'not '}loaded when ${failing} failed`);
    assert.equal(events().at(-1)?.split(' ')[0], failing, 'no later start event ran');
    await closeConnections(loader);
  }
  rmSync(join(sb.hooks, '20-refuse'));
});

test("the CLI's commands raise no start event, but adopt, which raises them before its pre-adopt hooks", async () => {
  const common = ['--instances', sb.instances, '--uri', 'test:///default', '--transform', XSL, '--hooks', sb.hooks];
  rmSync(trace, { force: true });
  for (const args of [['list'], ['describe-resource'], ['node']]) {
    const r = await lifecycleCli(args, common);
    assert.equal(r.code, 0, `${args[0]}: ${r.stderr}`);
  }
  assert.deepEqual(events(), []);
  const a = await lifecycleCli(['adopt'], common);
  assert.equal(a.code, 0, a.stderr);
  assert.deepEqual(
    events().map((l) => l.split(' ')[0]),
    ['euca-nc-pre-init', 'euca-nc-pre-hyp-check', 'euca-nc-post-init'],
  );
});
