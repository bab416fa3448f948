/**
 * Eucalyptus's ncAssignAddress: the cloud tells the node which public address an instance has
 * now (an elastic IP associated, or `0.0.0.0` when it is disassociated). The node only records
 * it — in the primary interface's `publicIp` in instance.xml, where `describe` and the
 * cloud's DescribeInstances read it; the address itself is set up by the cloud's network
 * layer, not here. The config drive, built at launch, is not rebuilt: a guest learns a new
 * public address from the metadata service, as on EC2.
 */
import { isIPv4 } from 'node:net';
import { UsageError } from '../errors.js';
import { InstanceLog } from './instance-log.js';
import { checkInstanceId } from './layout.js';
import type { ControllerContext } from './options.js';
import { readRecord, writeRecord } from './record.js';
import { Steps, type StepTiming } from './steps.js';
import { StateConflictError } from './errors.js';

/** Eucalyptus's "no public address". */
export const NO_ADDRESS = '0.0.0.0';

export interface AssignAddressResult {
  id: string;
  /** The address recorded now (`0.0.0.0`: none). */
  publicIp: string;
  /** What the record had before ('' when it had none). */
  previous: string;
  /** The interface that holds it: the primary one (device 0). */
  mac: string;
  steps: StepTiming[];
}

/** A dotted-quad IPv4 address, as Eucalyptus passes them; `0.0.0.0` clears the instance's. */
export function checkPublicIp(ip: unknown): string {
  if (typeof ip !== 'string' || !isIPv4(ip)) {
    throw new UsageError(`Expected the public address to be an IPv4 address such as 203.0.113.10 (0.0.0.0 for none), got \`${String(ip)}\` (${typeof ip})`);
  }
  return ip;
}

export async function assignAddress(ctx: ControllerContext, id: string, publicIp: string): Promise<AssignAddressResult> {
  checkInstanceId(id);
  const ip = checkPublicIp(publicIp);
  return ctx.locks.run(id, `assign-address of ${id}`, async () => {
    const log = new InstanceLog(ctx.layout.log(id), id, 'assign-address', ctx.log);
    const steps = new Steps('assign-address', id, log, ctx.onStep);
    const record = await steps.run('read-record', () => readRecord(ctx.layout, id));
    const result = await steps.run('record', async () => {
      const i = record.nics.findIndex((n) => (n.device ?? 0) === 0);
      if (i < 0) {
        throw new StateConflictError(`${id} has no primary network interface (device 0) to hold a public address`, { instanceId: id, file: ctx.layout.instanceXml(id), path: '/instance/nics' });
      }
      const nic = record.nics[i]!;
      if (nic.publicIp !== ip) {
        const nics = record.nics.map((n, j) => (j === i ? { ...n, publicIp: ip } : n));
        await writeRecord(ctx.layout, { ...record, nics });
      }
      return { previous: nic.publicIp, mac: nic.mac };
    });
    log.info(`public address ${ip === NO_ADDRESS ? 'cleared' : ip}${result.previous && result.previous !== ip ? ` (was ${result.previous})` : ''}`);
    await log.flush();
    return { id, publicIp: ip, previous: result.previous, mac: result.mac, steps: steps.timings };
  });
}
