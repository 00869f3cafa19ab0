import { parseArgs } from 'node:util';
import { redactConfig } from '../config/index.js';
import { loadConfigOrExit } from './load-config.js';
import { EXIT, type CliIo } from './exit-codes.js';

export const CHECK_CONFIG_HELP = `Usage: mobilenet-edge check-config [--config FILE]

Validates the config (schema, model and label files) and prints the effective config as JSON with secrets redacted,
or every problem with its key path. Exit 0 when valid, 78 when not.
`;

export async function checkConfigCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    io.stdout.write(CHECK_CONFIG_HELP);
    return EXIT.OK;
  }
  const loaded = await loadConfigOrExit(values.config, io);
  if (typeof loaded === 'number') return loaded;
  io.stderr.write(`config ${loaded.file} is valid\n`);
  io.stdout.write(JSON.stringify(redactConfig(loaded.config), null, 2) + '\n');
  return EXIT.OK;
}
