// The watcher notes a file left out of a version (a link to the versions store) only when a
// rejection names that file's path whole: a path that merely starts like it is another file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { namesPath } from '../../engine/transform/watch/transform-watcher.js';

test('namesPath: a path named whole, up to a path boundary, and not one that only starts like it', () => {
  const p = '/srv/transforms/p';
  for (const text of [`${p}`, `cannot read ${p}: gone`, `(${p})`, `"${p}"`, `at ${p}/x.hbs`, `in [${p}], then`, `${p};`]) {
    assert.equal(namesPath(text, p), true, text);
  }
  for (const text of [`${p}artials/console.hbs:3:5: unknown helper`, `${p}.bak`, `x${p}`, `/other${p}`, `${p}-old`, '']) {
    assert.equal(namesPath(text, p), false, text);
  }
  // The second mention is the whole one.
  assert.equal(namesPath(`${p}artials/a.hbs, then ${p}`, p), true);
  const partial = '/srv/transforms/partials/console';
  assert.equal(namesPath(`${partial}.hbs:3:5: unknown helper "shout"`, partial), false);
});
