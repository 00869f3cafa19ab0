import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { DetectorConfig } from '../../src/config/index.js';
import { createDetector } from '../../src/inference/create-detector.js';
import type { DetectorState } from '../../src/inference/failover-detector.js';
import { silentLogger } from '../../src/system/logger.js';
import { makeTpuWorld, stubDetectorConfig } from '../helpers/tpu-world.js';
import { START_MS, STOP_MS } from '../helpers/budgets.js';
import { until } from '../helpers/wait.js';

/** 21 cycles, each loading a fresh TPU host from source: 3.5 s a cycle with one core busy, several times that under more load. */
const TEST_MS = 600_000;

/** Direct children of this process with their state letter (Z = zombie), leaving out the ps that lists them. */
function children(): { pid: number; stat: string; comm: string }[] {
  const out = execFileSync('ps', ['-o', 'pid=,stat=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' }).trim();
  const rows = out ? out.split('\n').map((l) => l.trim().split(/\s+/)) : [];
  return rows.map(([pid, stat, comm]) => ({ pid: Number(pid), stat: stat!, comm: comm! })).filter((c) => c.comm !== 'ps');
}

describe('20 failover/recovery cycles on the stub Edge TPU', () => {
  const world = makeTpuWorld();
  process.env.MOBILENET_EDGE_STUB_CONTROL = world.control;
  afterAll(() => {
    delete process.env.MOBILENET_EDGE_STUB_CONTROL;
  });

  it('leave no zombie or stray process and no memory growth beyond a small bound', async () => {
    const cfg = {
      labels: null,
      kind: 'auto',
      threads: 1,
      resize: 'stretch',
      topK: 5,
      // The helper's inference timeout: at 1000 ms the TPU load timeout (5 s) failed loads of hosts slow to start.
      ...stubDetectorConfig(world, { recoverIntervalSec: 0.05 }),
    } as unknown as DetectorConfig;
    let state: DetectorState | undefined;
    const detector = await createDetector(cfg, silentLogger(), { onState: (s) => (state = s) });
    await detector.start();
    const input = new Uint8Array(128 * 128 * 3).fill(90);
    const cycle = async (i: number): Promise<void> => {
      expect((await detector.detect(input)).backend).toBe('edgetpu');
      world.setMode('abort-after:0');
      expect((await detector.detect(input)).backend).toBe('cpu'); // the same frame, answered by the CPU twin
      world.setMode('works');
      await until(() => state?.backend === 'edgetpu' && state.recoveries === i, START_MS, `recovery ${i}`);
    };
    await cycle(1); // warm-up: first loads, caches
    const rssBefore = process.memoryUsage().rss;
    const started = Date.now();
    for (let i = 2; i <= 21; i++) await cycle(i);
    const rssAfter = process.memoryUsage().rss;
    expect(state).toMatchObject({ backend: 'edgetpu', failovers: 21, recoveries: 21 });
    const kids = children();
    // The CPU twin's host and the current TPU host: nothing else, and no zombie.
    expect(kids.filter((k) => k.stat.startsWith('Z'))).toEqual([]);
    expect(kids.length).toBeLessThanOrEqual(2);
    const growthMb = (rssAfter - rssBefore) / 1048576;
    console.log(`[figures] 20 cycles in ${Date.now() - started} ms; daemon-side RSS growth ${growthMb.toFixed(1)} MB; children ${kids.length}`);
    expect(growthMb).toBeLessThan(15);
    await detector.stop();
    await until(() => children().length === 0, STOP_MS, 'every host to exit after stop');
  }, TEST_MS);
});
