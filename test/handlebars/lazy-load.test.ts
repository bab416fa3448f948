/**
 * The `handlebars` package loads at the first template compiled, not when domforge is
 * imported (library.ts): a controller that only renders XSLT does not carry it. Each check
 * runs in a fresh Node process, whose module cache is the evidence.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpTemplate } from './fixtures.js';

const ROOT = fileURLToPath(new URL('../../engine/index.js', import.meta.url));

/** Runs `body` (an async function's text, `d` = the package root) in a fresh process; returns its stdout. */
function fresh(body: string): string {
  const script = `const d = await import(${JSON.stringify(ROOT)});
const loaded = () => Object.keys(require.cache).some((k) => k.includes('/node_modules/handlebars/'));
${body}`;
  const r = spawnSync(process.execPath, ['--input-type=commonjs', '-e', `(async () => { ${script} })().catch((e) => { console.error(e); process.exit(1); })`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'nothing reaches the process\'s stderr');
  return r.stdout.trim();
}

describe('handlebars is loaded on demand', () => {
  test('importing the package root and rendering XSLT leaves it unloaded; compiling a template loads it', () => {
    const template = tmpTemplate('<name>{{instance.name}}</name>');
    const out = fresh(`
      const before = loaded();
      const x = await d.loadTransform(${JSON.stringify(fileURLToPath(new URL('../../../transforms/libvirt.xsl', import.meta.url)))});
      const sample = require('node:fs').readFileSync(${JSON.stringify(fileURLToPath(new URL('../../../samples/01-linux-virtio/instance.xml', import.meta.url)))}, 'utf8');
      await d.renderText(sample, { transform: x });
      const afterXslt = loaded();
      const t = d.compileHandlebars(${JSON.stringify(template)});
      const r = t.renderSync({ xml: '<instance/>', instance: { name: 'i-lazy' } }, {});
      console.log(JSON.stringify([before, afterXslt, loaded(), r.output]));`);
    assert.deepEqual(JSON.parse(out), [false, false, true, '<name>i-lazy</name>']);
  });

  test('a denied inherited property still becomes a warning of the render, not stderr, after a lazy load', () => {
    const template = tmpTemplate('<x>{{instance.hasOwnProperty}}</x>');
    const out = fresh(`
      const t = d.compileHandlebars(${JSON.stringify(template)});
      const r = t.renderSync({ xml: '<instance/>', instance: { name: 'i' } }, {});
      console.log(JSON.stringify(r.warnings));`);
    const warnings = JSON.parse(out) as string[];
    assert.equal(warnings.length, 1, out);
    assert.match(warnings[0]!, /"hasOwnProperty" is not a field of its parent/);
  });
});
