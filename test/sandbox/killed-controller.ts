// A controller process that is killed mid-render (by leftovers.test.ts): it starts a sandbox
// worker rendering ARGV[2] with libxslt, says `rendering`, and waits to be killed.
import { TransformSandbox } from '../../engine/transform/sandbox/index.js';

const [file, input] = [process.argv[2]!, process.argv[3]!];
const sandbox = new TransformSandbox({ size: 1, timeoutMs: 600_000 });
const t = await sandbox.load(file, { engine: 'libxslt' });
void t.render({ xml: input, file: 'instance.xml' }).catch(() => undefined);
process.stdout.write('rendering\n');
setInterval(() => undefined, 1000);
