#!/usr/bin/env node
/**
 * The entry point stays this small on purpose: the signal gate is in place before the rest of the program loads, so a
 * SIGHUP or SIGTERM that arrives while the modules load is kept for the daemon instead of killing it.
 */
import { SignalGate } from './system/signal-gate.js';

const signals = new SignalGate();
const { main } = await import('./cli/main.js');

main(process.argv.slice(2), signals).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`mobilenet-edge: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
