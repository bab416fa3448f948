/**
 * Run by faults.test.ts under `ulimit -f` (a real file-size limit: writes past it fail with
 * EFBIG, as on a full disk). Launches one sample on this process's test:///default and
 * prints what the failure was and what it left behind, as JSON.
 *   node disk-full-child.js INSTANCES_DIR SAMPLE
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { NodeController, OperationError } from '../../engine/controller/index.js';
import { connect } from '../../engine/libvirt/index.js';
import { sampleInstance, shippedTransform } from './fixtures.js';

process.on('SIGXFSZ', () => undefined); // get EFBIG from write() instead of being killed

const [instancesDir, sample] = process.argv.slice(2);
const conn = await connect({ uri: 'test:///default' });
const nc = await NodeController.open({ instancesDir, connection: conn, transform: shippedTransform() });
const inst = await sampleInstance(sample);
const out: Record<string, unknown> = { id: inst.name };
try {
  await nc.launch(inst);
  out.launched = true;
} catch (e) {
  out.error = e instanceof OperationError ? { code: e.code, step: e.step, rolledBack: e.rolledBack, message: e.message } : String(e);
}
out.domains = (await conn.list()).map((d) => d.name).filter((n) => n !== 'test');
out.folder = existsSync(join(instancesDir, inst.name));
out.entries = existsSync(instancesDir) ? readdirSync(instancesDir) : [];
process.stdout.write(JSON.stringify(out) + '\n');
await conn.close();
