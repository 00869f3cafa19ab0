import { readdirSync, readFileSync } from 'node:fs';

/** ppid of a live process from /proc/<pid>/stat (the field after the parenthesised name), or undefined. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return state[0] === 'Z' ? undefined : Number(state[1]); // a zombie has exited: it is not "left behind"
  } catch {
    return undefined;
  }
}

/** Every live descendant of `root` (children, grandchildren, ...). */
export function descendants(root: number): number[] {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const ppid = parentOf(pid);
    if (ppid !== undefined) parents.set(pid, ppid);
  }
  const found: number[] = [];
  let frontier = [root];
  while (frontier.length > 0) {
    const next = [...parents].filter(([, ppid]) => frontier.includes(ppid)).map(([pid]) => pid);
    found.push(...next);
    frontier = next;
  }
  return found;
}

/** Which of `pids` still run (zombies do not count). */
export function alive(pids: number[]): number[] {
  return pids.filter((pid) => parentOf(pid) !== undefined);
}

/** Whether `pid` has a handler installed for `signal` (SigCgt in /proc/<pid>/status). */
export function catches(pid: number, signal: number): boolean {
  try {
    const m = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m !== null && (BigInt(`0x${m[1]}`) & (1n << BigInt(signal - 1))) !== 0n;
  } catch {
    return false;
  }
}
