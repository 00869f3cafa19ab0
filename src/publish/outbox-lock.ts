import fs from 'node:fs';
import path from 'node:path';

/** The calls the lock makes in the outbox directory (a subset of the store's fs seam). */
export type LockFs = Pick<
  typeof fs,
  'symlinkSync' | 'readlinkSync' | 'lstatSync' | 'readFileSync' | 'openSync' | 'writeSync' | 'closeSync' | 'renameSync' | 'linkSync' | 'unlinkSync'
>;

/** Who holds a lock: a pid alone is not enough, pids are reused (after a reboot, soon). */
interface Owner {
  pid: number;
  /** Start time of the process, in clock ticks since boot (field 22 of /proc/<pid>/stat). */
  start?: string;
  /** /proc/sys/kernel/random/boot_id without dashes: a new one at every boot. */
  boot?: string;
}

export const LOCK_FILE = 'outbox.lock';
const ATTEMPTS = 5;

/**
 * Takes `<dir>/outbox.lock` for this process, or throws ELOCKED naming the process that holds it.
 *
 * The lock is a symbolic link whose target is the owner, `<pid>:<start>:<boot id>`: symlink(2) creates it with its
 * content in one step and fails if it exists, so nobody ever reads a half-written lock (the trick of Emacs and Mercurial
 * lock files; Node has no flock). The target stays under 60 bytes, which ext4 keeps inside the inode: taking the lock
 * needs no free data block, so a full disk does not keep the queue from being replayed. File systems without symlinks
 * get a regular file created with O_EXCL. A plain `<pid>` file (older versions) is read too.
 *
 * A lock is live only while a process with its pid runs, started at its start time, in this boot. A stale one is moved
 * aside under a name only this process uses; if what was moved turns out to be another process's fresh lock (it took the
 * stale one over first), it is linked back (link(2) never replaces) and this process gives way.
 */
export function acquireLock(f: LockFs, dir: string): () => void {
  const file = path.join(dir, LOCK_FILE);
  const me = ownerText(currentOwner());
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (tryCreate(f, file, me)) return () => release(f, file, me);
    const seen = inspect(f, file);
    if (!seen) continue; // gone meanwhile: try again
    const owner = parseOwner(seen.text);
    if (owner && isLive(owner)) throw Object.assign(new Error(`in use by process ${owner.pid} (${file})`), { code: 'ELOCKED' });
    const aside = `${file}.${process.pid}.stale`;
    try {
      f.renameSync(file, aside);
    } catch (err) {
      if (code(err) === 'ENOENT') continue;
      throw err;
    }
    const moved = inspect(f, aside);
    if (moved && (moved.ino !== seen.ino || moved.text !== seen.text)) {
      // Another process took the stale lock over between our look and our move: give it back.
      try {
        f.linkSync(aside, file);
      } catch {
        // A third lock appeared meanwhile; it is live or will be judged on the next round.
      }
    }
    unlinkQuietly(f, aside);
  }
  throw Object.assign(new Error(`could not take ${file} after ${ATTEMPTS} attempts (other processes keep changing it)`), { code: 'ELOCKED' });
}

function tryCreate(f: LockFs, file: string, text: string): boolean {
  try {
    f.symlinkSync(text, file);
    return true;
  } catch (err) {
    if (code(err) === 'EEXIST') return false;
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(code(err) ?? '')) throw err;
  }
  // No symlinks here (FAT): O_EXCL, then the content. A reader in between sees an empty lock and takes it for stale,
  // a small window this file system leaves open.
  let fd: number;
  try {
    fd = f.openSync(file, 'wx', 0o640);
  } catch (err) {
    if (code(err) === 'EEXIST') return false;
    throw err;
  }
  try {
    f.writeSync(fd, `${text}\n`);
  } finally {
    f.closeSync(fd);
  }
  return true;
}

/** The lock's content and inode, or null when there is no lock any more. */
function inspect(f: LockFs, file: string): { text: string; ino: number } | null {
  try {
    const st = f.lstatSync(file);
    const text = st.isSymbolicLink() ? f.readlinkSync(file, 'utf8') : f.readFileSync(file, 'utf8');
    return { text: text.trim(), ino: st.ino };
  } catch (err) {
    if (code(err) === 'ENOENT') return null;
    throw err;
  }
}

function release(f: LockFs, file: string, me: string): void {
  // Only our own: never remove a lock another process holds.
  if (inspect(f, file)?.text === me) unlinkQuietly(f, file);
}

function unlinkQuietly(f: LockFs, file: string): void {
  try {
    f.unlinkSync(file);
  } catch {
    // Already gone, or beyond repair: a lock left behind is judged stale by the next start.
  }
}

/** Kept short (no dashes, no labels) so that ext4 stores the symlink in its inode. */
function ownerText(o: Owner): string {
  return o.start && o.boot ? `${o.pid}:${o.start}:${o.boot}` : String(o.pid);
}

function parseOwner(text: string): Owner | null {
  const [pid, start, boot] = text.split(':');
  if (!pid || !/^\d+$/.test(pid) || Number(pid) <= 0) return null; // empty or garbled: nobody can hold it
  return { pid: Number(pid), ...(start ? { start } : {}), ...(boot ? { boot } : {}) };
}

function currentOwner(): Owner {
  const stat = procStat(process.pid);
  const boot = bootId();
  return { pid: process.pid, ...(stat && boot ? { start: stat.start, boot } : {}) };
}

function isLive(owner: Owner): boolean {
  // Our own pid: left by this process (another open in this process is refused before the lock is looked at).
  if (owner.pid === process.pid) return false;
  const boot = bootId();
  if (owner.boot && boot && owner.boot !== boot) return false;
  const stat = procStat(owner.pid);
  if (stat) {
    if (stat.state === 'Z' || stat.state === 'X') return false;
    return owner.start === undefined || owner.start === stat.start;
  }
  // No /proc entry: the process is gone, unless /proc hides it (hidepid) or there is no /proc; ask the kernel.
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (err) {
    return code(err) === 'EPERM';
  }
}

function procStat(pid: number): { state: string; start: string } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = fields[19];
    return start && /^\d+$/.test(start) ? { state: fields[0]!, start } : null;
  } catch {
    return null;
  }
}

let cachedBootId: string | null | undefined;
function bootId(): string | null {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replace(/-/g, '') || null;
    } catch {
      cachedBootId = null;
    }
  }
  return cachedBootId;
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code;
}
