// `domforge kvp …` through the real CLI runner (error reporting and exit codes included).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { runCli } from '../../engine/cli/main.js';
import { commands } from '../../engine/cli/commands.js';
import { registerKvp } from '../../engine/cli/kvp.js';
import { decodePool, encodePool, parseKvpItem, reassemble } from '../../engine/kvp/index.js';
import { parseXml } from '../../engine/xml/parse.js';

const fixture = fileURLToPath(new URL('../../../test/kvp/fixtures/instance-hyperv.xml', import.meta.url));
let dir = '';

before(() => {
  if (!commands.includes(registerKvp)) commands.push(registerKvp);
  dir = mkdtempSync(join(tmpdir(), 'domforge-kvp-cli-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'domforge', ...args], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

test('kvp encode --instance writes pool 0 with mode 0600; decode reads it back', async () => {
  const out = join(dir, 'pool0');
  const r = await cli('kvp', 'encode', '--instance', fixture, '--out', out, '--set', 'extra=a=b');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote .*pool0: 5 records, 12800 bytes/);
  assert.equal(statSync(out).mode & 0o777, 0o600);
  const records = decodePool(readFileSync(out)).records;
  assert.equal(reassemble(records, 'euca.user-data'), '#cloud-config\npackages: [nginx]\n');
  assert.deepEqual(records.at(-1), { key: 'extra', value: 'a=b' });

  const text = await cli('kvp', 'decode', out);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^euca\.user-data\.0=#cloud-config\\npackages: \[nginx\]\\n$/m);
  assert.match(text.stdout, /^extra=a=b$/m);
  const json = await cli('kvp', 'decode', out, '--json');
  assert.deepEqual(JSON.parse(json.stdout), { records, trailingBytes: 0 });
  const payload = await cli('kvp', 'decode', out, '--payload', 'euca.password');
  assert.equal(payload.stdout, 's3cr<et');
});

test('kvp encode --out that is the --instance file (by its path or through a link) is a usage error; the instance is kept', async () => {
  const d = mkdtempSync(join(dir, 'same-'));
  const inst = join(d, 'instance.xml');
  const text = readFileSync(fixture, 'utf8');
  writeFileSync(inst, text);
  symlinkSync(inst, join(d, 'link.xml'));
  for (const [i, o] of [[inst, inst], [inst, join(d, '.', 'instance.xml')], [join(d, 'link.xml'), inst], [inst, join(d, 'link.xml')]]) {
    const r = await cli('kvp', 'encode', '--instance', i!, '--out', o!);
    assert.equal(r.code, 2, `${i} ${o}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /--out .* is the --instance file itself: the pool file would replace its input; write to another file/);
    assert.equal(readFileSync(inst, 'utf8'), text);
  }
});

test('kvp encode --out naming a device or a FIFO is refused, left as it is, and not told to print to stdout (encode refuses stdout)', { timeout: 10_000 }, async () => {
  const fifo = join(dir, 'encode-fifo');
  execFileSync('mkfifo', [fifo]);
  const r = await cli('kvp', 'encode', '--instance', fixture, '--out', fifo);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /cannot write .*encode-fifo: it is a FIFO, not a regular file; domforge writes a file whole, by renaming a new one over it, which would replace the device or pipe itself\n/);
  assert.doesNotMatch(r.stderr, /stdout|standard output/);
  assert.ok(statSync(fifo).isFIFO(), 'still a FIFO');
});

test('kvp decode of a truncated file warns, or fails with --strict', async () => {
  const file = join(dir, 'trunc');
  writeFileSync(file, Buffer.concat([encodePool([{ key: 'a', value: 'b' }]), Buffer.alloc(10, 1)]));
  const r = await cli('kvp', 'decode', file);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'a=b\n');
  assert.match(r.stderr, /warning: .*partial record \(10 bytes/);
  const strict = await cli('kvp', 'decode', file, '--strict');
  assert.equal(strict.code, 1);
  assert.match(strict.stderr, /trunc: pool file ends with a partial record/);
  const missing = await cli('kvp', 'decode', file, '--payload', 'nope');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no payload "nope"/);
});

test('kvp decode writes every control character escaped, C1 (U+0080 to U+009F) too: a guest\'s value cannot reach the terminal as a CSI', async () => {
  const file = join(dir, 'controls');
  writeFileSync(file, encodePool([{ key: 'k\u009b', value: 'a\u001b[31m\u009b31m\u0080\u0085\u009f\u00a0\u2028\u007f\\\t' }]));
  const r = await cli('kvp', 'decode', file);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'k\\u009b=a\\u001b[31m\\u009b31m\\u0080\\u0085\\u009f\u00a0\\u2028\\u007f\\\\\\t\n');
});

test('kvp decode refuses a FIFO or a folder at once, naming it', { timeout: 10_000 }, async () => {
  const { spawnSync } = await import('node:child_process');
  const fifo = join(dir, 'pool-fifo');
  spawnSync('mkfifo', [fifo]);
  const f = await cli('kvp', 'decode', fifo);
  assert.equal(f.code, 1);
  assert.equal(f.stderr, `domforge: ${fifo}: cannot read pool file: a FIFO, not a regular file\n`);
  const d = await cli('kvp', 'decode', dir);
  assert.equal(d.stderr, `domforge: ${dir}: cannot read pool file: a folder, not a regular file\n`);
});

test('kvp items prints the CIM-XML instances', async () => {
  const r = await cli('kvp', 'items', '--set', 'cloudstack-vm-userdata=a<b&c');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    '<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Data" TYPE="string"><VALUE>a&lt;b&amp;c</VALUE></PROPERTY><PROPERTY NAME="Name" TYPE="string"><VALUE>cloudstack-vm-userdata</VALUE></PROPERTY><PROPERTY NAME="Source" TYPE="uint16"><VALUE>0</VALUE></PROPERTY></INSTANCE>\n',
  );
  const inst = await cli('kvp', 'items', '--instance', fixture, '--cloudstack', ' type=user', '--json');
  assert.equal(inst.code, 0, inst.stderr);
  assert.deepEqual(
    (JSON.parse(inst.stdout) as string[]).map((l) => parseKvpItem(l).name),
    ['euca.user-data.0', 'euca.meta-data.0', 'euca.public-keys.0', 'euca.password.0', 'cloudstack-vm-userdata'],
  );
});

test('kvp items refuses a key given twice, as encode and envelope add do (AddKvpItems fails on a key the VM has)', async () => {
  for (const args of [
    ['--set', 'a=1', '--set', 'a=2'],
    ['--instance', fixture, '--set', 'euca.password.0=x'],
  ]) {
    for (const json of [[], ['--json']]) {
      const r = await cli('kvp', 'items', ...args, ...json);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}`);
      assert.equal(r.stdout, '');
      const message = json.length ? (JSON.parse(r.stderr) as { error: { message: string } }).error.message : r.stderr.replace(/^domforge: /, '');
      assert.match(message, /^key "(a|euca\.password\.0)" appears more than once in one AddKvpItems call/);
    }
  }
});

test('kvp items --source takes decimal digits only, 0 to 65535 (1e1, 0x10, " 7", -0 refused, exit 2)', async () => {
  const ok = await cli('kvp', 'items', '--set', 'k=v', '--source', '65535');
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(parseKvpItem(ok.stdout.trim()).source, 65535);
  for (const bad of ['1e1', '0x10', ' 7', '-0', '', '7.0']) {
    const r = await cli('kvp', 'items', '--set', 'k=v', '--source', bad);
    assert.equal(r.code, 2, `${JSON.stringify(bad)}: ${r.stdout}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /Expected `--source` to be a non-negative integer|--source must not be empty/);
  }
  const big = await cli('kvp', 'items', '--set', 'k=v', '--source', '65536');
  assert.equal(big.code, 2);
  assert.equal(big.stderr, 'domforge: Expected `--source` to be at most 65535 (Source is a uint16), got "65536"\n');
});

test('kvp envelope add / remove print parseable envelopes', async () => {
  const vm = '5C8A3F57-0E7B-4B6B-9C1E-7F0D0B2D9A11';
  const r = await cli('kvp', 'envelope', 'add', '--vm-name', vm, '--host', 'HYPERV-1', '--instance', fixture, '--message-id', 'uuid:1');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const doc = parseXml(r.stdout);
  assert.equal(doc.getElementsByTagNameNS('http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd', 'Selector').length, 6);
  assert.match(r.stdout, /<a:To>http:\/\/HYPERV-1:5985\/wsman<\/a:To>/);
  const rm = await cli('kvp', 'envelope', 'remove', '--vm-name', 'web-1', '--key', 'euca.password.0');
  assert.equal(rm.code, 0, rm.stderr);
  assert.match(rm.stderr, /note: --vm-name is the Name key of Msvm_ComputerSystem/);
  assert.match(rm.stdout, /RemoveKvpItems_INPUT/);
});

test('kvp envelope --timeout takes decimal seconds only (1e3, 0x10, Infinity refused, exit 2)', async () => {
  const vm = '5C8A3F57-0E7B-4B6B-9C1E-7F0D0B2D9A11';
  const ok = await cli('kvp', 'envelope', 'remove', '--vm-name', vm, '--key', 'k', '--timeout', '1.5');
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /<w:OperationTimeout>PT1\.500S<\/w:OperationTimeout>/);
  for (const bad of ['1e3', '0x10', 'Infinity', ' 5', '0', '.5']) {
    const r = await cli('kvp', 'envelope', 'remove', '--vm-name', vm, '--key', 'k', '--timeout', bad);
    assert.equal(r.code, 2, `${bad}: ${r.stdout}`);
    assert.equal(r.stderr, `domforge: Expected \`--timeout\` to be a positive number of seconds, got ${JSON.stringify(bad)}\n`);
  }
});

test('kvp envelope --timeout stays within what w:OperationTimeout can say: 1 ms to 2^32 - 1 ms (exit 2 outside, no exponent in the envelope)', async () => {
  const vm = '5C8A3F57-0E7B-4B6B-9C1E-7F0D0B2D9A11';
  for (const [given, written] of [
    ['0.001', 'PT0.001S'],
    ['4294967.295', 'PT4294967.295S'],
  ]) {
    const r = await cli('kvp', 'envelope', 'remove', '--vm-name', vm, '--key', 'k', '--timeout', given);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(`<w:OperationTimeout>${written}</w:OperationTimeout>`), r.stdout);
  }
  for (const bad of ['0.0004', '4294967.296', '99999999999999999999999']) {
    const r = await cli('kvp', 'envelope', 'remove', '--vm-name', vm, '--key', 'k', '--timeout', bad);
    assert.equal(r.code, 2, `${bad}: ${r.stdout}`);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `domforge: Expected \`--timeout\` to be a number of seconds from 0.001 to 4294967.295 (WinRM counts it in whole ms, in 32 bits), got ${JSON.stringify(bad)}\n`);
  }
});

test('bad input: typed errors, exit codes, nothing written', async () => {
  const out = join(dir, 'never');
  const nul = await cli('kvp', 'encode', '--set', 'k=a\u0000b', '--out', out);
  assert.equal(nul.code, 1);
  assert.match(nul.stderr, /value of key "k" contains U\+0000/);
  const long = await cli('kvp', 'encode', '--set', `${'k'.repeat(300)}=v`, '--out', out);
  assert.equal(long.code, 1);
  assert.match(long.stderr, /is 300 UTF-16 code units; the host profile allows at most 255/);
  assert.equal(existsSync(out), false);
  const tooMany = await cli('kvp', 'envelope', 'add', '--vm-name', 'x', ...Array.from({ length: 129 }, (_, i) => ['--set', `k${i}=v`]).flat());
  assert.equal(tooMany.code, 1);
  assert.match(tooMany.stderr, /at most 128 items in one call, got 129/);
  assert.equal((await cli('kvp', 'encode', '--out', out)).code, 2, 'no item source is a usage error');
  assert.equal((await cli('kvp', 'encode', '--set', 'k=v', '--out', out, '--profile', 'loose')).code, 2);
  assert.equal((await cli('kvp', 'encode', '--set', 'novalue', '--out', out)).code, 2);
  assert.equal(existsSync(out), false);
});

test('kvp --instance: a refusal of one of the instance\'s fields names the file, the line and column of its element, and its path', async () => {
  const base = readFileSync(fixture, 'utf8');
  const lineIn = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const firstLine = (r: { stderr: string }) => r.stderr.split('\n')[0];

  // A metadata item that would replace a built-in key: at the item, through encode (nothing written) and items.
  const meta = base.replace('<item key="zone">', '<item key="uuid">x</item>\n    <item key="zone">');
  const metaFile = write('meta.xml', meta);
  const out = join(dir, 'never-meta');
  for (const args of [['encode', '--out', out], ['items']]) {
    const r = await cli('kvp', ...args, '--instance', metaFile);
    assert.equal(r.code, 1, args[0]);
    assert.equal(
      firstLine(r),
      `domforge: ${metaFile}:${lineIn(meta, '<item key="uuid">')}:5: metadata item "uuid" would replace the built-in uuid of euca.meta-data; give it another name (at /instance/metadata/item[2]/@key)`,
    );
  }
  assert.equal(existsSync(out), false);

  // User data that is not UTF-8, asked for as text: at <userData>.
  const binary = base.replace(/<userData>[^<]*</, `<userData>${Buffer.from([0xff, 0xfe, 0x00, 0x01]).toString('base64')}<`);
  const binaryFile = write('binary.xml', binary);
  const at = `${binaryFile}:${lineIn(binary, '<userData>')}:3`;
  for (const [flag, key] of [['--ignition=always', 'ignition.config'], ['--cloudstack', 'cloudstack-vm-userdata']]) {
    const r = await cli('kvp', 'items', '--instance', binaryFile, flag!);
    assert.equal(r.code, 1, flag);
    assert.equal(firstLine(r), `domforge: ${at}: the user data is not UTF-8 text, so it cannot be published as ${key} (at /instance/userData)`);
  }
  // User data too long for the one CloudStack key (a typed limit error underneath): at <userData> too.
  const long = base.replace(/<userData>[^<]*</, `<userData>${Buffer.from('x'.repeat(1024)).toString('base64')}<`);
  const longFile = write('long.xml', long);
  const r = await cli('kvp', 'items', '--instance', longFile, '--cloudstack');
  assert.equal(r.code, 1);
  assert.equal(
    firstLine(r),
    `domforge: ${longFile}:${lineIn(long, '<userData>')}:3: value of key "cloudstack-vm-userdata" is 1024 UTF-16 code units; the host profile allows at most 1023 (what travels host to guest unmodified) (at /instance/userData)`,
  );

  // A JSON description: at the key of the offending value.
  const json = JSON.stringify(
    { name: 'i-4b1d2c3e', uuid: '9b3c8f0e-6a2b-4a8e-9d41-0c5f5c2b7e11', hypervisor: { type: 'hyperv' }, os: { platform: 'linux' }, cores: 2, memoryKB: 1048576, metadata: { role: 'web', hostname: 'spoofed' } },
    null,
    2,
  );
  const jsonFile = write('meta.json', json);
  const j = await cli('kvp', 'items', '--instance', jsonFile);
  assert.equal(j.code, 1);
  assert.equal(
    firstLine(j),
    `domforge: ${jsonFile}:${lineIn(json, '"hostname"')}:5: metadata item "hostname" would replace the built-in hostname of euca.meta-data; give it another name (at /instance/metadata/item[2]/@key)`,
  );
});

test('kvp --instance: a metadata key given twice is refused at the second item\'s line, naming the first\'s; nothing written', async () => {
  const base = readFileSync(fixture, 'utf8');
  const text = base.replace('<item key="zone">', '<item key="zone">z-0</item>\n    <item key="zone">');
  const file = join(dir, 'dup-meta.xml');
  writeFileSync(file, text);
  const lineIn = (needle: string, from = 0) => text.slice(0, text.indexOf(needle, from)).split('\n').length;
  const first = lineIn('<item key="zone">');
  const second = lineIn('<item key="zone">', text.indexOf('<item key="zone">') + 1);
  const out = join(dir, 'never-dup');
  for (const args of [['encode', '--out', out], ['items']]) {
    const r = await cli('kvp', ...args, '--instance', file);
    assert.equal(r.code, 1, args[0]);
    assert.match(r.stderr.split('\n')[0]!, new RegExp(`^domforge: ${file.replace(/[.]/g, '\\.')}:${second}:5: metadata key "zone" is given twice \\(first at line ${first}\\); give each item its own key \\(at /instance/metadata/item\\[\\d+\\]/@key\\)$`));
  }
  assert.equal(existsSync(out), false);
});
