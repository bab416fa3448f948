import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { benchConfigDrive, typicalInput } from '../../bench/configdrive.js';
import { buildConfigDrive } from '../../engine/configdrive/build.js';
import { extract, readTree, run, skipUnless, tempDir, writeBytes } from './helpers.js';

const tmp = tempDir();
after(() => tmp.cleanup());

test('genisoimage -J -r on the same tree and domforge hold the same files, Rock Ridge and Joliet alike', { skip: skipUnless('genisoimage', 'xorriso', 'isoinfo') }, () => {
  const drive = buildConfigDrive(typicalInput());
  const tree = join(tmp.dir, 'tree');
  for (const f of drive.files) {
    mkdirSync(dirname(join(tree, f.path)), { recursive: true });
    writeFileSync(join(tree, f.path), f.data);
  }
  const theirs = join(tmp.dir, 'genisoimage.iso');
  const ours = join(tmp.dir, 'domforge.iso');
  run('genisoimage', ['-quiet', '-J', '-r', '-V', 'config-2', '-o', theirs, tree]);
  writeBytes(ours, drive.image);
  extract(theirs, join(tmp.dir, 'theirs'));
  extract(ours, join(tmp.dir, 'ours'));
  const a = readTree(join(tmp.dir, 'ours'));
  const b = readTree(join(tmp.dir, 'theirs'));
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [k, v] of a) assert.ok(v.equals(b.get(k)!), k);
  const joliet = (iso: string) => run('isoinfo', ['-J', '-f', '-i', iso]).split('\n').filter(Boolean).sort();
  assert.deepEqual(joliet(ours), joliet(theirs).map((p) => p.replace(/;1$/, '')));
});

test('the benchmark runs and reports figures of the agreed shape', { skip: skipUnless('genisoimage') }, async () => {
  const figures = await benchConfigDrive({ samples: 3, warmup: 1, jitWarmup: 5 });
  assert.equal(figures.length, 3);
  for (const f of figures) {
    assert.deepEqual(Object.keys(f).sort(), ['domforge', 'name', 'ratio', 'reference', 'samples', 'unit']);
    assert.ok(f.domforge > 0 && f.reference > 0 && f.ratio > 0);
    assert.equal(f.samples, 3);
  }
});
