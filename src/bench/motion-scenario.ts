import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FfmpegSource } from '../camera/ffmpeg-source.js';
import type { CameraState, Frame, FrameSink, FrameSource } from '../camera/frame.js';
import type { MotionConfig } from '../config/cameras.js';
import { planModel } from '../inference/model-plan.js';
import { TfliteDetector } from '../inference/tflite-detector.js';
import { CameraPipeline, type DetectionSink } from '../pipeline/camera-pipeline.js';
import type { DetectionsPayload } from '../publish/payloads.js';
import type { Logger } from '../system/logger.js';
import { BIRD_ON_LEAVES, renderCrossingScene, type CrossingScene } from './motion-scene.js';
import { benchPipelineOptions } from './pipeline-options.js';

export interface MotionScenarioOptions {
  /** The SSD to run (CPU). */
  modelPath: string;
  /** Directory of the shared photos (sunflower.bmp, bird.bmp). */
  images: string;
  /** Seconds of still scene before the object comes in (the still-part figures come from these). */
  stillSec?: number;
  crossSec?: number;
  fps?: number;
  threads?: number;
  ffmpegPath?: string;
  log: Logger;
  /** Progress lines for a human watching. */
  progress?: (line: string) => void;
}

/** One run of the scene, motion gating on or off. */
export interface MotionScenarioRun {
  motion: boolean;
  /** Frames the camera delivered (the file's frames). */
  frames: number;
  /** Detector runs (published frames) on the still part, per second of it. */
  stillRunsPerSec: number;
  /** Inferences on the still part, per second (a region each). */
  stillInferencesPerSec: number;
  /** While the object is wholly in the picture: published frames, and those where it was found (score >= 0.5). */
  moving: { published: number; found: number; recall: number };
  /** CPU time per captured frame (ms), daemon side (this process) and inference host, for the still part and the whole. */
  cpuMsPerFrame: { still: { daemon: number; host: number }; all: { daemon: number; host: number } };
  /** The motion detector's own time per frame (ms, median), motion on only. */
  motionMs: number | null;
}

export interface MotionScenarioReport {
  scene: { width: number; height: number; fps: number; frames: number; stillFrames: number; movingFrames: number; object: string; objectWidth: number };
  on: MotionScenarioRun;
  off: MotionScenarioRun;
}

/**
 * The motion scenario of the bench: a synthetic 1080p camera (ffmpeg playing a rendered file at its frame rate: a
 * still picture of leaves, then a 200 px bird photo crossing it), through a real camera pipeline and the real inference
 * host, once with motion gating and once without. It reports detector runs per second on the still part, recall while
 * the bird moves, and CPU time per frame of this process and of the inference host (from /proc), for both.
 */
export async function runMotionScenario(o: MotionScenarioOptions): Promise<MotionScenarioReport> {
  const dir = mkdtempSync(join(tmpdir(), 'me-motion-bench-'));
  try {
    const fps = o.fps ?? 5;
    o.progress?.('rendering the scene with ffmpeg');
    const scene = await renderCrossingScene(dir, { ...BIRD_ON_LEAVES(o.images), fps, stillSec: o.stillSec ?? 20, crossSec: o.crossSec ?? 8, ...(o.ffmpegPath ? { ffmpeg: o.ffmpegPath } : {}) });
    const on = await runOnce(o, scene, true);
    const off = await runOnce(o, scene, false);
    return {
      scene: { width: 1920, height: 1080, fps, frames: scene.frames, stillFrames: scene.still.to - scene.still.from, movingFrames: scene.moving.to - scene.moving.from, object: scene.label, objectWidth: scene.objectWidth },
      on,
      off,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const MOTION_DEFAULTS: Omit<MotionConfig, 'enabled'> = { threshold: 25, minArea: 0.001, masks: [], idleDetectSec: 10, maxRegions: 4 };

async function runOnce(o: MotionScenarioOptions, scene: CrossingScene, motion: boolean): Promise<MotionScenarioRun> {
  o.progress?.(`playing ${scene.frames} frames (${scene.frames / scene.fps} s) with motion gating ${motion ? 'on' : 'off'}`);
  const plan = await planModel(o.modelPath, { kind: 'auto', labelsPath: null, topK: 5 });
  const detector = new TfliteDetector(plan, { backend: 'cpu', threads: o.threads ?? 1, inferenceTimeoutMs: 30_000 }, o.log);
  await detector.start();
  const published: DetectionsPayload[] = [];
  const sink: DetectionSink = {
    topic: (...p) => ['bench', ...p].join('/'),
    publish: (topic, payload) => {
      if (topic.endsWith('/detections')) published.push(JSON.parse(payload.toString()) as DetectionsPayload);
    },
  };
  const cpu = (): { daemon: number; host: number } => ({ daemon: ownCpuMs(), host: detector.hostPid ? procCpuMs(detector.hostPid) : 0 });
  let atStart: ReturnType<typeof cpu> | undefined;
  let atStillEnd: ReturnType<typeof cpu> | undefined;
  let atEnd: ReturnType<typeof cpu> | undefined;
  let ended: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (ended = resolve));
  const camera = new FfmpegSource('bench', { input: scene.path, inputOptions: ['-re'], width: 1920, height: 1080, fps: scene.fps, ...(o.ffmpegPath ? { ffmpegPath: o.ffmpegPath } : {}) }, o.log);
  const source = tap(camera, {
    frame: (f) => {
      if (f.seq === 0) atStart = cpu();
      if (f.seq === scene.still.to) atStillEnd = cpu();
    },
    status: (state) => {
      // The file played to its end: ffmpeg exited (the supervisor would play it again).
      if (state === 'offline' && atStart && !atEnd) {
        atEnd = cpu();
        ended();
      }
    },
  });
  const pipeline = new CameraPipeline(
    benchPipelineOptions('bench', { qos: 0, retain: false, offline: 'queue' }, { motion: { ...MOTION_DEFAULTS, enabled: motion } }),
    source,
    detector,
    sink,
    o.log,
  );
  const t0 = performance.now();
  await pipeline.start();
  await done;
  await pipeline.stop();
  await detector.stop();
  const motionSnap = pipeline.motion?.snapshot((performance.now() - t0) / 1000);
  const frames = scene.frames;
  const ours = published.filter((p) => p.seq < frames);
  const still = ours.filter((p) => p.seq < scene.still.to);
  const stillSec = (scene.still.to - scene.still.from) / scene.fps;
  const moving = ours.filter((p) => p.seq >= scene.moving.from + 2 && p.seq < scene.moving.to - 2);
  const found = moving.filter((p) => p.results.some((r) => r.label === scene.label && r.score >= 0.5)).length;
  const per = (a: ReturnType<typeof cpu> | undefined, b: ReturnType<typeof cpu> | undefined, n: number) =>
    a && b ? { daemon: round((b.daemon - a.daemon) / n), host: round((b.host - a.host) / n) } : { daemon: NaN, host: NaN };
  return {
    motion,
    frames,
    stillRunsPerSec: round(still.length / stillSec, 3),
    stillInferencesPerSec: round(still.reduce((s, p) => s + (p.regions?.length ?? 1), 0) / stillSec, 3),
    moving: { published: moving.length, found, recall: moving.length > 0 ? round(found / moving.length, 3) : 0 },
    cpuMsPerFrame: { still: per(atStart, atStillEnd, scene.still.to), all: per(atStart, atEnd, frames) },
    motionMs: motionSnap && motionSnap.motionMs.count > 0 ? round(motionSnap.motionMs.p50, 3) : null,
  };
}

/** The source, with a look at each frame and status change before the pipeline gets them. */
function tap(inner: FrameSource, look: { frame(f: Frame): void; status(state: CameraState): void }): FrameSource {
  return {
    camera: inner.camera,
    start: (sink: FrameSink) =>
      inner.start({
        ...sink,
        frame: (f) => {
          look.frame(f);
          sink.frame(f);
        },
        status: (state, reason) => {
          look.status(state);
          sink.status?.(state, reason);
        },
      }),
    stop: () => inner.stop(),
    counters: () => inner.counters(),
  };
}

const round = (v: number, digits = 2): number => Math.round(v * 10 ** digits) / 10 ** digits;

function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** User + system CPU time of another process, from /proc/<pid>/stat (Linux; clock ticks of 10 ms). */
function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, inside parentheses): utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
  } catch {
    return NaN;
  }
}

/** USER_HZ is 100 on every Linux that Node runs on (x86-64 and arm64 alike). */
const CLOCK_TICK_MS = 10;

/** The report as a table, for a terminal. */
export function formatMotionReport(r: MotionScenarioReport): string {
  const s = r.scene;
  const row = (name: string, f: (x: MotionScenarioRun) => string): string => `| ${name} | ${f(r.on)} | ${f(r.off)} |`;
  return [
    `scene: ${s.width}x${s.height} at ${s.fps} fps, ${s.frames} frames: ${s.stillFrames} still, then a ${s.objectWidth} px ${s.object} crossing for ${s.movingFrames}`,
    '',
    '| | motion on | motion off |',
    '|---|---|---|',
    row('detector runs per second, still part', (x) => String(x.stillRunsPerSec)),
    row('inferences per second, still part', (x) => String(x.stillInferencesPerSec)),
    row(`recall while the ${s.object} moves (found / published)`, (x) => `${x.moving.recall} (${x.moving.found}/${x.moving.published})`),
    row('CPU ms per frame, still part: daemon + inference host', (x) => `${x.cpuMsPerFrame.still.daemon} + ${x.cpuMsPerFrame.still.host}`),
    row('CPU ms per frame, whole scene: daemon + inference host', (x) => `${x.cpuMsPerFrame.all.daemon} + ${x.cpuMsPerFrame.all.host}`),
    row('motion detector ms per frame (median)', (x) => (x.motionMs === null ? '–' : String(x.motionMs))),
  ].join('\n');
}
