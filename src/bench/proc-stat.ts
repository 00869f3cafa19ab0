import { readdirSync, readFileSync } from 'node:fs';

/**
 * Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. It is 100 on every architecture Linux runs a
 * Raspberry Pi or a PC with (the kernel's ABI fixes it, whatever CONFIG_HZ is).
 */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used, in ms (10 ms resolution); undefined when it cannot be read. */
export function cpuMsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: fields are counted after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return ((utime + stime) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Resident set size of a process in MB (VmRSS), undefined when it cannot be read. */
export function rssMbOf(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Direct children of a process (default this one: the inference hosts), from /proc/<pid>/task/<tid>/children. */
export function childPids(pid: number | 'self' = 'self'): number[] {
  const pids = new Set<number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        for (const p of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) if (p) pids.add(Number(p));
      } catch {
        // a thread that ended meanwhile
      }
    }
  } catch {
    // no /proc: not Linux
  }
  return [...pids];
}
