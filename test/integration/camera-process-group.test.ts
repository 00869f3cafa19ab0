import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FfmpegSource } from '../../src/camera/ffmpeg-source.js';
import type { CameraState } from '../../src/camera/frame.js';
import { ROOT } from '../helpers/paths.js';
import { until } from '../helpers/wait.js';

/*
 * Camera processes must not outlive the daemon, nor a stop: a real parent process runs a source and is SIGKILLed;
 * then every process it started, wrapper scripts' children included, must be gone. Each test marks its processes with
 * a token in their environment (inherited by every descendant), so it finds them wherever they were reparented.
 */
const tmp = mkdtempSync(path.join(tmpdir(), 'camera-process-group-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const FAKE_RPICAM = path.join(ROOT, 'test', 'fixtures', 'rpicam', 'rpicam-vid');

/** Live processes (not zombies) whose environment holds TOKEN=token, or that are in process group `pgid`. */
function marked(token: string, pgid?: number): { pid: number; what: string }[] {
  const found: { pid: number; what: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z') continue;
      const env = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
      if (env.includes(`CAMERA_TEST_TOKEN=${token}`) || Number(group) === pgid) {
        found.push({ pid: Number(entry), what: readFileSync(`/proc/${entry}/cmdline`, 'latin1').replace(/\0/g, ' ').trim() });
      }
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function script(name: string, body: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, body);
  chmodSync(file, 0o755);
  return file;
}

const leftovers: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  // A failing run must not leave processes behind for the next tests.
  for (const token of leftovers.splice(0)) for (const { pid } of marked(token)) process.kill(pid, 'SIGKILL');
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** Stands for the daemon: starts one source from a JSON spec, prints its state, and runs until it is killed. */
const PARENT = `
import { FfmpegSource } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'src/camera/ffmpeg-source.ts')).href)};
import { RpicamSource } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'src/camera/rpicam-source.ts')).href)};
import { silentLogger } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'src/system/logger.ts')).href)};
const spec = JSON.parse(process.argv[2]);
const src = spec.type === 'ffmpeg'
  ? new FfmpegSource('cam', spec.options, silentLogger())
  : new RpicamSource('pi', spec.settings, silentLogger(), { env: process.env });
await src.start({
  frame() {},
  skipped() {},
  ended: (reason) => console.log('ended ' + reason),
  status: (state) => console.log('status ' + state),
});
const announce = () => (src.pid ? console.log('spawned ' + src.pid) : setTimeout(announce, 10));
announce();
setInterval(() => {}, 1 << 30);
`;

describe('camera processes die with the daemon', () => {
  let server: Server;
  const connections: Socket[] = [];
  afterAll(async () => {
    for (const c of connections) c.destroy();
    await new Promise((r) => server?.close(r));
  });

  /** An RTSP server that accepts the connection and never answers: ffmpeg waits on it for ever. */
  async function silentRtsp(): Promise<string> {
    server ??= createServer((socket) => void connections.push(socket));
    if (!server.listening) await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    return `rtsp://127.0.0.1:${port}/stream`;
  }

  const wrapper = (): string => script('ffmpeg-wrapper', '#!/bin/sh\n# runs ffmpeg as its child, not exec\nffmpeg "$@"\necho "ffmpeg ended" >&2\n');
  const rpicamWrapper = (): string => script('rpicam-wrapper', `#!/bin/sh\n${FAKE_RPICAM} "$@"\n`);

  it.each([
    ['ffmpeg on a silent RTSP source', 'ffmpeg', 1, false],
    ['an ffmpegPath wrapper script whose ffmpeg waits on a silent RTSP source', 'ffmpeg', 2, true],
    ['an rpicamPath wrapper around an rpicam-vid that went silent', 'rpicam', 2, true],
  ] as const)('SIGKILL of the parent: %s leaves no process', async (_name, type, atLeast, wrapped) => {
    const token = randomUUID();
    leftovers.push(token);
    const spec =
      type === 'ffmpeg'
        ? { type, options: { input: await silentRtsp(), inputOptions: [], width: 64, height: 48, fps: 5, ...(wrapped ? { ffmpegPath: wrapper() } : {}) } }
        : { type, settings: { ...(await import('../helpers/rpicam-defaults.js')).RPICAM_DEFAULTS, width: 64, height: 48, stride: 'none', rpicamPath: rpicamWrapper() } };
    const before = connections.length;
    const parentFile = path.join(tmp, 'parent.mts');
    writeFileSync(parentFile, PARENT);
    const parent = spawn(process.execPath, ['--import', 'tsx', parentFile, JSON.stringify(spec)], {
      cwd: ROOT,
      // The fake rpicam-vid sends two frames, then hangs without a word (a streaming one would die of SIGPIPE anyway).
      env: { ...process.env, CAMERA_TEST_TOKEN: token, FAKE_RPICAM_STALL_FRAMES: '2' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(parent);
    let out = '';
    parent.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    // ffmpeg is connected and waiting, or rpicam-vid has sent its frames: both now wait in silence.
    if (type === 'ffmpeg') await until(() => connections.length > before, 20_000, 'ffmpeg to connect to the silent source');
    else await until(() => out.includes('status online'), 20_000, 'rpicam-vid frames');
    const descendants = (): { pid: number; what: string }[] => marked(token).filter((p) => p.pid !== parent.pid);
    // The camera process and, wrapped, the wrapper's own child (the lifeline's watcher comes on top).
    expect(descendants().length, JSON.stringify(descendants())).toBeGreaterThanOrEqual(atLeast);

    const exited = new Promise((r) => parent.once('exit', r));
    parent.kill('SIGKILL');
    await exited;
    await until(() => descendants().length === 0, 10_000, `no process left (${JSON.stringify(descendants())})`).catch((err: Error) => {
      throw new Error(`${err.message}; parent said: ${out}`);
    });
  });
});

describe('stopping a wrapped camera', () => {
  it('stops an ffmpegPath wrapper and its ffmpeg child together, long before the SIGKILL deadline, leaving no process', async () => {
    const token = randomUUID();
    leftovers.push(token);
    const ffmpegPath = script('marking-wrapper', `#!/bin/sh\nexport CAMERA_TEST_TOKEN=${token}\nffmpeg "$@"\n`);
    const statuses: string[] = [];
    const logs: { msg: string; signal?: string | null }[] = [];
    const src = new FfmpegSource(
      'cam',
      { input: 'testsrc2=size=160x120:rate=20', inputOptions: ['-re', '-f', 'lavfi'], width: 80, height: 60, fps: 10, ffmpegPath },
      pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s)) }),
      { killAfterMs: 10_000 }, // a SIGKILL would only come after 10 s: a prompt stop is the stop signal's doing
    );
    await src.start({ frame() {}, skipped() {}, ended() {}, status: (state: CameraState, reason: string) => void statuses.push(`${state}: ${reason}`) });
    await until(() => statuses.includes('online: frames flowing'), 20_000, 'frames');
    const group = src.pid!;
    expect(marked(token).length).toBeGreaterThanOrEqual(1); // the wrapper's ffmpeg
    const started = performance.now();
    await src.stop();
    const took = performance.now() - started;
    // The daemon allows 5 s for a whole stop; before the fix this took the full killAfterMs and left ffmpeg running.
    expect(took).toBeLessThan(5_000);
    // SIGKILLed as the stop ends: gone as soon as the kernel has finished them.
    await until(() => marked(token, group).length === 0, 5_000, `no process left (${JSON.stringify(marked(token, group))})`);
    expect(statuses.at(-1)).toBe('offline: source stopped');
  });
});
