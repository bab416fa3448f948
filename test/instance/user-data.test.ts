import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compactBase64, decodeBase64 } from '../../engine/instance/user-data.js';

test('base64 user data: padded, unpadded and pretty-printed forms are read; malformed ones are not', () => {
  for (const [text, bytes] of [
    ['aGk=', 'hi'],
    ['aGk', 'hi'],
    ['aA==', 'h'],
    ['aA', 'h'],
    ['aGlo', 'hih'],
    ['aGlo\n  aGk=\n', 'hihhi'],
    ['aGlo aGk =', 'hihhi'],
    ['', ''],
    [' \n\t', ''],
  ] as const) {
    assert.deepEqual(Buffer.from(decodeBase64(text) ?? 'MISSING'), Buffer.from(bytes), JSON.stringify(text));
  }
  for (const text of ['not base64!', 'aGlvA', 'a', 'aGk==', 'aA=', 'aGk===', 'a=Gk', 'aG=k', '====', 'aGk-', 'aGk_', 'aGk\u0000']) {
    assert.equal(compactBase64(text), undefined, JSON.stringify(text));
  }
});

test('base64 user data of many megabytes is read in linear time and constant stack', () => {
  // A backtracking pattern over groups of four overflowed the stack at about 3.2 MiB of data.
  const bytes = Buffer.alloc(16 << 20);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
  const b64 = bytes.toString('base64');
  assert.deepEqual(Buffer.from(decodeBase64(b64)!), bytes);
  // Broken at the very end, after megabytes of good groups: still refused, not thrown.
  assert.equal(compactBase64(b64.slice(0, -4) + 'A!A='), undefined);
  // Line-wrapped at 76 columns as MIME does.
  assert.deepEqual(Buffer.from(decodeBase64(b64.replace(/.{76}/g, '$&\n'))!), bytes);
});
