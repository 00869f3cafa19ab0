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

Measures, in one run, how close the daemon comes to the model's own speed, and what it costs per frame:
  raw       the model in an inference host process, infer() back to back: fps = 1000 / mean inference time
  pipeline  the daemon path (camera pipeline, detector, MQTT publisher) fed faster than it can infer by synthetic
            640x480 cameras; raw and pipeline are measured in alternating slices of about a second, so that load
            on the machine hits both alike; ratio = median over the rounds of pipeline fps / raw fps
  JPEG      the same path over JPEG files, decoded only as large as the model needs: by default the pictures
            re-encoded as a camera sends them (640x480 baseline JPEG, q85), with --images the files as they are
  CPU       per frame, from the processes' CPU counters: daemon + inference host - the runtime's own invoke, and
            that split by stage (camera, resize, hand-over to the host, postprocess, publish, the rest, the host)
  stages    capture, preprocess, inference, postprocess and total p50/p99, and end to end to the broker
Needs an MQTT broker (default mqtt://127.0.0.1:1883); topics go under mobilenet-edge-bench/<run id>.

Options:
  --model FILE        CPU .tflite model (default: models/coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite,
                      else the same file in ../shared/models)
  --backend B         cpu | edgetpu (default cpu); edgetpu runs the model's _edgetpu twin when it exists
  --seconds S         total time: 75 % raw and synthetic pipeline in turns, 25 % JPEG (a sweep takes 20 %
                      first) (default 20)
  --warmup S          the pipeline runs this long before anything is measured, on top of --seconds (default: half
                      of --seconds, 10 at most), its second half in turns with the raw loop: V8 compiles the
                      daemon's hot code during its first thousands of frames (and again where the raw loop's first
                      calls deoptimize the host client they share), and a daemon's steady state is what runs for days
  --cameras N         synthetic cameras sharing the detector (default 1): their fps each, and slowest/fastest
  --threads N|sweep   CPU inference threads (default 1); sweep tries 1..min(4, 2 x cores) in the raw loop
                      and uses the fastest for the rest
  --library LIB       libedgetpu to load for --backend edgetpu (default libedgetpu.so.1)
  --device D          Edge TPU: "" (first), usb, usb:N, pci, pci:N (default "")
  --probe-root DIR    where sys/bus/usb/devices and dev/apex_N are looked for (default /)
  --format i420|rgb   synthetic frames as a Pi camera gives them (I420, resized in JS) or packed RGB (resized by
                      libvips) (default i420)
  --images PATTERN    JPEG files for the JPEG run, as they are (default: ../shared/images/*.jpg, else
                      models/samples/*.jpg, each re-encoded first as a camera's 640x480 baseline JPEG frame:
                      progressive photos cost a full decode at any scale, camera frames do not)
  --mqtt URL          broker (default mqtt://127.0.0.1:1883)
  --outbox disk|memory  the publisher's outbox: on disk in a temporary directory, as the service runs (default),
                      or in memory
  --classifier MODEL  also measure detect-then-classify: the pipeline's fps on one picture with detection alone,
                      with MODEL classifying every frame's crops, and with answers reused for 10 frames (default)
  --classifier-labels F  the classifier's labels (default: embedded in the model)
  --classify-objects L   detector labels to classify, comma-separated (default bird)
  --classify-image F  the picture (default ../shared/images/bird.bmp, else models/samples/bird.bmp)
  --motion            run the motion scenario instead: a synthetic 1080p scene (still, then a 200 px bird crossing
                      it; ffmpeg), motion gating on and off: detector runs a second while still, recall while
                      moving, CPU per frame (--seconds: the still part, default 20)
  --stall-ms MS       self-test: every frame waits MS ms on its way to the detector, as a slow pipeline would;
                      the targets must then fail (scripts/bench-smoke.sh is checked with it)
  --log-level L       daemon log lines on stderr (default error)
  --json              print one JSON object:
                      {"model","backend","threads","warmup":{"seconds","frames"},"resize","raw":{"fps","p50Ms","p99Ms","roundTripFps",...},
                       "pipeline":{"fps","p50Ms","p99Ms","latencyP50Ms",...},"rounds":[{"rawFps","pipelineFps","ratio"}],
                       "ratio","ratioAggregate","cameras":[{"name","fps"}],"fairness","jpeg":{...,"ratio"},
                       "cpuPerFrameMs":{"daemon","host","runtime","outside","stages":{"capture","preprocess","handOver",
                       "postprocess","publish","rest","host"}},"stagesMs":{stage:{"p50","p99"}},
                       "endToEndMs":{"p50","p99"},"overheadMs","rssMb","hostRssMb","cpuPercent","eventLoopLagP99Ms",
                       "frames":{...},"sweep"?:[{"threads","fps"}],"latencyAddedMs":{"overInferenceStage","overRuntime"},
                       "targets":[{"name","value","limit","kind","unit","met"}]}
                      raw p50Ms: host-side inference; pipeline p50Ms: time per frame (between detector answers);
                      ratio: median of the rounds' pipeline fps / raw fps; targets: the performance targets with
                      this run's figures (reported, never an exit code)
  -h, --help          this text

Exit codes: 0 measured, 1 runtime failure (broker down, model or Edge TPU unusable), 64 bad usage, 66 model missing.
`;

const DEFAULT_MODEL = 'coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite';
const MIN_SECONDS = 2;
const MAX_WARMUP_SECONDS = 600;

/** models/<file> after fetch-models, else the shared models beside the checkout. */
export function defaultModelPath(root = packageRoot()): string {
  const fetched = join(root, 'models', DEFAULT_MODEL);
  if (existsSync(fetched)) return fetched;
  return resolve(root, '..', 'shared', 'models', DEFAULT_MODEL);
}

/** The bird photo the classifier chain is shown on: ../shared/images/bird.bmp, else the fetched sample. */
export function defaultClassifyImage(root = packageRoot()): string {
  const shared = resolve(root, '..', 'shared', 'images', 'bird.bmp');
  return existsSync(shared) ? shared : join(root, 'models', 'samples', 'bird.bmp');
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

export function parseWarmup(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > MAX_WARMUP_SECONDS) throw new UsageError(`--warmup must be a number of seconds 0..${MAX_WARMUP_SECONDS}, got "${v}"`);
  return n;
}

export function parseIntOption(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} must be an integer ${min}..${max}, got "${v}"`);
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
      warmup: { type: 'string' },
      threads: { type: 'string' },
      library: { type: 'string', default: 'libedgetpu.so.1' },
      device: { type: 'string', default: '' },
      'probe-root': { type: 'string', default: '/' },
      images: { type: 'string' },
      mqtt: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
      outbox: { type: 'string', default: 'disk' },
      format: { type: 'string', default: 'i420' },
      cameras: { type: 'string', default: '1' },
      classifier: { type: 'string' },
      'classifier-labels': { type: 'string' },
      'classify-objects': { type: 'string', default: 'bird' },
      'classify-image': { type: 'string' },
      motion: { type: 'boolean' },
      'stall-ms': { type: 'string', default: '0' },
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
    ...(values.warmup !== undefined ? { warmupSec: parseWarmup(values.warmup) } : {}),
    library: values.library!,
    probeRoot: values['probe-root']!,
    device: values.device!,
    images: values.images ?? defaultImages(),
    jpegAsCamera: values.images === undefined,
    mqttUrl: values.mqtt!,
    outbox,
    syntheticFormat: format,
    cores: availableParallelism(),
    cameras: parseIntOption('--cameras', values.cameras!, 1, 16),
    stallMs: parseIntOption('--stall-ms', values['stall-ms']!, 0, 1000),
    ...(values.classifier
      ? {
          classifier: {
            model: resolve(values.classifier),
            labels: values['classifier-labels'] ? resolve(values['classifier-labels']) : null,
            objects: values['classify-objects']!.split(',').map((l) => l.trim()).filter(Boolean),
            image: values['classify-image'] ? resolve(values['classify-image']) : defaultClassifyImage(),
          },
        }
      : {}),
  };
  if (opts.classifier) {
    for (const [what, file] of [['--classifier', opts.classifier.model], ['--classifier-labels', opts.classifier.labels], ['--classify-image', opts.classifier.image]] as const) {
      if (file !== null && !existsSync(file)) {
        io.stderr.write(`error: ${what} ${file}: no such file\n`);
        return EXIT.NO_INPUT;
      }
    }
  }
  if (!existsSync(opts.modelPath)) {
    const hint = values.model ? '' : ' (fetch it: mobilenet-edge fetch-models)';
    io.stderr.write(`error: ${opts.modelPath}: no such file${hint}\n`);
    return EXIT.NO_INPUT;
  }

  const log = createLogger(level as (typeof LOG_LEVELS)[number], { write: (line: string) => io.stderr.write(line) });
  try {
    if (values.motion) {
      const { runMotionScenario, formatMotionReport } = await import('../bench/motion-scenario.js');
      const images = resolve(packageRoot(), '..', 'shared', 'images');
      const report = await runMotionScenario({
        modelPath: opts.modelPath,
        images: existsSync(join(images, 'bird.bmp')) ? images : join(packageRoot(), 'models', 'samples'),
        ...(values.seconds ? { stillSec: opts.seconds } : {}),
        log,
        progress: (line) => io.stderr.write(`bench: ${line}\n`),
      });
      io.stdout.write(values.json ? JSON.stringify(report) + '\n' : formatMotionReport(report) + '\n');
      return EXIT.OK;
    }
    const report = await runBench(opts, log, (line) => io.stderr.write(`bench: ${line}\n`));
    io.stdout.write(values.json ? JSON.stringify(report) + '\n' : formatTable(report));
    return EXIT.OK;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`error: ${err instanceof BrokerUnreachableError ? message : `bench failed: ${message}`}\n`);
    return EXIT.FAILURE;
  }
}
