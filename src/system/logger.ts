import { pino, type Logger, type LevelWithSilent } from 'pino';
import { SecretScrubber } from './secrets.js';

export type { Logger };

/**
 * Paths redacted wherever a config object or client options reach a log line. Only a TLS `key` is a secret: a bare
 * `key` is also what a config problem calls its key path, which the log must show.
 */
export const REDACT_PATHS = ['password', '*.password', '*.*.password', 'mqtt.password', 'tls.key', '*.tls.key', 'token', '*.token'];

/**
 * JSON lines to stdout (journald keeps them); one root per process, child loggers per module. Writes are synchronous:
 * a daemon logs a few lines a minute, and the last line before a crash or exit must not be lost.
 * Every line passes the scrubber at the end, whatever its level or fields: a URL password quoted by ffmpeg or by an
 * error message is masked there even when no redact path names its field.
 */
export function createLogger(level: LevelWithSilent, destination?: pino.DestinationStream, scrubber = new SecretScrubber()): Logger {
  return pino(
    {
      level,
      base: { service: 'mobilenet-edge' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: { streamWrite: (line) => scrubber.scrub(line) },
    },
    destination ?? pino.destination({ fd: 1, sync: true }),
  );
}

/** For library-level code and tests that need a logger but no output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
