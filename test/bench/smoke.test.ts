import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBench, groups } from '../../bench/run.js';
import { daemonUnavailable } from '../../bench/launch-daemon.js';

// The benchmark is not a test and fails nothing; this only keeps it from rotting:
// every figure group runs a few iterations and prints figures, or says it is not built.
test('npm run bench --quick: every group prints finite figures or n/a, none errors', { timeout: 600_000 }, async () => {
  const lines: string[] = [];
  await runBench(['--quick', '--json'], (l) => lines.push(l));
  const rows = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const seen = new Set(rows.map((r) => r.group));
  assert.deepEqual([...seen].sort(), groups.map((g) => g.key).sort(), 'every group reported');
  for (const r of rows) {
    assert.equal(r.error, undefined, `${String(r.group)}: ${String(r.error)}`);
    if (typeof r.status === 'string') continue;
    for (const k of ['domforge', 'reference', 'ratio']) assert.ok(Number.isFinite(r[k]), `${String(r.name)}: ${k} = ${String(r[k])}`);
    assert.ok(typeof r.unit === 'string' && typeof r.samples === 'number');
  }
  // Memory is measured with the defaults, with the controller's young-generation hold turned off, and with the README's two recommendations.
  const rssRows = rows.filter((r) => r.group === 'rss');
  const rss = rssRows.map((r) => String(r.name));
  assert.equal(rss.filter((n) => n.endsWith('Node defaults')).length, 3, rss.join('\n'));
  assert.equal(rss.filter((n) => n.endsWith('Node defaults, holdYoungGeneration: false')).length, 3, rss.join('\n'));
  assert.equal(rss.filter((n) => n.endsWith('--max-semi-space-size=4 and MALLOC_TRIM_THRESHOLD_=131072')).length, 3, rss.join('\n'));
  assert.equal(rssRows.filter((r) => typeof r.target === 'string').length, 6, 'peak and growth of each variant carry a target');
  // Launch: the target is a throughput, so it is measured one at a time and with several in flight.
  const launch = rows.filter((r) => r.group === 'launch');
  const targeted = launch.filter((r) => typeof r.target === 'string').map((r) => String(r.name));
  assert.equal(targeted.length, 2, targeted.join('\n'));
  assert.ok(targeted.some((n) => /^Launch \+ terminate throughput, no hooks: \d+ in flight/.test(n)), targeted.join('\n'));
  // The throughput's CPU time, for information: domforge's whole, then its three parts, each
  // against the pipeline's processes; the parts add up to the whole.
  const at = launch.findIndex((r) => /^Launch \+ terminate CPU time, no hooks/.test(String(r.name)));
  assert.ok(at >= 0, launch.map((r) => r.name).join('\n'));
  const cpu = launch.slice(at, at + 4);
  assert.deepEqual(
    cpu.map((r) => [r.info, r.target, r.unit]),
    cpu.map(() => [true, undefined, 'ms CPU/instance']),
  );
  assert.match(String(cpu[1]!.name), /JavaScript thread/);
  assert.match(String(cpu[2]!.name), /other threads/);
  assert.match(String(cpu[3]!.name), /sandbox worker/);
  assert.ok(cpu.every((r) => r.reference === cpu[0]!.reference && (r.reference as number) > 0), JSON.stringify(cpu));
  const parts = cpu.slice(1).reduce((s, r) => s + (r.domforge as number), 0);
  assert.ok(Math.abs(parts - (cpu[0]!.domforge as number)) < 0.01, `parts ${parts}, whole ${String(cpu[0]!.domforge)}`);
  assert.ok((cpu[0]!.domforge as number) > 0);
  // The sums alone would hold for a sampler that put everything in one part: the launches ran
  // JavaScript on the controller's thread and rendered in the sandbox worker, so both show.
  assert.ok((cpu[1]!.domforge as number) > 0 && (cpu[3]!.domforge as number) > 0, JSON.stringify(cpu));
  // Launch through libvirtd, against the pipeline as the issue writes it: measured where a
  // daemon answers (the test command brings libvirtd up as root), else said why not.
  const daemon = rows.filter((r) => r.group === 'daemon');
  const why = daemonUnavailable();
  if (why === undefined) {
    assert.equal(daemon.length, 4, JSON.stringify(daemon));
    assert.deepEqual(
      daemon.filter((r) => typeof r.target === 'string').map((r) => /^Launch \+ terminate (through libvirtd \(test\+unix|throughput through libvirtd)/.test(String(r.name))),
      [true, true],
    );
    assert.ok(daemon.every((r) => /one process each|the issue’s pipeline through the daemon|the same pipeline through the daemon/.test(String(r.name))), JSON.stringify(daemon));
  } else {
    assert.deepEqual(daemon.map((r) => r.status), [`not measured: ${why}`]);
  }
  // Handlebars: every sample against the target, plus the cold render for information only.
  const hbs = rows.filter((r) => r.group === 'handlebars');
  assert.equal(hbs.filter((r) => r.info === true && r.target === undefined && /caches cold/.test(String(r.name))).length, 1);
  assert.ok(hbs.filter((r) => r.info !== true).length > 1 && hbs.filter((r) => r.info !== true).every((r) => typeof r.target === 'string' && typeof r.met === 'boolean'));
});
