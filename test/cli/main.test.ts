/**
 * An argument or option given as an empty string is a usage error naming it, for every
 * command (a group's subcommands too): never a file named '' (`IO_ERROR … stat ''`), never
 * the current folder, never "not given".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { cli } from '../render/cli.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const XSL = join(ROOT, 'transforms', 'libvirt.xsl');
const SAMPLE = join(ROOT, 'samples', '01-linux-virtio', 'instance.xml');

test("an empty file argument is a usage error naming the argument: validate '', kvp decode '', xslt check '', xslt probes ''", async () => {
  for (const [args, name] of [
    [['validate', ''], 'file'],
    [['validate', join(ROOT, 'samples', '01-linux-virtio', 'libvirt.xml'), ''], 'file'],
    [['kvp', 'decode', ''], 'pool'],
    [['xslt', 'check', ''], 'stylesheet'],
    [['xslt', 'probes', ''], 'dir'],
  ] as const) {
    const r = await cli([...args]);
    assert.deepEqual(r, { code: 2, stdout: '', stderr: `domforge: argument '${name}' must not be empty\n` }, args.join(' '));
    const j = await cli([...args, '--json']);
    assert.equal(j.code, 2);
    assert.deepEqual(JSON.parse(j.stderr), { error: { code: 'USAGE', message: `argument '${name}' must not be empty` } });
  }
});

test('an empty argument of a lifecycle command, and an empty value among a repeatable option, are refused the same way', async () => {
  for (const [args, message] of [
    [['terminate', '', '--instances', join(ROOT, 'never-created')], "argument 'id' must not be empty"],
    [['assign-address', 'i-12345678', '', '--instances', join(ROOT, 'never-created')], "argument 'ip' must not be empty"],
    [['xslt', 'check', XSL, '--proving', SAMPLE, '--proving', ''], '--proving must not be empty'],
  ] as const) {
    const r = await cli([...args]);
    assert.deepEqual(r, { code: 2, stdout: '', stderr: `domforge: ${message}\n` }, args.join(' '));
  }
});
