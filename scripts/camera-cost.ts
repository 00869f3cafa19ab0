/**
 * What the daemon costs per frame where a Pi user meets it: a camera at its own frame rate (not the bench's camera
 * faster than the detector), here the fake Pi camera of the tests (ffmpeg writing I420, 640x480 by default, in real time, as
 * rpicam-vid does), MobileNet v1 0.25-128 on the CPU, the real broker. The daemon runs as `mobilenet-edge run` does;
 * after a warm-up its CPU and its inference host's (/proc/<pid>/stat) are read over a window in which the detections
 * are counted on the broker. The camera's own process (ffmpeg making the picture) is not counted: rpicam-vid's cost
 * is the camera's. Needs a build (npm run build), ffmpeg, and a broker on 127.0.0.1:1883.
 *   npx tsx scripts/camera-cost.ts [FPS=30] [SECONDS=20] [WARMUP=15] [WIDTHxHEIGHT=640x480]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { childPids, cpuMsOf } from '../src/bench/proc-stat.js';

const [fps = 30, seconds = 20, warmup = 15] = process.argv.slice(2, 5).map(Number);
const [width = 640, height = 480] = (process.argv[5] ?? '640x480').split('x').map(Number);
const root = resolve(import.meta.dirname, '..');
const model = ['models', '../shared/models'].map((d) => resolve(root, d, 'mobilenet_v1_0.25_128_quant.tflite')).find(existsSync);
if (!model) throw new Error('mobilenet_v1_0.25_128_quant.tflite not found in models/ or ../shared/models');
const work = mkdtempSync(join(tmpdir(), 'camera-cost-'));
const config = join(work, 'config.json');
writeFileSync(
  config,
  JSON.stringify({
    device: { id: 'cost' },
    log: { level: 'warn' },
    cameras: {
      pi: {
        source: { type: 'rpicam', width, height, framerate: fps, rpicamPath: join(root, 'test/fixtures/rpicam/rpicam-vid') },
        detect: { fps: 0 },
        motion: { enabled: false },
      },
    },
    detector: { backend: 'cpu', model: { cpu: model }, kind: 'classification', labels: null },
    mqtt: { url: 'mqtt://127.0.0.1:1883', topicPrefix: 'camera-cost', outbox: { dir: join(work, 'outbox') } },
    stats: { intervalSec: 10 },
  }),
);

const cpuMs = (pid: number): number => cpuMsOf(pid) ?? Number.NaN;
const switches = (pid: number): number =>
  readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .filter((l) => /ctxt_switches/.test(l))
    .reduce((n, l) => n + Number(l.split(/\s+/)[1]), 0);
const comm = (pid: number): string => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const daemon = spawn(process.execPath, ['--max-semi-space-size=4', join(root, 'dist/main.js'), 'run', '--config', config], {
  env: { ...process.env, MALLOC_ARENA_MAX: '2' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const pid = daemon.pid!;
const client = mqtt.connect('mqtt://127.0.0.1:1883');
let frames = 0;
let counting = false;
client.on('message', () => counting && frames++);
client.subscribe('camera-cost/cost/pi/detections');
try {
  await sleep(warmup * 1000);
  // Inference hosts are node children; the camera's shell and ffmpeg are not counted.
  const hosts = childPids(pid).filter((c) => comm(c) === 'node');
  const before = { d: cpuMs(pid), h: hosts.reduce((n, h) => n + cpuMs(h), 0), s: switches(pid) };
  counting = true;
  await sleep(seconds * 1000);
  counting = false;
  const after = { d: cpuMs(pid), h: hosts.reduce((n, h) => n + cpuMs(h), 0), s: switches(pid) };
  const per = (ms: number): string => (ms / Math.max(1, frames)).toFixed(2);
  console.log(
    `camera ${width}x${height} at ${fps} fps, ${seconds} s after ${warmup} s: ${frames} frames (${(frames / seconds).toFixed(1)} fps); ` +
      `daemon ${per(after.d - before.d)} ms CPU a frame, ${((after.d - before.d) / (seconds * 10)).toFixed(1)} % of a core; ` +
      `inference host ${per(after.h - before.h)} ms a frame (the runtime's invoke included); ` +
      `daemon main thread wake-ups ${((after.s - before.s) / Math.max(1, frames)).toFixed(1)} a frame`,
  );
} finally {
  client.end(true);
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  rmSync(work, { recursive: true, force: true });
}
