/**
 * The motion detector's cost per frame, measured: `npx tsx scripts/motion-cost.ts [WxH] [frames]`.
 * A textured I420 scene with a 200 px square moving across it (so dilation and components run every frame) and a
 * still one; prints the median and p95 per frame after a warm-up. A figure, not a test: it depends on the machine.
 */
import { performance } from 'node:perf_hooks';
import { MotionDetector } from '../src/motion/motion-detector.js';
import { i420Layout } from '../src/pixels/i420-layout.js';

const [size = '1920x1080', framesArg = '600'] = process.argv.slice(2);
const [W, H] = size.split('x').map(Number) as [number, number];
const frames = Number(framesArg);
const layout = i420Layout(W, H, 'none');

function makeFrame(squareX: number | undefined) {
  const data = new Uint8Array(layout.frameSize).fill(128);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[y * W + x] = 90 + (((x >> 4) + (y >> 4)) % 4) * 12 + ((x * 7 + y * 3) & 7);
  if (squareX !== undefined) for (let y = 400; y < 600; y++) data.fill(20, y * W + squareX, y * W + squareX + 200);
  return { width: W, height: H, origin: 'synthetic', i420: { data, layout }, data: Buffer.alloc(0) };
}

const still = makeFrame(undefined);
const moving = Array.from({ length: 16 }, (_, i) => makeFrame(100 + i * 90));

function measure(label: string, pick: (i: number) => ReturnType<typeof makeFrame>): void {
  const m = new MotionDetector(W, H, { threshold: 25, minArea: 0.001, masks: [] });
  const times: number[] = [];
  let boxes = 0;
  for (let i = 0; i < frames + 100; i++) {
    const f = pick(i);
    const t0 = performance.now();
    const r = m.detect(f);
    const dt = performance.now() - t0;
    if (i >= 100) {
      times.push(dt);
      boxes += r.boxes.length;
    }
  }
  times.sort((a, b) => a - b);
  const q = (p: number): string => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(3);
  console.log(`${label.padEnd(8)} ${W}x${H} -> plane ${m.plane.width}x${m.plane.height}: median ${q(0.5)} ms, p95 ${q(0.95)} ms per frame (${times.length} frames, ${(boxes / times.length).toFixed(2)} boxes/frame)`);
}

measure('still', () => still);
measure('moving', (i) => moving[i % moving.length]!);
