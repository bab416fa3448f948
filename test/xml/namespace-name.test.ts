// Namespace names as libxml2's xmlParseURI reads them (engine/xml/namespace-name.ts), each
// with libxml2's verdict; where xmllint is installed it is held to the same verdicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { isUriReference } from '../../engine/xml/namespace-name.js';

const NAMES: readonly [name: string, uri: boolean][] = [
  ['http://www.w3.org/1999/XSL/Transform', true],
  ['http://libvirt.org/schemas/domain/qemu/1.0', true],
  ['urn:a:b', true],
  ['rel', true],
  ['./a:b', true],
  ['a/b:c', true],
  ['%41', true],
  ['?a:b', true],
  ['#a:b', true],
  ['//', true],
  ['http:///a', true],
  ['http://u@h:12/p?q#f', true],
  ['http://a:b@h/', true],
  ['http://[::1]:8/', true],
  ['http://[x y]/', true], // libxml2 takes anything between brackets for an IP literal
  ['urn:a#b[c]', true], // and brackets in a fragment
  ["x:!$&'()*+,;=", true],
  ['http://h:2147483647/', true],
  ['urn&:p', true], // libxml2 checks an '&' as '&#38;': 'urn&' and the fragment '38;:p'
  ['urn!:p', false],
  ['a b', false],
  ['urn:\u00e9', false],
  ['a%2g', false],
  ['a:%4', false],
  ['urn:a#b#c', false],
  ['a?b[c]', false],
  ['a:b]', false],
  ['http://h/[x]', false],
  ['http://[::1]x/', false],
  ['1a:b', false],
  [':a', false],
  ['http://h:/', false],
  ['//host:x/', false],
  ['http://h:2147483648/', false],
  ['http://a@b@c/', false],
  ['a|b', false],
  ['a\\b', false],
];

test('namespace names are URI references where libxml2 reads one', () => {
  for (const [name, uri] of NAMES) assert.equal(isUriReference(name), uri, JSON.stringify(name));
});

test('xmllint gives each name the verdict the table records', { skip: spawnSync('xmllint', ['--version'], { stdio: 'ignore' }).status === 0 ? false : 'xmllint is not installed' }, () => {
  for (const [name, uri] of NAMES) {
    const xml = `<r xmlns:p="${name.replace(/&/g, '&amp;').replace(/</g, '&lt;')}"/>`;
    const said = spawnSync('xmllint', ['--noout', '-'], { input: xml }).stderr.toString();
    assert.equal(!/is not a valid URI/.test(said), uri, `${JSON.stringify(name)}: ${said}`);
  }
});
