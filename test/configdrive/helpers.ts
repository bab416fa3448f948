/**
 * Shared tools for the config drive tests: real readers (xorriso, isoinfo,
 * blkid, cloud-init's Python module) run as processes on real files in a temp
 * folder. A test that needs a missing reader is skipped with the reason.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigDriveInput } from '../../engine/configdrive/input.js';

export const PYTHON = '/usr/bin/python3';

function hasBinary(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.error === undefined;
}

function hasCloudInit(): boolean {
  const r = spawnSync(PYTHON, ['-c', 'import cloudinit.sources.DataSourceConfigDrive'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

/** `false` when every named reader is installed, else the reason to skip. */
export function skipUnless(...readers: ('xorriso' | 'isoinfo' | 'blkid' | 'cloud-init' | 'genisoimage' | 'bsdtar')[]): string | false {
  const missing = readers.filter((r) => {
    switch (r) {
      case 'xorriso':
        return !hasBinary('xorriso', ['-version']);
      case 'isoinfo':
        return !hasBinary('isoinfo', ['-version']);
      case 'blkid':
        return !hasBinary('blkid', ['-V']);
      case 'genisoimage':
        return !hasBinary('genisoimage', ['-version']);
      case 'bsdtar':
        return !hasBinary('bsdtar', ['--version']);
      case 'cloud-init':
        return !hasCloudInit();
    }
  });
  return missing.length ? `reader not installed: ${missing.join(', ')} (run scripts/setup.sh)` : false;
}

/** A fresh temp folder; `cleanup` also removes the read-only folders extraction leaves. */
export function tempDir(prefix = 'domforge-cd-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    cleanup() {
      makeWritable(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function makeWritable(path: string): void {
  try {
    const st = statSync(path);
    if (st.isDirectory()) {
      chmodSync(path, 0o700);
      for (const e of readdirSync(path)) makeWritable(join(path, e));
    }
  } catch {
    /* already gone */
  }
}

export function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

/** Paths of every file and folder in the image as xorriso (Rock Ridge) lists them, without the root. */
export function xorrisoFind(iso: string): { files: string[]; dirs: string[] } {
  const files = run('xorriso', ['-indev', iso, '-find', '/', '-type', 'f']).split('\n').filter(Boolean).map(unquote);
  const dirs = run('xorriso', ['-indev', iso, '-find', '/', '-type', 'd']).split('\n').filter(Boolean).map(unquote);
  return { files: files.sort(), dirs: dirs.filter((d) => d !== '').sort() };
}

function unquote(line: string): string {
  const m = /^'(.*)'$/.exec(line.trim());
  return (m ? m[1] : line.trim()).replace(/'\\''/g, "'").replace(/^\//, '');
}

/** Extracts the whole image with xorriso's osirrox into `dest`. */
export function extract(iso: string, dest: string): void {
  run('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/', dest]);
}

/** Extracts the whole image with bsdtar (libarchive, which reads an image front to back) into `dest`. */
export function bsdtarExtract(iso: string, dest: string): void {
  mkdirSync(dest, { recursive: true });
  run('bsdtar', ['-xf', iso, '-C', dest]);
}

/** Every regular file under `dir`, relative path → bytes. */
export function readTree(dir: string, prefix = ''): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) for (const [k, v] of readTree(dir, rel)) out.set(k, v);
    else out.set(rel, readFileSync(join(dir, rel)));
  }
  return out;
}

/** `isoinfo -d` output. */
export function isoinfoDescribe(iso: string): string {
  return run('isoinfo', ['-d', '-i', iso]);
}

/** `blkid -p -o export` as a record (TYPE, LABEL, ...). */
export function blkid(iso: string): Record<string, string> {
  const text = run('blkid', ['-p', '-o', 'export', iso]);
  return Object.fromEntries(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

export interface CloudInitResult {
  instanceId: string;
  localHostname?: string;
  publicKeys: string[];
  /** User data bytes, base64 (cloud-init returns bytes). */
  userdataB64: string;
  networkdata?: unknown;
  ec2InstanceId?: string;
  version: number;
  adminPass?: string;
  meta?: Record<string, string>;
}

const READER = `
import base64, json, sys
from cloudinit import sources
from cloudinit.sources.DataSourceConfigDrive import read_config_drive
r = read_config_drive(sys.argv[1])
md = r["metadata"]
ud = r.get("userdata", b"")
if isinstance(ud, str):
    ud = ud.encode("utf-8")
print(json.dumps({
    "instanceId": md["instance-id"],
    "localHostname": md.get("local-hostname"),
    "publicKeys": sources.normalize_pubkey_data(md.get("public_keys")),
    "userdataB64": base64.b64encode(ud).decode("ascii"),
    "networkdata": r.get("networkdata"),
    "ec2InstanceId": r.get("ec2-metadata", {}).get("instance-id"),
    "version": r["version"],
    "adminPass": md.get("admin_pass"),
    "meta": md.get("meta"),
}))
`;

/** Runs cloud-init's own `read_config_drive` on an extracted drive. */
export function cloudInitRead(dir: string): CloudInitResult {
  return JSON.parse(run(PYTHON, ['-c', READER, dir])) as CloudInitResult;
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function writeBytes(path: string, data: Uint8Array): void {
  writeFileSync(path, data);
}

const enc = new TextEncoder();

/** The inputs every read-back test runs on: ASCII, non-ASCII, binary, none, big, many keys and NICs. */
export function sampleInputs(): { title: string; input: ConfigDriveInput }[] {
  const base = {
    timestamp: 1700000000,
    availabilityZone: 'zone-a',
  };
  const binary = new Uint8Array(4096);
  for (let i = 0; i < binary.length; i++) binary[i] = (i * 131 + 7) & 0xff;
  const big = new Uint8Array(64 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 8)) & 0xff;
  return [
    {
      title: 'cloud-config user data, one key, password, static NIC',
      input: {
        ...base,
        uuid: 'd8e02d56-2648-49a3-bf97-6be8f1204f38',
        name: 'i-12345678',
        hostname: 'web-1.example.com',
        userData: enc.encode('#cloud-config\npackages: [nginx]\n'),
        publicKeys: [{ name: 'mykey', data: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKey mykey@host' }],
        password: 's3cr3t',
        meta: { role: 'web', essential: 'false' },
        networks: [{ mac: '52:54:00:12:34:56', ip: '10.0.0.5', netmask: '255.255.255.0', gateway: '10.0.0.1', bridge: 'br0', mtu: 1500 }],
        dnsServers: ['10.0.0.2'],
        cloudstack: { serviceOffering: 'small', publicIp: '203.0.113.9', hypervisorHostName: 'kvm1' },
      },
    },
    {
      title: 'non-ASCII user data and metadata',
      input: {
        ...base,
        uuid: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
        name: 'i-0a1b2c3d',
        hostname: 'zürich-01',
        userData: enc.encode('#!/bin/sh\necho "Grüße aus Zürich — 東京 🚀" > /etc/motd\n'),
        publicKeys: [{ name: 'clé', data: 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 josé@hôte' }],
        meta: { 'owner': 'Łukasz Żółć', 'note': 'naïve café' },
      },
    },
    {
      title: 'binary user data (every byte value, gzip-like)',
      input: {
        ...base,
        uuid: '11111111-2222-4333-8444-555555555555',
        name: 'i-binary01',
        hostname: 'bin',
        userData: new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0x00, 0xff, 0xfe, 0x0d, 0x0a, 0x00, ...binary]),
        publicKeys: [],
      },
    },
    {
      title: 'no user data at all',
      input: {
        ...base,
        uuid: '22222222-3333-4444-8555-666666666666',
        name: 'i-nouserdata',
        hostname: 'quiet',
        publicKeys: [{ name: 'k1', data: 'ssh-ed25519 AAAAfirst one@a' }],
        networks: [{ mac: '52:54:00:aa:bb:cc', bridge: 'br1' }],
      },
    },
    {
      title: 'user data at the 64 KiB cap, two keys, two NICs, IPv6',
      input: {
        ...base,
        uuid: '33333333-4444-4555-8666-777777777777',
        name: 'i-bigdata',
        hostname: 'big.example',
        launchIndex: 3,
        userData: big,
        publicKeys: [
          { name: 'alice', data: 'ssh-ed25519 AAAAalice alice@a' },
          { name: 'bob', data: 'ssh-rsa AAAAbob bob@b' },
        ],
        networks: [
          { mac: '52:54:00:00:00:01', ip: '192.168.1.10', netmask: '255.255.255.0', gateway: '192.168.1.1' },
          { mac: '52:54:00:00:00:02', ip: '2001:db8::10', netmask: '64', gateway: '2001:db8::1' },
        ],
      },
    },
  ];
}

/** xorriso's complaints (WARNING, SORRY, FAILURE, MISHAP lines) while loading and checking the image's tree. */
export function xorrisoProblems(iso: string): string[] {
  const r = spawnSync('xorriso', ['-indev', iso, '-find', '/', '-exec', 'lsdl'], { encoding: 'utf8' });
  return `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /: (WARNING|SORRY|FAILURE|MISHAP|FATAL) :/.test(l));
}
