/**
 * Config drive speed: domforge's in-process build of a typical drive (16 KiB
 * user data, all three layouts, two NICs, a key and a password), image written
 * to a file (and, as a third figure, the in-memory build alone), against `genisoimage -J -r -V config-2` run as a process on the
 * same file tree, which already sits on disk (so genisoimage is not charged for
 * laying it out). Both are timed in the same loop, one after the other, after
 * a warm-up.
 *
 * Run alone: `node dist/bench/configdrive.js [samples]`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildConfigDrive, buildConfigDriveFiles } from '../engine/configdrive/build.js';
import type { ConfigDriveInput } from '../engine/configdrive/input.js';
import { quantile, round, type Figure } from './lib.js';

export interface BenchConfigDriveOptions {
  /** Timed builds per side. Default 40. */
  samples?: number;
  /** Untimed interleaved rounds first. Default 5. */
  warmup?: number;
  /** Untimed domforge-only builds before that, so V8 has compiled the hot paths (a node controller is a long-lived process). Default 500. */
  jitWarmup?: number;
}

/** The typical drive: what a Linux guest with a cloud-config of 16 KiB gets. */
export function typicalInput(): ConfigDriveInput {
  const userData = new Uint8Array(16 * 1024);
  const line = new TextEncoder().encode('#cloud-config\n' + 'runcmd: [echo domforge config drive benchmark line]\n'.repeat(400));
  userData.set(line.subarray(0, userData.length));
  return {
    uuid: '6f1c2d0e-8d6b-4b1e-9a57-1a2b3c4d5e06',
    name: 'i-4e7a1206',
    hostname: 'euca-172-31-0-16.eucalyptus.internal',
    availabilityZone: 'zone-a',
    userData,
    publicKeys: [{ name: 'key', data: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchmarkKeyMaterialOnly admin@euca' }],
    password: 's3cr3t',
    meta: { role: 'webserver' },
    networks: [
      { mac: 'd0:0d:4e:7a:12:06', ip: '172.31.0.16', netmask: '255.255.255.0', gateway: '172.31.0.1', bridge: 'br0' },
      { mac: 'd0:0d:4e:7a:12:07', bridge: 'br1' },
    ],
    cloudstack: { serviceOffering: 't2.nano', publicIp: '10.111.5.16', hypervisorHostName: 'node-1' },
    timestamp: 1700000000,
  };
}

export async function benchConfigDrive(o: BenchConfigDriveOptions = {}): Promise<Figure[]> {
  const samples = o.samples ?? 40;
  const warmup = o.warmup ?? 5;
  const input = typicalInput();
  const work = mkdtempSync(join(tmpdir(), 'domforge-bench-cd-'));
  try {
    const tree = join(work, 'tree');
    for (const f of buildConfigDriveFiles(input)) {
      mkdirSync(dirname(join(tree, f.path)), { recursive: true });
      writeFileSync(join(tree, f.path), f.data);
    }
    const ours = join(work, 'domforge.iso');
    const theirs = join(work, 'genisoimage.iso');
    for (let i = 0; i < (o.jitWarmup ?? 500); i++) buildConfigDrive(input);

    const built: number[] = [];
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < warmup + samples; i++) {
      let t = performance.now();
      const image = buildConfigDrive(input).image;
      const dBuild = performance.now() - t;
      writeFileSync(ours, image);
      const da = performance.now() - t;
      t = performance.now();
      const r = spawnSync('genisoimage', ['-quiet', '-J', '-r', '-V', 'config-2', '-o', theirs, tree], { encoding: 'utf8' });
      const db = performance.now() - t;
      if (r.error) throw new Error(`genisoimage is not installed (run scripts/setup.sh): ${r.error.message}`);
      if (r.status !== 0) throw new Error(`genisoimage failed: ${r.stderr}`);
      if (i >= warmup) {
        built.push(dBuild);
        a.push(da);
        b.push(db);
      }
    }
    const sizes = `${statSync(ours).size} vs ${statSync(theirs).size} bytes`;
    const fig = (name: string, q: number, ours = a): Figure => {
      const d = quantile(ours, q);
      const r = quantile(b, q);
      return { name, unit: 'ms/drive', domforge: round(d), reference: round(r), ratio: round(d / r, 4), samples };
    };
    return [
      fig(`config drive, 16 KiB user data, all layouts: build + write image file, median (domforge in-process vs genisoimage -J -r process; images ${sizes})`, 0.5),
      fig('config drive, 16 KiB user data, all layouts: build + write image file, p95 (domforge in-process vs genisoimage -J -r process)', 0.95),
      fig('config drive, 16 KiB user data, all layouts: image in memory only, median (domforge build vs genisoimage process)', 0.5, built),
    ];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}


if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const samples = process.argv[2] ? Number(process.argv[2]) : undefined;
  for (const f of await benchConfigDrive({ samples })) console.log(JSON.stringify(f));
}
