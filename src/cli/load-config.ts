import { ConfigError, formatConfigError, loadConfig, type AppConfig } from '../config/index.js';
import { packageRoot } from '../system/paths.js';
import { join } from 'node:path';
import { EXIT, type CliIo } from './exit-codes.js';

/** The demo config shipped in the package: sample images, the CPU SSD model, the local broker. */
export const DEMO_CONFIG = join(packageRoot(), 'config', 'demo.json');

/** Loads the config or prints every problem (key path and file, no stack) and returns the exit code. */
export function loadConfigOrExit(file: string | undefined, io: CliIo): { config: AppConfig; file: string } | number {
  try {
    return loadConfig({ ...(file ? { file } : {}), env: process.env, projectRoot: packageRoot() });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(formatConfigError(err) + '\n');
      return EXIT.CONFIG;
    }
    throw err;
  }
}
