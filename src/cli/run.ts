import { parseArgs } from 'node:util';
import { Daemon } from '../daemon.js';
import { createLogger } from '../system/logger.js';
import { DEMO_CONFIG, loadConfigOrExit } from './load-config.js';
import { EXIT, type CliIo } from './exit-codes.js';

export const RUN_HELP = `Usage: mobilenet-edge run [--config FILE | --demo]

Runs the daemon: captures frames from every enabled camera, runs the model and publishes detections, availability
and stats over MQTT until SIGTERM or SIGINT.

Options:
  --config FILE   config file (default: $MOBILENET_EDGE_CONFIG, else config/local.json in a checkout,
                  else /etc/mobilenet-edge/config.json)
  --demo          run the bundled demo config (sample images, CPU SSD model, broker on 127.0.0.1)
  -h, --help      this text
`;

/** How long a graceful stop may take before the process gives up on it. */
const STOP_DEADLINE_MS = 5000;

export async function runCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string' }, demo: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    io.stdout.write(RUN_HELP);
    return EXIT.OK;
  }
  const loaded = loadConfigOrExit(values.demo ? DEMO_CONFIG : values.config, io);
  if (typeof loaded === 'number') return loaded;
  const { config, file } = loaded;
  const log = createLogger(config.log.level);
  log.info({ config: file, device: config.device.id, pid: process.pid }, 'starting mobilenet-edge');

  const daemon = new Daemon(config, log);
  let stopping: Promise<number> | undefined;
  const stop = (why: string): Promise<number> => {
    stopping ??= (async () => {
      log.info({ reason: why }, 'stopping');
      const deadline = new Promise<number>((resolve) =>
        setTimeout(() => {
          log.error({ deadlineMs: STOP_DEADLINE_MS }, 'graceful stop overran its deadline; exiting anyway');
          resolve(EXIT.FAILURE);
        }, STOP_DEADLINE_MS).unref(),
      );
      const clean = daemon.stop().then(() => EXIT.OK);
      return Promise.race([clean, deadline]);
    })();
    return stopping;
  };

  const signalled = new Promise<number>((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      process.on(sig, () => {
        if (stopping) {
          log.warn({ signal: sig }, 'second signal: exiting now');
          resolve(EXIT.FAILURE);
          return;
        }
        void stop(sig).then(resolve);
      });
    }
  });

  try {
    await daemon.start();
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'cannot start');
    await daemon.stop().catch(() => undefined);
    log.flush();
    return EXIT.FAILURE;
  }
  const code = await signalled;
  log.info({ exitCode: code }, 'stopped');
  log.flush();
  return code;
}
