/**
 * The bench's motion scenario on its own: `npx tsx scripts/motion-bench.ts [--json] [--still-sec N] [--model FILE]`.
 * Renders a synthetic 1080p scene with ffmpeg (a still picture, then a 200 px bird crossing it), plays it through a
 * camera pipeline and the real inference host with motion gating on and then off, and prints detector runs per second
 * on the still part, recall while the bird moves and CPU per frame. Takes about twice the scene's length.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatMotionReport, runMotionScenario } from '../src/bench/motion-scenario.js';
import { silentLogger } from '../src/system/logger.js';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    'still-sec': { type: 'string', default: '20' },
    'cross-sec': { type: 'string', default: '8' },
    model: { type: 'string', default: resolve(root, '..', 'shared', 'models', 'coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite') },
    images: { type: 'string', default: resolve(root, '..', 'shared', 'images') },
  },
});

const report = await runMotionScenario({
  modelPath: values.model,
  images: values.images,
  stillSec: Number(values['still-sec']),
  crossSec: Number(values['cross-sec']),
  log: silentLogger(),
  progress: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `${formatMotionReport(report)}\n`);
