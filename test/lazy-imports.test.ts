/**
 * xslt-processor and chokidar are loaded at their first use, not with domforge: a controller
 * whose transforms run in a sandbox worker never loads the first, one that watches no folder
 * never loads the second. Seen from a child process whose ESM resolve hook reports every
 * import of either package.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'domforge-lazy-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('importing domforge (the package root) imports neither xslt-processor nor chokidar; an XSLT compile still has the first', () => {
  writeFileSync(join(dir, 'hooks.mjs'), `export async function resolve(specifier, context, next) {\n  if (specifier === 'xslt-processor' || specifier === 'chokidar') process.stderr.write('IMPORTED ' + specifier + '\\n');\n  return next(specifier, context);\n}\n`);
  writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(join(dir, 'hooks.mjs'))}, import.meta.url);\n`);
  const main = join(ROOT, 'dist', 'engine', 'index.js');
  const script = `
    const d = await import(${JSON.stringify(main)});
    process.stderr.write('LOADED\\n');
    const x = d.compileXslt(${JSON.stringify(join(ROOT, 'transforms', 'libvirt.xsl'))}, { engine: 'xslt-processor' });
    const { readFileSync } = await import('node:fs');
    const r = await x.render({ xml: readFileSync(${JSON.stringify(join(ROOT, 'samples', '01-linux-virtio', 'instance.xml'))}, 'utf8') });
    process.stdout.write(r.output.includes('<domain') ? 'RENDERED' : 'NO DOMAIN');
  `;
  const r = spawnSync(process.execPath, ['--import', join(dir, 'register.mjs'), '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'RENDERED');
  assert.match(r.stderr, /LOADED/);
  assert.doesNotMatch(r.stderr, /IMPORTED/);
});
