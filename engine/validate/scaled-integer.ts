/**
 * libvirt's `scaledInteger`: a number with a `unit` attribute, as used by
 * `<memory>`, `<currentMemory>`, `<maxMemory>` and hugepage `<page size>`.
 * Units per https://libvirt.org/formatdomain.html#memory-allocation:
 * `b`/`bytes`; `KB` = 1000 and `k`/`KiB` = 1024 bytes; likewise M, G, T, P, E.
 * Like libvirt's virScaleInteger, letters are case-insensitive.
 */
import { MAX_MEMORY_KIB, memoryTooLargeMessage } from '../instance/libvirt-rules.js';

const POWERS: Record<string, number> = { k: 1, m: 2, g: 3, t: 4, p: 5, e: 6 };

/** Bytes per `unit`, or undefined for a unit libvirt does not know. */
export function unitBytes(unit: string): bigint | undefined {
  const u = unit.trim().toLowerCase();
  if (u === 'b' || u === 'byte' || u === 'bytes') return 1n;
  const p = POWERS[u[0] ?? ''];
  if (p === undefined) return undefined;
  const rest = u.slice(1);
  if (rest === '' || rest === 'ib') return 1024n ** BigInt(p);
  if (rest === 'b') return 1000n ** BigInt(p);
  return undefined;
}

export type Scaled = { ok: true; kib: bigint; bytes: bigint } | { ok: false; reason: string };

/**
 * Parses `value` in `unit` (default `defaultUnit`, KiB for memory) to KiB, rounded
 * up as libvirt rounds. Negative, fractional and non-numeric values are refused.
 */
export function toKiB(value: string, unit: string | null | undefined, defaultUnit = 'KiB'): Scaled {
  const v = value.trim();
  if (!/^\+?\d+$/.test(v)) return { ok: false, reason: `"${value}" is not a whole non-negative number` };
  const per = unitBytes(unit ?? defaultUnit);
  if (per === undefined) return { ok: false, reason: `unit "${unit}" is not one libvirt knows (b, KB, KiB, MB, MiB, GB, GiB, TB, TiB, ...)` };
  const bytes = BigInt(v.replace(/^\+/, '')) * per;
  return { ok: true, bytes, kib: (bytes + 1023n) / 1024n };
}

/**
 * {@link toKiB} for a memory size (`<memory>`, a hugepage size, a memory device's size…):
 * also refuses a size past {@link MAX_MEMORY_KIB}, as libvirt does at define time.
 */
export function toMemoryKiB(value: string, unit: string | null | undefined): Scaled {
  const r = toKiB(value, unit);
  if (!r.ok || r.kib <= MAX_MEMORY_KIB) return r;
  return { ok: false, reason: memoryTooLargeMessage(`${value.trim()} ${unit ?? 'KiB'}`) };
}

/** `2097152 KiB (2 GiB)`, for messages. */
export function formatKiB(kib: bigint): string {
  const units: [bigint, string][] = [
    [1024n ** 3n, 'TiB'],
    [1024n ** 2n, 'GiB'],
    [1024n, 'MiB'],
  ];
  for (const [n, name] of units) if (kib >= n && kib % n === 0n) return `${kib} KiB (${kib / n} ${name})`;
  return `${kib} KiB`;
}
