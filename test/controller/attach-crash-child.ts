/**
 * A controller killed mid-attach: `node attach-crash-child.js INSTANCES ID KIND N STEP`
 * launches samples/01-linux-virtio as ID on this process's test:///default, attaches the
 * N-th device of KIND (`volume` or `interface`, see attach-devices.ts) and kills itself with
 * SIGKILL just before the attach's STEP, as the OOM killer or an admin's `kill -9` would.
 * The test driver's domains die with the process: before dying it prints the domain as
 * libvirt holds it then, `{"xml": persistent XML, "running": boolean}`, for the test to define
 * it again in its own test:///default, as libvirtd would have kept it.
 */
import { NodeController } from '../../engine/controller/index.js';
import { connect } from '../../engine/libvirt/index.js';
import { interfaceOf, volumeOf } from './attach-devices.js';
import { sampleInstance, shippedTransform } from './fixtures.js';

const [instancesDir, id, kind, n, step] = process.argv.slice(2) as [string, string, 'volume' | 'interface', string, string];
const conn = await connect({ uri: 'test:///default' });

async function die(): Promise<never> {
  const ref = await conn.lookup(id);
  process.stdout.write(`${JSON.stringify({ xml: await conn.getXML(id, { inactive: true }), running: ref.id !== null })}\n`);
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

const nc = await NodeController.open({
  instancesDir,
  connection: conn,
  transform: shippedTransform(),
  onStep: async (e) => {
    if (e.operation.startsWith('attach-') && e.step === step) await die();
  },
});
await nc.launch(await sampleInstance('01-linux-virtio', id));
if (kind === 'volume') await nc.attachVolume(id, volumeOf(Number(n)));
else await nc.attachInterface(id, interfaceOf(Number(n)));
process.stderr.write(`the attach went through: no step ${step}\n`);
process.exit(1);
