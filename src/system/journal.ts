import { fstatSync } from 'node:fs';

/**
 * systemd sets JOURNAL_STREAM to "<device>:<inode>" of the stream it connected to the journal. A child that inherits
 * the variable but writes elsewhere (`mobilenet-edge run > file` from a service's shell) must not be taken for the
 * journal, so the stream is compared with what the file descriptor really is, as systemd.exec(5) says to.
 */
export function isJournalStream(journalStream: string | undefined, fd: number, fstat = (f: number) => fstatSync(f, { bigint: true })): boolean {
  const m = /^(\d+):(\d+)$/.exec(journalStream ?? '');
  if (!m) return false;
  try {
    const st = fstat(fd);
    return st.dev === BigInt(m[1]!) && st.ino === BigInt(m[2]!);
  } catch {
    return false; // a closed descriptor is not the journal
  }
}

/** Which of stdout and stderr are the journal. */
export interface JournalStreams {
  stdout: boolean;
  stderr: boolean;
}

export function journalStreams(env: NodeJS.ProcessEnv = process.env): JournalStreams {
  return { stdout: isJournalStream(env.JOURNAL_STREAM, 1), stderr: isJournalStream(env.JOURNAL_STREAM, 2) };
}

/**
 * The syslog priority systemd reads from a `<N>` at the start of a line (SyslogLevelPrefix=, on by default) and strips:
 * pino fatal -> 2 (crit), error -> 3 (err), warn -> 4 (warning), info -> 6 (info), debug and trace -> 7 (debug).
 * Without it every line is priority 6, and `journalctl -p warning` finds nothing.
 */
export function syslogPriority(pinoLevel: number): number {
  if (pinoLevel >= 60) return 2;
  if (pinoLevel >= 50) return 3;
  if (pinoLevel >= 40) return 4;
  if (pinoLevel >= 30) return 6;
  return 7;
}

/** Every line of `text` with the priority prefix, so a continuation line (a stack) keeps its line's priority. */
export function withPriority(text: string, pinoLevel: number): string {
  const prefix = `<${syslogPriority(pinoLevel)}>`;
  return text.replace(/^(?=.)/gm, prefix);
}
