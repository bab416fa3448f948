import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeController, type OperationError } from '../../engine/controller/index.js';
import { emitInstance, parseInstance } from '../../engine/instance/index.js';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { domainCoverageProblems } from '../../engine/render/covers.js';
import { firstChild, parseXml } from '../../engine/xml/parse.js';
import { sampleInstance, sandbox, shippedTransform, type Sandbox } from './fixtures.js';

// A detach's steps, in order. Up to `detach` a failure writes the record back as it was; from
// then on libvirt has let go of the device, which is not attached again: the record says
// `detaching`, and detaching again finishes the job.
const STEPS = ['read-record', 'check', 'mark-detaching', 'detach', 'post-detach', 'remove-files', 'record'] as const;
const PAST_LIBVIRT: readonly string[] = ['post-detach', 'remove-files', 'record'];

let conn: LibvirtConnection;
let sb: Sandbox;
let nc: NodeController;
let faultAt: { operation: string; step: string } | undefined;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
  sb = await sandbox();
  await sb.script(sb.hooks, '10-noop', 'exit 0'); // so that the post-detach step runs
  nc = await NodeController.open({
    instancesDir: sb.instances,
    connection: conn,
    transform: shippedTransform(),
    hooksDir: sb.hooks,
    initHooks: false,
    onStep: (e) => {
      if (e.operation !== faultAt?.operation || e.step !== faultAt.step) return;
      faultAt = undefined; // once: the retry goes through
      throw Object.assign(new Error('No space left on device'), { code: 'ENOSPC', syscall: 'write', path: join(sb.instances, e.instanceId, 'instance.xml') });
    },
  });
});
test.after(async () => {
  await nc.close();
  await sb.cleanup();
  await closeConnections();
});

/** What each kind of device needs from the test: how to attach it, find it in the domain and in the record, and detach it. */
interface Kind {
  operation: 'detach-volume' | 'detach-interface';
  /** Attaches the n-th device; returns its key (volume id, attachment id) and its files' base name. */
  attach(id: string, n: number): Promise<{ key: string; files: string }>;
  inDomain(xml: string, n: number): boolean;
  recorded(dir: string, key: string): { stateName?: string } | undefined;
  detach(id: string, key: string): ReturnType<NodeController['detachVolume']>;
  label: string;
}

const hex = (n: number) => n.toString(16).padStart(8, '0');
const mac = (n: number) => `d0:0d:00:00:01:${n.toString(16).padStart(2, '0')}`;
const recordOf = (dir: string) => parseInstance(readFileSync(join(dir, 'instance.xml'), 'utf8'));

const KINDS: Kind[] = [
  {
    operation: 'detach-volume',
    label: 'volume',
    attach: async (id, n) => {
      await nc.attachVolume(id, { id: `vol-${hex(n)}`, devName: 'sdf', path: `/dev/mapper/vol-${hex(n)}` });
      return { key: `vol-${hex(n)}`, files: `vol-${hex(n)}` };
    },
    inDomain: (xml) => [...parseXml(xml).getElementsByTagName('disk')].some((d) => firstChild(d, 'target')?.getAttribute('dev') === 'vdf'),
    recorded: (dir, key) => recordOf(dir).volumes.find((v) => v.id === key),
    detach: (id, key) => nc.detachVolume(id, key),
  },
  {
    operation: 'detach-interface',
    label: 'interface attachment',
    attach: async (id, n) => {
      await nc.attachInterface(id, { interfaceId: `eni-${hex(n)}`, attachmentId: `eni-attach-${hex(n)}`, mac: mac(n), device: n, bridgeDeviceName: 'br0' });
      return { key: `eni-attach-${hex(n)}`, files: `eni-${hex(n)}` };
    },
    inDomain: (xml, n) => [...parseXml(xml).getElementsByTagName('interface')].some((i) => firstChild(i, 'mac')?.getAttribute('address') === mac(n)),
    recorded: (dir, key) => recordOf(dir).nics.find((x) => x.attachmentId === key),
    detach: (id, key) => nc.detachInterface(id, key),
  },
];

for (const kind of KINDS) {
  test(`${kind.operation}: a failure before libvirt lets go of the device writes the record back; one after it leaves the device "detaching", says what is left, and a retry finishes the detach`, async () => {
    const inst = await sampleInstance('01-linux-virtio');
    const { dir } = await nc.launch(inst);
    const id = inst.name;
    let n = 0;
    for (const step of STEPS) {
      n += 1;
      const { key, files } = await kind.attach(id, n);
      const stub = join(dir, `${files}.xml`);
      const deviceXml = join(dir, `${files}-libvirt.xml`);
      const record = readFileSync(join(dir, 'instance.xml'), 'utf8');
      faultAt = { operation: kind.operation, step };
      const e = await kind.detach(id, key).then(
        () => assert.fail(`detached despite a fault at ${step}`),
        (err: unknown) => err as OperationError,
      );
      assert.equal(e.code, 'IO_ERROR', e.message);
      assert.equal(e.step, step);
      const past = PAST_LIBVIRT.includes(step);
      const live = await conn.getXML(id);
      const inactive = await conn.getXML(id, { inactive: true });
      if (!past) {
        assert.equal(e.rolledBack, true, step);
        assert.equal(e.unfinished, undefined, step);
        assert.deepEqual(e.rollback.map((a) => [a.action, a.ok]), step === 'detach' ? [['restore-record', true]] : [], step);
        assert.equal(readFileSync(join(dir, 'instance.xml'), 'utf8'), record, `${step}: instance.xml as it was`);
        assert.ok(kind.inDomain(live, n) && kind.inDomain(inactive, n), `${step}: still attached, live and persistent`);
        assert.ok(existsSync(stub) && existsSync(deviceXml), `${step}: its files are kept`);
      } else {
        assert.equal(e.rolledBack, false, step);
        assert.deepEqual(e.rollback, [], `${step}: nothing is attached again`);
        const left = step === 'record' ? 'its files are removed' : `${files}.xml and ${files}-libvirt.xml are left in ${dir}`;
        assert.equal(
          e.unfinished,
          `${kind.label} ${key} is detached from the domain of ${id} (live and persistent configuration); instance.xml lists it as "detaching"; ${left}; ${kind.operation} ${id} ${key} again finishes the detach`,
        );
        assert.equal(e.details.at(-1), `not rolled back: ${e.unfinished}`);
        assert.match(e.fullMessage, /not rolled back: .* again finishes the detach/);
        assert.equal(kind.recorded(dir, key)?.stateName, 'detaching', `${step}: the record says what is under way`);
        assert.ok(!kind.inDomain(live, n) && !kind.inDomain(inactive, n), `${step}: gone from the domain, live and persistent`);
        assert.equal(existsSync(stub), step !== 'record', `${step}: the stub`);
        // Record and domain agree: a detaching device need not be in the domain.
        assert.deepEqual(domainCoverageProblems(recordOf(dir), parseXml(inactive), { file: 'domain' }), []);
        const unfinished = [`${kind.label} ${key} is still detaching (a detach that did not finish): ${kind.operation} ${id} ${key} finishes it`];
        assert.deepEqual((await nc.describe(id)).unfinished, unfinished, `${step}: describe says so`);
        assert.deepEqual((await nc.adopt()).adopted.find((a) => a.id === id)?.unfinished, unfinished, `${step}: adopt says so`);
        // A second attach under the same key waits for the detach to finish.
        if (kind.operation === 'detach-volume') {
          await assert.rejects(nc.attachVolume(id, { id: key, devName: 'sdg', path: '/dev/x' }), (err: OperationError) => err.code === 'STATE_CONFLICT' && err.message.includes(unfinished[0]!.slice(`${kind.label} `.length)));
        }
      }

      // Detaching again finishes the job, whatever was left.
      const r = await kind.detach(id, key);
      assert.equal(r.resumed, past, `${step}: resumed`);
      assert.equal(r.detachedFromDomain, !past, `${step}: the domain still had the device`);
      assert.deepEqual(r.steps.map((s) => s.step), [...STEPS]);
      assert.equal(kind.recorded(dir, key), undefined, `${step}: gone from the record`);
      assert.equal(existsSync(stub) || existsSync(deviceXml), false, `${step}: its files are removed`);
      assert.ok(!kind.inDomain(await conn.getXML(id, { inactive: true }), n));
      assert.deepEqual((await nc.describe(id)).unfinished, []);
    }
    await nc.terminate(id);
  });
}

test('detach-volume: a volume whose record entry has no <libvirt> copy, failing at `record` after its files are removed, is finished by a retry, which skips libvirt and the hooks', async () => {
  const inst = await sampleInstance('01-linux-virtio');
  const { dir } = await nc.launch(inst);
  const id = inst.name;
  const key = 'vol-0000ffff';
  await nc.attachVolume(id, { id: key, devName: 'sdf', path: `/dev/mapper/${key}` });
  // A record written without the copy (as by Eucalyptus before 4.1): vol-XXX-libvirt.xml is the only one.
  const record = recordOf(dir);
  writeFileSync(join(dir, 'instance.xml'), emitInstance({ ...record, volumes: record.volumes.map((v) => (v.id === key ? { ...v, libvirt: undefined } : v)) }));
  assert.equal(recordOf(dir).volumes.find((v) => v.id === key)?.libvirt, undefined);

  faultAt = { operation: 'detach-volume', step: 'record' };
  const e = await nc.detachVolume(id, key).then(
    () => assert.fail('detached despite a fault at record'),
    (err: unknown) => err as OperationError,
  );
  assert.equal(e.step, 'record');
  assert.match(e.unfinished ?? '', new RegExp(`its files are removed; detach-volume ${id} ${key} again finishes the detach$`));
  assert.equal(recordOf(dir).volumes.find((v) => v.id === key)?.stateName, 'detaching');
  assert.equal(existsSync(join(dir, `${key}-libvirt.xml`)), false);

  const logBefore = readFileSync(join(dir, 'instance.log'), 'utf8');
  assert.match(logBefore, /10-noop/, 'the failed detach ran the post-detach hook');
  const r = await nc.detachVolume(id, key);
  assert.deepEqual([r.resumed, r.detachedFromDomain, r.deviceXml, r.postDetachFailures], [true, false, undefined, []]);
  assert.deepEqual(r.steps.map((s) => s.step), [...STEPS]);
  assert.equal(recordOf(dir).volumes.find((v) => v.id === key), undefined, 'gone from the record');
  assert.equal(existsSync(join(dir, `${key}.xml`)) || existsSync(join(dir, `${key}-libvirt.xml`)), false, 'its files stay removed');
  assert.deepEqual((await nc.describe(id)).unfinished, []);
  const logged = readFileSync(join(dir, 'instance.log'), 'utf8').slice(logBefore.length);
  assert.match(logged, new RegExp(`${key}-libvirt\\.xml is gone and the record holds no copy: .*skipping them and finishing the cleanup`));
  assert.doesNotMatch(logged, /10-noop/, 'the post-detach hooks ran before the files were removed, not again');
  // The id is free again.
  await nc.attachVolume(id, { id: key, devName: 'sdf', path: `/dev/mapper/${key}` });
  await nc.terminate(id);
});

test('detach-volume: a retry of a detach left "detaching" that fails before libvirt is asked says the device is still detaching, not rolled back', async () => {
  const inst = await sampleInstance('01-linux-virtio');
  const { dir } = await nc.launch(inst);
  const id = inst.name;
  const key = 'vol-0000fffe';
  await nc.attachVolume(id, { id: key, devName: 'sdf', path: `/dev/mapper/${key}` });
  faultAt = { operation: 'detach-volume', step: 'post-detach' };
  await assert.rejects(nc.detachVolume(id, key), (err: OperationError) => err.step === 'post-detach');
  assert.equal(recordOf(dir).volumes.find((v) => v.id === key)?.stateName, 'detaching');

  faultAt = { operation: 'detach-volume', step: 'detach' };
  const e = await nc.detachVolume(id, key).then(
    () => assert.fail('detached despite a fault at detach'),
    (err: unknown) => err as OperationError,
  );
  assert.equal(e.step, 'detach');
  assert.equal(e.rolledBack, false);
  assert.equal(e.unfinished, `volume ${key} is still detaching (a detach that did not finish): detach-volume ${id} ${key} finishes it; ${key}.xml and ${key}-libvirt.xml are left in ${dir}`);
  assert.equal(recordOf(dir).volumes.find((v) => v.id === key)?.stateName, 'detaching');

  const r = await nc.detachVolume(id, key);
  assert.equal(r.resumed, true);
  assert.equal(recordOf(dir).volumes.find((v) => v.id === key), undefined);
  await nc.terminate(id);
});
