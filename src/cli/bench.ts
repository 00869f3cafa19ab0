import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BrokerUnreachableError } from '../bench/detections-probe.js';
import { formatTable } from '../bench/report.js';
import { runBench, type BenchOptions } from '../bench/run-bench.js';
import { LOG_LEVELS } from '../config/index.js';
import { createLogger } from '../system/logger.js';
import { packageRoot } from '../system/paths.js';
import { EXIT, UsageError, type CliIo } from './exit-codes.js';

export const BENCH_HELP = `Usage: mobilenet-edge bench [options]

Measures, in one run, how close the daemon comes to the model's own speed:
  raw       the model in an inference host process, infer() back to back: fps = 1000 / mean inference time
  pipeline  the daemon path (camera pipeline, detector, MQTT publisher) fed faster than it can infer:
            synthetic 640x480 frames, then JPEG files; end to end = capture -> detections message received
  stages    capture, preprocess, inference, postprocess and total p50/p99 from the pipeline's own stats
Needs an MQTT broker (default mqtt://127.0.0.1:1883); topics go under mobilenet-edge-bench/<run id>.

Options:
  --model FILE        CPU .tflite model (default: models/coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite,
                      else the same file in ../shared/models)
  --backend B         cpu | edgetpu (default cpu); edgetpu runs the model's _edgetpu twin when it exists
  --seconds S         total measuring time, split 30/40/30 between raw, synthetic and JPEG (default 20)
  --threads N|sweep   CPU inference threads (default 1); sweep tries 1..min(4, 2 x cores) in the raw loop
                      and uses the fastest for the rest
  --library LIB       libedgetpu to load for --backend edgetpu (default libedgetpu.so.1)
  --device D          Edge TPU: "" (first), usb, usb:N, pci, pci:N (default "")
  --probe-root DIR    where sys/bus/usb/devices and dev/apex_N are looked for (default /)
  --format i420|rgb   synthetic frames as a Pi camera gives them (I420, resized in JS) or packed RGB (resized by
                      libvips) (default i420)
  --images PATTERN    JPEG files for the second pipeline run (default ../shared/images/*.jpg, else models/samples/*.jpg)
  --mqtt URL          broker (default mqtt://127.0.0.1:1883)
  --outbox disk|memory  the publisher's outbox: on disk in a temporary directory, as the service runs (default),
                      or in memory
  --log-level L       daemon log lines on stderr (default error)
  --json              print one JSON object:
                      {"model","backend","threads","raw":{"fps","p50Ms","p99Ms","roundTripFps",...},
                       "pipeline":{"fps","p50Ms","p99Ms","latencyP50Ms",...},"jpeg":{...},"ratio",
                       "stagesMs":{stage:{"p50","p99"}},"endToEndMs":{"p50","p99"},"overheadMs","overheadMeanMs",
                       "rssMb","rssGrowthMb","cpuPercent","eventLoopLagP99Ms","frames":{...},"sweep"?:[{"threads","fps"}],
                       "latencyAddedMs":{"overInferenceStage","overRuntime"},"targets":[{"name","value","limit","met",...}]}
                      raw p50Ms: host-side inference; pipeline p50Ms: time per frame (between detector answers);
                      ratio: pipeline.fps / raw.fps; overheadMs: pipeline.p50Ms - raw.p50Ms; targets: the
                      performance targets with this run's figures (reported, never an exit code)
  -h, --help          this text

Exit codes: 0 measured, 1 runtime failure (broker down, model or Edge TPU unusable), 64 bad usage, 66 model missing.
`;

const DEFAULT_MODEL = 'coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite';
const MIN_SECONDS = 2;

/** models/<file> after fetch-models, else the shared models beside the checkout. */
export function defaultModelPath(root = packageRoot()): string {
  const fetched = join(root, 'models', DEFAULT_MODEL);
  if (existsSync(fetched)) return fetched;
  return resolve(root, '..', 'shared', 'models', DEFAULT_MODEL);
}

/** ../shared/images/*.jpg when there are JPEGs there, else the fetched samples. */
export function defaultImages(root = packageRoot()): string {
  const shared = resolve(root, '..', 'shared', 'images');
  const hasJpeg = (dir: string): boolean => {
    try {
      return readdirSync(dir).some((n) => n.endsWith('.jpg'));
    } catch {
      return false;
    }
  };
  return hasJpeg(shared) ? join(shared, '*.jpg') : join(root, 'models', 'samples', '*.jpg');
}

export function parseThreads(v: string | undefined): number | 'sweep' {
  if (v === undefined) return 1;
  if (v === 'sweep') return 'sweep';
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new UsageError(`--threads must be 1..16 or "sweep", got "${v}"`);
  return n;
}

export function parseSeconds(v: string | undefined): number {
  if (v === undefined) return 20;
  const n = Number(v);
  if (!Number.isFinite(n) || n < MIN_SECONDS) throw new UsageError(`--seconds must be a number >= ${MIN_SECONDS}, got "${v}"`);
  return n;
}

export async function benchCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: false,
    strict: true,
    options: {
      model: { type: 'string' },
      backend: { type: 'string', default: 'cpu' },
      seconds: { type: 'string' },
      threads: { type: 'string' },
      library: { type: 'string', default: 'libedgetpu.so.1' },
      device: { type: 'string', default: '' },
      'probe-root': { type: 'string', default: '/' },
      images: { type: 'string' },
      mqtt: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
      outbox: { type: 'string', default: 'disk' },
      format: { type: 'string', default: 'i420' },
      'log-level': { type: 'string', default: 'error' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(BENCH_HELP);
    return EXIT.OK;
  }
  if (positionals.length > 0) throw new UsageError(`bench takes no arguments, got "${positionals.join(' ')}"`);
  const backend = values.backend!;
  if (backend !== 'cpu' && backend !== 'edgetpu') throw new UsageError(`--backend must be cpu or edgetpu, got "${backend}"`);
  const outbox = values.outbox!;
  if (outbox !== 'disk' && outbox !== 'memory') throw new UsageError(`--outbox must be disk or memory, got "${outbox}"`);
  const format = values.format!;
  if (format !== 'i420' && format !== 'rgb') throw new UsageError(`--format must be i420 or rgb, got "${format}"`);
  const level = values['log-level']!;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);

  const opts: BenchOptions = {
    modelPath: values.model ?? defaultModelPath(),
    backend,
    threads: parseThreads(values.threads),
    seconds: parseSeconds(values.seconds),
    library: values.library!,
    probeRoot: values['probe-root']!,
    device: values.device!,
    images: values.images ?? defaultImages(),
    mqttUrl: values.mqtt!,
    outbox,
    syntheticFormat: format,
    cores: availableParallelism(),
  };
  if (!existsSync(opts.modelPath)) {
    const hint = values.model ? '' : ' (fetch it: mobilenet-edge fetch-models)';
    io.stderr.write(`error: ${opts.modelPath}: no such file${hint}\n`);
    return EXIT.NO_INPUT;
  }

  const log = createLogger(level as (typeof LOG_LEVELS)[number], { write: (line: string) => io.stderr.write(line) });
  try {
    const report = await runBench(opts, log, (line) => io.stderr.write(`bench: ${line}\n`));
    io.stdout.write(values.json ? JSON.stringify(report) + '\n' : formatTable(report));
    return EXIT.OK;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`error: ${err instanceof BrokerUnreachableError ? message : `bench failed: ${message}`}\n`);
    return EXIT.FAILURE;
  }
}
