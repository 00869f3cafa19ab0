import { pino, type Logger, type LevelWithSilent } from 'pino';
import type { LOG_FORMATS } from '../config/schema.js';
import { withPriority } from './journal.js';
import { prettyLine, wantsColour } from './pretty-log.js';
import { SecretScrubber } from './secrets.js';

export type { Logger };

/**
 * Paths redacted wherever a config object or client options reach a log line. Only a TLS `key` is a secret: a bare
 * `key` is also what a config problem calls its key path, which the log must show.
 */
export const REDACT_PATHS = ['password', '*.password', '*.*.password', 'mqtt.password', 'tls.key', '*.tls.key', 'token', '*.token'];

/** `log.format`: auto picks pretty on a terminal that is not the journal, JSON everywhere else. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** How lines leave the process. */
export interface LogOutput {
  /** Terminal lines (time, level, message, fields) instead of JSON. */
  pretty: boolean;
  /** ANSI colours in pretty lines. */
  colour: boolean;
  /** The stream is journald's: each line starts with its syslog priority `<N>`, which journald strips. */
  journal: boolean;
}

export const JSON_OUTPUT: LogOutput = { pretty: false, colour: false, journal: false };

/** What `log.format` means for a stream that is (or is not) a terminal or the journal. */
export function resolveLogOutput(format: LogFormat, stream: { isTTY: boolean; journal: boolean }, env: NodeJS.ProcessEnv = process.env): LogOutput {
  const pretty = format === 'pretty' || (format === 'auto' && stream.isTTY && !stream.journal);
  // The journal keeps bytes as written: escape codes there would show up in every reader.
  return { pretty, colour: pretty && !stream.journal && wantsColour(env, stream.isTTY), journal: stream.journal };
}

/** pino writes `{"level":N,` first; parsed only when something reordered it. */
function levelOf(line: string): number {
  const m = /^\{"level":(\d+)/.exec(line);
  if (m) return Number(m[1]);
  try {
    return Number((JSON.parse(line) as { level?: unknown }).level) || 30;
  } catch {
    return 30;
  }
}

/**
 * JSON lines to stdout (journald keeps them); one root per process, child loggers per module. Writes are synchronous:
 * a daemon logs a few lines a minute, and the last line before a crash or exit must not be lost.
 * Every line passes the scrubber at the end, whatever its level, fields or format: a URL password quoted by ffmpeg
 * or by an error message is masked there even when no redact path names its field. A pretty line is made from the
 * scrubbed JSON and scrubbed again, as it shows string values unquoted.
 */
export function createLogger(level: LevelWithSilent, destination?: pino.DestinationStream, scrubber = new SecretScrubber(), output: LogOutput = JSON_OUTPUT): Logger {
  const shape = (json: string): string => {
    const clean = scrubber.scrub(json);
    const text = output.pretty ? scrubber.scrub(prettyLine(clean, output.colour)) : clean;
    return output.journal ? withPriority(text, levelOf(clean)) : text;
  };
  return pino(
    {
      level,
      base: { service: 'mobilenet-edge' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: { streamWrite: shape },
    },
    destination ?? pino.destination({ fd: 1, sync: true }),
  );
}

/** For library-level code and tests that need a logger but no output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
