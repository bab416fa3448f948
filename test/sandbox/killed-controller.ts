// A controller process that is killed mid-render (by leftovers.test.ts): it renders ARGV[2]
// with libxslt — in a sandbox worker process, in a worker thread (ARGV[4] `thread`), or on
// its own thread without a sandbox (ARGV[4] `none`) — says `rendering`, and waits to be killed.
import { TransformSandbox } from '../../engine/transform/sandbox/index.js';
import { loadTransform } from '../../engine/transform/load.js';

const [file, input] = [process.argv[2]!, process.argv[3]!];
const isolation = (process.argv[4] ?? 'process') as 'process' | 'thread' | 'none';
const t = isolation === 'none' ? await loadTransform(file, { engine: 'libxslt' }) : await new TransformSandbox({ size: 1, timeoutMs: 600_000, isolation }).load(file, { engine: 'libxslt' });
void t.render({ xml: input, file: 'instance.xml' }).catch(() => undefined);
process.stdout.write('rendering\n');
setInterval(() => undefined, 1000);
