import { ConfigError, formatConfigError, loadConfig, type AppConfig } from '../config/index.js';
import { packageRoot } from '../system/paths.js';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT, type CliIo } from './exit-codes.js';
import { createLogger, type Logger } from '../system/logger.js';
import { modelProblems } from '../inference/detector-models.js';
import { classifierModelProblems } from '../inference/classify/classifier-models.js';
import { IMAGE_EXTENSIONS, listImageFiles } from '../camera/image-files.js';

/** The demo config shipped in the package: sample images, the CPU SSD model, the local broker. */
export const DEMO_CONFIG = join(packageRoot(), 'config', 'demo.json');

/**
 * Loads the config and reads the models it names (headers, outputs, labels), or prints every problem (key path and
 * file, no stack) and returns the exit code. check-config, the start and a reload all come here, so a config that
 * check-config accepts does not then fail at start. With a logger (a running daemon reloading), the problems go to
 * the log as well.
 */
export async function loadConfigOrExit(file: string | undefined, io: CliIo, log?: Logger): Promise<{ config: AppConfig; file: string } | number> {
  try {
    const loaded = loadConfig({ ...(file ? { file } : {}), env: process.env, projectRoot: packageRoot() });
    const models = [...(await modelProblems(loaded.config.detector)), ...(await classifierModelProblems(loaded.config.detector, loaded.config.classifiers))];
    if (models.length > 0) throw new ConfigError(loaded.file, models);
    warnIfSecretsExposed(loaded.file, loaded.config, io, log);
    await warnIfNoImages(loaded.config, io, log);
    return loaded;
  } catch (err) {
    if (err instanceof ConfigError) {
      if (!io.journal?.stderr) io.stderr.write(formatConfigError(err) + '\n');
      // Under systemd, JSON lines at priority err like every other log line (a reload's go through `log` below).
      else if (!log) {
        const journal = journalLog(io);
        for (const p of err.problems) journal.error({ config: err.file, ...(p.key ? { key: p.key } : {}) }, `config error in ${err.file}: ${p.key ? `${p.key}: ` : ''}${p.message}`);
      }
      log?.error({ config: err.file, problems: err.problems }, 'config reload refused: the file is invalid; still running on the previous config');
      return EXIT.CONFIG;
    }
    throw err;
  }
}

/** A config holding a password or a private key should not be readable by every user of the machine. */
function warnIfSecretsExposed(file: string, config: AppConfig, io: CliIo, log?: Logger): void {
  if (!config.mqtt.password && !config.mqtt.tls.key) return;
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    return;
  }
  if ((mode & 0o004) === 0) return;
  const text = `${file} holds secrets (mqtt.password or mqtt.tls.key) and is readable by every user (mode ${(mode & 0o777).toString(8)}): chmod 640 it (owner root, group mobilenet-edge)`;
  if (log) log.warn({ config: file }, text);
  else if (io.journal?.stderr) journalLog(io).warn({ config: file }, text);
  else io.stderr.write(`warning: ${text}\n`);
}

/** A files camera whose folder or pattern holds no image yet: valid (images may arrive), but worth a word. */
async function warnIfNoImages(config: AppConfig, io: CliIo, log?: Logger): Promise<void> {
  for (const [name, cam] of Object.entries(config.cameras)) {
    if (cam.source.type !== 'files' || !cam.enabled) continue;
    const images = await listImageFiles(cam.source.path).catch(() => undefined); // unreadable: load already said so
    if (images === undefined || images.length > 0) continue;
    const text = `cameras.${name}.source.path: ${cam.source.path} holds no images (${IMAGE_EXTENSIONS.join(', ')}): this camera will not start (the files are listed when it starts); the other cameras go on`;
    if (log) log.warn({ camera: name, path: cam.source.path }, text);
    else if (io.journal?.stderr) journalLog(io).warn({ camera: name, path: cam.source.path }, text);
    else io.stderr.write(`warning: ${text}\n`);
  }
}

/**
 * What is said before the daemon's logger exists, when stderr is the journal: JSON lines with their syslog priority,
 * as the logger writes them, so `journalctl -p err` finds a config error and `journalctl -o cat | jq` reads it.
 */
function journalLog(io: CliIo): Logger {
  return createLogger('info', { write: (line: string) => void io.stderr.write(line) }, undefined, { pretty: false, colour: false, journal: true });
}
