import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCli, waitExit } from '../helpers/cli.js';
import { Subscriber, clearRetained, uniquePrefix } from '../helpers/mqtt.js';
import { SSD_V1, image } from '../helpers/paths.js';
import { PROMTOOL_MISSING, promtoolCheck } from '../helpers/promtool.js';
import { until } from '../helpers/wait.js';

/** One sample's value from a Prometheus exposition, or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/metrics of a running daemon', () => {
  const prefix = uniquePrefix('prom');
  const dir = mkdtempSync(join(tmpdir(), 'me-metrics-'));
  let retained: string[] = [];
  afterAll(async () => {
    await clearRetained(retained);
    rmSync(dir, { recursive: true, force: true });
  });

  it(`passes promtool check metrics without a warning, and its frame counters follow the frames between stats intervals${PROMTOOL_MISSING ? ` (promtool part skipped: ${PROMTOOL_MISSING})` : ''}`, async () => {
    const frames = join(dir, 'frames');
    mkdirSync(frames);
    copyFileSync(image('cats_and_dogs.jpg'), join(frames, 'f0.jpg'));
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        device: { id: 'promd' },
        cameras: { 'front-door': { source: { type: 'files', path: frames, fps: 5, loop: true } } },
        detector: { backend: 'cpu', model: { cpu: SSD_V1 } },
        http: { enabled: true, port: 0 },
        mqtt: { topicPrefix: prefix },
        // The counters must move without waiting for a stats interval: none comes during this test.
        stats: { intervalSec: 3600 },
      }),
    );
    const sub = await Subscriber.connect(`${prefix}/#`);
    const daemon = spawnCli(['run', '--config', config]);
    try {
      await until(() => daemon.output().stdout.includes('HTTP endpoint'), 30_000, 'the HTTP endpoint');
      const url = JSON.parse(daemon.output().stdout.split('\n').find((l) => l.includes('HTTP endpoint'))!).url as string;
      const scrape = async (): Promise<string> => (await fetch(`${url}metrics`)).text();
      const processed = 'mobilenet_edge_camera_processed_frames_total{camera="front-door"}';
      const captured = 'mobilenet_edge_camera_captured_frames_total{camera="front-door"}';

      let first = '';
      await until(async () => ((first = await scrape()), (sample(first, processed) ?? 0) >= 1), 30_000, 'a processed frame in /metrics');
      let second = '';
      await until(async () => ((second = await scrape()), sample(second, processed)! > sample(first, processed)!), 30_000, 'the processed counter to grow');
      expect(sample(second, captured)).toBeGreaterThan(0);
      expect(sample(second, captured)).toBeGreaterThanOrEqual(sample(second, processed)!);
      expect(sample(second, 'mobilenet_edge_backend{backend="cpu"}')).toBe(1);
      expect(sample(second, 'mobilenet_edge_backend{backend="edgetpu"}')).toBe(0);
      expect(second).toMatch(/^mobilenet_edge_build_info\{version="[^"]+",nodejs_version="v\d+[^"]*",model="coco_ssd_mobilenet_v1_1\.0_quant_2018_06_29\.tflite",cpu_model="coco_ssd_mobilenet_v1_1\.0_quant_2018_06_29\.tflite",backend_setting="cpu"\} 1$/m);
      for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'process_open_fds']) {
        expect(sample(second, name), name).toBeGreaterThan(0);
      }
      if (!PROMTOOL_MISSING) {
        const { status, said } = promtoolCheck(second);
        expect(said).toBe('');
        expect(status).toBe(0);
      }
    } finally {
      daemon.kill('SIGTERM');
    }
    expect(await waitExit(daemon, 10_000)).toEqual({ code: 0, signal: null });
    // Delivered live, retained messages lose their flag: clear every topic the daemon used.
    retained = [...new Set(sub.messages.map((m) => m.topic))];
    await sub.close();
  }, 90_000);
});
