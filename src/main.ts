#!/usr/bin/env node
/**
 * The entry point stays this small on purpose: the signal gate is in place before the rest of the program loads, so a
 * SIGHUP or SIGTERM that arrives while the modules load is kept for the daemon instead of killing it.
 */
import { SignalGate } from './system/signal-gate.js';

const signals = new SignalGate();

// `mobilenet-edge detect *.jpg | head -3`: the reader has gone, so there is nobody left to tell. End quietly with the
// status a program killed by SIGPIPE has (128 + 13), as other command-line tools do; Node ignores SIGPIPE itself.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(141);
    process.exit(1); // stdout or stderr cannot be written: nothing more can be said
  });
}
const { main } = await import('./cli/main.js');

main(process.argv.slice(2), signals).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`mobilenet-edge: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
