import type { JournalStreams } from '../system/journal.js';
import type { SignalGate } from '../system/signal-gate.js';

/** Exit codes (sysexits.h where one fits), documented in the README. */
export const EXIT = {
  OK: 0,
  /** Runtime failure: a model that cannot load, no camera could start, a stop that overran its deadline. */
  FAILURE: 1,
  /** Bad command line. */
  USAGE: 64,
  /** An input (image, model) exists but cannot be used. */
  DATA: 65,
  /** An input file does not exist. */
  NO_INPUT: 66,
  /** Invalid configuration. systemd's unit does not restart on it. */
  CONFIG: 78,
} as const;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  isTTY: boolean;
  /** Stop and reload signals held since the process started (the entry point's gate); absent in in-process tests. */
  signals?: SignalGate;
  /** Which of the process's stdout and stderr are journald's (under systemd); absent: neither. */
  journal?: JournalStreams;
}
