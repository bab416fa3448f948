import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runUntilKilled } from '../fixtures/processes.js';
import { NodeController, type AttachResult, type OperationError } from '../../engine/controller/index.js';
import { parseInstance } from '../../engine/instance/index.js';
import type { DomforgeError } from '../../engine/errors.js';
import { closeConnections, connect, type LibvirtConnection } from '../../engine/libvirt/index.js';
import { xmlEqual } from '../../engine/xml/compare.js';
import { firstChild, parseXml } from '../../engine/xml/parse.js';
import { hex, interfaceOf, macOf, volumeOf } from './attach-devices.js';
import { sampleInstance, sandbox, shippedTransform, type Sandbox } from './fixtures.js';

// An attach's steps, in order (filters and pre-attach run: there is a hook). From
// mark-attaching on the record lists the device `attaching`; from attach on libvirt may hold it.
const STEPS = ['read-record', 'check', 'write-stub', 'render', 'filters', 'write-device-xml', 'pre-attach', 'mark-attaching', 'attach', 'record'] as const;
type Step = (typeof STEPS)[number];
/** What the rollback of a failure at each step runs (in the order it runs them). */
const ROLLBACK: Record<Step, string[]> = {
  'read-record': [],
  check: [],
  'write-stub': [],
  render: ['remove-stub'],
  filters: ['remove-stub'],
  'write-device-xml': ['remove-stub'],
  'pre-attach': ['remove-device-xml', 'remove-stub'],
  'mark-attaching': ['remove-device-xml', 'remove-stub'],
  attach: ['restore-record', 'remove-device-xml', 'remove-stub'],
  record: ['detach-device', 'restore-record', 'remove-device-xml', 'remove-stub'],
};

let conn: LibvirtConnection;
let sb: Sandbox;
let nc: NodeController;
/** What the next step of that name runs before it (once): a fault, a look at the record. */
let before: { operation: string; step: string; run: (instanceId: string) => void | Promise<void> } | undefined;
test.before(async () => {
  conn = await connect({ uri: 'test:///default' });
  sb = await sandbox();
  await sb.script(sb.hooks, '10-noop', 'exit 0'); // so that the filters and pre-attach steps run
  nc = await NodeController.open({
    instancesDir: sb.instances,
    connection: conn,
    transform: shippedTransform(),
    hooksDir: sb.hooks,
    initHooks: false,
    onStep: async (e) => {
      if (e.operation !== before?.operation || e.step !== before.step) return;
      const { run } = before;
      before = undefined; // once: the retry goes through
      await run(e.instanceId);
    },
  });
});
test.after(async () => {
  await nc.close();
  await sb.cleanup();
  await closeConnections();
});

const diskFull = (id: string) => {
  throw Object.assign(new Error('No space left on device'), { code: 'ENOSPC', syscall: 'write', path: join(sb.instances, id, 'instance.xml') });
};
const recordOf = (id: string) => parseInstance(readFileSync(join(sb.instances, id, 'instance.xml'), 'utf8'));

/** What each kind of device needs from the test. */
interface Kind {
  operation: 'attach-volume' | 'attach-interface';
  /** Attaches the n-th device (`devName` for a volume another than the n-th's, to attach another volume under its id). */
  attach(id: string, n: number, devName?: string): Promise<AttachResult>;
  /** The kind as attach-crash-child.js takes it. */
  child: 'volume' | 'interface';
  /** The label in messages, the key of detach, the files' base name. */
  names(n: number): { label: string; key: string; files: string; listed: string };
  inDomain(xml: string, n: number): boolean;
  recorded(id: string, n: number): { stateName?: string; libvirt?: string } | undefined;
  detach(id: string, n: number): ReturnType<NodeController['detachVolume']>;
}

const KINDS: Kind[] = [
  {
    operation: 'attach-volume',
    attach: (id, n, devName) => nc.attachVolume(id, volumeOf(n, devName)),
    child: 'volume',
    names: (n) => ({ label: `volume vol-${hex(n)}`, key: `vol-${hex(n)}`, files: `vol-${hex(n)}`, listed: `volume vol-${hex(n)}` }),
    inDomain: (xml) => [...parseXml(xml).getElementsByTagName('disk')].some((d) => firstChild(d, 'target')?.getAttribute('dev') === 'vdf'),
    recorded: (id, n) => recordOf(id).volumes.find((v) => v.id === `vol-${hex(n)}`),
    detach: (id, n) => nc.detachVolume(id, `vol-${hex(n)}`),
  },
  {
    operation: 'attach-interface',
    attach: (id, n) => nc.attachInterface(id, interfaceOf(n)),
    child: 'interface',
    names: (n) => ({ label: `interface eni-${hex(n)}`, key: `eni-attach-${hex(n)}`, files: `eni-${hex(n)}`, listed: `interface attachment eni-attach-${hex(n)}` }),
    inDomain: (xml, n) => [...parseXml(xml).getElementsByTagName('interface')].some((i) => firstChild(i, 'mac')?.getAttribute('address') === macOf(n)),
    recorded: (id, n) => recordOf(id).nics.find((x) => x.attachmentId === `eni-attach-${hex(n)}`),
    detach: (id, n) => nc.detachInterface(id, `eni-attach-${hex(n)}`),
  },
];

const detachOf = (k: Kind) => (k.operation === 'attach-volume' ? 'detach-volume' : 'detach-interface');
const noun = (k: Kind) => (k.operation === 'attach-volume' ? 'volume' : 'interface');
/** How describe, list and adopt speak of a device left attaching. */
const stillAttaching = (k: Kind, id: string, n: number) =>
  `${k.names(n).listed} is still attaching (an attach that did not finish): ${k.operation} ${id} with the same ${noun(k)} finishes the attach, ${detachOf(k)} ${id} ${k.names(n).key} removes it`;

/** Where libvirt holds the n-th device: [live, persistent configuration]. */
async function held(k: Kind, id: string, n: number): Promise<[boolean, boolean]> {
  return [k.inDomain(await conn.getXML(id), n), k.inDomain(await conn.getXML(id, { inactive: true }), n)];
}

async function failure(p: Promise<unknown>, what: string): Promise<OperationError> {
  return p.then(
    () => assert.fail(`attached despite ${what}`),
    (err: unknown) => err as OperationError,
  );
}

/** describe, list and adopt report what is unfinished (the same lines for describe and adopt). */
async function reported(id: string): Promise<{ describe: string[]; list: string[] | undefined; adopt: string[] | undefined }> {
  return {
    describe: (await nc.describe(id)).unfinished,
    list: (await nc.list()).find((x) => x.id === id)?.unfinished,
    adopt: (await nc.adopt()).adopted.find((a) => a.id === id)?.unfinished,
  };
}

for (const kind of KINDS) {
  test(`${kind.operation}: a fault at each step is rolled back, leaving no "attaching" entry; the record says "attaching" (on disk) while libvirt attaches`, async () => {
    const inst = await sampleInstance('01-linux-virtio');
    const { dir } = await nc.launch(inst);
    const id = inst.name;
    let n = 0;
    for (const step of STEPS) {
      n += 1;
      const { files } = kind.names(n);
      const record = readFileSync(join(dir, 'instance.xml'), 'utf8');
      before = { operation: kind.operation, step, run: diskFull };
      const e = await failure(kind.attach(id, n), `a fault at ${step}`);
      assert.equal(e.code, 'IO_ERROR', e.message);
      assert.equal(e.step, step);
      assert.equal(e.rolledBack, true, step);
      assert.equal(e.unfinished, undefined, step);
      assert.deepEqual(e.rollback.map((a) => [a.action, a.ok]), ROLLBACK[step].map((a) => [a, true]), step);
      assert.equal(readFileSync(join(dir, 'instance.xml'), 'utf8'), record, `${step}: instance.xml as it was`);
      assert.deepEqual(await held(kind, id, n), [false, false], `${step}: not in the domain, live or persistent`);
      assert.equal(existsSync(join(dir, `${files}.xml`)) || existsSync(join(dir, `${files}-libvirt.xml`)), false, `${step}: its files are removed`);
      assert.deepEqual(await reported(id), { describe: [], list: [], adopt: undefined }, `${step}: nothing unfinished`);
    }

    // While libvirt attaches, the record already lists the device `attaching`, with the XML libvirt gets.
    n += 1;
    let seen: { stateName?: string; libvirt?: string } | undefined;
    before = { operation: kind.operation, step: 'attach', run: () => void (seen = kind.recorded(id, n)) };
    const r = await kind.attach(id, n);
    assert.equal(seen?.stateName, 'attaching');
    if (kind.operation === 'attach-volume') assert.ok(xmlEqual(seen?.libvirt ?? '', r.deviceXml), `the record's <libvirt> is what libvirt gets: ${seen?.libvirt}`);
    assert.equal(r.resumed, false);
    assert.deepEqual(r.steps.map((s) => s.step), [...STEPS]);
    assert.equal(kind.recorded(id, n)?.stateName, 'attached');
    assert.deepEqual(await held(kind, id, n), [true, true]);
    await nc.terminate(id);
  });

  test(`${kind.operation}: a rollback whose detach libvirt refuses leaves the device "attaching" with its files, says what is left, and the same attach again finishes it`, async () => {
    const inst = await sampleInstance('01-linux-virtio');
    const { dir } = await nc.launch(inst);
    const id = inst.name;
    const n = 1;
    const { label, key, files } = kind.names(n);
    // The domain is made transient behind our back (undefined while running): libvirt then
    // refuses to change its persistent configuration, so the rollback cannot detach the device.
    before = {
      operation: kind.operation,
      step: 'record',
      run: async (i) => {
        await conn.undefine(i);
        diskFull(i);
      },
    };
    const e = await failure(kind.attach(id, n), 'a fault at record');
    assert.equal(e.step, 'record');
    assert.equal(e.rolledBack, false);
    assert.deepEqual(e.rollback.map((a) => [a.action, a.ok]), [['detach-device', false], ['keep-attaching', true], ['keep-device-xml', true], ['keep-stub', true]]);
    assert.equal(e.rollback[0]?.error?.code, 'LIBVIRT_ERROR');
    assert.equal(
      e.unfinished,
      `${label} is attached to the domain of ${id} (live); instance.xml lists it as "attaching"; ${files}.xml and ${files}-libvirt.xml are left in ${dir}; ${kind.operation} ${id} with the same ${noun(kind)} finishes the attach, ${detachOf(kind)} ${id} ${key} removes it`,
    );
    assert.equal(e.details.at(-1), `not rolled back: ${e.unfinished}`);
    assert.equal(kind.recorded(id, n)?.stateName, 'attaching');
    assert.equal(kind.inDomain(await conn.getXML(id), n), true, 'the running domain holds it');
    assert.equal(await conn.isPersistent(id), false, 'a transient domain, with no persistent configuration');
    const unfinished = [stillAttaching(kind, id, n)];
    assert.deepEqual(await reported(id), { describe: unfinished, list: unfinished, adopt: unfinished });

    // Another attach under the same key is not this one: refused, saying what is under way.
    const others: [Promise<unknown>, string][] =
      kind.operation === 'attach-volume'
        ? [
            [nc.attachVolume(id, volumeOf(n, 'sdg')), `${key} is attaching as sdf, not sdg`],
            [nc.attachVolume(id, { ...volumeOf(n), path: '/dev/mapper/other' }), `${files}.xml says otherwise`],
          ]
        : [[nc.attachInterface(id, { ...interfaceOf(n), interfaceId: 'eni-other', mac: macOf(0xee) }), `the record's <nic> of ${key} says otherwise`]];
    for (const [attach, why] of others) {
      await assert.rejects(attach, (err: OperationError) => {
        assert.equal(err.code, 'STATE_CONFLICT');
        const attaching = kind.operation === 'attach-volume' ? label : 'interface eni-other';
        assert.equal(err.shortMessage, `${kind.operation} of ${id} failed at step 'check': ${attaching} cannot be attached to ${id}: ${stillAttaching(kind, id, n)}; this attach is not the same (${why})`);
        return true;
      });
    }
    assert.equal(kind.recorded(id, n)?.stateName, 'attaching', 'the refusals change nothing');

    // A resumed attach that fails goes back to how it found things: still attaching, its files kept, the device where it was.
    before = { operation: kind.operation, step: 'record', run: diskFull };
    const again = await failure(kind.attach(id, n), 'a fault at record');
    assert.deepEqual(again.rollback.map((a) => [a.action, a.ok]), [['restore-record', true], ['restore-device-xml', true]], 'it attached nothing: nothing to detach');
    assert.equal(again.rolledBack, false);
    assert.match(again.unfinished ?? '', new RegExp(`^${label} is attached to the domain of ${id} \\(live\\); instance.xml lists it as "attaching"; ${files}.xml and ${files}-libvirt.xml are left in `));
    assert.equal(kind.recorded(id, n)?.stateName, 'attaching');
    assert.equal(kind.inDomain(await conn.getXML(id), n), true);

    // The same attach again finishes it: libvirt holding the device is not an error.
    const r = await kind.attach(id, n);
    assert.equal(r.resumed, true);
    assert.deepEqual(r.change, { method: 'none', live: true, config: false, restarted: false });
    assert.deepEqual(r.steps.map((s) => s.step), [...STEPS]);
    assert.equal(kind.recorded(id, n)?.stateName, 'attached');
    assert.deepEqual(await reported(id), { describe: [], list: [], adopt: undefined });
    assert.match(readFileSync(join(dir, 'instance.log'), 'utf8'), new RegExp(`${label} is attaching: finishing the attach an earlier ${kind.operation} began`));
    await nc.terminate(id);
  });

  test(`${kind.operation}: a rollback that cannot write the record back leaves the device "attaching" (not in the domain) with its files, and a detach removes it`, async () => {
    const inst = await sampleInstance('01-linux-virtio');
    const { dir } = await nc.launch(inst);
    const id = inst.name;
    const n = 2;
    const { label, key, files } = kind.names(n);
    const record = join(dir, 'instance.xml');
    const aside = join(sb.root, `${id}-instance.xml`);
    // A folder in instance.xml's place: the rollback's write of the record fails (the record is set aside, as it was).
    before = {
      operation: kind.operation,
      step: 'record',
      run: (i) => {
        renameSync(record, aside);
        mkdirSync(join(record, 'x'), { recursive: true });
        diskFull(i);
      },
    };
    const e = await failure(kind.attach(id, n), 'a fault at record');
    rmSync(record, { recursive: true });
    renameSync(aside, record);
    assert.equal(e.rolledBack, false);
    assert.deepEqual(e.rollback.map((a) => [a.action, a.ok]), [['detach-device', true], ['restore-record', false], ['keep-device-xml', true], ['keep-stub', true]]);
    assert.match(e.rollback[1]?.error?.message ?? '', /it is a folder/);
    assert.equal(
      e.unfinished,
      `${label} is not attached to the domain of ${id}; instance.xml lists it as "attaching"; ${files}.xml and ${files}-libvirt.xml are left in ${dir}; ${kind.operation} ${id} with the same ${noun(kind)} finishes the attach, ${detachOf(kind)} ${id} ${key} removes it`,
    );
    assert.equal(kind.recorded(id, n)?.stateName, 'attaching');
    assert.deepEqual(await held(kind, id, n), [false, false]);
    assert.deepEqual((await nc.describe(id)).unfinished, [stillAttaching(kind, id, n)]);

    // A detach of it cleans up: the domain no longer has it, its files and entry go.
    const d = await kind.detach(id, n);
    assert.deepEqual([d.resumed, d.detachedFromDomain], [false, false]);
    assert.equal(kind.recorded(id, n), undefined);
    assert.equal(existsSync(join(dir, `${files}.xml`)) || existsSync(join(dir, `${files}-libvirt.xml`)), false);
    assert.deepEqual((await nc.describe(id)).unfinished, []);
    // The id is free again.
    await kind.attach(id, n);
    assert.equal(kind.recorded(id, n)?.stateName, 'attached');
    await nc.terminate(id);
  });
}

test('attach-volume: a record whose volume is "attaching" with its files gone (a hand-cleaned folder) is finished by the same attach, which attaches what libvirt lacks', async () => {
  const inst = await sampleInstance('01-linux-virtio');
  const { dir } = await nc.launch(inst);
  const id = inst.name;
  const kind = KINDS[0]!;
  // As a controller that died between mark-attaching and libvirt's attach leaves it, once its files are removed by hand.
  before = {
    operation: 'attach-volume',
    step: 'attach',
    run: (i) => {
      writeFileSync(join(dir, 'kept.xml'), readFileSync(join(dir, 'instance.xml')));
      diskFull(i);
    },
  };
  await failure(kind.attach(id, 3), 'a fault at attach');
  writeFileSync(join(dir, 'instance.xml'), readFileSync(join(dir, 'kept.xml')));
  rmSync(join(dir, 'kept.xml'));
  assert.equal(kind.recorded(id, 3)?.stateName, 'attaching');
  assert.deepEqual(await held(kind, id, 3), [false, false]);
  const r = await kind.attach(id, 3);
  assert.equal(r.resumed, true);
  assert.deepEqual([r.change.method, r.change.live, r.change.config], ['redefine-restart', true, true]);
  assert.deepEqual(await held(kind, id, 3), [true, true]);
  assert.equal(kind.recorded(id, 3)?.stateName, 'attached');
  await nc.terminate(id);
});

const CHILD = new URL('./attach-crash-child.js', import.meta.url).pathname;

/** Runs attach-crash-child.js; resolves once it has killed itself, with the domain as libvirt held it then. */
async function crash(id: string, kind: Kind, n: number, step: string): Promise<{ xml: string; running: boolean }> {
  const out = await runUntilKilled(CHILD, [sb.instances, id, kind.child, String(n), step], `die before ${kind.operation} step ${step}`);
  return JSON.parse(out.trim().split('\n').pop()!) as { xml: string; running: boolean };
}

// Killed after mark-attaching: before libvirt's attach, or after it and before the record says `attached`.
for (const kind of KINDS) {
  for (const [step, finish] of [['attach', 'attach'], ['record', 'attach'], ['record', 'detach']] as const) {
    test(`${kind.operation}: a controller killed before step '${step}' leaves the device "attaching", which describe, list and adopt report; the same ${finish} ${finish === 'attach' ? 'finishes it' : 'removes it'}`, async () => {
      const id = (await sampleInstance()).name;
      const n = 0xc1;
      const { files } = kind.names(n);
      const domain = await crash(id, kind, n, step);
      // The domain as libvirtd would have kept it past the controller's death.
      await conn.define(domain.xml);
      if (domain.running) await conn.start(id);
      const dir = join(sb.instances, id);
      assert.equal(kind.recorded(id, n)?.stateName, 'attaching');
      assert.ok(existsSync(join(dir, `${files}.xml`)) && existsSync(join(dir, `${files}-libvirt.xml`)), 'its files are there');
      const attached = step === 'record';
      assert.deepEqual(await held(kind, id, n), [attached, attached], `libvirt ${attached ? 'holds' : 'does not hold'} the device`);
      const unfinished = [stillAttaching(kind, id, n)];
      assert.deepEqual(await reported(id), { describe: unfinished, list: unfinished, adopt: unfinished });

      if (finish === 'attach') {
        const r = await kind.attach(id, n);
        assert.equal(r.resumed, true);
        assert.deepEqual([r.change.method, r.change.live, r.change.config], [attached ? 'none' : 'redefine-restart', true, true]);
        assert.equal(kind.recorded(id, n)?.stateName, 'attached');
        assert.deepEqual(await held(kind, id, n), [true, true]);
      } else {
        const d = await kind.detach(id, n);
        assert.deepEqual([d.resumed, d.detachedFromDomain], [false, true]);
        assert.equal(kind.recorded(id, n), undefined);
        assert.deepEqual(await held(kind, id, n), [false, false]);
        assert.equal(existsSync(join(dir, `${files}.xml`)) || existsSync(join(dir, `${files}-libvirt.xml`)), false);
      }
      assert.deepEqual(await reported(id), { describe: [], list: [], adopt: undefined });
      await nc.terminate(id);
    });
  }
}

test('attach-interface: an attach left "attaching" is not finished by one of another interface id under the same attachment id: its eni files would be left behind', async () => {
  const inst = await sampleInstance('01-linux-virtio');
  const { dir } = await nc.launch(inst);
  const id = inst.name;
  const n = 4;
  const a = interfaceOf(n);
  const files = [`eni-${hex(n)}.xml`, `eni-${hex(n)}-libvirt.xml`, 'instance.xml'];
  // As a controller that died between mark-attaching and libvirt's attach leaves it: the record "attaching", both files there.
  before = {
    operation: 'attach-interface',
    step: 'attach',
    run: (i) => {
      for (const f of files) writeFileSync(join(sb.root, `kept-${f}`), readFileSync(join(dir, f)));
      diskFull(i);
    },
  };
  await failure(nc.attachInterface(id, a), 'a fault at attach');
  for (const f of files) renameSync(join(sb.root, `kept-${f}`), join(dir, f));
  assert.equal(recordOf(id).nics.find((x) => x.attachmentId === a.attachmentId)?.stateName, 'attaching');

  const other = { ...a, interfaceId: `eni-${hex(n + 0x100)}` };
  const e = await failure(nc.attachInterface(id, other), 'another interface id');
  assert.equal(e.code, 'STATE_CONFLICT');
  assert.match(e.message, new RegExp(`this attach is not the same \\(the earlier attach's stub is eni-${hex(n)}\\.xml\\)`));
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('eni-')).sort(), [`eni-${hex(n)}-libvirt.xml`, `eni-${hex(n)}.xml`]);

  // The same attach finishes it.
  const r = await nc.attachInterface(id, a);
  assert.equal(r.resumed, true);
  await nc.terminate(id);
});

test('attach-interface of device 0 to an instance without interfaces, left "attaching": the same attach finishes it and a detach removes it (it is not the primary interface yet)', async () => {
  const kind = KINDS[1]!;
  const a = { ...interfaceOf(5), device: 0 };
  const toRecord = (run: (i: string) => void | Promise<void>) => (before = { operation: 'attach-interface', step: 'record', run });

  // Left attaching with libvirt holding it (the rollback's detach refused): the same attach finishes it.
  const one = await sampleInstance('10-no-nic');
  await nc.launch(one);
  toRecord(async (i) => {
    await conn.undefine(i);
    diskFull(i);
  });
  const e = await failure(nc.attachInterface(one.name, a), 'a fault at record');
  assert.match(e.unfinished ?? '', /instance.xml lists it as "attaching"/);
  const r = await nc.attachInterface(one.name, a);
  assert.equal(r.resumed, true);
  assert.equal(kind.recorded(one.name, 5)?.stateName, 'attached');
  await nc.terminate(one.name);

  // Left attaching, libvirt not holding it (the record could not be written back): a detach removes it.
  const two = await sampleInstance('10-no-nic');
  const { dir } = await nc.launch(two);
  const record = join(dir, 'instance.xml');
  const aside = join(sb.root, `${two.name}-instance.xml`);
  toRecord((i) => {
    renameSync(record, aside);
    mkdirSync(join(record, 'x'), { recursive: true });
    diskFull(i);
  });
  await failure(nc.attachInterface(two.name, a), 'a fault at record');
  rmSync(record, { recursive: true });
  renameSync(aside, record);
  assert.equal(kind.recorded(two.name, 5)?.stateName, 'attaching');
  const d = await nc.detachInterface(two.name, a.attachmentId);
  assert.deepEqual([d.resumed, d.detachedFromDomain], [false, false]);
  assert.equal(kind.recorded(two.name, 5), undefined);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('eni-')), []);
  await nc.terminate(two.name);
});

test('attach-volume: a resumed attach whose disk now has another target dev than the one the domain holds from the earlier attach is refused, not attached beside it; a detach removes the earlier one', async () => {
  const inst = await sampleInstance('01-linux-virtio');
  const { dir } = await nc.launch(inst);
  const id = inst.name;
  const v = volumeOf(6);
  const xmlFile = join(dir, `${v.id}-libvirt.xml`);
  const targets = async (inactive: boolean) => [...parseXml(await conn.getXML(id, { inactive })).getElementsByTagName('disk')].map((d) => firstChild(d, 'target')?.getAttribute('dev')).filter((t) => t === 'vdf' || t === 'vdg');
  // The earlier attach's pre-attach hook moved the disk to vdg; its rollback could not detach it.
  const flag = join(sb.root, 'move-to-vdg');
  await sb.script(sb.hooks, '20-move-to-vdg', `[ "$1" = euca-nc-pre-attach ] && [ -e "${flag}" ] || exit 0\nsed -i 's/dev="vdf"/dev="vdg"/' "$3"`);
  writeFileSync(flag, '');
  try {
    before = {
      operation: 'attach-volume',
      step: 'record',
      run: (i) => {
        const detach = conn.detachDevice.bind(conn);
        conn.detachDevice = async () => {
          conn.detachDevice = detach;
          throw new Error('libvirt refused the detach');
        };
        diskFull(i);
      },
    };
    await failure(nc.attachVolume(id, v), 'a fault at record');
  } finally {
    rmSync(flag);
  }
  assert.deepEqual([await targets(false), await targets(true)], [['vdg'], ['vdg']]);
  assert.equal(KINDS[0]!.recorded(id, 6)?.stateName, 'attaching');

  // The same attach without the hook's move renders vdf: attached beside vdg, the volume would be in the guest twice.
  const e = await failure(nc.attachVolume(id, v), 'the domain holding the earlier disk as vdg');
  assert.equal(e.code, 'STATE_CONFLICT');
  assert.equal(e.step, 'attach');
  assert.equal(
    (e.cause as DomforgeError).shortMessage,
    `volume ${v.id} cannot be attached to ${id}: the domain holds the disk with target dev 'vdg' the earlier attach-volume gave it, and this attach gives a disk with target dev 'vdf'; detach-volume ${id} ${v.id} removes the earlier one, then attach-volume attaches it anew`,
  );
  assert.deepEqual(e.rollback.map((a) => [a.action, a.ok]), [['restore-record', true], ['restore-device-xml', true]]);
  assert.match(e.unfinished ?? '', new RegExp(`^volume ${v.id} is attached to the domain of ${id} \\(live and persistent configuration\\); instance.xml lists it as "attaching"`));
  assert.deepEqual([await targets(false), await targets(true)], [['vdg'], ['vdg']], 'nothing attached beside it');
  assert.match(readFileSync(xmlFile, 'utf8'), /dev="vdg"/, "the earlier attach's device XML is put back");
  assert.equal(KINDS[0]!.recorded(id, 6)?.stateName, 'attaching');

  // The way out it names: the detach removes the disk the domain holds, then the attach goes through.
  const d = await nc.detachVolume(id, v.id);
  assert.equal(d.detachedFromDomain, true);
  assert.deepEqual([await targets(false), await targets(true)], [[], []]);
  const r = await nc.attachVolume(id, v);
  assert.equal(r.resumed, false);
  assert.deepEqual([await targets(false), await targets(true)], [['vdf'], ['vdf']]);
  rmSync(join(sb.hooks, '20-move-to-vdg'));
  await nc.terminate(id);
});
