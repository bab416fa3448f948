import { checkHost, type HostCheck } from '../controller/host-check.js';
import { DomforgeError } from '../errors.js';
import type { RegisterCommand } from './commands.js';
import { printTable, type CliIo } from './io.js';
import { common, controllerOptions, json, type CommonOptions } from './lifecycle.js';

/**
 * `domforge check` (alias `doctor`): whether this host can run domforge as the common options
 * configure it — Node, the libvirt binding and connection, KVM, libvirt's schema, virsh,
 * xsltproc, the transform (rendered on the bundled sample in a sandbox), the instances folder,
 * the host locks, the hooks and XML filters, the node status, huge pages. Changes nothing. Exit 1 when a check fails.
 */
export const registerCheck: RegisterCommand = (program, io) => {
  common(
    program
      .command('check')
      .alias('doctor')
      .description(
        'Check that this host can run domforge as configured (Node.js, libvirt binding, libvirt connection, KVM, domain schema, virsh, xsltproc, the transform on the bundled sample, instances folder, host locks, hooks, filters, node status, huge pages). Changes nothing; exit 1 when a check fails.',
      ),
  ).action(async (o: CommonOptions) => {
    const c = controllerOptions(o);
    const checks = await checkHost({
      uri: c.uri,
      instancesDir: c.instancesDir,
      hooksDir: c.hooksDir,
      transform: typeof c.transform === 'string' ? c.transform : undefined,
    });
    if (o.json) json(io, checks);
    else printChecks(io, checks);
    const failed = checks.filter((x) => x.status === 'fail');
    if (failed.length) {
      throw new DomforgeError('HOST_CHECK_FAILED', `${failed.length} of ${checks.length} checks failed: ${failed.map((x) => x.name).join(', ')}`);
    }
  });
};

function printChecks(io: CliIo, checks: HostCheck[]): void {
  printTable(io, [['STATUS', 'CHECK', 'DETAIL'], ...checks.map((x) => [x.status, x.name, x.detail])]);
  const hinted = checks.filter((x) => x.hint && x.status !== 'ok');
  if (hinted.length) io.stdout('\n');
  for (const x of hinted) io.stdout(`${x.name}: ${x.hint}\n`);
}
