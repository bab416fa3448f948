/**
 * A controller that dies: `node crash-child.js URI INSTANCES HOOKS OPERATION STEP [INSTANCE.XML | ID]`
 * runs one launch (of the instance file) or terminate (of the id) and kills itself with
 * SIGKILL just before STEP begins, or once the operation has returned when STEP is `done`
 * — as the OOM killer or an admin's `kill -9` would end a controller. Before dying it prints
 * the pids of its own child processes (its sandbox worker), for the test to check that none
 * outlives it for long.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { NodeController } from '../../engine/controller/index.js';
import { readInstanceFile } from '../../engine/instance/index.js';

const [uri, instancesDir, hooksDir, operation, step, target] = process.argv.slice(2) as [string, string, string, 'launch' | 'terminate', string, string];

function children(): number[] {
  const pids: number[] = [];
  for (const task of readdirSync('/proc/self/task')) {
    for (const p of readFileSync(`/proc/self/task/${task}/children`, 'utf8').trim().split(/\s+/)) if (p) pids.push(Number(p));
  }
  return pids;
}

function die(): never {
  process.stdout.write(`children ${JSON.stringify(children())}\n`);
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

const nc = await NodeController.open({
  instancesDir,
  uri,
  hooksDir,
  onStep: (e) => {
    if (e.step === step) die();
  },
});
if (operation === 'launch') await nc.launch(await readInstanceFile(target));
else await nc.terminate(target);
die();
