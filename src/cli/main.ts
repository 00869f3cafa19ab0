import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT, UsageError, type CliIo } from './exit-codes.js';
import { journalStreams } from '../system/journal.js';
import { packageRoot } from '../system/paths.js';
import type { SignalGate } from '../system/signal-gate.js';

const HELP = `mobilenet-edge: camera to MQTT object detection with MobileNet on a Coral Edge TPU or the CPU

Usage: mobilenet-edge [COMMAND] [options]

Commands:
  run             run the daemon (the default command)
  check-config    validate the config and print it with secrets redacted
  detect IMAGE... run the model on image files and print the results
  inspect MODEL   the model's architecture and cost per layer (MobileNet paper terms)
  devices         Edge TPUs, libedgetpu, cameras, and what backend auto would pick
  bench           raw inference against the whole pipeline: fps, ratio, per-stage cost, memory
  install-service create the service user, systemd unit, udev rule and /etc config (as root)
  fetch-models    download (or copy from a local mirror) the models of models/manifest.json
  help [COMMAND]  this text, or a command's

Exit codes: 0 ok, 1 runtime failure, 64 usage, 65 unusable input, 66 missing input, 78 invalid config,
141 output closed by its reader.
Run 'mobilenet-edge COMMAND --help' for a command's options.
`;

type Command = (argv: string[], io: CliIo) => Promise<number>;

/**
 * Each command's module is loaded only when it runs: check-config or --help need not load the MQTT client, sharp and
 * the inference code (about a second of CPU on a Pi before anything is printed).
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./run.js')).runCommand,
  'check-config': async () => (await import('./check-config.js')).checkConfigCommand,
  detect: async () => (await import('./detect.js')).detectCommand,
  inspect: async () => (await import('./inspect.js')).inspectCommand,
  devices: async () => (await import('./devices.js')).devicesCommand,
  bench: async () => (await import('./bench.js')).benchCommand,
  'install-service': async () => (await import('./install-service.js')).installServiceCommand,
  'fetch-models': async () => (await import('../models/cli.js')).fetchModelsCommand,
};

/** Commands that take over SIGINT, SIGTERM and SIGHUP from the gate; the others get the default actions back. */
const HANDLES_SIGNALS = new Set(['run']);

export async function main(argv: string[], signals: SignalGate): Promise<number> {
  const io: CliIo = { stdout: process.stdout, stderr: process.stderr, isTTY: Boolean(process.stderr.isTTY), signals, journal: journalStreams() };
  const [first, ...rest] = argv;
  if (first === '--version' || first === '-V' || first === 'help' || first === '--help' || first === '-h') signals.release();
  if (first === '--version' || first === '-V') {
    const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
    io.stdout.write(`${pkg.version}\n`);
    return EXIT.OK;
  }
  if (first === 'help' || first === '--help' || first === '-h') {
    const topic = first === 'help' ? rest[0] : undefined;
    if (topic && COMMANDS[topic]) return (await COMMANDS[topic]())(['--help'], io);
    io.stdout.write(HELP);
    return EXIT.OK;
  }
  const command = first === undefined || first.startsWith('-') ? 'run' : first;
  const args = command === first ? rest : argv;
  const entry = COMMANDS[command];
  if (!HANDLES_SIGNALS.has(command)) signals.release();
  if (!entry) {
    io.stderr.write(`unknown command "${command}"\n\n${HELP}`);
    return EXIT.USAGE;
  }
  try {
    return await (await entry())(args, io);
  } catch (err) {
    // parseArgs reports unknown options with a code; both are the user's to fix, not a crash.
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`${command}: ${(err as Error).message}\nRun 'mobilenet-edge ${command} --help' for usage.\n`);
      return EXIT.USAGE;
    }
    throw err;
  }
}
