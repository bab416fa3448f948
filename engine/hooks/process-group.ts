import { readdirSync, readFileSync } from 'node:fs';

/**
 * Sends `signal` to every process in the process group `pgid` (the group a
 * `detached: true` child leads). A group that is already gone is not an error.
 */
export function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

/**
 * Pids of the live (not zombie) members of process group `pgid`. On Linux this reads
 * `/proc/<pid>/stat`, so orphans that were killed but not yet reaped by init do not
 * count; elsewhere it falls back to `kill(-pgid, 0)` and returns `[pgid]` or `[]`.
 */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return signalZero(pgid) ? [pgid] : [];
  }
  const out: number[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue; // exited while we looked
    }
    // Fields after the command, which is in parentheses and may itself contain ") ".
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = rest[0];
    const pgrp = Number(rest[2]);
    if (pgrp === pgid && state !== 'Z' && state !== 'X') out.push(Number(name));
  }
  return out;
}

export function groupAlive(pgid: number): boolean {
  return groupMembers(pgid).length > 0;
}

function signalZero(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
