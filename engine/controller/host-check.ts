/**
 * Whether this host can run domforge as configured, checked piece by piece before the first
 * launch does it the hard way — what `virt-host-validate` and `nova-status upgrade check` do
 * for their tools. Each check says `ok`, `warn` (works, with a loss an operator should know
 * of) or `fail` (a launch would fail), what it found, and what to do about it.
 *
 * Nothing is changed: no folder is created, no domain defined. The transform is compiled
 * and rendered in a sandbox worker (as a controller renders it), on the bundled sample.
 */
import { constants, existsSync } from 'node:fs';
import { access, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DomforgeError } from '../errors.js';
import { discoverExecutables, FAIL_OPEN_SUFFIX, isIgnoredName } from '../hooks/discover.js';
import { runProcess, succeeded } from '../hooks/run-process.js';
import { whyScriptCannotStart } from '../hooks/spawn-error.js';
import { loadBinding, type BindingLoader } from '../libvirt/binding.js';
import { connect } from '../libvirt/pool.js';
import { isTestDriverUri, resolveUri } from '../libvirt/uri.js';
import { LibvirtUnavailableError } from '../libvirt/errors.js';
import { runVirsh } from '../libvirt/virsh.js';
import { readInputText } from '../instance/input.js';
import { renderText } from '../render/render.js';
import { defaultTransformPath, shippedSamplesDir } from '../transform/defaults.js';
import { TransformSandbox } from '../transform/sandbox/pool.js';
import { RENDER_WORKER } from '../transform/sandbox/options.js';
import { hasXsltproc } from '../transform/xslt/guard.js';
import { canTieChildren } from '../transform/xslt/children.js';
import { loadDomainSchema, resolveDomainSchemaPath } from '../validate/schema.js';
import { fileSystemSpace, readHugepagePools, HUGEPAGES_SYSFS_DIR } from './host-resources.js';
import { hostLocking } from './options.js';
import { InstanceLayout } from './layout.js';
import { readNodeState } from './node-state.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface HostCheck {
  /** What was checked: `node`, `libvirt binding`, `libvirt connection`… */
  name: string;
  status: CheckStatus;
  /** What was found. */
  detail: string;
  /** What to do, for a `warn` or `fail`. */
  hint?: string;
}

export interface HostCheckOptions {
  /** Default: `LIBVIRT_DEFAULT_URI`, else `test:///default`. */
  uri?: string;
  instancesDir: string;
  hooksDir?: string;
  /** The XML filters folder. Default: `<hooksDir>/filters.d`; without `hooksDir` no filters run, as in a controller. */
  filtersDir?: string;
  /** Default: the shipped transforms/libvirt.xsl. */
  transform?: string;
  /** The instance the transform renders (default: the bundled sample 01-linux-virtio). */
  sample?: string;
  /** Replaces the loader of @unraid/libvirt (tests). */
  loader?: BindingLoader;
  /** Where `/dev/kvm` is looked for when virsh cannot ask libvirt (tests). Default `/dev/kvm`. */
  kvmDevice?: string;
  /** The virsh program (default `virsh` on PATH). */
  virsh?: string;
  hugepagesDir?: string;
}

export const CHECK_SAMPLE = join(shippedSamplesDir(), '01-linux-virtio', 'instance.xml');

const firstLine = (e: unknown) => (e instanceof DomforgeError ? e.fullMessage : String((e as Error)?.message ?? e)).split('\n')[0]!;

/** Runs every check, in order; one that cannot run because an earlier one failed says so. */
export async function checkHost(o: HostCheckOptions): Promise<HostCheck[]> {
  const out: HostCheck[] = [];
  const uri = resolveUri(o.uri);
  const testUri = isTestDriverUri(uri);

  const major = Number(process.versions.node.split('.')[0]);
  out.push(
    major >= 20
      ? { name: 'node', status: 'ok', detail: `Node.js ${process.versions.node}` }
      : { name: 'node', status: 'fail', detail: `Node.js ${process.versions.node}`, hint: 'domforge needs Node.js 20 or later' },
  );

  let binding = false;
  try {
    await loadBinding(o.loader);
    binding = true;
    out.push({ name: 'libvirt binding', status: 'ok', detail: '@unraid/libvirt loads' });
  } catch (e) {
    out.push({ name: 'libvirt binding', status: 'fail', detail: firstLine(e), hint: 'launch and every instance command need it; render and validate do not' });
  }

  if (!binding) {
    out.push({ name: 'libvirt connection', status: 'fail', detail: `not tried: the binding does not load (${uri})` });
  } else {
    try {
      const conn = await connect({ uri, loader: o.loader });
      const n = await conn.nodeInfo();
      out.push({
        name: 'libvirt connection',
        status: testUri ? 'warn' : 'ok',
        detail: `${uri}: ${n.cpus} CPUs, ${n.memoryKiB} KiB`,
        ...(testUri ? { hint: `${uri} is libvirt's test driver: its domains live in this process only and run no guest; give --uri qemu:///system (or LIBVIRT_DEFAULT_URI) for real guests` } : {}),
      });
    } catch (e) {
      out.push({ name: 'libvirt connection', status: 'fail', detail: firstLine(e), hint: `is libvirtd running, and may this user use ${uri}?` });
    }
  }

  if (/^qemu(\+\w+)?:\/\//.test(uri)) out.push(await checkKvm(uri, o.kvmDevice ?? '/dev/kvm', o.virsh));

  let schemaOk = false;
  try {
    const schemaPath = resolveDomainSchemaPath();
    const t = performance.now();
    await loadDomainSchema();
    schemaOk = true;
    out.push({ name: 'domain schema', status: 'ok', detail: `${schemaPath} compiles (${Math.round(performance.now() - t)} ms)` });
  } catch (e) {
    out.push({ name: 'domain schema', status: 'fail', detail: firstLine(e), hint: 'every render validates against it: install libvirt, or point DOMFORGE_LIBVIRT_SCHEMAS at the folder holding domain.rng' });
  }

  const virsh = await runProcess(o.virsh ?? 'virsh', { args: ['--version'], timeoutMs: 10_000, killGraceMs: 1_000, maxBuffer: 4096 });
  out.push(
    succeeded(virsh)
      ? { name: 'virsh', status: 'ok', detail: `virsh ${virsh.stdout.trim()}` }
      : testUri
        ? { name: 'virsh', status: 'ok', detail: `not installed; not needed on ${uri}` }
        : { name: 'virsh', status: 'warn', detail: 'not installed', hint: 'hot-plug (attach/detach) and per-device stats on a daemon URI run virsh: apt-get install libvirt-clients' },
  );

  out.push(
    !hasXsltproc()
      ? { name: 'xsltproc', status: 'warn', detail: 'not installed', hint: "XSLT transforms then run without the differential guard against libxslt: apt-get install xsltproc" }
      : canTieChildren()
        ? { name: 'xsltproc', status: 'ok', detail: 'installed: XSLT transforms are checked against libxslt when they change; each xsltproc ends with the thread that starts it (setpriv --pdeathsig)' }
        : {
            name: 'xsltproc',
            status: 'warn',
            detail: 'installed, but setpriv cannot tie it to the thread that starts it',
            hint: "an xsltproc started by a worker thread or without a sandbox outlives a controller killed mid-render: install util-linux's setpriv (2.33 or later)",
          },
  );

  const transform = o.transform ?? defaultTransformPath();
  const sample = o.sample ?? CHECK_SAMPLE;
  if (!schemaOk) {
    out.push({ name: 'transform', status: 'fail', detail: `not tried: without libvirt's schema nothing it renders can be validated (${transform})` });
  } else {
    const sandbox = new TransformSandbox({ ...RENDER_WORKER });
    try {
      const t = await sandbox.load(transform);
      const r = await renderText(await readInputText(sample, 'instance'), { file: sample, transform: t, validate: true, schema: 'wasm' });
      out.push({
        name: 'transform',
        status: r.warnings.length ? 'warn' : 'ok',
        detail: `${transform} (${t.kind}) renders ${sample} into a valid domain${r.warnings.length ? `, with ${r.warnings.length} warning${r.warnings.length === 1 ? '' : 's'}: ${r.warnings[0]}` : ''}`,
      });
    } catch (e) {
      out.push({ name: 'transform', status: 'fail', detail: firstLine(e), hint: `every launch renders through it: domforge render --transform ${transform} --instance ${sample} shows the same` });
    } finally {
      await sandbox.close();
    }
  }

  out.push(await checkInstancesFolder(o.instancesDir));
  out.push(await checkHostLocks(o.instancesDir));
  out.push(await checkHooks(o.hooksDir));
  // As a controller: filters run only with a hooks folder, from filters.d in it unless filtersDir is given.
  out.push(await checkFilters(o.hooksDir === undefined ? undefined : (o.filtersDir ?? join(o.hooksDir, 'filters.d'))));

  try {
    const state = await readNodeState(new InstanceLayout(o.instancesDir));
    out.push(
      state.enabled
        ? { name: 'node status', status: 'ok', detail: state.recorded ? `enabled (${state.file})` : 'enabled (no nc_state.xml)' }
        : { name: 'node status', status: 'warn', detail: `disabled (${state.file})`, hint: 'launch and start are refused until `domforge node enable`' },
    );
  } catch (e) {
    out.push({ name: 'node status', status: 'fail', detail: firstLine(e), hint: 'every launch is refused until the file is mended (or removed: enabled)' });
  }

  const pools = await readHugepagePools(o.hugepagesDir ?? HUGEPAGES_SYSFS_DIR).catch(() => []);
  const withPages = pools.filter((p) => p.totalCount > 0);
  out.push({
    name: 'huge pages',
    status: 'ok',
    detail: withPages.length
      ? withPages.map((p) => `${p.pageSizeKiB} KiB: ${p.freeCount - p.reservedCount} of ${p.totalCount} free`).join(', ')
      : `no pool has pages${pools.length ? ` (sizes ${pools.map((p) => `${p.pageSizeKiB} KiB`).join(', ')})` : ''}: instances with <hugepages> will fail to start until one is filled`,
  });
  return out;
}

const KVM_HINT =
  'instances of hypervisor type kvm will fail to start; type qemu runs under software emulation (slow). Enable virtualization in the firmware and load kvm_intel or kvm_amd';

/**
 * Whether guests of type kvm can run: libvirt's own answer (`virsh capabilities` offers
 * `<domain type='kvm'>` once QEMU has found /dev/kvm usable), on the host the URI names; without
 * virsh, whether this machine's /dev/kvm can be opened.
 */
async function checkKvm(uri: string, device: string, virsh = 'virsh'): Promise<HostCheck> {
  const name = 'kvm';
  try {
    const caps = (await runVirsh(['capabilities'], { uri, virsh, operation: 'read the capabilities', timeoutMs: 20_000 })).stdout;
    return /<domain type=['"]kvm['"]/.test(caps)
      ? { name, status: 'ok', detail: `libvirt offers domain type kvm on ${uri} (virsh capabilities): hardware acceleration` }
      : { name, status: 'warn', detail: `libvirt offers no domain type kvm on ${uri} (virsh capabilities)`, hint: KVM_HINT };
  } catch (e) {
    if (!(e instanceof LibvirtUnavailableError)) return { name, status: 'warn', detail: `virsh capabilities failed: ${firstLine(e)}`, hint: KVM_HINT };
  }
  const usable = await access(device, constants.R_OK | constants.W_OK).then(
    () => true,
    () => false,
  );
  return usable
    ? { name, status: 'ok', detail: `${device} can be opened by this user (no virsh to ask libvirt; this machine only)` }
    : { name, status: 'warn', detail: `${device} ${existsSync(device) ? 'is not usable by this user' : 'does not exist'} (no virsh to ask libvirt; this machine only)`, hint: KVM_HINT };
}

async function checkInstancesFolder(dir: string): Promise<HostCheck> {
  const name = 'instances folder';
  const s = await stat(dir).catch((e: NodeJS.ErrnoException) => e);
  if (s instanceof Error) {
    if (s.code !== 'ENOENT') return { name, status: 'fail', detail: `${dir}: ${s.message}` };
    const space = await fileSystemSpace(dir);
    const writable = await access(space.path, constants.W_OK).then(
      () => true,
      () => false,
    );
    return writable
      ? { name, status: 'ok', detail: `${dir} does not exist yet: the first launch creates it (${space.path}: ${gib(space.availableBytes)} free)` }
      : { name, status: 'fail', detail: `${dir} does not exist, and ${space.path} is not writable by this user`, hint: 'create it, or run as the user that owns it' };
  }
  if (!s.isDirectory()) return { name, status: 'fail', detail: `${dir} is not a folder` };
  const writable = await access(dir, constants.W_OK | constants.X_OK).then(
    () => true,
    () => false,
  );
  if (!writable) return { name, status: 'fail', detail: `${dir} is not writable by this user`, hint: 'run as the user that owns it' };
  const space = await fileSystemSpace(dir);
  return { name, status: 'ok', detail: `${dir}: writable, ${gib(space.availableBytes)} free of ${gib(space.totalBytes)}` };
}

/** The host-wide instance locks (abstract sockets) can be taken here: a probe lock in the instances folder's scope, taken and released. */
async function checkHostLocks(instancesDir: string): Promise<HostCheck> {
  try {
    const held = await (await hostLocking(instancesDir)).tryTake(`domforge-check-${process.pid}`, 'domforge check');
    if (!held) return { name: 'host locks', status: 'warn', detail: 'the probe lock is held by another process', hint: 'run the check again' };
    await held.release();
    return { name: 'host locks', status: 'ok', detail: "one operation at a time per instance across the host's processes (Linux abstract sockets)" };
  } catch (e) {
    return {
      name: 'host locks',
      status: 'fail',
      detail: firstLine(e),
      hint: 'every operation on an instance takes one; `hostLocks: false` keeps them inside one controller, for a folder no other process changes',
    };
  }
}

/** What a folder of hooks or filters holds: the programs that run, those that cannot start (in the runner's words), and scripts left without their execute bit. */
interface FolderPrograms {
  run: string[];
  unstartable: { name: string; message: string }[];
  idle: string[];
}

/**
 * The programs of `dir` as the runner finds them (same discovery), each checked for a `#!`
 * line the kernel would refuse (whyScriptCannotStart, the runner's own diagnosis), and named
 * as the runner names it at its start (`hook 20-bad`, `XML filter 20-bad`); a folder that cannot
 * be read is named `folder` (`hooks folder`, `filters folder`), as the runner names it.
 */
async function scanPrograms(dir: string, label: string, folder: string): Promise<FolderPrograms> {
  const found = await discoverExecutables(dir, folder);
  const run = found.map((x) => x.name);
  // What the runner would say at the program's start (a missing or CRLF-ended #! interpreter), said now rather than at every launch.
  const unstartable = found.flatMap((x) => {
    const why = whyScriptCannotStart(x.path);
    return why ? [{ name: x.name, message: `${label} ${x.name} could not be started: ${why}` }] : [];
  });
  const entries = await readdir(dir, { withFileTypes: true });
  const candidates = entries.filter((e) => (e.isFile() || e.isSymbolicLink()) && !isIgnoredName(e.name) && !run.includes(e.name)).map((e) => e.name);
  // A script with a #! line that is not executable is a program someone forgot to chmod; other files (a README, a package.json) are not.
  const idle: string[] = [];
  for (const n of candidates) if (await startsWithShebang(join(dir, n))) idle.push(n);
  return { run, unstartable, idle };
}

const FIX_SHEBANG = "fix the #! line (a carriage return at its end is a file saved with Windows line endings: sed -i 's/\\r$//' FILE)";
const NOT_EXECUTABLE = (what: string) => `scripts with a #! line that are not executable are not run: chmod +x the ${what} that should`;

async function checkHooks(dir: string | undefined): Promise<HostCheck> {
  const name = 'hooks';
  if (dir === undefined) return { name, status: 'ok', detail: 'no hooks folder given: no hooks run' };
  if (!existsSync(dir)) return { name, status: 'warn', detail: `${dir} does not exist: no hooks run`, hint: 'a mistyped --hooks launches without them; Eucalyptus takes a missing folder as no hooks too' };
  let p: FolderPrograms;
  try {
    p = await scanPrograms(dir, 'hook', 'hooks folder');
  } catch (e) {
    return { name, status: 'fail', detail: `${dir}: ${firstLine(e)}` };
  }
  const detail = `${dir}: ${p.run.length ? `runs ${p.run.join(', ')}` : 'no executable hooks'}`;
  // Both are said when both are found: the forgotten chmod must not wait for the #! fix to show.
  const idleNote = p.idle.length ? `; not run, not executable: ${p.idle.join(', ')}` : '';
  if (p.unstartable.length) {
    const hint = `every launch would fail at pre-boot: ${FIX_SHEBANG}`;
    return { name, status: 'fail', detail: `${detail}; ${p.unstartable.map((x) => x.message).join('; ')}${idleNote}`, hint: p.idle.length ? `${hint}; ${NOT_EXECUTABLE('ones')}` : hint };
  }
  if (p.idle.length) return { name, status: 'warn', detail: `${detail}${idleNote}`, hint: NOT_EXECUTABLE('ones') };
  return { name, status: 'ok', detail };
}

/**
 * The XML filters (`filters.d`), which run as hooks do: one that cannot start fails every
 * launch and attachment at its filters step, or, marked `.fail-open`, is skipped at each (its
 * change never made).
 */
async function checkFilters(dir: string | undefined): Promise<HostCheck> {
  const name = 'filters';
  if (dir === undefined) return { name, status: 'ok', detail: 'no hooks folder given: no filters run' };
  // A hooks folder without filters.d is the common case: no filters, nothing to warn of.
  if (!existsSync(dir)) return { name, status: 'ok', detail: `${dir} does not exist: no filters run` };
  let p: FolderPrograms;
  try {
    p = await scanPrograms(dir, 'XML filter', 'filters folder');
  } catch (e) {
    return { name, status: 'fail', detail: `${dir}: ${firstLine(e)}` };
  }
  const detail = `${dir}: ${p.run.length ? `runs ${p.run.join(', ')}` : 'no executable filters'}`;
  const fatal = p.unstartable.filter((x) => !x.name.endsWith(FAIL_OPEN_SUFFIX));
  const problems = [...p.unstartable.map((x) => x.message), ...(p.idle.length ? [`not run, not executable: ${p.idle.join(', ')}`] : [])].join('; ');
  const idleHint = p.idle.length ? `; ${NOT_EXECUTABLE('filters')}` : '';
  if (fatal.length) return { name, status: 'fail', detail: `${detail}; ${problems}`, hint: `every launch and attachment would fail at its filters: ${FIX_SHEBANG}${idleHint}` };
  if (p.unstartable.length) {
    return { name, status: 'warn', detail: `${detail}; ${problems}`, hint: `a fail-open filter that cannot start is skipped at every launch and attachment, its change never made: ${FIX_SHEBANG}${idleHint}` };
  }
  if (p.idle.length) return { name, status: 'warn', detail: `${detail}; ${problems}`, hint: NOT_EXECUTABLE('filters') };
  return { name, status: 'ok', detail };
}

async function startsWithShebang(file: string): Promise<boolean> {
  // Only a regular file is opened: opening a FIFO (or a link to one) waits for a writer, for ever.
  if (!(await stat(file).then((s) => s.isFile(), () => false))) return false;
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return false;
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer.toString('latin1') === '#!';
  } catch {
    return false; // unreadable: not a hook this check can name
  } finally {
    await handle.close();
  }
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
