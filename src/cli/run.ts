import { performance } from 'node:perf_hooks';
import { isatty } from 'node:tty';
import { parseArgs } from 'node:util';
import { resizeKernelProblem } from '../pixels/pixel-arena.js';
import { Daemon } from '../daemon.js';
import { createLogger, resolveLogOutput, type Logger } from '../system/logger.js';
import { SecretScrubber } from '../system/secrets.js';
import { SignalGate } from '../system/signal-gate.js';
import { configSecrets } from '../config/index.js';
import { PipelineWatch } from '../system/pipeline-watch.js';
import { SystemdNotifier } from '../system/systemd-notify.js';
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
  const loaded = await loadConfigOrExit(values.demo ? DEMO_CONFIG : values.config, io);
  if (typeof loaded === 'number') return loaded;
  const { config, file } = loaded;
  // The logger writes to fd 1: its format follows what fd 1 is (a terminal, the journal, a pipe or a file).
  const output = resolveLogOutput(config.log.format, { isTTY: isatty(1), journal: io.journal?.stdout ?? false });
  const log = createLogger(config.log.level, undefined, new SecretScrubber(configSecrets(config)), output);
  log.info({ config: file, device: config.device.id, pid: process.pid }, 'starting mobilenet-edge');
  const missing = startupMemorySettingsMissing(process.env, process.execArgv);
  if (missing.length > 0) {
    // Read at start only: bin/mobilenet-edge, the service unit and /usr/local/bin/mobilenet-edge set them.
    log.info({ missing }, 'started without the memory settings of bin/mobilenet-edge (node dist/main.js run directly?): the daemon\'s memory grows 20-60 MB more than through bin/mobilenet-edge or the service');
  }

  const kernelProblem = resizeKernelProblem();
  if (kernelProblem) log.warn({ kernel: kernelProblem }, 'the WebAssembly resize kernel is missing: camera frames are resized in JavaScript, at 2-3x the CPU (npm run build makes it)');

  const daemon = new Daemon(config, log);
  const notifier = new SystemdNotifier(log.child({ module: 'systemd' }));
  const signals = io.signals ?? new SignalGate();
  // A stop while starting aborts the start: nothing more is started, what is being loaded or measured is killed.
  const starting = new AbortController();
  let started: Promise<void> | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  let ready: NodeJS.Timeout | undefined;
  let stopping: Promise<number> | undefined;
  const stop = (why: string): Promise<number> => {
    stopping ??= (async () => {
      log.info({ reason: why }, 'stopping');
      clearInterval(ready);
      clearInterval(watchdog);
      notifier.stopping(`stopping: ${why}`);
      starting.abort(new StartAborted(why));
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<number>((resolve) => {
        timer = setTimeout(() => {
          log.error({ deadlineMs: STOP_DEADLINE_MS }, 'graceful stop overran its deadline; exiting anyway');
          resolve(EXIT.FAILURE);
        }, STOP_DEADLINE_MS);
        timer.unref();
      });
      const clean = (async () => {
        await started?.catch(() => undefined);
        await daemon.stop();
        return EXIT.OK;
      })();
      const code = await Promise.race([clean, deadline]);
      clearTimeout(timer);
      return code;
    })();
    return stopping;
  };

  const signalled = new Promise<number>((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      signals.on(sig, () => {
        if (stopping) {
          log.warn({ signal: sig }, 'second signal: exiting now');
          resolve(EXIT.FAILURE);
          return;
        }
        void stop(sig).then(resolve);
      });
    }
  });

  // SIGHUP: read the config again; apply what can change live, name what needs a restart, keep running on the old
  // config when the new file is invalid. Reloads run one at a time; one during the start waits for it.
  let reloading: Promise<void> = Promise.resolve();
  signals.on('SIGHUP', () => {
    reloading = reloading.then(async () => {
      await started?.catch(() => undefined);
      if (stopping) return;
      const next = await loadConfigOrExit(values.demo ? DEMO_CONFIG : values.config, io, log);
      if (typeof next === 'number' || stopping) return;
      const changes = daemon.reload(next.config);
      log.info({ config: next.file, applied: changes.live, needRestart: changes.restart }, changes.restart.length > 0 ? 'config reloaded; some changes need a restart' : 'config reloaded');
    }).catch((err: unknown) => log.error({ err: (err as Error).message }, 'config reload failed; still running on the previous config'));
  });

  try {
    started = daemon.start(starting.signal);
    // A stop that overruns its deadline must still end the process, even if the start never settles.
    const first = await Promise.race([started.then(() => undefined), signalled]);
    if (first !== undefined) return finish(first);
    // READY=1 once a frame has gone through the detector: "started" means detecting, not just "models loaded".
    notifier.status('running; waiting for the first frame to go through the detector');
    ready = setInterval(() => {
      if (daemon.framesProcessed() === 0) return;
      clearInterval(ready);
      notifier.ready(daemon.summary());
      watchdog = startWatchdog(daemon, notifier, log);
    }, 200);
  } catch (err) {
    if (starting.signal.aborted) {
      log.info({ reason: (starting.signal.reason as Error).message }, 'start aborted: stopping');
    } else {
      log.fatal({ err: (err as Error).message }, 'cannot start');
      await daemon.stop().catch(() => undefined);
      log.flush();
      if (!io.signals) signals.release();
      return EXIT.FAILURE;
    }
  }
  return finish(await signalled);

  function finish(code: number): number {
    log.info({ exitCode: code }, 'stopped');
    log.flush();
    if (!io.signals) signals.release();
    return code;
  }
}

/** Why a start was abandoned: a stop signal came first. */
export class StartAborted extends Error {
  constructor(why: string) {
    super(`${why} while starting`);
    this.name = 'StartAborted';
  }
}

/**
 * WATCHDOG=1 at half of systemd's WatchdogSec while no camera is stuck (frames arriving, none finished: see
 * PipelineWatch): systemd then restarts the service like a crash. A camera that gets no frames (offline, a files
 * camera at the end of its list) does not stop the pings: a restart would not bring its frames back.
 */
function startWatchdog(daemon: Daemon, notifier: SystemdNotifier, log: Logger): NodeJS.Timeout | undefined {
  const intervalMs = notifier.watchdogIntervalMs();
  if (intervalMs === undefined) return undefined;
  const watch = new PipelineWatch(intervalMs / 2);
  watch.check(daemon.cameraProgress(), performance.now());
  let withheld = false;
  return setInterval(() => {
    const stuck = watch.check(daemon.cameraProgress(), performance.now());
    if (stuck.length === 0) {
      notifier.watchdog();
      notifier.status(daemon.summary());
      if (withheld) log.info('frames are processed again: watchdog pings resumed');
      withheld = false;
    } else if (!withheld) {
      withheld = true;
      const cameras = stuck.map((s) => `${s.camera} (${Math.round(s.waitingMs / 1000)} s)`).join(', ');
      log.error({ cameras: stuck.map((s) => s.camera), intervalMs }, `frames arrive but none is processed: ${cameras}; withholding WATCHDOG=1 so systemd restarts the service`);
    }
  }, intervalMs / 2);
}

/** What bin/mobilenet-edge and the service set before node starts, and this process lacks. */
export function startupMemorySettingsMissing(env: NodeJS.ProcessEnv, execArgv: string[]): string[] {
  const missing: string[] = [];
  if (!env.MALLOC_ARENA_MAX) missing.push('MALLOC_ARENA_MAX');
  const flag = (a: string): boolean => a.startsWith('--max-semi-space-size');
  if (!execArgv.some(flag) && !(env.NODE_OPTIONS ?? '').split(/\s+/).some(flag)) missing.push('--max-semi-space-size');
  return missing;
}
