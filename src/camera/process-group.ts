import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/*
 * A camera process must not outlive the daemon, nor leave anything behind when it ends: an ffmpeg waiting on a
 * silent RTSP source stayed alive (ppid 1) after the daemon was SIGKILLed, and an ffmpegPath wrapper script that
 * runs ffmpeg as its child left that ffmpeg running when it was stopped.
 *
 * So each camera process runs in its own process group (and session: Node's `detached`), signalled as a group, and
 * carries a lifeline: a pipe from the daemon to a tiny watcher forked into the same group just before the program
 * is exec'd. When the daemon dies, however it dies, the kernel closes the pipe, the watcher reads EOF and SIGKILLs
 * the group: the program, a wrapper's children, and itself. Linux's PR_SET_PDEATHSIG (util-linux `setpriv
 * --pdeathsig`) was the alternative; it reaches only the direct child (a wrapper's ffmpeg survives), and setpriv may
 * be missing or too old for the flag. The watcher is one POSIX sh, about 1 MB; the exec keeps the program's pid,
 * exit code and signal exactly as if it had been spawned directly.
 */
const LIFELINE = [
  // The lifeline moves to fd 3; the program gets /dev/null as stdin, as before.
  'exec 3<&0 </dev/null',
  // Forked twice, so the watcher is not the program's child (init reaps it). Stop signals are for the program; the
  // watcher waits for EOF, which comes when the daemon dies or has seen the program end (then this is a sweep).
  "( ( trap '' HUP INT TERM; read -r _ <&3; kill -KILL 0 ) </dev/null >/dev/null 2>&1 & )",
  'exec "$@" 3<&-',
].join('\n');

/**
 * Spawns `bin` in a new process group guarded by a lifeline (above). stdout and stderr are pipes; stdin is the
 * lifeline, never written. Throws synchronously an ENOENT or EACCES error, like a failed spawn would report, when
 * `bin` cannot be run: once the shell is running, only its exit code would say so.
 */
export function spawnInGroup(bin: string, args: string[], env: NodeJS.ProcessEnv | undefined, name: string): ChildProcess {
  const file = resolveExecutable(bin, (env ?? process.env).PATH ?? '');
  const child = spawn('/bin/sh', ['-c', LIFELINE, name, file, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env, detached: true });
  child.stdin!.on('error', () => {}); // never written; a pipe error on it means nothing
  return child;
}

/** Signals the child's whole group. Only while the lifeline is held: the watcher keeps the group id from being reused. */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * The program has ended and its pipes are closed: whatever is left in its group (a stray that closed its stdio, the
 * watcher) is killed now, while the watcher still holds the group id, and the lifeline is closed.
 */
export function endGroup(child: ChildProcess): void {
  signalGroup(child, 'SIGKILL');
  child.stdin?.destroy();
}

/** What execvp would run: `bin` itself when it has a slash, else the first executable file of that name on PATH. */
export function resolveExecutable(bin: string, searchPath: string): string {
  const candidates = bin.includes('/') ? [bin] : searchPath.split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, bin));
  let denied = false;
  for (const file of candidates) {
    try {
      if (!statSync(file).isFile()) {
        denied = true;
        continue;
      }
    } catch {
      continue;
    }
    try {
      accessSync(file, constants.X_OK);
      return path.resolve(file);
    } catch {
      denied = true;
    }
  }
  const code = denied ? 'EACCES' : 'ENOENT';
  throw Object.assign(new Error(`spawn ${bin} ${code}`), { code, syscall: 'spawn', path: bin });
}
