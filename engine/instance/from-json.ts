import { DomforgeError, InstanceError } from '../errors.js';
import { readInputText } from './input.js';
import { parseJsonSource, placeKey, JsonSourceError, type JsonSource } from './json-source.js';
import { columnOf, lineColOf, lineOf, parseXml } from '../xml/parse.js';
import { MAX_DEPTH, firstTooDeep } from '../xml/depth.js';
import { codePointName, findLoneSurrogate, serializeXml, XML_INVALID_CHARS, XML_NCNAME } from '../xml/serialize.js';
import { longTextBytes, MAX_TEXT_BYTES, textTooLongMessage } from '../xml/text-length.js';
import { stripWhitespace } from './parse.js';
import { outOfRangeMessage } from './reader.js';
import { CONFIG_DRIVE_LAYOUTS, DEVICE_TYPES, DISK_BUSES, HYPERVISOR_TYPES, LEGACY_DISK_BUSES, PLATFORMS, SOURCE_TYPES, type DiskRoot, type Instance } from './model.js';
import { validateInstance, type Locator } from './validate.js';
import { rememberSource } from './source.js';
import { DEFAULT_LABEL } from '../configdrive/label.js';
import { INSTANCE_ONLY, JSON_KEYS, OWN_ELEMENT_FIELDS } from './json-keys.js';
import { closestName } from './did-you-mean.js';

/**
 * A JSON instance description: the same field names as `Instance` (and as instance.xml),
 * with everything but `name`, `uuid`, `cores`, `memoryKB`, `hypervisor.type` and
 * `os.platform` optional. `metadata` may be an object; `userData` is base64, or give
 * `userDataText` for plain text. Any other key (but in the free maps `metadata`, `states`
 * and `timestamps`) is refused at its line: see JSON_KEYS.
 */
export type InstanceDescription = Record<string, unknown>;

type Obj = Record<string, unknown>;

class JsonReader {
  constructor(
    readonly file: string | undefined,
    readonly locate: Locator,
    /** The JSON path (keys and indexes) of the object at an instance path. */
    readonly jsonPath: (path: string) => (string | number)[],
    /** The line and column of a key of the object at an instance path. */
    readonly locateKey: (path: string, key: string) => { line?: number; column?: number },
  ) {}
  fail(path: string, message: string): never {
    const { line, column } = this.locate(path);
    throw new InstanceError(message, { file: this.file, line, column, path });
  }
  /**
   * Refuses a key of the object at `path` that is not one of `known`, at the key's line: it
   * would be dropped and its field take its default. A close spelling of a known one is named.
   * `instanceOnly`: the fields of INSTANCE_ONLY the object has in an Instance (all but for
   * domforge's own elements, see OWN_ELEMENT_FIELDS).
   */
  keys(o: Obj, path: string, known: readonly string[], instanceOnly: readonly string[] = Object.keys(INSTANCE_ONLY)): void {
    for (const k of Object.keys(o)) {
      if (known.includes(k)) continue;
      const field = instanceOnly.includes(k);
      // An Instance written out with JSON.stringify carries these: accepted while they hold nothing to lose.
      if (field && carriesNothing(k, o[k])) continue;
      let message = `unknown key ${JSON.stringify(k)} ${describePath(this.jsonPath(path))}`;
      const close = closestName(k, known);
      if (field) message += `: a field of an Instance that a JSON description does not give (${INSTANCE_ONLY[k]})`;
      else if (close !== undefined) message += `; did you mean ${JSON.stringify(close)}?`;
      else if (path !== '/instance') message += ` (its keys are ${known.join(', ')})`;
      const { line, column } = this.locateKey(path, k);
      throw new InstanceError(message, { file: this.file, line, column, path: `${path}/${k}` });
    }
  }
  /** An object; with `known`, one holding only those keys (checked at once, before any object in it; `instanceOnly` as for {@link keys}). */
  obj(v: unknown, path: string, required = false, known?: readonly string[], instanceOnly?: readonly string[]): Obj | undefined {
    if (v === undefined || v === null) return required ? this.fail(path, 'missing required object') : undefined;
    if (typeof v !== 'object' || Array.isArray(v)) return this.fail(path, `expected an object, got ${describe(v)}`);
    if (known) this.keys(v as Obj, path, known, instanceOnly);
    return v as Obj;
  }
  str(v: unknown, path: string, required = false, text = false): string | undefined {
    if (v === undefined || v === null) return required ? this.fail(path, 'missing required field') : undefined;
    if (typeof v === 'number') return String(v);
    if (typeof v !== 'string') return this.fail(path, `expected a string, got ${describe(v)}`);
    this.chars(v, path, text);
    return v;
  }
  /**
   * Every string goes into instance.xml: it must hold only characters XML 1.0 can carry (`text`:
   * only whole Unicode, for text that is base64-encoded first), and be no longer than libxml2
   * reads in one text node (`text`: once base64-encoded).
   */
  chars(v: string, path: string, text = false, what = 'value'): void {
    const at = text ? findLoneSurrogate(v) : (XML_INVALID_CHARS.exec(v)?.index ?? -1);
    if (at >= 0) {
      const u = codePointName(v.charCodeAt(at));
      this.fail(path, text ? `the text has ${u}, half of a surrogate pair: it is not Unicode text` : `the ${what} has ${u}, which XML 1.0 cannot carry`);
    }
    // base64 writes 4 bytes for every 3 (a UTF-16 unit is at most 3 bytes of UTF-8).
    const bytes = !text ? longTextBytes(v) : v.length * 4 > MAX_TEXT_BYTES ? Math.ceil(Buffer.byteLength(v, 'utf8') / 3) * 4 : 0;
    if (bytes > MAX_TEXT_BYTES) this.fail(path, textTooLongMessage(text ? 'the text, base64-encoded,' : `the ${what}`, bytes));
  }
  int(v: unknown, path: string, required = false): number | undefined {
    if (v === undefined || v === null) return required ? this.fail(path, 'missing required field') : undefined;
    const n = typeof v === 'string' && /^[+-]?\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n === 'number' && Number.isInteger(n) && !Number.isSafeInteger(n)) {
      return this.fail(path, outOfRangeMessage(describe(v)));
    }
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) return this.fail(path, `expected a whole number, got ${describe(v)}`);
    return n;
  }
  bool(v: unknown, path: string): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (v === 'true') return true;
    if (v === 'false') return false;
    if (typeof v !== 'boolean') return this.fail(path, `expected true or false, got ${describe(v)}`);
    return v;
  }
  oneOf<T extends string>(v: unknown, allowed: readonly T[], path: string, required = false): T | undefined {
    const s = this.str(v, path, required);
    if (s === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(s)) return this.fail(path, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(s)}`);
    return s as T;
  }
  arr(v: unknown, path: string): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) return this.fail(path, `expected an array, got ${describe(v)}`);
    return v;
  }
}

/** `at the top level`, `in features`, `in nics[0]`, `in disks.diskPaths[1]`. */
function describePath(p: readonly (string | number)[]): string {
  if (!p.length) return 'at the top level';
  return `in ${p.map((s, i) => (typeof s === 'number' ? `[${s}]` : i ? `.${s}` : s)).join('')}`;
}

function describe(v: unknown): string {
  return `${JSON.stringify(v)?.slice(0, 40)} (${Array.isArray(v) ? 'array' : typeof v})`;
}

/** Reads a JSON instance description file (a regular file, or standard input as `-` or `/dev/stdin`). */
export async function readInstanceJsonFile(file: string): Promise<Instance> {
  const text = await readInputText(file, 'instance description', 'json');
  let source: JsonSource;
  try {
    source = parseJsonSource(text);
  } catch (e) {
    if (!(e instanceof JsonSourceError)) throw e;
    throw sourceError(e, text, file);
  }
  return fromJson(source.value, { file, text, source });
}

/** A JsonSourceError as an InstanceError at its line in `text`; a duplicate key names its first's line. */
function sourceError(e: JsonSourceError, text: string, file: string | undefined): InstanceError {
  const { line, column } = lineColOf(text, e.index);
  const first = e.firstIndex === undefined ? '' : ` (first at line ${lineColOf(text, e.firstIndex).line})`;
  return new InstanceError(`${e.firstIndex === undefined ? 'malformed JSON: ' : ''}${e.message}${first}`, { file, line, column, cause: e });
}

/**
 * Builds an Instance from a JSON description (what a controller process passes to the
 * library), filling Eucalyptus's defaults, and validates it exactly as parsed XML is.
 * With `text` (the JSON the data was parsed from), errors name the line of the faulty value,
 * and a key given twice in one object of `text` is refused at the second, naming the first's
 * line, as readInstanceJsonFile refuses it: JSON.parse kept only the last of the two values.
 */
export function instanceFromJson(data: unknown, options: { file?: string; text?: string } = {}): Instance {
  let source: JsonSource | undefined;
  if (options.text !== undefined) {
    try {
      source = parseJsonSource(options.text);
    } catch (e) {
      if (e instanceof JsonSourceError && e.firstIndex !== undefined) throw sourceError(e, options.text, options.file);
      source = undefined; // not the text of this data (not JSON at all): no lines
    }
  }
  return fromJson(data, { ...options, source });
}

function fromJson(data: unknown, options: { file?: string; text?: string; source?: JsonSource }): Instance {
  const placeOf = (jsonPath: (string | number)[]) => {
    const { text, source } = options;
    if (text === undefined || !source) return {};
    const place = source.places.get(placeKey(jsonPath));
    return place ? lineColOf(text, place.key ?? place.value) : {};
  };
  const locate: Locator = (path) => placeOf(jsonPathOf(data, textKey(path)));
  const j = new JsonReader(options.file, locate, (path) => jsonPathOf(data, path), (path, k) => placeOf([...jsonPathOf(data, path), k]));
  // Each object's keys are checked as it is read, before the objects in it: a misspelt
  // container (`nic` for `nics`) is named, not the keys it happens to hold.
  const d = j.obj(data, '/instance', true, JSON_KEYS.instance)!;
  const hv = j.obj(d.hypervisor, '/instance/hypervisor', true, JSON_KEYS.hypervisor)!;
  const os = j.obj(d.os, '/instance/os', true, JSON_KEYS.os)!;
  const key = j.obj(d.key, '/instance/key', false, JSON_KEYS.key) ?? {};
  const disks = j.obj(d.disks, '/instance/disks', false, JSON_KEYS.disks) ?? {};
  const features = j.obj(d.features, '/instance/features', false, JSON_KEYS.features, OWN_ELEMENT_FIELDS) ?? {};
  const s = (name: string) => j.str(d[name], `/instance/${name}`);
  const name = j.str(d.name, '/instance/name', true)!;
  let userData = s('userData') ?? '';
  const userDataText = j.str(d.userDataText, '/instance/userDataText', false, true);
  if (userDataText !== undefined) {
    // One of the two: with both, one would be dropped (and which one is no rule an admin can guess).
    if (d.userData !== undefined && d.userData !== null) j.fail('/instance/userDataText', 'give either userData (base64) or userDataText (plain text), not both');
    userData = Buffer.from(userDataText, 'utf8').toString('base64');
  }

  const inst: Instance = {
    xmlVersion: '2',
    hypervisor: {
      type: j.oneOf(hv.type, HYPERVISOR_TYPES, '/instance/hypervisor/@type', true)!,
      capability: j.str(hv.capability, '/instance/hypervisor/@capability') ?? 'hw',
      bitness: j.oneOf(hv.bitness, ['32', '64'], '/instance/hypervisor/@bitness') === '32' ? 32 : 64,
      requiresDisk: j.bool(hv.requiresDisk, '/instance/hypervisor/@requiresDisk'),
    },
    backing: { rootType: j.str(j.obj(d.backing, '/instance/backing', false, JSON_KEYS.backing)?.rootType, '/instance/backing/rootType') ?? 'image' },
    name,
    uuid: j.str(d.uuid, '/instance/uuid', true)!,
    reservation: s('reservation') ?? '',
    user: s('user') ?? '',
    owner: s('owner') ?? '',
    account: s('account') ?? '',
    imageId: s('imageId') ?? '',
    kernelId: s('kernelId') ?? '',
    ramdiskId: s('ramdiskId') ?? '',
    dnsName: s('dnsName') ?? '',
    privateDnsName: s('privateDnsName') ?? '',
    instancePath: s('instancePath') ?? '',
    kernel: s('kernel'),
    ramdisk: s('ramdisk'),
    xmlFilePath: s('xmlFilePath') ?? '',
    libvirtFilePath: s('libvirtFilePath') ?? '',
    consoleLogPath: s('consoleLogPath') ?? '',
    userData,
    launchIndex: s('launchIndex') ?? '0',
    hasFloppy: j.bool(d.hasFloppy, '/instance/hasFloppy') ?? false,
    cpuPassthrough: j.bool(d.cpuPassthrough, '/instance/cpuPassthrough') ?? false,
    cores: j.int(d.cores, '/instance/cores', true)!,
    memoryKB: j.int(d.memoryKB, '/instance/memoryKB', true)!,
    diskGB: j.int(d.diskGB, '/instance/diskGB') ?? 0,
    VmType: s('VmType') ?? '',
    NicType: s('NicType') ?? '',
    NicDevice: s('NicDevice') ?? '',
    rootDirective: s('rootDirective') ?? '',
    key: { doInjectKey: j.bool(key.doInjectKey, '/instance/key/@doInjectKey') ?? false, sshKey: j.str(key.sshKey, '/instance/key/@sshKey') ?? '' },
    os: {
      platform: j.oneOf(os.platform, PLATFORMS, '/instance/os/@platform', true)!,
      virtioRoot: j.bool(os.virtioRoot, '/instance/os/@virtioRoot') ?? false,
      virtioDisk: j.bool(os.virtioDisk, '/instance/os/@virtioDisk') ?? false,
      virtioNetwork: j.bool(os.virtioNetwork, '/instance/os/@virtioNetwork') ?? false,
    },
    groupNames: j.arr(d.groupNames, '/instance/groupNames').map((g, i) => j.str(g, `/instance/groupNames/name[${i + 1}]`, true)!),
    disks: {
      floppyPath: j.str(disks.floppyPath, '/instance/disks/floppyPath') ?? '',
      diskPaths: j.arr(disks.diskPaths, '/instance/disks/diskPaths').map((x, i) => {
        const p = `/instance/disks/diskPath[${i + 1}]`;
        const o = j.obj(x, p, true, JSON_KEYS.diskPath)!;
        return {
          path: j.str(o.path, `${p}/path`, true)!,
          targetDeviceType: j.oneOf(o.targetDeviceType, DEVICE_TYPES, `${p}/@targetDeviceType`) ?? 'disk',
          targetDeviceName: j.str(o.targetDeviceName, `${p}/@targetDeviceName`, true)!,
          targetDeviceNameVirtio: j.str(o.targetDeviceNameVirtio, `${p}/@targetDeviceNameVirtio`),
          targetDeviceBusVirtio: j.str(o.targetDeviceBusVirtio, `${p}/@targetDeviceBusVirtio`),
          targetDeviceBus: j.oneOf(o.targetDeviceBus, DISK_BUSES, `${p}/@targetDeviceBus`, true)!,
          sourceType: j.oneOf(o.sourceType, SOURCE_TYPES, `${p}/@sourceType`) ?? 'file',
          serial: j.str(o.serial, `${p}/@serial`),
        };
      }),
      root: diskRoot(j, disks.root),
    },
    vbrs: [],
    volumes: j.arr(d.volumes, '/instance/volumes').map((x, i) => {
      const p = `/instance/volumes/volume[${i + 1}]`;
      const o = j.obj(x, p, true, JSON_KEYS.volume)!;
      return {
        id: j.str(o.id, `${p}/id`, true)!,
        attachmentToken: j.str(o.attachmentToken, `${p}/attachmentToken`) ?? '',
        devName: j.str(o.devName, `${p}/devName`) ?? '',
        stateName: j.str(o.stateName, `${p}/stateName`) ?? 'attached',
        connectionString: j.str(o.connectionString, `${p}/connectionString`) ?? '',
        libvirt: libvirtDisk(j, j.str(o.libvirt, `${p}/libvirt`), `${p}/libvirt`),
      };
    }),
    nics: j.arr(d.nics, '/instance/nics').map((x, i) => {
      const p = `/instance/nics/nic[${i + 1}]`;
      const o = j.obj(x, p, true, JSON_KEYS.nic)!;
      return {
        vlan: j.int(o.vlan, `${p}/@vlan`) ?? -1,
        networkIndex: j.int(o.networkIndex, `${p}/@networkIndex`) ?? -1,
        mac: j.str(o.mac, `${p}/@mac`, true)!,
        publicIp: j.str(o.publicIp, `${p}/@publicIp`) ?? '0.0.0.0',
        privateIp: j.str(o.privateIp, `${p}/@privateIp`) ?? '',
        bridgeDeviceName: j.str(o.bridgeDeviceName, `${p}/@bridgeDeviceName`, true)!,
        guestDeviceName: j.str(o.guestDeviceName, `${p}/@guestDeviceName`),
        device: j.int(o.device, `${p}/@device`) ?? i,
        stateName: j.str(o.stateName, `${p}/@stateName`),
        hypervisorType: j.str(o.hypervisorType, `${p}/@hypervisorType`),
        osPlatform: j.str(o.osPlatform, `${p}/@osPlatform`),
        osVirtioNetwork: j.bool(o.osVirtioNetwork, `${p}/@osVirtioNetwork`),
        attachmentId: j.str(o.attachmentId, `${p}/@attachmentId`),
      };
    }),
    states: [],
    timestamps: [],
    features: {},
    password: s('password'),
    availabilityZone: s('availabilityZone'),
    metadata: [],
    extraNics: j.arr(d.extraNics, '/instance/extraNics').map((x, i) => {
      const p = `/instance/extraNics/nic[${i + 1}]`;
      const o = j.obj(x, p, true, JSON_KEYS.extraNic, OWN_ELEMENT_FIELDS)!;
      return {
        mac: j.str(o.mac, `${p}/@mac`, true)!,
        bridgeDeviceName: j.str(o.bridgeDeviceName, `${p}/@bridgeDeviceName`, true)!,
        model: j.str(o.model, `${p}/@model`) ?? 'virtio',
        privateIp: j.str(o.privateIp, `${p}/@privateIp`),
      };
    }),
    unknown: [],
  };
  const hp = j.obj(features.hugepages, '/instance/features/hugepages', false, JSON_KEYS.hugepages, OWN_ELEMENT_FIELDS);
  if (hp) {
    inst.features.hugepages = {
      enabled: j.bool(hp.enabled, '/instance/features/hugepages/@enabled') ?? true,
      pageSizeKiB: j.int(hp.pageSizeKiB, '/instance/features/hugepages/@pageSizeKiB'),
      nodeset: j.str(hp.nodeset, '/instance/features/hugepages/@nodeset'),
    };
  }
  const lb = j.oneOf(features.legacyDiskBus, LEGACY_DISK_BUSES, '/instance/features/legacyDiskBus');
  if (lb) inst.features.legacyDiskBus = lb;
  const m = j.obj(d.machine, '/instance/machine', false, JSON_KEYS.machine, OWN_ELEMENT_FIELDS);
  if (m) inst.machine = { type: j.str(m.type, '/instance/machine/@type') ?? 'pc', arch: j.str(m.arch, '/instance/machine/@arch') ?? 'x86_64' };
  const cd = j.obj(d.configDrive, '/instance/configDrive', false, JSON_KEYS.configDrive, OWN_ELEMENT_FIELDS);
  if (cd) {
    inst.configDrive = {
      path: j.str(cd.path, '/instance/configDrive/@path', true)!,
      label: j.str(cd.label, '/instance/configDrive/@label') ?? DEFAULT_LABEL,
      // null is no value, as for every other key: the default, not no layouts (an empty list is none).
      layouts: (cd.layouts === undefined || cd.layouts === null ? [...CONFIG_DRIVE_LAYOUTS] : j.arr(cd.layouts, '/instance/configDrive/@layouts')).map((l) => j.oneOf(l, CONFIG_DRIVE_LAYOUTS, '/instance/configDrive/@layouts', true)!),
    };
  }
  const meta = j.obj(d.metadata, '/instance/metadata');
  if (meta) {
    inst.metadata = Object.entries(meta).map(([k, v], i) => {
      j.chars(k, `/instance/metadata/item[${i + 1}]/@key`, false, 'key');
      return [k, j.str(v, `/instance/metadata/${k}`, true)!];
    });
  }
  for (const [k, v] of [['states', j.obj(d.states, '/instance/states')], ['timestamps', j.obj(d.timestamps, '/instance/timestamps')]] as const) {
    if (!v) continue;
    inst[k] = Object.entries(v).map(([n, x], i) => {
      // Each becomes an element of that name in instance.xml.
      if (!XML_NCNAME.test(n)) j.fail(`/instance/${k}/item[${i + 1}]`, `${JSON.stringify(n)} is not an XML element name (a letter or _ first, then letters, digits, ., - or _), so it cannot be a <${k}> entry`);
      return [n, j.str(x, `/instance/${k}/${n}`, true)!];
    });
  }
  validateInstance(inst, { file: options.file, locate });
  const { file, text } = options;
  const lines = text !== undefined && options.source !== undefined;
  if (file !== undefined || lines) rememberSource(inst, { file, locate: lines ? rereading(text) : () => ({}) });
  return inst;
}

/**
 * A locator that parses the JSON `text` again when asked (only when a later check fails),
 * rather than keeping every value's place as long as the Instance.
 */
function rereading(text: string): Locator {
  return (path) => {
    const source = parseJsonSource(text);
    const place = source.places.get(placeKey(jsonPathOf(source.value, textKey(path))));
    return place ? lineColOf(text, place.key ?? place.value) : {};
  };
}

/** A `<diskPath>` is its path, as text: in JSON, the `path` key of its object (`disks.diskPaths[0].path`), so a refused path is named at its own line. */
function textKey(path: string): string {
  return /^\/instance\/disks\/diskPath(\[\d+\])?$/.test(path) ? `${path}/path` : path;
}

/**
 * `disks.root`: an object, or none when absent or null (as for `machine` or `configDrive`).
 * Any other value (`""`, `0`, `false`) is refused at its line, not read as no root.
 */
function diskRoot(j: JsonReader, v: unknown): DiskRoot | undefined {
  const root = j.obj(v, '/instance/disks/root', false, JSON_KEYS.root);
  return root && { device: j.str(root.device, '/instance/disks/root/@device', true)!, uuid: j.str(root.uuid, '/instance/disks/root/@uuid') };
}

/** A volume's `libvirt` value is its own `<disk>` element, whole: anything else could break out of `<libvirt>` in instance.xml. */
function libvirtDisk(j: JsonReader, xml: string | undefined, path: string): string | undefined {
  if (xml === undefined) return undefined;
  let doc;
  try {
    doc = parseXml(xml);
  } catch (e) {
    if (!(e instanceof DomforgeError)) throw e;
    const at = e.line === undefined ? '' : ` (its line ${e.line}${e.column === undefined ? '' : `, column ${e.column}`})`;
    return j.fail(path, `the volume's libvirt XML is not one well-formed <disk> element: ${e.shortMessage}${at}`);
  }
  const root = doc.documentElement!;
  if (root.nodeName !== 'disk') return j.fail(path, `the volume's libvirt XML must be one <disk> element, not <${root.nodeName}>`);
  // In instance.xml the <disk> is 4 levels below <instance> (volumes/volume/libvirt/disk).
  const max = MAX_DEPTH - 4;
  const deep = firstTooDeep(root, max);
  if (deep) {
    return j.fail(path, `the volume's libvirt XML is nested too deeply: <${deep.nodeName}> (its line ${lineOf(deep)}, column ${columnOf(deep)}) is more than ${max} levels below <disk>, so more than ${MAX_DEPTH} below the root element of instance.xml (libxml2, and so xsltproc, refuses a document nested deeper)`);
  }
  return serializeXml(stripWhitespace(root));
}

/**
 * The JSON path (keys and indexes) an instance path names: `/instance/nics/nic[2]/@mac` is
 * `nics[1].mac`, `/instance/disks/diskPath[1]/path` is `disks.diskPaths[0].path`,
 * `/instance/metadata/item[2]/@key` the second key of `metadata`. As far as the data goes.
 */
function jsonPathOf(data: unknown, path: string): (string | number)[] {
  const out: (string | number)[] = [];
  let cur = data;
  for (const seg of path.split('/').slice(2)) {
    const m = /^@?([^[]*)(?:\[(\d+)\])?$/.exec(seg);
    if (!m) break;
    const name = m[1]!;
    const index = m[2] === undefined ? undefined : Number(m[2]) - 1;
    if (Array.isArray(cur)) {
      const i = index ?? 0;
      if (i >= cur.length) break;
      out.push(i);
      cur = cur[i];
      continue;
    }
    if (cur === null || typeof cur !== 'object') break;
    const o = cur as Obj;
    const key = [name, `${name}s`, `${name}Text`].find((k) => Object.prototype.hasOwnProperty.call(o, k));
    if (key === undefined) {
      const keys = Object.keys(o);
      if (index === undefined || index >= keys.length) break;
      out.push(keys[index]!);
      cur = o[keys[index]!];
      continue;
    }
    out.push(key);
    cur = o[key];
    if (key === `${name}s` && Array.isArray(cur) && (index ?? 0) < cur.length) {
      out.push(index ?? 0);
      cur = cur[index ?? 0];
    }
  }
  return out;
}

/** A field of an Instance that JSON does not read, holding nothing that would be lost: none, empty, or (`xmlVersion`) the version JSON gives. */
function carriesNothing(key: string, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (key === 'xmlVersion') return v === '2';
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v).length === 0;
}
