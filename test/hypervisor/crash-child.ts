/**
 * A controller that dies: `node crash-child.js URI INSTANCES HOOKS OPERATION STEP [INSTANCE.XML | ID] [DEVICE.JSON]`
 * runs one launch (of the instance file), terminate (of the id), or attach-volume /
 * attach-interface (to the id, of the VolumeAttachment / InterfaceAttachment given as JSON)
 * and kills itself with SIGKILL just before STEP begins, or once the operation has returned
 * when STEP is `done` — as the OOM killer or an admin's `kill -9` would end a controller. Before dying it prints
 * the pids of its own child processes (its sandbox worker), for the test to check that none
 * outlives it for long.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { NodeController, type InterfaceAttachment, type VolumeAttachment } from '../../engine/controller/index.js';
import { readInstanceFile } from '../../engine/instance/index.js';

type Operation = 'launch' | 'terminate' | 'attach-volume' | 'attach-interface';
const [uri, instancesDir, hooksDir, operation, step, target, device] = process.argv.slice(2) as [string, string, string, Operation, string, string, string?];

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
else if (operation === 'terminate') await nc.terminate(target);
else if (operation === 'attach-volume') await nc.attachVolume(target, JSON.parse(device!) as VolumeAttachment);
else await nc.attachInterface(target, JSON.parse(device!) as InterfaceAttachment);
die();
