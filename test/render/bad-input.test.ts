import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './cli.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const GOOD = readFileSync(join(ROOT, 'samples', '01-linux-virtio', 'instance.xml'), 'utf8');
const VOLUMES = readFileSync(join(ROOT, 'samples', '07-several-volumes', 'instance.xml'), 'utf8');
/** `n` nested <a> elements. */
const nested = (n: number) => '<a>'.repeat(n) + '</a>'.repeat(n);
const XSL = readFileSync(join(ROOT, 'transforms', 'libvirt.xsl'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'domforge-bad-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));


const lineOf = (text: string, needle: string) => {
  const i = text.indexOf(needle);
  assert.ok(i >= 0, `fixture contains ${needle}`);
  return text.slice(0, i).split('\n').length;
};

interface Case {
  name: string;
  /** instance file name and text (default: the good instance). */
  instance?: [string, string];
  /** stylesheet text (default: the shipped one) and its file name. */
  stylesheet?: [string, string];
  /** Where the error must point: file name and line. */
  at: { file: 'instance' | 'stylesheet' | 'output'; line?: number };
  message: RegExp;
}

const sub = (from: string | RegExp, to: string) => GOOD.replace(from, to);
const xsl = (from: string | RegExp, to: string) => {
  const t = XSL.replace(from, to);
  assert.notEqual(t, XSL, `stylesheet edit applies: ${from}`);
  return t;
};
// Stylesheet edits are written as changes to the shipped transform, so each case is a realistic admin mistake.
const withUnclosed = xsl('<memory unit="KiB">', '<memory unit="KiB"><broken>');
const badXPath = xsl('<xsl:value-of select="name"/>', '<xsl:value-of select="name[["/>');
const unknownXsl = xsl('<xsl:value-of select="name"/>', '<xsl:valueof select="name"/>');
const missingTemplate = xsl('<xsl:call-template name="root-device"/>', '<xsl:call-template name="no-such-template"/>');
const schemaViolation = xsl('<vcpu placement="static">', '<vcpu placement="sometimes">');
const docFn = xsl('<xsl:value-of select="name"/>', '<xsl:value-of select="document(\'/etc/passwd\')"/>');
const includeEscape = xsl('<xsl:output', '<xsl:include href="../../etc/x.xsl"/>\n  <xsl:output');
const wrongRoot = XSL.replace(/<domain\b/g, '<vm').replace(/<\/domain>/g, '</vm>');
const duplicateDisk = xsl('<xsl:for-each select="disks/diskPath">', '<xsl:for-each select="disks/diskPath[1]"><xsl:call-template name="disk"/></xsl:for-each>\n        <xsl:for-each select="disks/diskPath">');
const terminate = xsl('<xsl:template match="/instance">', '<xsl:template match="/instance">\n    <xsl:message terminate="yes">refusing <xsl:value-of select="name"/> by policy</xsl:message>');

const cases: Case[] = [
  { name: 'malformed instance XML', instance: ['i.xml', sub('</cores>', '</core>')], at: { file: 'instance', line: lineOf(GOOD, '<cores>') }, message: /cores|core/ },
  { name: 'missing name', instance: ['i.xml', sub(/<name>i-[^<]*<\/name>/, '')], at: { file: 'instance' }, message: /name/ },
  { name: 'missing uuid', instance: ['i.xml', sub(/<uuid>[^<]*<\/uuid>/, '')], at: { file: 'instance' }, message: /uuid/ },
  { name: 'missing memoryKB', instance: ['i.xml', sub(/<memoryKB>[^<]*<\/memoryKB>/, '')], at: { file: 'instance' }, message: /memoryKB/ },
  { name: 'non-numeric cores', instance: ['i.xml', sub(/<cores>\d+/, '<cores>two')], at: { file: 'instance', line: lineOf(GOOD, '<cores>') }, message: /whole number/ },
  { name: 'zero memory', instance: ['i.xml', sub(/<memoryKB>\d+/, '<memoryKB>0')], at: { file: 'instance', line: lineOf(GOOD, '<memoryKB>') }, message: /memoryKB/ },
  { name: 'unknown platform', instance: ['i.xml', sub('platform="linux"', 'platform="plan9"')], at: { file: 'instance', line: lineOf(GOOD, 'platform="linux"') }, message: /plan9/ },
  { name: 'unknown hypervisor', instance: ['i.xml', sub('type="kvm"', 'type="vmware"')], at: { file: 'instance', line: lineOf(GOOD, '<hypervisor') }, message: /vmware/ },
  { name: 'kernel under /dev/', instance: ['i.xml', sub('<ramdiskId/>', '<ramdiskId/>\n  <kernel>/dev/sda1</kernel>')], at: { file: 'instance' }, message: /kernel/ },
  { name: 'kernel under /dev/ by way of ..', instance: ['i.xml', sub('<ramdiskId/>', '<ramdiskId/>\n  <kernel>/tmp/../dev/sda</kernel>')], at: { file: 'instance', line: lineOf(GOOD, '<ramdiskId/>') + 1 }, message: /not a device under \/dev\// },
  { name: 'kernel under //dev/', instance: ['i.xml', sub('<ramdiskId/>', '<ramdiskId/>\n  <kernel>//dev/sda</kernel>')], at: { file: 'instance', line: lineOf(GOOD, '<ramdiskId/>') + 1 }, message: /not a device under \/dev\// },
  { name: 'ramdisk under /./dev/', instance: ['i.xml', sub('<ramdiskId/>', '<ramdiskId/>\n  <kernel>/boot/vmlinuz</kernel>\n  <ramdisk>/./dev/sdb</ramdisk>')], at: { file: 'instance', line: lineOf(GOOD, '<ramdiskId/>') + 2 }, message: /ramdisk must be a file/ },
  { name: 'malformed MAC', instance: ['i.xml', sub(/mac="[^"]+"/, 'mac="d0:0d:zz:00:00:01"')], at: { file: 'instance' }, message: /mac|MAC/ },
  { name: 'malformed uuid', instance: ['i.xml', sub(/<uuid>[^<]*<\/uuid>/, '<uuid>not-a-uuid</uuid>')], at: { file: 'instance', line: lineOf(GOOD, '<uuid>') }, message: /uuid/ },
  { name: 'bad boolean', instance: ['i.xml', sub('virtioRoot="true"', 'virtioRoot="yes"')], at: { file: 'instance' }, message: /true or false/ },
  { name: 'wrong root element', instance: ['i.xml', '<domain type="kvm"><name>x</name></domain>\n'], at: { file: 'instance', line: 1 }, message: /<instance>/ },
  { name: 'empty instance file', instance: ['i.xml', ''], at: { file: 'instance' }, message: /./ },
  { name: 'external entity (XXE)', instance: ['i.xml', '<?xml version="1.0"?>\n<!DOCTYPE instance [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<instance>&x;</instance>\n'], at: { file: 'instance', line: 2 }, message: /DOCTYPE/ },
  { name: 'billion laughs', instance: ['i.xml', '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n<instance>&lol2;</instance>\n'], at: { file: 'instance', line: 2 }, message: /DOCTYPE/ },
  { name: 'character reference to U+0001 in the name', instance: ['i.xml', sub(/<name>i-/, '<name>&#1;i-')], at: { file: 'instance', line: lineOf(GOOD, '<name>') }, message: /&#1;.*not an XML 1.0 character/ },
  { name: 'raw control character in VmType', instance: ['i.xml', sub('<VmType>', '<VmType>\u0001')], at: { file: 'instance', line: lineOf(GOOD, '<VmType>') }, message: /U\+0001 is not allowed/ },
  { name: 'reference to a lone surrogate', instance: ['i.xml', sub('<VmType>', '<VmType>&#xD800;')], at: { file: 'instance', line: lineOf(GOOD, '<VmType>') }, message: /&#xD800;/ },
  { name: 'declared encoding ISO-8859-1', instance: ['i.xml', sub('encoding="UTF-8"', 'encoding="ISO-8859-1"')], at: { file: 'instance', line: 1 }, message: /ISO-8859-1.*not supported/ },
  { name: '<name> twice', instance: ['i.xml', sub('<name>', '<name>i-0a000002</name>\n  <name>')], at: { file: 'instance', line: lineOf(GOOD, '<name>') + 1 }, message: /<name> is given twice \(first at line \d+\)/ },
  { name: '<cores> twice', instance: ['i.xml', sub('<cores>', '<cores>64</cores>\n  <cores>')], at: { file: 'instance', line: lineOf(GOOD, '<cores>') + 1 }, message: /<cores> is given twice/ },
  { name: '<memoryKB> twice (the second would never be checked)', instance: ['i.xml', sub('<memoryKB>', '<memoryKB>1048576</memoryKB>\n  <memoryKB>-5')], at: { file: 'instance', line: lineOf(GOOD, '<memoryKB>') + 1 }, message: /<memoryKB> is given twice/ },
  { name: 'elements nested 10,000 deep in an unknown element (libxslt would refuse the input, naming no file)', instance: ['i.xml', sub('</instance>', `  <x-deep>${nested(10_000)}</x-deep>\n</instance>`)], at: { file: 'instance', line: lineOf(GOOD, '</instance>') }, message: /elements nested too deeply: <a> is more than 256 levels below the root element/ },
  { name: "elements nested 99,000 deep in a volume's <disk> (a stack overflow while reading it)", instance: ['i.xml', VOLUMES.replace(/(<libvirt>\s*<disk[^>]*>)/, `$1${nested(99_000)}`)], at: { file: 'instance', line: lineOf(VOLUMES, '<libvirt>') + 1 }, message: /elements nested too deeply: <a> is more than 256 levels below the root element/ },
  // libxml2's XML_MAX_TEXT_LENGTH: xsltproc refused it at render time ("xmlSAX2Characters: huge text node"), blamed on the stylesheet.
  { name: 'userData of 10,000,001 bytes, more than libxml2 reads in one text node', instance: ['i.xml', sub(/<userData>[^<]*/, `<userData>${'QUJD'.repeat(2_500_000)}=`)], at: { file: 'instance', line: lineOf(GOOD, '<userData>') }, message: /^domforge: \S+:\d+:3: the text of <userData> is 10000001 bytes \(UTF-8\), more than the 10000000 libxml2 reads in one text node .*\(at \/instance\/userData\)$/m },
  { name: 'userData split by a comment into pieces within the limit, over it joined (as it is written back)', instance: ['i.xml', sub(/<userData>[^<]*/, `<userData>${'QUJD'.repeat(1_250_000)}<!-- cut -->${'QUJD'.repeat(1_250_001)}`)], at: { file: 'instance', line: lineOf(GOOD, '<userData>') }, message: /the text of <userData> is 10000004 bytes .*\(at \/instance\/userData\)$/m },
  { name: 'JSON description with a string for cores', instance: ['i.json', JSON.stringify({ name: 'i-1', uuid: '5a3e9c1d-7b2f-4c8a-9d1e-000000000001', cores: 'four', memoryKB: 1024, hypervisor: { type: 'kvm' }, os: { platform: 'linux' } }, null, 2)], at: { file: 'instance', line: 4 }, message: /cores/ },
  { name: 'stylesheet with an unclosed tag', stylesheet: ['t.xsl', withUnclosed], at: { file: 'stylesheet' }, message: /broken|memory|end tag|close/i },
  { name: 'stylesheet with a bad XPath', stylesheet: ['t.xsl', badXPath], at: { file: 'stylesheet', line: lineOf(badXPath, 'name[[') }, message: /XPath|name\[\[/ },
  { name: 'stylesheet with an unknown xsl element', stylesheet: ['t.xsl', unknownXsl], at: { file: 'stylesheet', line: lineOf(unknownXsl, 'xsl:valueof') }, message: /valueof/ },
  { name: 'call-template of a missing template', stylesheet: ['t.xsl', missingTemplate], at: { file: 'stylesheet', line: lineOf(missingTemplate, 'no-such-template') }, message: /no-such-template/ },
  { name: 'xsl:message terminate', stylesheet: ['t.xsl', terminate], at: { file: 'stylesheet', line: lineOf(terminate, 'terminate="yes">refusing') }, message: /refusing i-0a000001 by policy/ },
  { name: 'document() is refused', stylesheet: ['t.xsl', docFn], at: { file: 'stylesheet', line: lineOf(docFn, 'document(') }, message: /document\(.*refused/ },
  { name: 'include outside the transforms folder', stylesheet: ['t.xsl', includeEscape], at: { file: 'stylesheet', line: lineOf(includeEscape, 'xsl:include') }, message: /refused/ },
  { name: 'output that violates libvirt\'s schema', stylesheet: ['t.xsl', schemaViolation], at: { file: 'output' }, message: /placement|vcpu/ },
  { name: 'output with the wrong root element', stylesheet: ['t.xsl', wrongRoot], at: { file: 'output', line: 1 }, message: /<vm>.*<domain>/ },
  { name: 'output with the root disk twice fails the semantic check', stylesheet: ['t.xsl', duplicateDisk], at: { file: 'output' }, message: /vda/ },
  { name: 'transform of an unknown kind', stylesheet: ['t.txt', XSL], at: { file: 'stylesheet' }, message: /\*\.xsl/ },
  { name: 'instance file that does not exist', instance: ['missing.xml', '\u0000'], at: { file: 'instance' }, message: /cannot read/ },
];

for (const c of cases) {
  test(`bad input: ${c.name} → exit 1, file:line on stderr, no output written`, async () => {
    const caseDir = mkdtempSync(join(dir, 'case-'));
    const instance = join(caseDir, c.instance?.[0] ?? 'instance.xml');
    if (c.instance?.[1] !== '\u0000') writeFileSync(instance, c.instance?.[1] ?? GOOD);
    const args = ['render', '--instance', instance, '--out', join(caseDir, 'libvirt.xml')];
    let stylesheet: string | undefined;
    if (c.stylesheet) {
      stylesheet = join(caseDir, c.stylesheet[0]);
      writeFileSync(stylesheet, c.stylesheet[1]);
      args.push('--transform', stylesheet);
    }
    const r = await cli(args);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    const first = r.stderr.split('\n')[0];
    const file = c.at.file === 'instance' ? instance : stylesheet!;
    if (c.at.file === 'output') assert.match(first, new RegExp(`^domforge: ${escape(stylesheet!)} \\(output for ${escape(instance)}\\)(:\\d+)*: `));
    else if (c.at.line !== undefined) assert.match(first, new RegExp(`^domforge: ${escape(file)}:${c.at.line}(:\\d+)?: `), first);
    else assert.match(first, new RegExp(`^domforge: ${escape(file)}(:\\d+)*: `), first);
    assert.match(r.stderr, c.message);
    assert.doesNotMatch(r.stderr, /internal error/);
    // Nothing written: not the output, not a temporary file beside it.
    assert.deepEqual(readdirSync(caseDir).filter((f) => f !== c.instance?.[0] && f !== 'instance.xml' && f !== c.stylesheet?.[0]), []);
    assert.equal(existsSync(join(caseDir, 'libvirt.xml')), false);
  });
}

test('the bad-input suite has at least 25 cases', () => assert.ok(cases.length >= 25, String(cases.length)));

test('usage errors exit 2', async () => {
  assert.equal((await cli(['render'])).code, 2);
  const engine = await cli(['render', '--instance', 'x.xml', '--engine', 'saxon']);
  assert.equal(engine.code, 2);
  // Worded as xslt check words it, and as every other flag's refusal.
  assert.equal(engine.stderr, 'domforge: Expected `--engine` to be one of auto, compiled, xslt-processor, libxslt, got "saxon"\n');
  assert.equal((await cli(['render', '--instance', 'x.xml', '--param', 'novalue'])).code, 2);
  assert.equal((await cli(['no-such-command'])).code, 2);
});

test('usage errors under --json are one JSON object on stderr, code USAGE, exit 2', async () => {
  for (const args of [['render', '--json'], ['render', '--instance', 'x.xml', '--bogus', '--json'], ['render', '--instance', 'x.xml', 'extra', '--json'], ['no-such-command', '--json'], ['kvp', 'items', '--bogus', '--json']]) {
    const r = await cli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stdout, '');
    const j = JSON.parse(r.stderr) as { error: { code: string; message: string } };
    assert.equal(j.error.code, 'USAGE');
    assert.ok(j.error.message.length > 0 && !j.error.message.startsWith('error:'), j.error.message);
  }
});

test('an option given as an empty string is a usage error, not its default (launch --instances "" never uses /var/lib/domforge/instances)', async () => {
  const inst = join(dir, 'empty-opt.xml');
  writeFileSync(inst, GOOD);
  for (const args of [
    ['launch', '--instance', inst, '--instances', ''],
    ['launch', '--instance', inst, '--instances', join(dir, 'never'), '--hooks', ''],
    ['launch', '--instance', inst, '--instances', join(dir, 'never'), '--hook-timeout', ''],
    ['render', '--instance', ''],
    ['render', '--instance', inst, '--transform', ''],
    ['render', '--instance', inst, '--out', ''],
  ]) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^domforge: --[\w-]+ must not be empty/);
  }
  assert.equal(existsSync(join(dir, 'never')), false);
  const j = await cli(['launch', '--instance', inst, '--instances', '', '--json']);
  assert.deepEqual(JSON.parse(j.stderr), { error: { code: 'USAGE', message: '--instances must not be empty' } });
});

test('--json reports the error as one JSON object with file, line and code', async () => {
  const f = join(dir, 'json-bad.xml');
  writeFileSync(f, sub(/<cores>\d+/, '<cores>two'));
  const r = await cli(['render', '--instance', f, '--json']);
  assert.equal(r.code, 1);
  const j = JSON.parse(r.stderr) as { error: { code: string; file: string; line: number; path: string } };
  assert.deepEqual([j.error.code, j.error.file, j.error.line, j.error.path], ['INSTANCE_INVALID', f, lineOf(GOOD, '<cores>'), '/instance/cores']);
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
