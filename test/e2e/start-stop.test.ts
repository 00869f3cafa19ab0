import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnCli, waitExit } from '../helpers/cli.js';
import { image, V1_025 } from '../helpers/paths.js';
import { alive, catches, descendants } from '../helpers/procs.js';
import { makeTpuWorld, stubDetectorConfig } from '../helpers/tpu-world.js';
import { until } from '../helpers/wait.js';

const SIGHUP = 1;

function writeConfig(extra: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'me-startstop-'));
  const file = join(dir, 'config.json');
  writeFileSync(
    file,
    JSON.stringify({
      device: { id: 'startstop' },
      cameras: {
        photo: { source: { type: 'files', path: image('cat.bmp'), fps: 5 } },
        // A live-like camera: ffmpeg must never be left behind by a stop, whenever it comes.
        live: { source: { type: 'ffmpeg', input: 'testsrc2=size=320x240:rate=5', inputOptions: ['-re', '-f', 'lavfi'], width: 320, height: 240, fps: 5 } },
      },
      detector: { backend: 'cpu', model: { cpu: V1_025 } },
      mqtt: { url: 'mqtt://127.0.0.1:1883', topicPrefix: `startstop-${process.pid}`, outbox: { dir: null } },
      stats: { intervalSec: 60 },
      ...extra,
    }),
  );
  return file;
}

const lines = (stdout: string): { msg?: string; level?: number }[] =>
  stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg?: string; level?: number });

/** Sends SIGTERM while the daemon is starting and checks it gives up at once, cleanly, and leaves no process. */
async function stopWhileStarting(file: string, env: NodeJS.ProcessEnv, startingMark: RegExp): Promise<void> {
  const daemon = spawnCli(['run', '--config', file], { MOBILENET_EDGE_STATE_DIR: '', STATE_DIRECTORY: '', ...env });
  try {
    // Something is being loaded or measured in a child process at that point.
    await until(() => startingMark.test(daemon.output().stdout) && descendants(daemon.pid!).length > 0, 30_000, `the start to reach ${startingMark}`);
    const children = descendants(daemon.pid!);
    const t0 = performance.now();
    daemon.kill('SIGTERM');
    const exit = await waitExit(daemon, 10_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${daemon.output().stdout}`);
    });
    const stopMs = performance.now() - t0;
    const out = daemon.output().stdout;
    expect(exit, out).toEqual({ code: 0, signal: null });
    expect(stopMs).toBeLessThan(5000); // the deadline; before, 14 s
    expect(out).not.toMatch(/overran its deadline/);
    const log = lines(out);
    const stopping = log.findIndex((l) => l.msg === 'stopping');
    expect(stopping).toBeGreaterThanOrEqual(0);
    expect(log.slice(stopping).some((l) => /^camera (online|started)|starting ffmpeg|mobilenet-edge running/.test(l.msg ?? ''))).toBe(false);
    expect(log.some((l) => l.msg === 'start aborted: stopping')).toBe(true);
    await until(() => alive(children).length === 0, 3000, `children ${children.join(', ')} to be gone`);
  } finally {
    if (daemon.exitCode === null) daemon.kill('SIGKILL');
  }
}

describe('signals while the daemon starts', () => {
  it('SIGTERM while the CPU thread count is measured: start aborts, exit 0 within the deadline, no child left', async () => {
    await stopWhileStarting(writeConfig({ detector: { backend: 'cpu', model: { cpu: V1_025 }, threads: 0 } }), {}, /CPU threads: measuring/);
  }, 60_000);

  it('SIGTERM while a model load hangs (Edge TPU): start aborts, exit 0 within the deadline, no child left', async () => {
    const world = makeTpuWorld();
    world.setMode('hang-prepare');
    // The CPU twin loads first (warm standby); the TPU's load then hangs for its whole 10 s load timeout.
    const file = writeConfig({ detector: stubDetectorConfig(world, { inferenceTimeoutMs: 2000 }) });
    await stopWhileStarting(file, world.env, /inference host ready/);
  }, 60_000);

  it('a SIGHUP is caught from before the program loads, and a SIGHUP during start-up never kills it', async () => {
    const daemon = spawnCli(['run', '--config', writeConfig({})]);
    try {
      // The first moment the process catches SIGHUP at all: the entry point's gate, before the modules load.
      await until(() => catches(daemon.pid!, SIGHUP) || daemon.exitCode !== null, 20_000, 'a SIGHUP handler', 1);
      expect(daemon.output().stdout).toBe(''); // nothing logged yet: config not even read
      daemon.kill('SIGHUP');
      daemon.kill('SIGHUP');
      await until(() => /"msg":"mobilenet-edge running"/.test(daemon.output().stdout) || daemon.exitCode !== null, 30_000, 'the daemon running');
      expect(daemon.exitCode).toBeNull(); // before: killed by SIGHUP (rc 129), without a line
      daemon.kill('SIGHUP');
      await until(() => /"msg":"config reloaded"/.test(daemon.output().stdout), 10_000, 'a reload');
    } finally {
      daemon.kill('SIGTERM');
    }
    expect(await waitExit(daemon, 10_000)).toEqual({ code: 0, signal: null });
  }, 60_000);
});
