import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diag } from 'libxml2-wasm';
import {
  loadDomainSchema,
  releaseDomainSchemas,
  resolveDomainSchemaPath,
  LIBVIRT_SCHEMA_DIR,
} from '../../engine/validate/schema.js';
import { parseXmllintErrors, runVirtXmlValidate } from '../../engine/validate/virt-xml-validate.js';
import { validateDomainXml } from '../../engine/validate/validate-domain.js';
import { IoError } from '../../engine/errors.js';
import { fixture } from './helpers.js';

after(() => releaseDomainSchemas());

describe('schema location', () => {
  test('default, option, env var (folder or file)', () => {
    assert.equal(resolveDomainSchemaPath({ env: {} }), `${LIBVIRT_SCHEMA_DIR}/domain.rng`);
    assert.equal(resolveDomainSchemaPath({ env: { DOMFORGE_LIBVIRT_SCHEMAS: '/opt/s' } }), '/opt/s/domain.rng');
    assert.equal(resolveDomainSchemaPath({ env: { DOMFORGE_LIBVIRT_SCHEMAS: '/opt/s/inactiveDomain.rng' } }), '/opt/s/inactiveDomain.rng');
    assert.equal(resolveDomainSchemaPath({ schemaPath: '/x', env: { DOMFORGE_LIBVIRT_SCHEMAS: '/opt/s' } }), '/x/domain.rng');
  });

  test('a missing schema says which file and which package provides it', async () => {
    const err = await validateDomainXml(fixture('valid/kvm-virtio.xml'), { schemaPath: '/nonexistent/schemas' }).catch((e: unknown) => e);
    assert.ok(err instanceof IoError);
    assert.equal(err.code, 'IO_ERROR');
    assert.match(err.message, /\/nonexistent\/schemas\/domain\.rng was not found/);
    assert.match(err.message, /libvirt-clients/);
    assert.match(err.message, /libvirt-dev/);
    assert.match(err.message, /DOMFORGE_LIBVIRT_SCHEMAS/);
  });

  test('DOMFORGE_LIBVIRT_SCHEMAS is honoured', async () => {
    const saved = process.env.DOMFORGE_LIBVIRT_SCHEMAS;
    process.env.DOMFORGE_LIBVIRT_SCHEMAS = '/nonexistent/env-schemas';
    try {
      await assert.rejects(validateDomainXml(fixture('valid/kvm-virtio.xml')), /\/nonexistent\/env-schemas\/domain\.rng was not found/);
      await validateDomainXml(fixture('valid/kvm-virtio.xml'), { schema: false });
    } finally {
      if (saved === undefined) delete process.env.DOMFORGE_LIBVIRT_SCHEMAS;
      else process.env.DOMFORGE_LIBVIRT_SCHEMAS = saved;
    }
  });

  test('a schema whose includes are missing is a clear error, not a crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'domforge-rng-'));
    try {
      copyFileSync(`${LIBVIRT_SCHEMA_DIR}/domain.rng`, join(dir, 'domain.rng'));
      await assert.rejects(loadDomainSchema({ schemaPath: dir }), (e: unknown) => e instanceof IoError && /does not compile/.test(e.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('compiled once per path', async () => {
    const a = loadDomainSchema();
    const b = loadDomainSchema({ schemaPath: LIBVIRT_SCHEMA_DIR });
    assert.equal(await a, await b);
  });
});

describe('resources', () => {
  test('every libxml2 object is disposed, on the valid and the invalid path', async () => {
    const schema = await loadDomainSchema();
    diag.configure({ enabled: true });
    try {
      for (let i = 0; i < 20; i++) {
        await validateDomainXml(fixture('valid/hyperv.xml'));
        await validateDomainXml(fixture('invalid/bad-bus.xml')).catch(() => undefined);
      }
      const report = (diag.report() ?? {}) as Record<string, { totalInstances: number }>;
      const live = Object.entries(report).filter(([, r]) => r.totalInstances > 0);
      assert.deepEqual(live, [], JSON.stringify(report));
    } finally {
      diag.configure({ enabled: false });
    }
    assert.ok(schema);
  });

  test('10,000 validations do not grow memory', async () => {
    const xml = fixture('valid/kvm-virtio.xml');
    const bad = fixture('invalid/unknown-attribute.xml');
    const schema = await loadDomainSchema();
    for (let i = 0; i < 500; i++) schema.validate(i % 10 ? xml : bad); // warm-up: the wasm heap reaches its working size
    global.gc?.();
    const before = process.memoryUsage();
    for (let i = 0; i < 10_000; i++) schema.validate(i % 10 ? xml : bad);
    global.gc?.();
    const after = process.memoryUsage();
    // A leaked libxml2 document is ~20 KB; 10,000 of them would be ~200 MB.
    const grownMb = (after.rss - before.rss) / 2 ** 20;
    assert.ok(grownMb < 40, `RSS grew ${grownMb.toFixed(1)} MB over 10,000 validations`);
  });
});

describe('virt-xml-validate as a process', () => {
  test('parses located and unlocated xmllint messages', () => {
    const errs = parseXmllintErrors(
      'Relax-NG validity error : Extra element vcpu in interleave\n' +
        '/tmp/virt-xml.AbCd:10: element foo: Relax-NG validity error : Invalid sequence in interleave\n' +
        '/tmp/virt-xml.AbCd fails to validate\n',
    );
    assert.deepEqual(errs, [
      { message: 'Extra element vcpu in interleave' },
      { line: 10, element: 'foo', message: 'Invalid sequence in interleave' },
    ]);
  });

  test('a missing command is an IoError naming the package', async () => {
    await assert.rejects(runVirtXmlValidate('<domain/>', { command: 'domforge-no-such-virt-xml-validate' }), /not installed .*libvirt-clients/);
  });

  test('stderr of a failure that is not a verdict is kept', async () => {
    await assert.rejects(runVirtXmlValidate('<domain/>', { command: 'false' }), (e: unknown) => e instanceof IoError && /exited with code 1/.test(e.message));
  });
});
