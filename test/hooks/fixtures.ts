import { chmod, mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temp folder with a hooks/ and hooks/filters.d/ inside, removed by `cleanup()`. */
export interface HookSandbox {
  root: string;
  hooks: string;
  filters: string;
  instanceDir: string;
  /** Writes an executable `#!/bin/sh` script (mode 0755 unless given). */
  script(dir: string, name: string, body: string, mode?: number): Promise<string>;
  link(dir: string, name: string, target: string): Promise<void>;
  cleanup(): Promise<void>;
}

export async function sandbox(): Promise<HookSandbox> {
  const root = await mkdtemp(join(tmpdir(), 'domforge-hooks-'));
  const hooks = join(root, 'hooks');
  const filters = join(hooks, 'filters.d');
  const instanceDir = join(root, 'instances', 'i-12345678');
  await mkdir(filters, { recursive: true });
  await mkdir(instanceDir, { recursive: true });
  return {
    root,
    hooks,
    filters,
    instanceDir,
    async script(dir, name, body, mode = 0o755) {
      const path = join(dir, name);
      await writeFile(path, `#!/bin/sh\n${body}\n`);
      await chmod(path, mode);
      return path;
    },
    async link(dir, name, target) {
      await symlink(target, join(dir, name));
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

export const SMALL_DOMAIN = `<domain type="kvm">
  <name>i-12345678</name>
  <memory unit="KiB">131072</memory>
  <os>
    <type>hvm</type>
  </os>
  <devices>
    <disk type="file" device="disk">
      <source file="/var/lib/instances/i-12345678/disk"/>
      <target dev="vda" bus="virtio"/>
    </disk>
  </devices>
</domain>
`;
