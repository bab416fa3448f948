import type { Command } from 'commander';
import { KvpError, UsageError } from '../errors.js';
import { readInstanceFile } from '../instance/parse.js';
import { readInstanceJsonFile } from '../instance/from-json.js';
import { isJsonInstancePath } from '../instance/input.js';
import { LIMIT_PROFILES, type KvpRecord, type LimitProfile } from '../kvp/constants.js';
import { assertUniqueKeys } from '../kvp/limits.js';
import { renderKvpItem } from '../kvp/cim-xml.js';
import { reassemble } from '../kvp/chunking.js';
import { KvpTruncatedPoolError } from '../kvp/errors.js';
import { kvpItemsFromInstance, type KvpItemsOptions } from '../kvp/from-instance.js';
import { renderAddKvpItemsEnvelope, renderRemoveKvpItemsEnvelope, type HypervNamespace, type KvpItemsCallOptions } from '../kvp/hyperv-calls.js';
import { readPoolFile, writePoolFile } from '../kvp/pool-io.js';
import { operationTimeoutProblem } from '../kvp/wsman-envelope.js';
import { refuseOutOverInput, refuseStdoutImage, type CliIo } from './io.js';
import type { RegisterCommand } from './commands.js';
import { integerFlag, positiveDecimalFlag } from './number-flags.js';

/**
 * `domforge kvp …`: Hyper-V KVP data exchange.
 *   kvp encode   (--instance FILE | --set k=v …) --out POOL   write the pool file a guest would see
 *   kvp decode   POOL [--json] [--payload BASE] [--strict]    read a pool file (hv_kvp_daemon's or ours)
 *   kvp items    (--instance FILE | --set k=v …) [--json]     print the CIM-XML DataItems
 *   kvp envelope add    --vm-name GUID [--host H] (--instance FILE | --set k=v …)   AddKvpItems envelope
 *   kvp envelope remove --vm-name GUID [--host H] --key K …                        RemoveKvpItems envelope
 */

interface ItemSourceOptions {
  instance?: string;
  set?: KvpRecord[];
  prefix?: string;
  ignition?: string;
  cloudstack?: string | boolean;
  form?: string;
}

/** Collects a repeatable `--set key=value` into records (the value may contain `=`). */
function collectSet(value: string, previous: KvpRecord[] = []): KvpRecord[] {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new UsageError(`--set expects key=value, got ${JSON.stringify(value)}`);
  return [...previous, { key: value.slice(0, eq), value: value.slice(eq + 1) }];
}

function collectKey(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new UsageError(`Expected \`${flag}\` to be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

function addItemSourceOptions(c: Command): Command {
  return c
    .option('--instance <file>', 'instance.xml (or a .json instance description) whose user data, metadata, SSH key and password become items')
    .option('--set <key=value>', 'add one raw item (repeatable; after the instance\'s items)', collectSet)
    .option('--prefix <prefix>', 'prefix of domforge\'s base names (default: euca)')
    .option('--ignition <mode>', 'also publish Ignition user data as ignition.config: auto, always or never (default: auto)')
    .option('--cloudstack [value]', 'add the single key cloudstack-vm-userdata: the user data text, or the value given')
    .option('--form <form>', 'chunked (B.0…B.N-1, default) or auto (single key B when the payload fits 990 bytes)');
}

/** The records an `--instance` and/or `--set` options select. */
async function itemsFrom(opts: ItemSourceOptions): Promise<KvpRecord[]> {
  if (!opts.instance && !opts.set?.length) throw new UsageError('give --instance FILE or at least one --set key=value');
  const records: KvpRecord[] = [];
  if (opts.instance) {
    const instance = isJsonInstancePath(opts.instance) ? await readInstanceJsonFile(opts.instance) : await readInstanceFile(opts.instance);
    const options: KvpItemsOptions = {
      prefix: opts.prefix,
      ignition: oneOf('--ignition', opts.ignition, ['auto', 'always', 'never'] as const),
      cloudstack: opts.cloudstack,
      form: oneOf('--form', opts.form, ['chunked', 'auto'] as const),
    };
    try {
      // A refusal of one of the instance's fields names its file and line.
      records.push(...kvpItemsFromInstance(instance, options));
    } catch (e) {
      if (e instanceof KvpError && !e.file) throw new KvpError(e.shortMessage, { file: opts.instance, path: e.path, cause: e, details: e.details });
      throw e;
    }
  }
  records.push(...(opts.set ?? []));
  return records;
}

/**
 * `key=value` with backslash escapes for `\`, control characters (C0, DEL and C1, U+0080 to
 * U+009F, among them U+009B, a terminal's CSI) and line ends, one record a line.
 */
export function formatRecordLine(r: KvpRecord): string {
  const esc = (s: string) =>
    s.replace(/[\\\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
      if (c === '\\') return '\\\\';
      if (c === '\n') return '\\n';
      if (c === '\r') return '\\r';
      if (c === '\t') return '\\t';
      return '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0');
    });
  return `${esc(r.key).replace(/=/g, '\\u003d')}=${esc(r.value)}`;
}

function vmmsOptions(opts: { host?: string; endpoint?: string; namespace?: string; messageId?: string; timeout?: string }): Omit<KvpItemsCallOptions, 'vmName' | 'items'> {
  const timeout = opts.timeout === undefined ? undefined : operationTimeoutFlag(opts.timeout);
  return {
    host: opts.host ?? 'localhost',
    endpoint: opts.endpoint,
    namespace: oneOf<HypervNamespace>('--namespace', opts.namespace, ['v1', 'v2']),
    messageId: opts.messageId,
    operationTimeoutSeconds: timeout,
  };
}

/** `--timeout` in seconds, within what `w:OperationTimeout` can say (see operationTimeoutProblem). */
function operationTimeoutFlag(value: string): number {
  const n = positiveDecimalFlag('--timeout', value, 'seconds');
  const problem = operationTimeoutProblem(n);
  if (problem) throw new UsageError(`Expected \`--timeout\` to be ${problem}, got ${JSON.stringify(value)}`);
  return n;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function noteVmName(io: CliIo, vmName: string): void {
  if (!GUID.test(vmName)) {
    io.stderr(`domforge: note: --vm-name is the Name key of Msvm_ComputerSystem, which Hyper-V sets to the VM's GUID; ${JSON.stringify(vmName)} does not look like one\n`);
  }
}

function addCallOptions(c: Command): Command {
  return c
    .requiredOption('--vm-name <guid>', 'Name key of the target Msvm_ComputerSystem: the VM\'s GUID (Get-VM | Select Id)')
    .option('--host <name>', 'Hyper-V host computer name: SystemName of the service and the default endpoint (default: localhost)')
    .option('--endpoint <url>', 'WinRM endpoint (default: http://HOST:5985/wsman)')
    .option('--namespace <ns>', 'WMI namespace: v2 (root\\virtualization\\v2, default) or v1')
    .option('--message-id <id>', 'a:MessageID (default: a random uuid:)')
    .option('--timeout <seconds>', 'w:OperationTimeout in seconds, from 0.001 to 4294967.295 (default: 60)');
}

export const registerKvp: RegisterCommand = (program, io) => {
  const kvp = program.command('kvp').description('Hyper-V KVP data exchange: pool files, CIM-XML items and WS-Management envelopes.');

  addItemSourceOptions(kvp.command('encode').description('Write the pool-0 file (.kvp_pool_0) a guest sees once the items are delivered.'))
    .requiredOption('--out <file>', 'pool file to write (atomically, mode 0600)')
    .option('--profile <profile>', `limits every record is checked against: ${LIMIT_PROFILES.join(', ')} (default: host)`)
    .option('--json', 'print the result as JSON')
    .action(async (opts: ItemSourceOptions & { out: string; profile?: string; json?: boolean }) => {
      const profile = oneOf<LimitProfile>('--profile', opts.profile, LIMIT_PROFILES) ?? 'host';
      refuseStdoutImage(opts.out, 'the pool file');
      if (opts.instance) await refuseOutOverInput(opts.out, opts.instance, 'the pool file');
      const records = await itemsFrom(opts);
      await writePoolFile(opts.out, records, { profile });
      const bytes = records.length * 2560;
      if (opts.json) io.stdout(JSON.stringify({ path: opts.out, records: records.length, bytes, keys: records.map((r) => r.key) }) + '\n');
      else io.stdout(`wrote ${opts.out}: ${records.length} records, ${bytes} bytes\n`);
    });

  kvp
    .command('decode')
    .description('Read a pool file (written by hv_kvp_daemon, Ignition or domforge) and print its records.')
    .argument('<pool>', 'pool file, e.g. /var/lib/hyperv/.kvp_pool_0')
    .option('--json', 'print {records, trailingBytes} as JSON')
    .option('--payload <base>', 'print only the payload stored under base name B (B, or B.0 … B.N-1)')
    .option('--strict', 'fail on a partial record at the end and on invalid UTF-8')
    .action(async (pool: string, opts: { json?: boolean; payload?: string; strict?: boolean }) => {
      const decoded = await readPoolFile(pool, opts.strict ? { partialRecord: 'error', fatal: true } : {});
      if (decoded.trailingBytes && !opts.json) {
        io.stderr(`domforge: warning: ${new KvpTruncatedPoolError(decoded.trailingBytes, { file: pool }).message}; the whole records are shown (--strict makes this an error)\n`);
      }
      if (opts.payload !== undefined) {
        const value = reassemble(decoded.records, opts.payload);
        if (value === undefined) throw new KvpError(`no payload ${JSON.stringify(opts.payload)} (neither the key nor ${opts.payload}.0)`, { file: pool });
        if (opts.json) io.stdout(JSON.stringify({ base: opts.payload, value, trailingBytes: decoded.trailingBytes }) + '\n');
        else io.stdout(value);
        return;
      }
      if (opts.json) io.stdout(JSON.stringify({ records: decoded.records, trailingBytes: decoded.trailingBytes }) + '\n');
      else for (const r of decoded.records) io.stdout(formatRecordLine(r) + '\n');
    });

  addItemSourceOptions(
    kvp
      .command('items')
      .description('Print the Msvm_KvpExchangeDataItem instances (CIM-XML) for AddKvpItems, each followed by a newline (line feeds in a value stay literal, so use --json to split them reliably).'),
  )
    .option('--source <n>', 'Source property (default: 0, host to guest)')
    .option('--json', 'print a JSON array of the instance strings')
    .action(async (opts: ItemSourceOptions & { source?: string; json?: boolean }) => {
      const source = opts.source === undefined ? 0 : integerFlag('--source', opts.source, 0, undefined, { value: 0xffff, why: 'Source is a uint16' });
      const records = await itemsFrom(opts);
      // They are AddKvpItems' DataItems: a key given twice (by --set and the instance, say) would fail the call.
      assertUniqueKeys(records, 'in one AddKvpItems call');
      const lines = records.map((r) => renderKvpItem(r.key, r.value, source));
      io.stdout(opts.json ? JSON.stringify(lines) + '\n' : lines.map((l) => l + '\n').join(''));
    });

  const envelope = kvp.command('envelope').description('Print the WS-Management envelope of a Msvm_VirtualSystemManagementService KVP method.');
  addCallOptions(addItemSourceOptions(envelope.command('add').description('AddKvpItems: add the items to a VM (at most 128 in one call).')))
    .option('--cdata', 'embed each item as CDATA instead of escaped text')
    .action(async (opts: ItemSourceOptions & { vmName: string; host?: string; endpoint?: string; namespace?: string; messageId?: string; timeout?: string; cdata?: boolean }) => {
      const items = await itemsFrom(opts);
      noteVmName(io, opts.vmName);
      io.stdout(renderAddKvpItemsEnvelope({ ...vmmsOptions(opts), vmName: opts.vmName, items, embedding: opts.cdata ? 'cdata' : 'text' }));
    });
  addCallOptions(envelope.command('remove').description('RemoveKvpItems: remove items from a VM by key.'))
    .requiredOption('--key <key>', 'key to remove (repeatable)', collectKey)
    .action(async (opts: { key: string[]; vmName: string; host?: string; endpoint?: string; namespace?: string; messageId?: string; timeout?: string }) => {
      noteVmName(io, opts.vmName);
      io.stdout(renderRemoveKvpItemsEnvelope({ ...vmmsOptions(opts), vmName: opts.vmName, items: opts.key.map((key) => ({ key, value: '' })) }));
    });
};
