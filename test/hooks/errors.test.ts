import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lastLines, MAX_QUOTED_LINE } from '../../engine/hooks/errors.js';

test('lastLines cuts a long line to its last MAX_QUOTED_LINE characters and says how many it left out, counting characters, not UTF-16 units', () => {
  const ascii = 'a'.repeat(1500) + 'b'.repeat(MAX_QUOTED_LINE);
  assert.deepEqual(lastLines(ascii, 1), [`… (1500 characters left out) ${'b'.repeat(MAX_QUOTED_LINE)}`]);
  // 1500 emoji (each two UTF-16 units): 500 left out, 1000 kept, none cut in half.
  const emoji = '\u{1F600}'.repeat(1500);
  assert.deepEqual(lastLines(emoji, 1), [`… (500 characters left out) ${'\u{1F600}'.repeat(MAX_QUOTED_LINE)}`]);
  // 600 emoji are 1200 units but 600 characters: quoted whole.
  assert.deepEqual(lastLines('\u{1F600}'.repeat(600), 1), ['\u{1F600}'.repeat(600)]);
  // Mixed: the cut falls between a character and an emoji's two halves, never inside it.
  const mixed = 'x' + '\u{1F600}'.repeat(MAX_QUOTED_LINE);
  assert.deepEqual(lastLines(mixed, 1), [`… (1 characters left out) ${'\u{1F600}'.repeat(MAX_QUOTED_LINE)}`]);
});
