import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchModelPath } from '../../src/bench/run-bench.js';
import { BENCH_HELP, benchCommand, defaultImages, defaultModelPath, parseSeconds, parseThreads, parseWarmup } from '../../src/cli/bench.js';
import { UsageError } from '../../src/cli/exit-codes.js';
import { captureIo } from '../helpers/cli.js';

describe('bench command line', () => {
  it('parses --threads and --seconds, refusing what cannot be run', () => {
    expect(parseThreads(undefined)).toBe(1);
    expect(parseThreads('3')).toBe(3);
    expect(parseThreads('sweep')).toBe('sweep');
    for (const bad of ['0', '1.5', 'all', '17']) expect(() => parseThreads(bad)).toThrow(UsageError);
    expect(parseSeconds(undefined)).toBe(20);
    expect(parseSeconds('4')).toBe(4);
    for (const bad of ['1', 'x', '-5']) expect(() => parseSeconds(bad)).toThrow(UsageError);
    expect(parseWarmup('0')).toBe(0);
    expect(parseWarmup('2.5')).toBe(2.5);
    for (const bad of ['', 'x', '-1', '601']) expect(() => parseWarmup(bad)).toThrow(/--warmup must be a number of seconds 0..600/);
  });

  it('prints its help, and rejects a bad backend as usage', async () => {
    const io = captureIo();
    expect(await benchCommand(['--help'], io)).toBe(0);
    expect(io.out()).toBe(BENCH_HELP);
    await expect(benchCommand(['--backend', 'gpu'], captureIo())).rejects.toThrow(/--backend must be cpu or edgetpu/);
    await expect(benchCommand(['extra'], captureIo())).rejects.toThrow();
  });

  it('names a missing model and exits 66 without starting anything', async () => {
    const io = captureIo();
    expect(await benchCommand(['--model', '/nonexistent/m.tflite', '--json'], io)).toBe(66);
    expect(io.err()).toContain('/nonexistent/m.tflite: no such file');
    expect(io.out()).toBe('');
  });

  it('defaults to the fetched SSD, else the shared one; JPEGs from ../shared/images, else the samples', () => {
    const root = mkdtempSync(join(tmpdir(), 'me-bench-root-'));
    const project = join(root, 'project');
    mkdirSync(join(project, 'models'), { recursive: true });
    expect(defaultModelPath(project)).toBe(join(root, 'shared', 'models', 'coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite'));
    writeFileSync(join(project, 'models', 'coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite'), '');
    expect(defaultModelPath(project)).toBe(join(project, 'models', 'coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite'));
    expect(defaultImages(project)).toBe(join(project, 'models', 'samples', '*.jpg'));
    mkdirSync(join(root, 'shared', 'images'), { recursive: true });
    writeFileSync(join(root, 'shared', 'images', 'a.jpg'), '');
    expect(defaultImages(project)).toBe(join(root, 'shared', 'images', '*.jpg'));
  });

  it('runs the _edgetpu twin on the Edge TPU when it exists, else the model given', () => {
    const dir = mkdtempSync(join(tmpdir(), 'me-bench-twin-'));
    const cpu = join(dir, 'm.tflite');
    const lone = join(dir, 'lone.tflite');
    writeFileSync(cpu, '');
    writeFileSync(lone, '');
    writeFileSync(join(dir, 'm_edgetpu.tflite'), '');
    expect(benchModelPath(cpu, 'cpu')).toBe(cpu);
    expect(benchModelPath(cpu, 'edgetpu')).toBe(join(dir, 'm_edgetpu.tflite'));
    expect(benchModelPath(lone, 'edgetpu')).toBe(lone);
    expect(benchModelPath(join(dir, 'm_edgetpu.tflite'), 'edgetpu')).toBe(join(dir, 'm_edgetpu.tflite'));
  });
});
