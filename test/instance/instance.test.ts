import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseInstance, parseStub, readInstanceFile, emitInstance, instanceFromJson, validateInstance, InstanceError, XmlSyntaxError, XmlForbiddenError, xmlEqual, diffXml, parseXml, childElements, type Instance } from '../../engine/index.js';
import { serializeXml } from '../../engine/xml/serialize.js';
import { NESTED, NESTED_FILE, STRAYS, nestedOf, withNestedStrays, withStrays } from '../fixtures/strays.js';

import { EUCA_INPUTS_DIR as EUCA } from '../fixtures/reference.js';
import { jsonOfInstance } from './json-fixture.js';
const SAMPLES = new URL('../../../samples/', import.meta.url).pathname;
const instanceFiles = [
  ...readdirSync(SAMPLES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(SAMPLES, d.name, 'instance.xml')),
];
const eucaInstances = (() => {
  try {
    // The Eucalyptus fixtures of ../shared when this checkout has them (instance documents only).
    return readdirSync(EUCA).filter((f) => /^\s*(<\?[^>]*\?>\s*)?(<!--[\s\S]*?-->\s*)*<instance[\s>]/.test(readFileSync(join(EUCA, f), 'utf8'))).map((f) => join(EUCA, f));
  } catch {
    return [];
  }
})();

for (const file of [...instanceFiles, ...eucaInstances]) {
  test(`round trip: parse → emit → parse keeps the tree and the model (${file.split('/').slice(-2).join('/')})`, () => {
    const text = readFileSync(file, 'utf8');
    const a = parseInstance(text, { file });
    const emitted = emitInstance(a);
    const d = diffXml(text, emitted, { ignoreComments: true });
    assert.equal(d, undefined, d && `${d.path}: ${d.message}`);
    assert.deepEqual(parseInstance(emitted), a);
  });
}

const base = () => readFileSync(join(SAMPLES, '01-linux-virtio', 'instance.xml'), 'utf8');

function expectInstanceError(text: string, path: RegExp | string, line?: number) {
  assert.throws(
    () => parseInstance(text, { file: 'bad.xml' }),
    (e: unknown) => {
      assert.ok(e instanceof InstanceError || e instanceof XmlSyntaxError || e instanceof XmlForbiddenError, String(e));
      const err = e as InstanceError;
      assert.equal(err.file, 'bad.xml');
      if (typeof path === 'string') assert.equal(err.path, path);
      else assert.match(err.path ?? err.message, path);
      if (line !== undefined) assert.equal(err.line, line);
      assert.ok(err.line && err.line > 0, 'a line is named');
      return true;
    },
  );
}
const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;

test('a missing name, uuid or memory is an error naming the path', () => {
  for (const [el, path] of [
    ['name', '/instance/name'],
    ['uuid', '/instance/uuid'],
    ['memoryKB', '/instance/memoryKB'],
  ] as const) {
    const t = base().replace(new RegExp(`\\s*<${el}>[^<]*</${el}>`), '');
    assert.throws(() => parseInstance(t, { file: 'bad.xml' }), (e: InstanceError) => e instanceof InstanceError && e.path === path && e.file === 'bad.xml');
  }
});

test('a non-numeric cores is an error at its line', () => {
  const t = base().replace(/<cores>\d+<\/cores>/, '<cores>two</cores>');
  expectInstanceError(t, '/instance/cores', lineOf(t, '<cores>'));
});

test('an unknown platform is an error at its line', () => {
  const t = base().replace('platform="linux"', 'platform="plan9"');
  expectInstanceError(t, '/instance/os/@platform', lineOf(t, 'platform="plan9"'));
});

test('a kernel path under /dev/ is refused', () => {
  const t = base().replace('<ramdiskId/>', '<ramdiskId/>\n  <kernel>/dev/sda</kernel>');
  expectInstanceError(t, '/instance/kernel');
});

test('a disk serial libvirt\'s schema refuses is refused at its diskPath\'s line, before any render; an empty one is none; spaces, + and . are taken', () => {
  const line = base().split('\n').findIndex((l) => l.includes('<diskPath ')) + 1;
  const withSerial = (serial: string) => base().replace(/<diskPath /, `<diskPath serial="${serial}" `);
  for (const bad of ['root/disk', 'ü', 'a"b'.replace('"', '&quot;')]) expectInstanceError(withSerial(bad), /^\/instance\/disks\/diskPath(\[1\])?\/@serial$/, line);
  for (const good of ['', 'root disk+1.0_a-b']) assert.equal(parseInstance(withSerial(good)).disks.diskPaths[0]!.serial, good);
});

test('a malformed MAC is refused at the NIC line', () => {
  const t = base().replace(/mac="[^"]+"/, 'mac="d0:0d:zz:00:00:01"');
  expectInstanceError(t, /\/instance\/nics\/nic(\[1\])?\/@mac/, lineOf(t, 'mac="d0:0d:zz'));
});

test('an empty metadata key is refused at its item\'s line, also when it is the only item', () => {
  for (const [items, n] of [
    ['<item key="">x</item>', 1],
    ['<item key="a">x</item>\n    <item key="">y</item>', 2],
  ] as const) {
    const t = base().replace('</instance>', `  <metadata>\n    ${items}\n  </metadata>\n</instance>`);
    expectInstanceError(t, `/instance/metadata/item[${n}]/@key`, lineOf(t, '<item key="">'));
  }
});

test('a field of <states> or <timestamps> given twice is refused at the second, naming the first\'s line', () => {
  // The config drive reads timestamps/launchTime, the controller states/stateName: one of two values would be dropped silently.
  for (const [parent, name, value] of [['timestamps', 'launchTime', '1700000000'], ['states', 'stateName', 'Extant']] as const) {
    const t = base().replace('</instance>', `  <${parent}>\n    <${name}>${value}</${name}>\n    <other>1</other>\n    <${name}>${value}</${name}>\n  </${parent}>\n</instance>`);
    const first = lineOf(t, `<${name}>`);
    const second = first + 2;
    assert.throws(
      () => parseInstance(t, { file: 'dup.xml' }),
      (e: unknown) => e instanceof InstanceError && e.message === `dup.xml:${second}:5: <${name}> is given twice (first at line ${first}) (at /instance/${parent}/${name}[2])`,
    );
    // Distinct names are read in document order, as before.
    assert.deepEqual(parseInstance(t.replace(/(<other>1<\/other>\n\s*)<(\w+)>([^<]*)<\/\2>/, '$1<again>$3</again>'))[parent].map(([k]) => k), [name, 'other', 'again']);
  }
});

test('<metadata> holds text items only: another element in it, or an element inside an item, is refused at its line', () => {
  // Both used to be dropped silently (the value "ac" for <item key="x">a<b>c</b></item>).
  const withMeta = (inner: string) => base().replace('</instance>', `  <metadata>\n    ${inner}\n  </metadata>\n</instance>`);
  const other = withMeta('<item key="role">web</item><note>hi</note>');
  assert.throws(
    () => parseInstance(other, { file: 'm.xml' }),
    (e: unknown) => e instanceof InstanceError && e.line === lineOf(other, '<note>') && e.path === '/instance/metadata/note' && /<metadata> holds only <item key="..."> elements, not <note>/.test(e.message),
  );
  // A misspelt item is named as the item it was meant to be.
  const misspelt = withMeta('<item key="role">web</item>\n    <iten key="tier">front</iten>');
  assert.throws(
    () => parseInstance(misspelt, { file: 'm.xml' }),
    (e: unknown) => e instanceof InstanceError && e.file === 'm.xml' && e.line === lineOf(misspelt, '<iten') && e.column === 5 && e.path === '/instance/metadata/iten' && e.shortMessage === '<metadata> holds only <item key="..."> elements, not <iten>; did you mean <item>?',
  );
  const nested = withMeta('<item key="x">a<b>c</b></item>');
  assert.throws(
    () => parseInstance(nested, { file: 'm.xml' }),
    (e: unknown) => e instanceof InstanceError && e.line === lineOf(nested, '<b>') && e.path === '/instance/metadata/item[1]' && /<b> would be dropped/.test(e.message),
  );
  // Markup written as text is a value like any other, and comes back from emitInstance.
  const escaped = parseInstance(withMeta('<item key="x">a&lt;b&gt;c</item><!-- a comment is not an item -->'));
  assert.deepEqual(escaped.metadata, [['x', 'a<b>c']]);
  assert.deepEqual(parseInstance(emitInstance(escaped)).metadata, [['x', 'a<b>c']]);
});

test('<features> holds only <hugepages> and <legacyDiskBus>: another element in it is refused at its line', () => {
  // It used to be dropped silently: a misspelt <hugePages/> gave an instance without hugepages.
  const withFeatures = (inner: string) => base().replace('</instance>', `  <features>\n    ${inner}\n  </features>\n</instance>`);
  const typo = withFeatures('<legacyDiskBus>scsi</legacyDiskBus>\n    <hugePages pageSizeKiB="2048"/>');
  assert.throws(
    () => parseInstance(typo, { file: 'f.xml' }),
    (e: unknown) => e instanceof InstanceError && e.line === lineOf(typo, '<hugePages') && e.path === '/instance/features/hugePages' && e.shortMessage === '<features> holds only <hugepages> and <legacyDiskBus>, not <hugePages>; did you mean <hugepages>?',
  );
  // One close to none of them is named alone.
  const other = withFeatures('<numa nodes="0"/>');
  assert.throws(
    () => parseInstance(other, { file: 'f.xml' }),
    (e: unknown) => e instanceof InstanceError && e.file === 'f.xml' && e.line === lineOf(other, '<numa') && e.column === 5 && e.path === '/instance/features/numa' && e.shortMessage === '<features> holds only <hugepages> and <legacyDiskBus>, not <numa>',
  );
  // The two it holds read as before, in either order; a comment is not an element.
  const both = parseInstance(withFeatures('<legacyDiskBus>scsi</legacyDiskBus><!-- note -->\n    <hugepages pageSizeKiB="2048"/>'));
  assert.deepEqual(both.features, { legacyDiskBus: 'scsi', hugepages: { enabled: true, pageSizeKiB: 2048, nodeset: undefined } });
  assert.deepEqual(parseInstance(emitInstance(both)), both);
});

/** 1-based line and column where `needle` starts in `text`. */
const placeOf = (text: string, needle: string) => {
  const before = text.slice(0, text.indexOf(needle));
  return { line: before.split('\n').length, column: before.length - before.lastIndexOf('\n') };
};

test('an element inside a text-only field is refused at its own line and column with the field\'s path, not run into the value', () => {
  // Each used to be read as the text around and inside it: <diskPath>/a<b>c</b></diskPath> as the path /ac.
  const nested = readFileSync(NESTED_FILE, 'utf8');
  for (const [text, needle, path] of [
    [base().replace('>/dev/mapper/euca-i-0a000001-root<', '>/dev/mapper/<b>euca</b>-i-0a000001-root<'), '<b>', '/instance/disks/diskPath[1]'],
    [base().replace('<name>i-0a000001</name>', '<name>i-0a<x/>000001</name>'), '<x/>', '/instance/name'],
    [base().replace('-000000000001</uuid>', '-00000000000<one>1</one></uuid>'), '<one>', '/instance/uuid'],
    [base().replace(/<userData>(\w{8})/, '<userData>$1\n    <part n="2"/>'), '<part', '/instance/userData'],
    [base().replace('<name>default</name>', '<name>default<i>x</i></name>'), '<i>', '/instance/groupNames/name'],
    [base().replace('<availabilityZone>zone-a', '<availabilityZone><zone/>zone-a'), '<zone/>', '/instance/availabilityZone'],
    [base().replace('</instance>', '  <features><legacyDiskBus><scsi/></legacyDiskBus></features>\n</instance>'), '<scsi/>', '/instance/features/legacyDiskBus'],
    [nested.replace('<resourceLocation>sc://vol-0a0b0c0d,', '<resourceLocation>sc://vol-0a0b0c0d,<token/>'), '<token/>', '/instance/vbrs/vbr[1]/resourceLocation'],
    [nested.replace('<devName>sdf</devName>', '<devName>sd<f/></devName>'), '<f/>', '/instance/volumes/volume[2]/devName'],
    [nested.replace('<stateName>Pending</stateName>', '<stateName><!-- c --><![CDATA[Pen]]><em>ding</em></stateName>'), '<em>', '/instance/states/stateName'],
    [nested.replace('<launchTime>1700000000</launchTime>', '<launchTime>\n      <seconds>1700000000</seconds>\n    </launchTime>'), '<seconds>', '/instance/timestamps/launchTime'],
  ] as const) {
    const inner = /^<(\w+)/.exec(needle)![1];
    const field = /(\w+)(\[\d+\])?$/.exec(path)![1];
    assert.throws(
      () => parseInstance(text, { file: 'nested.xml' }),
      (e: unknown) => {
        assert.ok(e instanceof InstanceError, String(e));
        assert.deepEqual([e.file, e.line, e.column, e.path], ['nested.xml', placeOf(text, needle).line, placeOf(text, needle).column, path], e.message);
        assert.equal(e.shortMessage, `<${field}> holds text only, not elements: <${inner}> would be dropped, its text run into the value (escape markup as &lt;...&gt; or put it in <![CDATA[...]]>)`);
        return true;
      },
    );
  }
  // A volume stub (vol-XXXX.xml) reads its fields through the same reader.
  const stub = '<volume>\n  <hypervisor type="kvm"/>\n  <id>vol-<b/>1</id>\n</volume>';
  assert.throws(
    () => parseStub(stub, { file: 'vol-1.xml' }),
    (e: unknown) => e instanceof InstanceError && e.line === 3 && e.column === 11 && e.path === '/volume/id',
  );
});

test('CDATA in a text field is text; comments and processing instructions in one are not content, the text around them is joined (as XPath reads it)', () => {
  const cdata = base()
    .replace('>/dev/mapper/euca-i-0a000001-root<', '><![CDATA[/var/lib/x/<b>&amp;.img]]><')
    .replace('<name>i-0a000001</name>', '<name>i-0a<!-- sic -->0000<?pi x?>01</name>');
  const inst = parseInstance(cdata);
  assert.equal(inst.disks.diskPaths[0]!.path, '/var/lib/x/<b>&amp;.img');
  assert.equal(inst.name, 'i-0a000001');
  assert.deepEqual(parseInstance(emitInstance(inst)), inst);
});

test('an unknown element is kept without its whitespace-only text, and every rewrite writes it back the same', () => {
  // Its lines used to be indented again at each emit, so a record rewritten at each state
  // change grew, and a text spanning lines changed.
  const t = base().replace('</instance>', '  <future a="1">\n    <b>two\n  lines</b>\n    <c/>\n  </future>\n</instance>');
  const a = parseInstance(t);
  assert.deepEqual(a.unknown, [{ name: 'future', xml: '<future a="1"><b>two\n  lines</b><c/></future>' }]);
  const once = emitInstance(a);
  assert.deepEqual(parseInstance(once), a);
  assert.equal(emitInstance(parseInstance(once)), once);
});

test('a metadata key given twice is refused at the second item\'s line, naming the first\'s line', async () => {
  // Each consumer (config drive meta, KVP euca.meta-data) keeps one value a key: the other would be lost.
  const t = base().replace('</instance>', '  <metadata>\n    <item key="role">web</item>\n    <item key="tier">front</item>\n    <item key="role">db</item>\n  </metadata>\n</instance>');
  const second = t.indexOf('<item key="role">db');
  const line = t.slice(0, second).split('\n').length;
  assert.throws(
    () => parseInstance(t, { file: 'dup.xml' }),
    (e: unknown) =>
      e instanceof InstanceError &&
      e.message === `dup.xml:${line}:5: metadata key "role" is given twice (first at line ${lineOf(t, '<item key="role">')}); give each item its own key (at /instance/metadata/item[3]/@key)`,
  );
  // Through readInstanceFile too.
  const dir = mkdtempSync(join(tmpdir(), 'domforge-dup-'));
  try {
    const file = join(dir, 'instance.xml');
    writeFileSync(file, t);
    await assert.rejects(readInstanceFile(file), (e: unknown) => e instanceof InstanceError && e.file === file && e.line === line && e.column === 5 && e.path === '/instance/metadata/item[3]/@key');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // Keys are compared exactly (a guest's map is case-sensitive), and validateInstance on an Instance built in code names the items.
  assert.deepEqual(parseInstance(t.replace('key="role">db', 'key="Role">db')).metadata.map(([k]) => k), ['role', 'tier', 'Role']);
  const built = parseInstance(base());
  assert.throws(
    () => validateInstance({ ...built, metadata: [['a', '1'], ['a', '2']] }),
    (e: unknown) => e instanceof InstanceError && e.line === undefined && e.shortMessage === 'metadata key "a" is given twice (first at /instance/metadata/item[1]/@key); give each item its own key',
  );
});

test('instanceFromJson refuses a key given twice in the text the data was parsed from (JSON.parse kept the last)', () => {
  const inst = parseInstance(base());
  const text = JSON.stringify({ ...jsonOfInstance(inst), disks: { diskPaths: inst.disks.diskPaths }, states: {}, timestamps: {}, metadata: { role: 'web', tier: 'front' } }, null, 2).replace(
    '"tier": "front"',
    '"tier": "front",\n    "role": "db"',
  );
  const data = JSON.parse(text);
  assert.deepEqual(data.metadata, { role: 'db', tier: 'front' }, 'JSON.parse keeps the last');
  assert.throws(
    () => instanceFromJson(data, { file: 'inst.json', text }),
    (e: unknown) =>
      e instanceof InstanceError && e.file === 'inst.json' && e.line === lineOf(text, '"role": "db"') && /key "role" is given twice in one object \(first at line (\d+)\)/.exec(e.message)?.[1] === String(lineOf(text, '"role": "web"')),
  );
  // Text that is not JSON at all is still taken as "no lines".
  assert.equal(instanceFromJson(data, { text: 'not json' }).metadata.length, 2);
});

test('malformed XML and DOCTYPE are refused with line and column', () => {
  assert.throws(() => parseInstance('<instance>\n  <name>x</nam>\n</instance>', { file: 'bad.xml' }), (e: XmlSyntaxError) => e instanceof XmlSyntaxError && e.line === 2 && e.file === 'bad.xml');
  assert.throws(() => parseInstance('<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<instance>&e;</instance>', { file: 'bad.xml' }), (e: XmlForbiddenError) => e instanceof XmlForbiddenError && e.line === 2);
});

test('an element of instance.xml with more than 1024 attributes is refused at its line; 1024 are read (and kept, as an unknown element)', async () => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { readInstanceFile } = await import('../../engine/instance/index.js');
  const extra = (n: number) => `<os platform="linux"/>\n  <x-note${Array.from({ length: n }, (_, i) => ` a${i}="v"`).join('')}/>`;
  const at = base().replace(/<os [^>]*\/>/, extra(1024));
  assert.equal(parseInstance(at, { file: 'ok.xml' }).unknown.find((u) => u.name === 'x-note')?.xml.split('="v"').length, 1025);
  const over = base().replace(/<os [^>]*\/>/, extra(1025));
  const line = lineOf(over, '<x-note');
  const dir = await mkdtemp(join(tmpdir(), 'domforge-attrs-'));
  try {
    const file = join(dir, 'instance.xml');
    await writeFile(file, over);
    for (const parse of [() => Promise.resolve().then(() => parseInstance(over, { file })), () => readInstanceFile(file)]) {
      await assert.rejects(parse, (e: XmlForbiddenError) => {
        assert.ok(e instanceof XmlForbiddenError, String(e));
        assert.equal(e.code, 'XML_FORBIDDEN');
        assert.equal(e.message, `${file}:${line}:3: too many attributes: <x-note> has 1025, more than the 1024 one element may have (namespace declarations included; xsltproc's parse time grows with the square of their number)`);
        return true;
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** `n` nested <a> elements: `<a><a>…</a></a>`. */
const nested = (n: number) => '<a>'.repeat(n) + '</a>'.repeat(n);

test('an instance.xml nested more than 256 levels below <instance> is refused at the first element too deep, by file:line:column, at 10,000 and 99,000 levels (more would pass the 100,000-element cap first); 256 levels are read', async () => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { readInstanceFile } = await import('../../engine/instance/index.js');
  // An unknown element is level 1, so 255 <a> in it reach level 256: read, kept, written back.
  const at = base().replace('</instance>', `  <x-deep>${nested(255)}</x-deep>\n</instance>`);
  const kept = parseInstance(at, { file: 'ok.xml' });
  assert.equal(kept.unknown.find((u) => u.name === 'x-deep')?.xml, `<x-deep>${nested(255).replace('<a></a>', '<a/>')}</x-deep>`);
  assert.deepEqual(parseInstance(emitInstance(kept)), kept);
  const volumes = readFileSync(join(SAMPLES, '07-several-volumes', 'instance.xml'), 'utf8');
  const dir = await mkdtemp(join(tmpdir(), 'domforge-depth-'));
  try {
    for (const n of [256, 10_000, 99_000]) {
      // Each place holds `n` levels of <a>; the first too deep is the <a> at level 257.
      const cases: [string, string, number][] = [
        ['an unknown element', base().replace('</instance>', `  <x-deep>${nested(n)}</x-deep>\n</instance>`), 255],
        ['<metadata>', base().replace('</instance>', `  <metadata><item key="k">${nested(n)}</item></metadata>\n</instance>`), 254],
        ["a volume's <disk>", volumes.replace(/(<libvirt>\s*<disk[^>]*>)/, `$1${nested(n)}`), 252],
      ];
      for (const [where, text, before] of cases) {
        const file = join(dir, 'instance.xml');
        await writeFile(file, text);
        const i = text.indexOf('<a>'.repeat(before + 1));
        const line = text.slice(0, i).split('\n').length;
        const column = i - text.lastIndexOf('\n', i - 1) + 3 * before;
        for (const parse of [() => Promise.resolve().then(() => parseInstance(text, { file })), () => readInstanceFile(file)]) {
          await assert.rejects(parse, (e: InstanceError) => {
            assert.ok(e instanceof InstanceError, `${where}, ${n} levels: ${String(e)}`);
            assert.equal(e.code, 'INSTANCE_INVALID');
            assert.equal(e.message, `${file}:${line}:${column}: elements nested too deeply: <a> is more than 256 levels below the root element (libxml2, and so xsltproc, refuses a document nested deeper)`);
            return true;
          });
        }
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('more than 1,024 <vbr>s are refused at <vbrs>, read from a file or made in code; 1,024 are read and written back', () => {
  // Eucalyptus holds at most 64 (EUCA_MAX_VBRS). 200,000 (a 4 MB file) used to run a render out of heap.
  const vbrs = (n: number) => base().replace('<vbrs/>', `<vbrs>\n${'    <vbr><id>vbr-x</id></vbr>\n'.repeat(n)}  </vbrs>`);
  const most = parseInstance(vbrs(1024));
  assert.equal(most.vbrs.length, 1024);
  assert.deepEqual(parseInstance(emitInstance(most)), most);
  for (const n of [1025, 40_000]) {
    assert.throws(
      () => parseInstance(vbrs(n), { file: 'many.xml' }),
      (e: InstanceError) => {
        assert.ok(e instanceof InstanceError, String(e));
        assert.deepEqual([e.file, e.line, e.column, e.path], ['many.xml', lineOf(vbrs(n), '<vbrs>'), 3, '/instance/vbrs']);
        assert.match(e.message, new RegExp(`${n} <vbr> elements, more than the 1024 an instance may have`));
        return true;
      },
    );
  }
  // Made in code (a launch checks its record with validateInstance before writing it).
  const made = { ...most, vbrs: [...most.vbrs, most.vbrs[0]!] };
  assert.throws(() => validateInstance(made), (e: InstanceError) => e instanceof InstanceError && e.path === '/instance/vbrs' && /1025 <vbr> elements/.test(e.message));
});

test('text up to libxml2\'s 10,000,000 bytes is read and written back; longer, in one node or joined from several, is refused at its element with its path', () => {
  const withUserData = (inner: string) => base().replace(/<userData>[^<]*/, `<userData>${inner}`);
  const most = parseInstance(withUserData('QUJD'.repeat(2_500_000)));
  assert.equal(most.userData.length, 10_000_000);
  assert.equal(parseInstance(emitInstance(most)).userData, most.userData);
  const line = lineOf(base(), '<userData>');
  for (const [inner, code] of [['QUJD'.repeat(2_500_000) + '=', 'XML_FORBIDDEN'], [`${'QUJD'.repeat(1_250_000)}<!-- cut -->${'QUJD'.repeat(1_250_000)}<![CDATA[A]]>`, 'INSTANCE_INVALID']] as const) {
    assert.throws(
      () => parseInstance(withUserData(inner), { file: 'big.xml' }),
      (e: InstanceError) => {
        assert.deepEqual([e.code, e.file, e.line, e.column, e.path], [code, 'big.xml', line, 3, '/instance/userData'], e.message);
        assert.match(e.message, /the text of <userData> is 10000001 bytes \(UTF-8\), more than the 10000000 libxml2 reads in one text node/);
        return true;
      },
    );
  }
  // Any text field, and a kept element's text.
  assert.throws(() => parseInstance(base().replace('<availabilityZone>', `<availabilityZone>${'z'.repeat(10_000_001)}`)), (e: InstanceError) => e.path === '/instance/availabilityZone');
  assert.throws(() => parseInstance(base().replace('</instance>', `<x-note>${'n'.repeat(10_000_001)}</x-note></instance>`)), (e: InstanceError) => e.path === '/instance/x-note');
});

test('emitInstance refuses kept XML that would nest elements more than 256 levels below <instance> (an Instance made in code), naming its path', () => {
  const inst = parseInstance(base());
  assert.doesNotThrow(() => emitInstance({ ...inst, unknown: [{ name: 'x-deep', xml: `<x-deep>${nested(255)}</x-deep>` }] }));
  assert.throws(
    () => emitInstance({ ...inst, unknown: [{ name: 'x-deep', xml: `<x-deep>${nested(256)}</x-deep>` }] }),
    (e: InstanceError) => e instanceof InstanceError && e.path === '/instance/x-deep' && /elements nested too deeply: <a> would be more than 256 levels below the root element of instance\.xml/.test(e.message),
  );
  const disk = (n: number) => `<disk type="file" device="disk">${nested(n)}</disk>`;
  const withVolume = (n: number) => ({ ...inst, volumes: [{ id: 'vol-1', attachmentToken: '', devName: '', stateName: '', connectionString: '', libvirt: disk(n) }] });
  assert.doesNotThrow(() => emitInstance(withVolume(252) as Instance));
  for (const n of [253, 99_000]) {
    assert.throws(() => emitInstance(withVolume(n) as Instance), (e: InstanceError) => e instanceof InstanceError && e.path === '/instance/volumes/volume[1]/libvirt' && /nested too deeply/.test(e.message));
  }
});

test('JSON descriptions build the same instance as XML, validated the same way', () => {
  const inst = parseInstance(base());
  const json = jsonOfInstance(inst);
  // The JSON form names disk paths as a list and takes user data as base64.
  json.disks = { diskPaths: inst.disks.diskPaths, root: inst.disks.root };
  // …and name/value lists (metadata, states, timestamps) as objects.
  for (const k of ['metadata', 'states', 'timestamps'] as const) json[k] = Object.fromEntries(inst[k]);
  const fromJson: Instance = instanceFromJson(json);
  assert.equal(fromJson.name, inst.name);
  assert.equal(fromJson.memoryKB, inst.memoryKB);
  assert.deepEqual(fromJson.nics, inst.nics);
  assert.ok(xmlEqual(emitInstance({ ...fromJson, vbrs: inst.vbrs }), emitInstance(inst)));
  const text = JSON.stringify({ ...json, cores: 'four' }, null, 2);
  assert.throws(
    () => instanceFromJson(JSON.parse(text), { file: 'inst.json', text }),
    (e: InstanceError) => e instanceof InstanceError && e.path === '/instance/cores' && e.file === 'inst.json' && e.line === lineOf(text, '"cores"'),
  );
});

test('domforge extensions survive the round trip', () => {
  const t = readFileSync(join(SAMPLES, '08-hugepages-page-size', 'instance.xml'), 'utf8');
  const inst = parseInstance(t);
  assert.deepEqual(inst.features.hugepages, { enabled: true, pageSizeKiB: 2048, nodeset: '0' });
  const q = parseInstance(readFileSync(join(SAMPLES, '09-q35-config-drive', 'instance.xml'), 'utf8'));
  assert.deepEqual(q.machine, { type: 'q35', arch: 'x86_64' });
  assert.equal(q.configDrive?.label, 'config-2');
  assert.deepEqual(q.metadata, [['role', 'web'], ['tier', 'frontend']]);
});

test('an unknown element in a list container is kept, and emitInstance writes it back in that container after the known children', () => {
  // Each used to be dropped: neither refused nor written back, so a transform never saw it.
  const text = withStrays(base(), (x) => x);
  const a = parseInstance(text, { file: 'kept.xml' });
  assert.deepEqual(a.unknownChildren, STRAYS);
  // Nothing else changes: the known children read the same, and nothing lands in <instance>.
  const plain = parseInstance(withStrays(base(), () => ''));
  assert.equal('unknownChildren' in plain, false);
  const { unknownChildren: _, ...rest } = a;
  assert.deepEqual(rest, plain);
  assert.deepEqual(a.unknown, []);
  assert.deepEqual([a.nics, a.vbrs, a.groupNames], [[], [], ['default']]);

  // Written back inside its own container, after the known children, with the same content:
  // also <vbrs>, <volumes> and <nics>, which hold nothing else (<nics> is left out when empty).
  const emitted = emitInstance(a);
  const root = parseXml(emitted).documentElement!;
  for (const [container, kept] of Object.entries(STRAYS)) {
    const [el, ...more] = childElements(root).filter((e) => e.nodeName === container);
    assert.ok(el && more.length === 0, container);
    const children = childElements(el);
    assert.deepEqual(children.slice(-kept.length).map((e) => serializeXml(e)), kept.map((k) => k.xml), container);
    assert.ok(children.slice(0, -kept.length).every((e) => !e.nodeName.startsWith('x-')), container);
  }
  const again = parseInstance(emitted);
  assert.deepEqual(again, a);
  assert.equal(emitInstance(again), emitted);
  // Without them, those containers are written as before: empty, or (<nics>) left out.
  const written = emitInstance(plain);
  assert.ok(written.includes('  <vbrs/>\n  <volumes/>\n  <availabilityZone>'), written);
});

test('an unknown element in a <vbr>, a <volume> or <backing> is kept, and emitInstance writes it back in that element after its known children', () => {
  // Each used to be dropped: neither refused nor written back, so a transform never saw it.
  const a = parseInstance(withNestedStrays(readFileSync(NESTED_FILE, 'utf8'), (x) => x), { file: 'kept.xml' });
  assert.deepEqual(nestedOf(a), NESTED);
  // Nothing else changes: the fields read the same, an element holding none has no `unknown`, and nothing lands elsewhere.
  const plain = parseInstance(withNestedStrays(readFileSync(NESTED_FILE, 'utf8'), () => ''));
  const bare = <T extends { unknown?: unknown }>({ unknown: _, ...rest }: T) => rest;
  assert.deepEqual({ ...a, backing: bare(a.backing), vbrs: a.vbrs.map(bare), volumes: a.volumes.map(bare) }, plain);
  assert.ok([plain.backing, ...plain.vbrs, ...plain.volumes, a.vbrs[1]!, a.volumes[0]!, a.volumes[2]!].every((e) => !('unknown' in e)));
  assert.deepEqual([a.unknown, 'unknownChildren' in a], [[], false]);

  // Written back inside its own element, after the known children, with the same content, and nowhere else.
  const emitted = emitInstance(a);
  const root = parseXml(emitted).documentElement!;
  const named = (parent: typeof root, name: string) => childElements(parent).filter((e) => e.nodeName === name);
  const places = { backing: named(root, 'backing')[0]!, vbr: named(named(root, 'vbrs')[0]!, 'vbr')[0]!, volume: named(named(root, 'volumes')[0]!, 'volume')[1]! };
  for (const [where, kept] of Object.entries(NESTED)) {
    const children = childElements(places[where as keyof typeof NESTED]);
    assert.deepEqual(children.slice(-kept.length).map((e) => serializeXml(e)), kept.map((k) => k.xml), where);
    assert.ok(children.slice(0, -kept.length).every((e) => !e.nodeName.startsWith('x-')), where);
  }
  assert.equal(emitted.match(/<x-[\w-]+/g)?.length, Object.values(NESTED).flat().length);
  const again = parseInstance(emitted);
  assert.deepEqual(again, a);
  assert.equal(emitInstance(again), emitted);
});

test('a kept child of a <vbr>, a <volume> or <backing> has the limits of any kept element: 256 levels below <instance>, one element when made in code', () => {
  const euca = readFileSync(NESTED_FILE, 'utf8');
  // In a <vbr> it is level 3, so 253 <a> in it reach level 256; in <backing>, level 2 and 254.
  for (const [where, anchor, most] of [['vbr', '<guestDeviceName>vda</guestDeviceName>', 253], ['backing', '<root type="ebs"/>', 254]] as const) {
    const deep = (n: number) => euca.replace(anchor, `${anchor}<x-deep>${nested(n)}</x-deep>`);
    const kept = parseInstance(deep(most));
    const held = where === 'vbr' ? kept.vbrs[0]!.unknown : kept.backing.unknown;
    assert.equal(held?.[0]?.xml, `<x-deep>${nested(most).replace('<a></a>', '<a/>')}</x-deep>`, where);
    assert.deepEqual(parseInstance(emitInstance(kept)), kept);
    expectInstanceError(deep(most + 1), /nested too deeply/, lineOf(deep(most + 1), '<x-deep>'));
  }
  // Made in code: refused by emitInstance, naming the element it would be written in.
  const inst = parseInstance(euca);
  const at = <T extends object>(list: T[], k: number, xml: string) => list.map((e, i) => (i === k ? { ...e, unknown: [{ name: 'x', xml }] } : e));
  assert.doesNotThrow(() => emitInstance({ ...inst, volumes: at(inst.volumes, 2, `<x>${nested(253)}</x>`) }));
  const cases: [string, Instance, RegExp][] = [
    ['/instance/volumes/volume[3]/x', { ...inst, volumes: at(inst.volumes, 2, `<x>${nested(254)}</x>`) }, /elements nested too deeply: <a> would be more than 256 levels below the root element/],
    ['/instance/vbrs/vbr[2]/x', { ...inst, vbrs: at(inst.vbrs, 1, '<x>') }, /not one well-formed XML element/],
    ['/instance/vbrs/vbr[1]/x', { ...inst, vbrs: at(inst.vbrs, 0, '<x/><y/>') }, /not one well-formed XML element/],
    ['/instance/backing/x', { ...inst, backing: { ...inst.backing, unknown: [{ name: 'x', xml: '<x/></backing><backing>' }] } }, /not one well-formed XML element/],
  ];
  for (const [path, made, message] of cases) {
    assert.throws(() => emitInstance(made), (e: InstanceError) => e instanceof InstanceError && e.path === path && message.test(e.message), path);
  }
});

test('a kept child of a list container has the limits of an unknown element: 256 levels below <instance>, 1024 attributes', () => {
  // In <disks> it is level 2, so 254 <a> in it reach level 256: read, kept, written back.
  const deep = (n: number) => base().replace('<floppyPath/>', `<floppyPath/><x-deep>${nested(n)}</x-deep>`);
  const kept = parseInstance(deep(254));
  assert.equal(kept.unknownChildren?.disks?.[0]?.xml, `<x-deep>${nested(254).replace('<a></a>', '<a/>')}</x-deep>`);
  assert.deepEqual(parseInstance(emitInstance(kept)), kept);
  expectInstanceError(deep(255), /nested too deeply/, lineOf(deep(255), '<x-deep>'));
  // Made in code: refused by emitInstance, naming the container.
  const inst = parseInstance(base());
  assert.throws(
    () => emitInstance({ ...inst, unknownChildren: { disks: [{ name: 'x-deep', xml: `<x-deep>${nested(255)}</x-deep>` }] } }),
    (e: InstanceError) => e instanceof InstanceError && e.path === '/instance/disks/x-deep' && /would be more than 256 levels below the root element/.test(e.message),
  );
  assert.throws(() => emitInstance({ ...inst, unknownChildren: { nics: [{ name: 'x', xml: '<x/></nics><nics>' }] } }), (e: InstanceError) => e instanceof InstanceError && e.path === '/instance/nics/x');
  assert.throws(() => emitInstance({ ...inst, unknownChildren: { states: [{ name: 'x', xml: '<x/>' }] } as unknown as Instance['unknownChildren'] }), (e: InstanceError) => e instanceof InstanceError && e.path === '/instance/states');
  const attrs = (n: number) => base().replace('<vbrs/>', `<vbrs><x-note${Array.from({ length: n }, (_, i) => ` a${i}="v"`).join('')}/></vbrs>`);
  assert.equal(parseInstance(attrs(1024)).unknownChildren?.vbrs?.[0]?.xml.split('="v"').length, 1025);
  expectInstanceError(attrs(1025), /.*/, lineOf(attrs(1025), '<x-note'));
});
