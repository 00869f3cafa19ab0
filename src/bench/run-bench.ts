import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CoralDelegate, type CoralDevice } from 'coral-tflite-delegate';
import { FilesSource } from '../camera/files-source.js';
import { listImageFiles } from '../camera/image-files.js';
import { appSchema, type DetectorConfig } from '../config/index.js';
import { runSchema } from '../config/validate.js';
import { createDetector, probeEdgeTpu } from '../inference/create-detector.js';
import { twinOf } from '../inference/detector-models.js';
import type { Detector } from '../inference/detector.js';
import type { DelegateSpec } from '../inference/host/protocol.js';
import { planModel } from '../inference/model-plan.js';
import { prepareFrame } from '../inference/preprocess.js';
import { MqttPublisher } from '../publish/mqtt-publisher.js';
import { Outbox } from '../publish/outbox.js';
import { ProcessStats } from '../stats/process-stats.js';
import type { Logger } from '../system/logger.js';
import { DetectionsProbe } from './detections-probe.js';
import { runPipelinePhase } from './pipeline-phase.js';
import { planBench } from './plan.js';
import { runRawLoop, type RawResult } from './raw-loop.js';
import { buildReport, type BenchReport } from './report.js';
import { pickFastest, sweepCandidates, type SweepPoint } from './sweep.js';
import { SyntheticSource } from './synthetic-source.js';

export interface BenchOptions {
  /** The CPU model; with backend edgetpu its `_edgetpu` twin runs when it exists, else this file. */
  modelPath: string;
  backend: 'cpu' | 'edgetpu';
  /** A thread count, or every count of sweepCandidates(cores), the fastest kept for the pipeline runs. */
  threads: number | 'sweep';
  seconds: number;
  /** libedgetpu (or a stand-in) for backend edgetpu. */
  library: string;
  /** Root of sys/ and dev/ for the Edge TPU probe ("/" on a real system). */
  probeRoot: string;
  device: string;
  /** JPEG files for the second pipeline run: a file, directory or pattern (FilesSource's syntax). */
  images: string;
  mqttUrl: string;
  /** `disk`: a durable outbox in a temporary directory, as the service runs; `memory`: no state directory. */
  outbox: 'disk' | 'memory';
  /** What the synthetic camera produces (I420 like rpicam-vid, or packed RGB). */
  syntheticFormat: 'i420' | 'rgb';
  cores: number;
}

/** Progress lines for a human watching (the report itself is returned). */
export type Progress = (line: string) => void;

/** Raw-loop pictures, spread over the synthetic sequence (its pattern moves a little each frame). */
const RAW_INPUTS = 16;
const RAW_INPUT_SPACING = 37;
const SYNTHETIC_FPS = 40;
const CONNECT_TIMEOUT_MS = 5000;

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
  const raw = {
    backend: opts.backend,
    model: opts.backend === 'cpu' ? { cpu: runPath } : { edgetpu: runPath, ...(runPath !== opts.modelPath ? { cpu: opts.modelPath } : {}) },
    threads,
    edgetpu: { library: opts.library, probeRoot: opts.probeRoot, device: opts.device },
  };
  const { value, problems } = runSchema(appSchema.detector, raw, { env: {}, baseDir: process.cwd() });
  if (problems.length > 0) throw new Error(`bad detector settings: ${problems.map((p) => `${p.key}: ${p.message}`).join('; ')}`);
  return value;
}

/**
 * Runs the three measurements in turn (never two at once: they would share the cores): the raw loop (per thread
 * count when sweeping), the synthetic pipeline and the JPEG pipeline. Everything started is stopped, also on failure.
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
  const synthetic = new SyntheticSource('synthetic', { fps: SYNTHETIC_FPS, format: opts.syntheticFormat });
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
  try {
    const candidates = opts.threads === 'sweep' ? sweepCandidates(opts.cores) : [opts.threads];
    const times = planBench(opts.seconds, candidates.length);
    const raws: RawResult[] = [];
    for (const [i, threads] of candidates.entries()) {
      progress(`raw loop: ${plan.info.name} on ${opts.backend}, ${threads} thread${threads === 1 ? '' : 's'}`);
      raws.push(await runRawLoop({ modelPath: runPath, threads, inputs, time: times.raw[i]!, ...(delegate ? { delegate } : {}) }));
    }
    const sweep: SweepPoint[] | undefined = opts.threads === 'sweep' ? raws.map((r) => ({ threads: r.threads, fps: r.fps })) : undefined;
    const best = pickFastest(raws.map((r) => ({ threads: r.threads, fps: r.fps })));
    const raw = raws.find((r) => r.threads === best.threads)!;

    const cfg = { ...baseCfg, threads: best.threads };
    detector = await createDetector(cfg, log.child({ module: 'detector' }));
    await detector.start();
    const box = benchOutboxConfig();
    if (opts.outbox === 'disk') outboxDir = mkdtempSync(join(tmpdir(), 'mobilenet-edge-bench-outbox-'));
    outbox = await Outbox.open(
      { dir: outboxDir ?? null, maxMessages: box.maxMessages, maxBytes: box.maxBytes, ...(box.fsyncMs > 0 ? { fsyncMs: box.fsyncMs } : {}) },
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

    const processStats = new ProcessStats();
    let rssAfterWarmupMb = 0;
    let rssAfterSyntheticMb = 0;
    let processSample = processStats.sample();
    progress(`pipeline: synthetic ${synthetic.width}x${synthetic.height} ${synthetic.format} frames`);
    const syn = await runPipelinePhase(
      {
        camera: 'synthetic',
        source: synthetic,
        detector,
        sink: publisher,
        probe,
        time: times.synthetic,
        log: log.child({ module: 'camera', camera: 'synthetic' }),
        capturedAt: (seq) => synthetic.capturedAt(seq),
        onMeasureStart: () => {
          rssAfterWarmupMb = rssMb();
          processStats.sample();
        },
        onMeasureEnd: () => {
          processSample = processStats.sample();
          rssAfterSyntheticMb = rssMb();
        },
      },
      opts.backend,
    ).finally(() => processStats.stop());

    // The raw loop again, right after the synthetic run: this machine's speed drifts (shared cores, frequency), and
    // the limit must be what it could do at the time. The faster of the two runs is the limit (the stricter ratio).
    progress(`raw loop again: ${plan.info.name} on ${opts.backend}, ${best.threads} thread${best.threads === 1 ? '' : 's'}`);
    const rawAfter = await runRawLoop({ modelPath: runPath, threads: best.threads, inputs, time: times.raw[0]!, ...(delegate ? { delegate } : {}) });
    const limit = rawAfter.fps > raw.fps ? rawAfter : raw;

    progress(`pipeline: JPEG files ${opts.images}`);
    let rssEndMb = 0;
    const jpeg = await runPipelinePhase(
      {
        camera: 'jpeg',
        // On demand: each file is decoded when the pipeline is ready for it (a timed source would decode in vain).
        source: new FilesSource('jpeg', { path: opts.images, fps: 0, loop: true }, log),
        detector,
        sink: publisher,
        probe,
        time: times.jpeg,
        log: log.child({ module: 'camera', camera: 'jpeg' }),
        onMeasureEnd: () => {
          rssEndMb = rssMb();
        },
      },
      opts.backend,
    );
    for (const [name, r] of [['synthetic', syn], ['JPEG', jpeg]] as const) {
      if (r.frames.processed === 0) throw new Error(`the ${name} pipeline processed no frame (${r.frames.errors} errors; --log-level warn shows why)`);
    }

    return buildReport({
      model: plan.info.name,
      backend: opts.backend,
      seconds: opts.seconds,
      syntheticFormat: synthetic.format,
      raw: limit,
      rawRuns: [raw, rawAfter],
      ...(sweep ? { sweep } : {}),
      synthetic: syn,
      jpeg,
      process: { rssMb: rssEndMb, rssAfterWarmupMb, rssAfterSyntheticMb, cpuPercent: processSample.cpuPercent, eventLoopLagP99Ms: processSample.eventLoopLagMs.p99 },
    });
  } finally {
    await publisher?.stop().catch(() => undefined);
    await outbox?.close().catch(() => undefined);
    if (outboxDir) rmSync(outboxDir, { recursive: true, force: true });
    await detector?.stop().catch(() => undefined);
    const retained = publisher ? [publisher.availabilityTopic, publisher.topic('synthetic', 'status'), publisher.topic('jpeg', 'status')] : [];
    await probe.close(retained).catch(() => undefined);
  }
}

/** The daemon's default outbox limits (from the schema). */
function benchOutboxConfig(): { maxMessages: number; maxBytes: number; fsyncMs: number } {
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
