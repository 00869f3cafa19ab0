import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CoralDelegate, type CoralDevice } from 'coral-tflite-delegate';
import { FilesSource } from '../camera/files-source.js';
import { listImageFiles } from '../camera/image-files.js';
import { appSchema, detectorConfig, type DetectorConfig } from '../config/index.js';
import { runSchema } from '../config/validate.js';
import { createDetector, probeEdgeTpu } from '../inference/create-detector.js';
import { twinOf } from '../inference/detector-models.js';
import type { Detector } from '../inference/detector.js';
import type { DelegateSpec } from '../inference/host/protocol.js';
import { planModel } from '../inference/model-plan.js';
import { prepareFrame } from '../inference/preprocess.js';
import { resizeKernelProblem } from '../pixels/pixel-arena.js';
import { MqttPublisher } from '../publish/mqtt-publisher.js';
import { Outbox, outboxOptions } from '../publish/outbox.js';
import { ProcessStats } from '../stats/process-stats.js';
import type { Logger } from '../system/logger.js';
import { DetectionsProbe } from './detections-probe.js';
import { PipelineGroup } from './pipeline-group.js';
import { phaseTime, planBench } from './plan.js';
import { runClassifierBench, type ClassifierBenchReport } from './classifier-run.js';
import { childPids } from './proc-stat.js';
import { RawHost, runRawLoop } from './raw-loop.js';
import { buildReport, type BenchReport } from './report.js';
import { StalledDetector } from './stalled-detector.js';
import { pickFastest, sweepCandidates, type SweepPoint } from './sweep.js';
import { SyntheticSource } from './synthetic-source.js';
import { runInTurns } from './turns.js';
import { CAMERA_JPEG, makeCameraJpegs, type CameraJpegs } from './camera-jpegs.js';

export interface BenchOptions {
  /** The CPU model; with backend edgetpu its `_edgetpu` twin runs when it exists, else this file. */
  modelPath: string;
  backend: 'cpu' | 'edgetpu';
  /** A thread count, or every count of sweepCandidates(cores), the fastest kept for the pipeline runs. */
  threads: number | 'sweep';
  seconds: number;
  /** The pipeline's warm-up before anything is measured (default: defaultWarmupSec(seconds)). */
  warmupSec?: number;
  /** libedgetpu (or a stand-in) for backend edgetpu. */
  library: string;
  /** Root of sys/ and dev/ for the Edge TPU probe ("/" on a real system). */
  probeRoot: string;
  device: string;
  /** Pictures for the JPEG pipeline run: a file, directory or pattern (FilesSource's syntax). */
  images: string;
  /** Re-encode `images` as a camera's JPEG frames first (makeCameraJpegs), else run the files as they are. */
  jpegAsCamera: boolean;
  mqttUrl: string;
  /** `disk`: a durable outbox in a temporary directory, as the service runs; `memory`: no state directory. */
  outbox: 'disk' | 'memory';
  /** What the synthetic camera produces (I420 like rpicam-vid, or packed RGB). */
  syntheticFormat: 'i420' | 'rgb';
  cores: number;
  /** Synthetic cameras sharing the detector (default 1). */
  cameras?: number;
  /** Self-test: each frame waits this long on its way to the detector, as a slow pipeline would (0: none). */
  stallMs?: number;
  /** Also measure detect-then-classify with this classifier on a picture holding one of `objects`. */
  classifier?: { model: string; labels: string | null; objects: string[]; image: string };
}

/** Progress lines for a human watching (the report itself is returned). */
export type Progress = (line: string) => void;

/** Raw-loop pictures, spread over the synthetic sequence (its pattern moves a little each frame). */
const RAW_INPUTS = 16;
const RAW_INPUT_SPACING = 37;
const SYNTHETIC_FPS = 40;
const CONNECT_TIMEOUT_MS = 5000;
/** Messages of frames processed just before a stop still travel through the broker: give them this long. */
const DRAIN_MS = 300;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const rssMb = (): number => process.memoryUsage().rss / 1048576;

/** The model the bench runs: for the Edge TPU the `_edgetpu` twin when it exists beside the given model. */
export function benchModelPath(modelPath: string, backend: 'cpu' | 'edgetpu'): string {
  if (backend === 'cpu' || modelPath.endsWith('_edgetpu.tflite')) return modelPath;
  const twin = twinOf(modelPath);
  return existsSync(twin) ? twin : modelPath;
}

/** The detector slice of the config, through the schema (defaults, validation) like the daemon's. */
export function benchDetectorConfig(opts: BenchOptions, threads: number): DetectorConfig {
  const runPath = benchModelPath(opts.modelPath, opts.backend);
  return detectorConfig({
    backend: opts.backend,
    model: opts.backend === 'cpu' ? { cpu: runPath } : { edgetpu: runPath, ...(runPath !== opts.modelPath ? { cpu: opts.modelPath } : {}) },
    threads,
    edgetpu: { library: opts.library, probeRoot: opts.probeRoot, device: opts.device },
  });
}

/**
 * Runs the measurements (never two at once: they would share the cores): the thread sweep when asked, then the raw
 * runtime and the synthetic cameras' pipelines in alternating slices (load that comes and goes hits both alike), then
 * the JPEG pipeline. Everything started is stopped, also on failure.
 */
export async function runBench(opts: BenchOptions, log: Logger, progress: Progress = () => undefined): Promise<BenchReport> {
  const runPath = benchModelPath(opts.modelPath, opts.backend);
  if ((await listImageFiles(opts.images).catch(() => [])).length === 0) throw new Error(`no image files found at ${opts.images} (for the JPEG run)`);
  const baseCfg = benchDetectorConfig(opts, typeof opts.threads === 'number' ? opts.threads : 1);
  let delegate: DelegateSpec | undefined;
  if (opts.backend === 'edgetpu') {
    const problem = await probeEdgeTpu(baseCfg, opts.device);
    if (problem) throw new Error(`Edge TPU not usable: ${problem}`);
    const coral = new CoralDelegate(opts.device ? { device: opts.device as CoralDevice } : {}, opts.library);
    delegate = { path: coral.node!.path, options: coral.options };
  }
  const plan = await planModel(runPath, { kind: 'auto', labelsPath: null, topK: 5 });
  if (opts.classifier && plan.info.kind !== 'ssd') throw new Error(`--classifier needs a detector (an SSD) as --model: ${plan.info.name} is a ${plan.info.kind}`);
  const cameraCount = opts.cameras ?? 1;
  const cameras = Array.from({ length: cameraCount }, (_, i) => {
    const source = new SyntheticSource(cameraCount === 1 ? 'synthetic' : `synthetic-${i + 1}`, { fps: SYNTHETIC_FPS, format: opts.syntheticFormat });
    return { name: source.camera, source, capturedAt: (seq: number) => source.capturedAt(seq), captureMs: () => source.captureMs };
  });
  const synthetic = cameras[0]!.source;
  // The raw loop's inputs: pictures of the synthetic run at the model's size, prepared the way the pipeline does.
  const inputs: Uint8Array[] = [];
  for (let i = 0; i < RAW_INPUTS; i++) {
    const sample = synthetic.makeFrame(i * RAW_INPUT_SPACING);
    inputs.push((await prepareFrame(sample, plan.info.inputWidth, plan.info.inputHeight, 'stretch')).data);
    sample.release?.();
  }

  // The broker first: a broker that is down ends the bench now, not after the raw loop.
  const runId = `${process.pid}-${Date.now().toString(36)}`;
  const baseTopic = `mobilenet-edge-bench/${runId}`;
  const probe = await DetectionsProbe.connect(opts.mqttUrl, baseTopic, `mobilenet-edge-bench-probe-${runId}`);
  let detector: Detector | undefined;
  let publisher: MqttPublisher | undefined;
  let outbox: Outbox | undefined;
  let outboxDir: string | undefined;
  let rawHost: RawHost | undefined;
  const groups: PipelineGroup[] = [];
  let cameraJpegs: CameraJpegs | undefined;
  try {
    // Made before anything is measured: encoding them is not the daemon's work.
    cameraJpegs = opts.jpegAsCamera ? await makeCameraJpegs(opts.images) : undefined;
    const jpegInput = cameraJpegs
      ? `${cameraJpegs.count} camera frames (${CAMERA_JPEG.width}x${CAMERA_JPEG.height} baseline JPEG, q${CAMERA_JPEG.quality}, 4:2:0) made from ${opts.images}`
      : `${opts.images}, as they are`;
    const candidates = opts.threads === 'sweep' ? sweepCandidates(opts.cores) : [opts.threads];
    const times = planBench(opts.seconds, opts.threads === 'sweep' ? candidates.length : 0, opts.warmupSec);
    let sweep: SweepPoint[] | undefined;
    let threads = candidates[0]!;
    if (opts.threads === 'sweep') {
      const points: SweepPoint[] = [];
      for (const [i, t] of candidates.entries()) {
        progress(`thread sweep: ${plan.info.name} on ${opts.backend}, ${t} thread${t === 1 ? '' : 's'}`);
        const r = await runRawLoop({ modelPath: runPath, threads: t, inputs, time: times.sweep[i]!, ...(delegate ? { delegate } : {}) });
        points.push({ threads: r.threads, fps: r.fps });
      }
      sweep = points;
      threads = pickFastest(points).threads;
    }

    const cfg = { ...baseCfg, threads };
    detector = await createDetector(cfg, log.child({ module: 'detector' }));
    await detector.start();
    rawHost = new RawHost({ modelPath: runPath, threads, inputs, ...(delegate ? { delegate } : {}) });
    await rawHost.load();
    const box = benchOutboxConfig();
    if (opts.outbox === 'disk') outboxDir = mkdtempSync(join(tmpdir(), 'mobilenet-edge-bench-outbox-'));
    outbox = await Outbox.open(
      outboxOptions(outboxDir ?? null, box),
      log.child({ module: 'outbox' }),
    );
    publisher = new MqttPublisher(
      {
        url: opts.mqttUrl,
        clientId: `mobilenet-edge-bench-${runId}`,
        username: null,
        password: null,
        keepaliveSec: 30,
        baseTopic,
        outbox,
        tls: { ca: null, cert: null, key: null, rejectUnauthorized: true },
      },
      log.child({ module: 'mqtt' }),
    );
    publisher.start();
    await waitConnected(publisher, opts.mqttUrl);

    const rawPid = rawHost.pid;
    const hostPids = (): number[] => childPids().filter((pid) => pid !== rawPid && pid !== probe.pid);
    const wrap = (d: Detector): Detector => (opts.stallMs ? new StalledDetector(d, opts.stallMs) : d);
    const camLog = log.child({ module: 'camera' });

    progress(`raw and pipeline in turns: ${plan.info.name} on ${opts.backend}, ${threads} thread${threads === 1 ? '' : 's'}, ${cameraCount} synthetic ${synthetic.width}x${synthetic.height} ${synthetic.format} camera${cameraCount === 1 ? '' : 's'}`);
    const group = new PipelineGroup({ cameras, detector, sink: publisher, probe, log: camLog, hostPids }, opts.backend, wrap);
    groups.push(group);
    const processStats = new ProcessStats();
    const turns = await runInTurns(rawHost, group, times.turns, () => processStats.sample()).finally(() => processStats.stop());
    const rssAfterSyntheticMb = rssMb();
    await group.stop();
    const synFigures = await group.messageFigures(DRAIN_MS);
    const synTotals = group.totals();
    const detectorFigures = { idleMs: group.timed.idleMs.summary(), runtimeMs: group.timed.runtimeMs.summary() };

    progress(`pipeline: JPEG files: ${jpegInput}`);
    const jpegSource = new FilesSource('jpeg', { path: cameraJpegs?.dir ?? opts.images, fps: 0, loop: true, decodeAtLeast: { width: plan.info.inputWidth, height: plan.info.inputHeight } }, log);
    const jpegGroup = new PipelineGroup({ cameras: [{ name: 'jpeg', source: jpegSource }], detector, sink: publisher, probe, log: camLog, hostPids }, opts.backend, wrap);
    groups.push(jpegGroup);
    await jpegGroup.start();
    await sleep(times.jpeg.warmupMs);
    const jpegWindow = jpegGroup.window();
    await sleep(times.jpeg.measureMs);
    const jpegResult = jpegWindow.end();
    const rssEndMb = rssMb();
    await jpegGroup.stop();
    const jpegFigures = await jpegGroup.messageFigures(DRAIN_MS);
    const jpegTotals = jpegGroup.totals();
    let classifier: ClassifierBenchReport | undefined;
    if (opts.classifier) {
      progress(`detect, then classify: ${opts.classifier.image} with ${opts.classifier.model}`);
      const each = phaseTime(times.jpeg.warmupMs + times.jpeg.measureMs);
      classifier = await runClassifierBench({ detector, detectorConfig: cfg, classifierModel: opts.classifier.model, labels: opts.classifier.labels, objects: opts.classifier.objects, image: opts.classifier.image, warmupMs: each.warmupMs, measureMs: each.measureMs, log: camLog });
    }
    if (turns.windows.every((w) => w.processed.every((n) => n === 0))) throw new Error(`the synthetic pipeline processed no frame (${synTotals.errors} errors; --log-level warn shows why)`);
    if (jpegResult.processed[0] === 0) throw new Error(`the JPEG pipeline processed no frame (${jpegTotals.errors} errors; --log-level warn shows why)`);

    return buildReport({
      model: plan.info.name,
      modelInput: { width: plan.info.inputWidth, height: plan.info.inputHeight },
      backend: opts.backend,
      seconds: opts.seconds,
      warmupSec: times.turns.pipelineWarmupMs / 1000,
      resize: synthetic.format === 'rgb' ? 'libvips (packed RGB frames)' : resizeDescription(),
      syntheticFormat: synthetic.format,
      cameras: cameras.map((c) => c.name),
      threads,
      rawLoadMs: rawHost.loadMs,
      ...(sweep ? { sweep } : {}),
      turns,
      detector: detectorFigures,
      synthetic: { ...synFigures, ...synTotals },
      jpeg: { window: jpegResult, input: jpegInput, ...jpegFigures, ...jpegTotals },
      ...(opts.stallMs ? { stallMs: opts.stallMs } : {}),
      ...(classifier ? { classifier } : {}),
      process: {
        rssMb: rssEndMb,
        rssAfterWarmupMb: turns.rssAfterWarmupMb,
        rssAfterSyntheticMb,
        hostRssMb: Math.max(group.hostRssMaxMb, jpegGroup.hostRssMaxMb),
        cpuPercent: turns.process.cpuPercent,
        eventLoopLagP99Ms: turns.process.eventLoopLagMs.p99,
      },
    });
  } finally {
    for (const g of groups) await g.stop();
    await publisher?.stop().catch(() => undefined);
    await outbox?.close().catch(() => undefined);
    if (outboxDir) rmSync(outboxDir, { recursive: true, force: true });
    await rawHost?.stop().catch(() => undefined);
    await cameraJpegs?.remove().catch(() => undefined);
    await detector?.stop().catch(() => undefined);
    const retained = publisher ? [publisher.availabilityTopic, ...cameras.map((c) => publisher!.topic(c.name, 'status')), publisher.topic('jpeg', 'status')] : [];
    await probe.close(retained).catch(() => undefined);
  }
}


/** Whether the synthetic cameras' frames went through the WebAssembly kernel (their pool lends arena slots). */
function resizeDescription(): string {
  const problem = resizeKernelProblem();
  return problem ? `JavaScript (the WebAssembly kernel is missing: ${problem})` : 'WebAssembly kernel (SIMD), in place';
}

/** The daemon's default outbox limits (from the schema). */
function benchOutboxConfig(): { maxMessages: number; maxBytes: number; fsyncMs: number; persistAfterMs: number } {
  const { value } = runSchema(appSchema.mqtt, {}, { env: {}, baseDir: process.cwd() });
  return value.outbox;
}

/** The publisher retries forever by design; the bench wants a connection now or a clear error. */
async function waitConnected(publisher: MqttPublisher, url: string): Promise<void> {
  const deadline = performance.now() + CONNECT_TIMEOUT_MS;
  while (!publisher.snapshot().connected) {
    if (performance.now() > deadline) throw new Error(`the publisher could not connect to the MQTT broker at ${url} within ${CONNECT_TIMEOUT_MS} ms`);
    await sleep(20);
  }
}
